"""A large image archive for the upload benchmark, made the same way every time.

``make_archive`` streams ``docker save`` of the base image (jiebang/python:3.11)
and appends one layer holding a single file of seeded random bytes, sized so the
whole archive comes to about ``size_mb`` MiB: an image ``FROM`` the base with a
big model file ``COPY``-ed in, as `docker build` would make it, and the same
bytes for the same base image. Nothing is created in Docker; only ``docker save``
is called. The layout is Docker's classic one (``manifest.json``, the config as
``<digest>.json``, each layer as ``<dir>/layer.tar``), which ``docker load`` takes.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import tarfile
from pathlib import Path

BLOCK = tarfile.BLOCKSIZE
CHUNK = 1024 * 1024
PAYLOAD = "opt/bench/weights.bin"
LAYER = "bench/layer.tar"
EPOCH = "1970-01-01T00:00:00Z"


def _info(name: str, size: int, *, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.uid, info.gid = size, 0, 0, 0
    info.mode = 0o755 if directory else 0o644
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    return info


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def _layer_parts(payload_size: int) -> tuple[list[bytes], int]:
    """The layer tar around its payload: headers before, padding and end blocks after."""
    head = b"".join(
        _info(d, 0, directory=True).tobuf(tarfile.GNU_FORMAT) for d in ("opt/", "opt/bench/")
    ) + _info(PAYLOAD, payload_size).tobuf(tarfile.GNU_FORMAT)
    tail = _padding(payload_size) + b"\0" * (2 * BLOCK)
    return [head, tail], len(head) + payload_size + len(tail)


def _random_chunks(total: int, seed: int):
    rng = random.Random(seed)
    while total > 0:
        n = min(CHUNK, total)
        yield rng.randbytes(n)
        total -= n


def _add_small(out: tarfile.TarFile, name: str, data: bytes) -> None:
    out.addfile(_info(name, len(data)), io.BytesIO(data))


def make_archive(
    dest: Path, size_mb: int, *, docker_host: str, base: str = "jiebang/python:3.11"
) -> Path:
    """Write the archive to ``dest`` (about ``size_mb`` MiB) and return it; the base
    image is saved from the engine at ``docker_host`` (the workers' own)."""
    saver = subprocess.Popen(["docker", "-H", docker_host, "save", base], stdout=subprocess.PIPE)
    assert saver.stdout is not None
    small: dict[str, bytes] = {}
    with (
        open(dest, "wb") as raw,
        tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as out,
    ):
        with tarfile.open(fileobj=saver.stdout, mode="r|") as saved:
            for member in saved:
                data = saved.extractfile(member) if member.isreg() else None
                if member.name in ("manifest.json", "repositories"):
                    small[member.name] = data.read()
                elif member.name.endswith(".json") and "/" not in member.name:
                    small["config"] = data.read()
                else:
                    out.addfile(member, data)
        if saver.wait() != 0:
            raise RuntimeError(f"docker save {base} failed")
        config = json.loads(small["config"])
        manifest = json.loads(small["manifest.json"])
        payload = max(CHUNK, size_mb * CHUNK - raw.tell() - len(small["config"]) - 8 * BLOCK)
        (head, tail), layer_size = _layer_parts(payload)
        out.addfile(_info("bench/", 0, directory=True))
        raw.write(_info(LAYER, layer_size).tobuf(tarfile.GNU_FORMAT))
        digest = hashlib.sha256()
        for chunk in (head, *_random_chunks(payload, seed=size_mb), tail):
            digest.update(chunk)
            raw.write(chunk)
        raw.write(_padding(layer_size))
        out.offset = raw.tell()  # tarfile resumes after the layer written by hand
        config["rootfs"]["diff_ids"].append(f"sha256:{digest.hexdigest()}")
        config.setdefault("history", []).append(
            {"created": EPOCH, "created_by": f"COPY weights.bin /{PAYLOAD} # {payload} bytes"}
        )
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
        _add_small(out, config_name, config_bytes)
        entry = {"Config": config_name, "RepoTags": None, "Layers": [*manifest[0]["Layers"], LAYER]}
        _add_small(out, "manifest.json", json.dumps([entry]).encode())
    return dest
