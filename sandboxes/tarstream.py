"""Rewrite an image archive on the fly so ``docker load`` cannot tag anything.

The rewritten stream is produced chunk by chunk: the archive is never held in
memory, whatever its size.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE
# The legacy name->id map; Docker uses it only when manifest.json has no tags.
DROPPED = frozenset({"repositories"})
# OCI annotations Docker 25+ reads as image names when loading.
NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")

MemberCheck = Callable[[tarfile.TarInfo], str]


def untagged(path: Path, *, check: MemberCheck) -> Iterator[bytes]:
    """Yield ``path`` as an uncompressed tar without tags; ``check`` vets and names each member."""
    with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        for member in tar:
            name = check(member)
            if name in DROPPED or name == ".":
                continue
            if name == "manifest.json":
                yield from _small(name, _without_tags(_read(tar, member)))
            elif name == "index.json":
                yield from _small(name, _without_names(_read(tar, member)))
            else:
                yield from _copy(tar, member, name)
    yield b"\0" * (2 * BLOCK)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Any:
    handle = tar.extractfile(member)
    if handle is None:
        raise ValueError(f"{member.name} is not a regular file")
    return json.loads(handle.read())


def _without_tags(manifest: Any) -> bytes:
    for entry in manifest:
        entry["RepoTags"] = []
    return json.dumps(manifest).encode()


def _without_names(index: Any) -> bytes:
    for descriptor in index.get("manifests") or []:
        annotations = descriptor.get("annotations") or {}
        for key in NAME_ANNOTATIONS:
            annotations.pop(key, None)
    return json.dumps(index).encode()


def _header(name: str, member: tarfile.TarInfo | None, size: int) -> bytes:
    # A fresh header carries only what Docker needs, not whatever PAX records
    # (xattrs, stale sizes) the upload came with.
    info = tarfile.TarInfo(name)
    info.size = size
    if member is not None:
        info.type = member.type if not member.isreg() else tarfile.REGTYPE
        info.mode = member.mode & 0o755
        info.mtime = member.mtime
        info.linkname = member.linkname if member.issym() else ""
    else:
        info.mode = 0o644
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _small(name: str, data: bytes) -> Iterator[bytes]:
    yield _header(name, None, len(data))
    yield data
    yield _padding(len(data))


def _copy(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> Iterator[bytes]:
    size = member.size if member.isreg() else 0
    yield _header(name, member, size)
    if not size:
        return
    handle = tar.extractfile(member)
    assert handle is not None  # regular members have data
    copied = 0
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        copied += len(chunk)
        yield chunk
    if copied != size:
        raise tarfile.ReadError(f"{name} is truncated")
    yield _padding(size)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)
