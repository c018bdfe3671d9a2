"""Upload benchmark: image archives accepted through a real `jiebang serve` on loopback.

    .venv/bin/python -m benchmarks.uploads --size-mb 1024            # makes the archive
    .venv/bin/python -m benchmarks.uploads ARCHIVE.tar --runs 3
    .venv/bin/python -m benchmarks.uploads --size-mb 1024 --baseline-tree DIR

Each upload goes through the API and is streamed to the blob store, hashed, fsynced
and validated (no worker runs). Per run, alternating:

- ``ceiling``: no server; the same file read, hashed (sha256) and written to a file
  on the same disk as the blob store, then fsynced: what accepting it cannot beat.
- ``raw``: the file as the request body, as `jiebang submit` sends it.
- ``multipart``: the file as multipart form field ``file``, as browsers send it.
- ``before``: with ``--baseline-tree DIR`` (another checkout of the project, e.g. a
  `git worktree` of an earlier commit), multipart to a second server run from it.

Then the same image thin (without the base image's layers, ``sandboxes/thin.py``),
as `jiebang submit IMAGE_TAG` sends it. We report medians of the runs in MB/s and
the server's memory growth per upload: its peak resident size during the upload
(VmHWM, reset before each through /proc/PID/clear_refs) over its size before.

``--size-mb N`` makes an archive FROM jiebang/python:3.11 with a random layer
(``benchmarks/image_archive.py``); everything is made in a temporary directory and
removed afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from redis import Redis
from requests_toolbelt import MultipartEncoder

from benchmarks.image_archive import make_archive
from jiebang.settings import load_settings
from sandboxes.thin import thin_archive
from web.client import FileBody

JIEBANG = str(Path(sys.executable).with_name("jiebang"))
SLUG = "handwritten-digits"
CHUNK = 1024 * 1024


def _layers(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        config = json.load(tar.extractfile(manifest[0]["Config"]))
    return config["rootfs"]["diff_ids"]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _setup(env: dict, work: Path) -> str:
    """A database with the demo challenge, a user and a team; the user's API token."""
    import yaml

    from web import demo

    def cli(*args: str) -> str:
        done = subprocess.run([JIEBANG, *args], env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    bundle = demo.prepare_bundle(work / "bundle", now=demo.utcnow())
    spec = yaml.safe_load((bundle / "challenge.yaml").read_text())
    spec["limits"].update(running_submissions=1000, daily_submissions=1000)  # no worker
    (bundle / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    cli("db", "upgrade")
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example")
    cli("challenges", "load", str(bundle), "--publish")
    cli("users", "create", "--email", "b@example.com", "--password", "password123")
    return cli("users", "token", "--email", "b@example.com")


class Server:
    """`jiebang serve` on a free loopback port, with its own data directory."""

    def __init__(self, work: Path, queue: str, tree: Path | None = None) -> None:
        self.env = dict(
            os.environ,
            JIEBANG_DATA_DIR=str(work / "instance"),
            JIEBANG_QUEUE_NAME=queue,
            JIEBANG_REDIS_URL="redis://127.0.0.1:6379/14",
            JIEBANG_ENV="development",
            JIEBANG_SUBMIT_RATE_LIMIT="100000/minute",
        )
        self.env.pop("JIEBANG_DATABASE_URL", None)
        if tree is not None:
            self.env["PYTHONPATH"] = str(tree)
        self.blob_dir = work / "instance" / "blobs"
        self.token = _setup(self.env, work)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [JIEBANG, "serve", "--port", str(port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    requests.get(f"{self.url}/healthz", timeout=5)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            subprocess.run(
                [JIEBANG, "teams", "create", SLUG, "Bench"],
                env=dict(self.env, JIEBANG_TOKEN=self.token, JIEBANG_SERVER=self.url),
                check=True,
                capture_output=True,
            )
        except BaseException:
            self.stop()
            raise

    def upload(self, path: Path, *, raw: bool) -> tuple[float, int]:
        """Seconds to accepted, and the server's memory growth in KiB meanwhile."""
        pid = self.proc.pid
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        before = _status_kib(pid, "VmRSS")
        url = f"{self.url}/api/v1/challenges/{SLUG}/submissions"
        headers = {"Authorization": f"Bearer {self.token}"}
        with open(path, "rb") as f:
            start = time.perf_counter()
            if raw:
                response = requests.post(
                    url,
                    params={"kind": "image"},
                    data=FileBody(f, path.stat().st_size),
                    headers=headers | {"Content-Type": "application/octet-stream"},
                    timeout=600,
                )
            else:
                form = MultipartEncoder(
                    {"kind": "image", "file": ("image.tar", f, "application/x-tar")}
                )
                response = requests.post(
                    url,
                    data=form,
                    headers=headers | {"Content-Type": form.content_type},
                    timeout=600,
                )
            elapsed = time.perf_counter() - start
        assert response.status_code == 201, response.text
        return elapsed, _status_kib(pid, "VmHWM") - before

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def ceiling(path: Path, directory: Path, fsyncs: list[float]) -> tuple[float, int]:
    """Read, sha256, write and fsync ``path`` into ``directory``: the upper bound.

    The fsync's own time is appended to ``fsyncs``.
    """
    digest = hashlib.sha256()
    buffer = memoryview(bytearray(CHUNK))
    target = directory / "ceiling.tmp"
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as src, open(target, "wb", buffering=0) as out:
        while n := src.readinto(buffer):
            digest.update(buffer[:n])
            out.write(buffer[:n])
        synced = time.perf_counter()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - start
    fsyncs.append(time.perf_counter() - synced)
    target.unlink()
    return elapsed, 0


@contextmanager
def _servers(work: Path, baseline: Path | None):
    queue = f"bench-{os.getpid()}"
    made: dict[str, Server] = {}
    try:
        made["after"] = Server(work / "after", f"{queue}-after")
        if baseline is not None:
            made["before"] = Server(work / "before", f"{queue}-before", tree=baseline)
        yield made
    finally:
        for server in made.values():
            server.stop()
        redis = Redis.from_url("redis://127.0.0.1:6379/14")
        for key in redis.scan_iter(f"*{queue}*"):
            redis.delete(key)


def _publish_base(queue: str, layers: list[str]) -> None:
    """What a worker publishes: the base image's layers, which thin archives may omit."""
    Redis.from_url("redis://127.0.0.1:6379/14").set(
        f"jiebang:{queue}:base-image",
        json.dumps({"name": "jiebang/python:3.11", "id": "bench", "layers": layers}),
    )


def measure(archive: Path, work: Path, runs: int, baseline: Path | None) -> dict:
    shared = _layers(archive)[:-1]
    thin = thin_archive(archive, work / "thin.tar", set(shared))
    results: dict[str, list[tuple[float, int]]] = {}
    fsyncs: list[float] = []
    with _servers(work, baseline) as servers:
        for server in servers.values():
            _publish_base(server.env["JIEBANG_QUEUE_NAME"], shared)
        cases = {
            "ceiling": lambda: ceiling(archive, servers["after"].blob_dir, fsyncs),
            "raw": lambda: servers["after"].upload(archive, raw=True),
            "multipart": lambda: servers["after"].upload(archive, raw=False),
        }
        if "before" in servers:
            cases["before"] = lambda: servers["before"].upload(archive, raw=False)
        for _ in range(runs):
            for name, case in cases.items():
                results.setdefault(name, []).append(case())
        results["thin"] = [servers["after"].upload(work / "thin.tar", raw=True) for _ in range(2)]
    return {"results": results, "thin": thin, "layers": len(shared) + 1, "fsync": fsyncs}


def report(archive: Path, measured: dict, runs: int) -> None:
    size = archive.stat().st_size
    thin = measured["thin"]
    print(f"archive: {archive.name}, {size:,} bytes, {measured['layers']} layers; {runs} runs")
    print(f"{'case':<10}{'median s':>10}{'MB/s':>8}{'of ceiling':>12}{'memory +MiB':>13}")
    seconds = {name: statistics.median(t for t, _ in r) for name, r in measured["results"].items()}
    for name, rows in measured["results"].items():
        nbytes = thin.after if name == "thin" else size
        growth = [kib / 1024 for _, kib in rows]
        share = seconds["ceiling"] / seconds[name] if name != "thin" else None
        print(
            f"{name:<10}{seconds[name]:>10.3f}{nbytes / seconds[name] / 1e6:>8.0f}"
            f"{'' if share is None else f'{share:.0%}':>12}"
            f"{statistics.median(growth):>8.0f} (max {max(growth):.0f})"
        )
    print(f"of the ceiling, the final fsync: {statistics.median(measured['fsync']):.3f} s")
    print(
        f"thin upload: {thin.after:,} bytes (base layers left out: {thin.layers_left_out}), "
        f"{seconds['raw'] / seconds['thin']:.1f}x faster than the full archive"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("archive", nargs="?", type=Path, help="a docker save archive")
    parser.add_argument("--size-mb", type=int, help="make an archive of this many MiB")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to compare")
    args = parser.parse_args()
    if (args.archive is None) == (args.size_mb is None):
        parser.error("give ARCHIVE or --size-mb")
    work = Path(tempfile.mkdtemp(prefix="jiebang-bench-"))
    try:
        archive = args.archive
        if archive is None:
            start = time.perf_counter()
            archive = make_archive(
                work / f"image-{args.size_mb}m.tar",
                args.size_mb,
                docker_host=load_settings().docker_host,
            )
            print(f"made {archive.name} in {time.perf_counter() - start:.1f} s")
        report(archive, measure(archive, work, args.runs, args.baseline_tree), args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
