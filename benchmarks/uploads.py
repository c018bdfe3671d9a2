"""Upload benchmark: a full `docker save` archive against the same image uploaded thin.

    .venv/bin/python -m benchmarks.uploads ARCHIVE.tar

ARCHIVE is an image built FROM jiebang/python:3.11 and saved whole (`jiebang demo`
leaves three in instance/demo/). A real `jiebang serve` process on loopback takes
each upload through the API: streamed to the blob store, hashed, validated. We
report size, time, throughput and the server's peak memory (VmHWM) before and
after. The base layers are read from the archive itself (all but the last layer),
as a worker would publish them, so no Docker engine is needed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import requests
from redis import Redis
from requests_toolbelt import MultipartEncoder

from sandboxes.thin import thin_archive

JIEBANG = str(Path(sys.executable).with_name("jiebang"))


def _layers(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        config = json.load(tar.extractfile(manifest[0]["Config"]))
    return config["rootfs"]["diff_ids"]


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _setup(env: dict, work: Path) -> str:
    from web import demo

    def cli(*args: str) -> str:
        done = subprocess.run([JIEBANG, *args], env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    import yaml

    bundle = demo.prepare_bundle(work / "bundle", now=demo.utcnow())
    spec = yaml.safe_load((bundle / "challenge.yaml").read_text())
    spec["limits"]["running_submissions"] = 10  # no worker drains the queue here
    (bundle / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    cli("db", "upgrade")
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example")
    cli("challenges", "load", str(bundle), "--publish")
    cli("users", "create", "--email", "b@example.com", "--password", "password123")
    return cli("users", "token", "--email", "b@example.com")


def _upload(url: str, token: str, path: Path) -> float:
    with open(path, "rb") as f:
        encoder = MultipartEncoder({"kind": "image", "file": ("image.tar", f, "application/x-tar")})
        start = time.perf_counter()
        response = requests.post(
            f"{url}/api/v1/challenges/handwritten-digits/submissions",
            data=encoder,
            timeout=600,
            headers={"Authorization": f"Bearer {token}", "Content-Type": encoder.content_type},
        )
        elapsed = time.perf_counter() - start
    assert response.status_code == 201, response.text
    return elapsed


def main(archive: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="jiebang-bench-"))
    queue = f"bench-{os.getpid()}"
    env = dict(
        os.environ,
        JIEBANG_DATA_DIR=str(work / "instance"),
        JIEBANG_QUEUE_NAME=queue,
        JIEBANG_REDIS_URL="redis://127.0.0.1:6379/14",
        JIEBANG_ENV="development",
        JIEBANG_SUBMIT_RATE_LIMIT="1000/minute",
    )
    env.pop("JIEBANG_DATABASE_URL", None)
    token = _setup(env, work)
    layers = _layers(archive)
    shared = layers[:-1]
    redis = Redis.from_url("redis://127.0.0.1:6379/14")
    redis.set(
        f"jiebang:{queue}:base-image",
        json.dumps({"name": "jiebang/python:3.11", "id": "bench", "layers": shared}),
    )
    start = time.perf_counter()
    thinned = thin_archive(archive, work / "thin.tar", set(shared))
    thin_time = time.perf_counter() - start
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [JIEBANG, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        idle = _peak_kib(server.pid)
        # Two teams' worth of quota: the full archive, then the thin one, twice each.
        subprocess.run(
            [JIEBANG, "teams", "create", "handwritten-digits", "Bench"],
            env=dict(env, JIEBANG_TOKEN=token, JIEBANG_SERVER=url),
            check=True,
            capture_output=True,
        )
        full = [_upload(url, token, archive) for _ in range(2)]
        peak_full = _peak_kib(server.pid)
        thin = [_upload(url, token, work / "thin.tar") for _ in range(2)]
    finally:
        server.terminate()
        server.wait()
        for key in redis.scan_iter(f"*{queue}*"):
            redis.delete(key)
    size = archive.stat().st_size
    print(f"archive: {archive.name}, {len(layers)} layers, {len(shared)} of them the base's")
    print(f"{'upload':<8}{'bytes':>14}{'best s':>9}{'MB/s':>9}")
    print(f"{'full':<8}{size:>14,}{min(full):>9.3f}{size / min(full) / 1e6:>9.0f}")
    print(
        f"{'thin':<8}{thinned.after:>14,}{min(thin):>9.3f}{thinned.after / min(thin) / 1e6:>9.1f}"
    )
    print(
        f"thinning on the client: {thin_time:.2f} s; "
        f"{size / thinned.after:.0f}x fewer bytes, {min(full) / min(thin):.0f}x faster"
    )
    print(
        f"server peak memory: {idle / 1024:.0f} MiB idle, {peak_full / 1024:.0f} MiB after "
        f"the full uploads (+{(peak_full - idle) / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
