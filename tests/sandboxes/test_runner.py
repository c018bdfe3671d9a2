"""Verdict-relevant behaviour of ``run``: success, timeout, memory, crash, output and log caps."""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

import sandboxes
from sandboxes import Limits

pytestmark = pytest.mark.docker

CGROUPS = Path("/sys/fs/cgroup/memory/jiebang")
FAST = {"memory_mb": 256, "time_limit_s": 30, "tmp_mb": 16, "output_mb": 8}


def _python(code: str) -> list[str]:
    return ["python", "-c", code]


def _ours(client, token: str) -> list:
    return client.containers.list(all=True, filters={"label": f"jiebang.test.run={token}"})


def _run(client, image_id, input_dir, scratch_dir, runtime, *, token="", **kwargs):
    limits = Limits(runtime=runtime, **{**FAST, **kwargs.pop("limits", {})})
    return sandboxes.run(
        client,
        image_id=image_id,
        input_dir=input_dir,
        limits=limits,
        scratch_dir=scratch_dir,
        labels={"jiebang.test.run": token or secrets.token_hex(6)},
        **kwargs,
    )


def test_image_writes_predictions(client, images, input_dir, scratch_dir, runtime):
    token = secrets.token_hex(6)
    with _run(client, images["solver"], input_dir, scratch_dir, runtime, token=token) as result:
        predictions = (result.output_dir / "predictions.csv").read_text()
        assert len(_ours(client, token)) == 1
        assert os.path.ismount(result.output_dir)
    assert predictions == "id,prediction\n1,20\n2,40\n3,60\n"
    assert result.exit_code == 0 and not result.timed_out and not result.oom_killed
    assert result.log == "solved\n" and not result.log_truncated
    assert 0 < result.runtime_s < 10
    assert result.peak_memory_mb is not None and result.peak_memory_mb > 1
    assert _ours(client, token) == []
    assert not result.output_dir.exists()
    assert not (CGROUPS / result.output_dir.parent.name).exists()


def test_peak_memory_of_a_short_run_is_exact(client, base_image, input_dir, scratch_dir, runtime):
    # Gone in well under a poll interval: only the run's parent cgroup still knows.
    code = "b = bytearray(100 * 1024 * 1024)"
    with _run(client, base_image, input_dir, scratch_dir, runtime, command=_python(code)) as result:
        pass
    assert result.exit_code == 0
    assert 100 < result.peak_memory_mb < 100 + 40


def test_cpu_spin_is_killed_at_the_time_limit(client, base_image, input_dir, scratch_dir, runtime):
    token = secrets.token_hex(6)
    started = time.monotonic()
    with _run(
        client,
        base_image,
        input_dir,
        scratch_dir,
        runtime,
        token=token,
        command=_python("while True: pass"),
        limits={"time_limit_s": 2},
    ) as result:
        pass
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code is None and not result.oom_killed
    assert 2 <= result.runtime_s < 4
    assert elapsed < 2 + 5
    assert _ours(client, token) == []


def test_ignoring_sigterm_changes_nothing(client, base_image, input_dir, scratch_dir, runtime):
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)"
    started = time.monotonic()
    with _run(
        client,
        base_image,
        input_dir,
        scratch_dir,
        runtime,
        command=_python(code),
        limits={"time_limit_s": 1},
    ) as result:
        pass
    assert result.timed_out
    assert time.monotonic() - started < 1 + 5


def test_memory_bomb_is_oom_killed(client, base_image, input_dir, scratch_dir, runtime):
    code = "b = []\nwhile True: b.append(bytearray(8 * 1024 * 1024))"
    with _run(client, base_image, input_dir, scratch_dir, runtime, command=_python(code)) as result:
        pass
    assert result.oom_killed and not result.timed_out
    assert result.exit_code == 137
    assert result.peak_memory_mb is not None and result.peak_memory_mb > 200


def test_exit_code_is_reported_with_the_log(client, base_image, input_dir, scratch_dir, runtime):
    code = "import sys\nprint('working')\nsys.exit('bad input: no column x')"
    with _run(client, base_image, input_dir, scratch_dir, runtime, command=_python(code)) as result:
        assert not any(result.output_dir.iterdir())
    assert result.exit_code == 1 and not result.timed_out and not result.oom_killed
    assert "working" in result.log and "bad input: no column x" in result.log


def test_exit_code_3(client, base_image, input_dir, scratch_dir, runtime):
    with _run(
        client,
        base_image,
        input_dir,
        scratch_dir,
        runtime,
        command=_python("raise SystemExit(3)"),
    ) as result:
        pass
    assert (result.exit_code, result.timed_out, result.oom_killed) == (3, False, False)


def test_output_is_capped(client, base_image, input_dir, scratch_dir, runtime):
    code = """
import os
def fill(path, chunk):
    n = 0
    try:
        with open(path, "wb") as f:
            while n < 64 * 1024 * 1024:
                f.write(chunk); f.flush(); n += len(chunk)
    except OSError as exc:
        return f"{n} {exc.errno}"
    return f"{n} none"
print(fill("/output/big", b"x" * 65536))
os.remove("/output/big")
count = 0
try:
    while count < 100000:
        with open(f"/output/small{count}", "wb") as f:
            f.write(b"y" * 65536)
        count += 1
    print("no limit")
except OSError as exc:
    print("small files stopped", exc.errno)
"""
    with _run(client, base_image, input_dir, scratch_dir, runtime, command=_python(code)) as result:
        used = sum(p.stat().st_size for p in result.output_dir.iterdir())
    first, second = result.log.splitlines()[:2]
    assert int(first.split()[0]) <= 8 * 1024 * 1024 and first.split()[1] != "none"
    assert second.startswith("small files stopped")
    assert used <= 8 * 1024 * 1024


def test_log_is_capped(client, base_image, input_dir, scratch_dir, runtime):
    code = "import sys\nfor i in range(200000): print('line', i)\nsys.stdout.write('x' * 10**6)"
    with _run(
        client,
        base_image,
        input_dir,
        scratch_dir,
        runtime,
        command=_python(code),
        limits={"log_bytes": 4096, "log_lines": 20},
    ) as result:
        pass
    assert result.exit_code == 0
    assert result.log_truncated
    assert len(result.log.encode()) <= 4096 and len(result.log.splitlines()) <= 20
    assert result.log.endswith("x")


def test_thread_bomb_is_contained(client, base_image, input_dir, scratch_dir, runtime):
    code = """
import threading, time
n = 0
try:
    while n < 20000:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        n += 1
    print("unlimited")
except RuntimeError:
    print("stopped at", n)
"""
    started = time.monotonic()
    with _run(
        client,
        base_image,
        input_dir,
        scratch_dir,
        runtime,
        command=_python(code),
        limits={"pids": 64, "time_limit_s": 10},
    ) as result:
        pass
    assert "unlimited" not in result.log
    if runtime == "runc":
        assert result.exit_code == 0 and "stopped at" in result.log
    # Under gVisor guest threads are not host pids: memory (or the sandbox kernel's
    # thread cap) ends the bomb instead, and the run is a failure either way.
    assert time.monotonic() - started < 10 + 5


def test_hostile_image_config_is_overridden(client, images, input_dir, scratch_dir, runtime):
    token = secrets.token_hex(6)
    with _run(client, images["hostile"], input_dir, scratch_dir, runtime, token=token) as result:
        (container,) = _ours(client, token)
        attrs = container.attrs
    assert result.log.splitlines() == ["10001 /tmp", "data writable"]
    assert attrs["Config"]["Healthcheck"]["Test"] == ["NONE"]
    # The VOLUME became a small tmpfs, not a Docker volume on the host's disk.
    assert all(m["Type"] == "bind" for m in attrs["Mounts"])
    assert "/data" in attrs["HostConfig"]["Tmpfs"]


def test_two_runs_at_once(client, images, input_dir, tmp_path, runtime):
    def one(index: int) -> str:
        with _run(
            client, images["solver"], input_dir, tmp_path / f"scratch{index}", runtime
        ) as result:
            return (result.output_dir / "predictions.csv").read_text()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outputs = list(pool.map(one, range(2)))
    assert outputs == ["id,prediction\n1,20\n2,40\n3,60\n"] * 2


def test_run_refuses_a_tag(client, input_dir, scratch_dir):
    with (
        pytest.raises(ValueError, match="image id"),
        sandboxes.run(
            client,
            image_id=sandboxes.BASE_IMAGE,
            input_dir=input_dir,
            limits=Limits(),
            scratch_dir=scratch_dir,
        ),
    ):
        pass


def test_missing_image_is_a_docker_error(client, input_dir, scratch_dir):
    with (
        pytest.raises(docker.errors.ImageNotFound),
        sandboxes.run(
            client,
            image_id="sha256:" + "0" * 64,
            input_dir=input_dir,
            limits=Limits(),
            scratch_dir=scratch_dir,
        ),
    ):
        pass
    assert not Path(scratch_dir).exists() or not any(Path(scratch_dir).iterdir())


def test_cleanup_happens_when_the_caller_fails(client, base_image, input_dir, scratch_dir, runtime):
    token = secrets.token_hex(6)
    with (
        pytest.raises(KeyError),
        _run(
            client,
            base_image,
            input_dir,
            scratch_dir,
            runtime,
            token=token,
            command=_python("pass"),
        ) as result,
    ):
        raise KeyError("scorer bug")
    assert _ours(client, token) == []
    assert not result.output_dir.exists()


# --- a scorer's layout: read-only mounts, the output elsewhere, no /input -------------------

SCORER_ENV = {
    "JIEBANG_PREDICTIONS": "/predictions",
    "JIEBANG_REFERENCE": "/reference",
    "JIEBANG_SPLIT": "/split",
    "JIEBANG_SCORES": "/scores",
}
SCORER_PROBE = """
import errno, json, os
facts = {"read": {}, "write": {}, "exists": {}}
# As the process got it: Python itself adds LC_CTYPE (PEP 538).
facts["env"] = {k: v for k, v in os.environ.items() if k != "LC_CTYPE"}
for name in ("predictions", "reference"):
    facts["read"][name] = open(f"/{name}/{name}.txt").read()
    for path in (f"/{name}/{name}.txt", f"/{name}/new.txt"):
        try:
            open(path, "a").write("x")
            facts["write"][path] = "ok"
        except OSError as exc:
            facts["write"][path] = errno.errorcode[exc.errno]
for path in ("/input", "/output", "/code", "/scores"):
    facts["exists"][path] = os.path.exists(path)
written = 0
try:
    with open("/scores/big", "wb") as f:
        while written < 4 * 1024 * 1024:
            f.write(b"x" * 65536); f.flush(); written += 65536
    facts["big"] = "no limit"
except OSError as exc:
    facts["big"] = errno.errorcode[exc.errno]
os.remove("/scores/big")
facts["written"] = written
json.dump(facts, open("/scores/facts.json", "w"))
"""


@pytest.fixture
def scorer_mounts(tmp_path: Path) -> dict[str, Path]:
    mounts = {}
    for name in ("predictions", "reference"):
        folder = tmp_path / name
        folder.mkdir(mode=0o755)
        (folder / f"{name}.txt").write_text(f"{name} text")
        (folder / f"{name}.txt").chmod(0o666)  # writable by anyone: only the mount stops it
        folder.chmod(0o777)
        mounts[f"/{name}"] = folder.resolve()
    return mounts


def _scorer_run(client, image_id, scratch_dir, runtime, mounts, **kwargs):
    return sandboxes.run(
        client,
        image_id=image_id,
        limits=Limits(runtime=runtime, **{**FAST, "output_mb": 1}),
        scratch_dir=scratch_dir,
        mounts=mounts,
        output_at="/scores",
        environment=SCORER_ENV,
        labels={"jiebang.test.run": secrets.token_hex(6)},
        **kwargs,
    )


def test_a_scorer_layout(client, base_image, scratch_dir, scorer_mounts, runtime):
    with _scorer_run(
        client, base_image, scratch_dir, runtime, scorer_mounts, command=_python(SCORER_PROBE)
    ) as result:
        assert result.exit_code == 0, result.log
        assert os.path.ismount(result.output_dir)
        facts = json.loads((result.output_dir / "facts.json").read_text())
    assert facts["env"] == {
        **SCORER_ENV,
        "HOME": "/tmp",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": "sandbox",
    }
    assert facts["read"] == {"predictions": "predictions text", "reference": "reference text"}
    assert set(facts["write"].values()) == {"EROFS"}
    assert facts["exists"] == {"/input": False, "/output": False, "/code": False, "/scores": True}
    # The 1 MiB tmpfs (and the fsize ulimit) stop a bigger file.
    assert facts["big"] in ("ENOSPC", "EFBIG") and facts["written"] <= 1024 * 1024
    assert [p.read_text() for p in scorer_mounts["/reference"].iterdir()] == ["reference text"]
    assert not result.output_dir.exists()


VOLUMES = """\
FROM {base}
LABEL jiebang.test.nonce={nonce}
VOLUME ["/reference", "/scores/", "/elsewhere"]
"""


@pytest.fixture(scope="module")
def volume_image(client, base_image, nonce) -> Iterator[str]:
    """An image declaring VOLUMEs where a scorer's mounts go, and one elsewhere."""
    tag = f"jiebang-test-{nonce}:volumes"
    dockerfile = VOLUMES.format(base=sandboxes.BASE_IMAGE, nonce=nonce).encode()
    image, _ = client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
    yield image.id
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(tag, force=True)


def test_an_image_volume_at_a_mount_is_that_mount(
    client, volume_image, scratch_dir, scorer_mounts, runtime
):
    code = """
import os
for path in ("/reference/r.txt", "/scores/s.txt", "/elsewhere/e.txt"):
    try:
        open(path, "w").write("x"); print(path, "ok")
    except OSError as exc:
        print(path, exc.errno)
"""
    token = secrets.token_hex(6)
    with sandboxes.run(
        client,
        image_id=volume_image,
        limits=Limits(runtime=runtime, **{**FAST, "output_mb": 1}),
        scratch_dir=scratch_dir,
        mounts={"/reference": scorer_mounts["/reference"]},
        output_at="/scores",
        command=_python(code),
        labels={"jiebang.test.run": token},
    ) as result:
        (container,) = _ours(client, token)
        attrs = container.attrs
        written = sorted(p.name for p in result.output_dir.iterdir())
    assert result.log.splitlines() == [
        "/reference/r.txt 30",  # EROFS: the read-only bind, not a tmpfs over it
        "/scores/s.txt ok",
        "/elsewhere/e.txt ok",
    ]
    assert written == ["s.txt"]
    assert list(scorer_mounts["/reference"].iterdir()) == [
        scorer_mounts["/reference"] / "reference.txt"
    ]
    assert all(m["Type"] == "bind" for m in attrs["Mounts"])
    assert set(attrs["HostConfig"]["Tmpfs"]) == {"/tmp", "/elsewhere"}


@pytest.mark.parametrize(
    ("target", "output_at"),
    [
        ("relative", "/scores"),
        ("/", "/scores"),
        ("/etc", "/scores"),
        ("/usr/lib/data", "/scores"),
        ("/proc", "/scores"),
        ("/tmp/data", "/scores"),
        ("/data/../etc", "/scores"),
        ("/data/", "/scores"),
        ("//data", "/scores"),
        ("/data/./x", "/scores"),
        ("/da ta", "/scores"),
        ("/scores", "/scores"),
        ("/scores/inner", "/scores"),
        ("/data", "/data/out"),
        ("/input", "/scores"),
        ("/data", "/etc"),
        ("/data", "/tmp"),
        ("/data", "relative"),
        ("/data", "/input"),
    ],
)
def test_bad_mount_targets_are_refused(client, input_dir, scratch_dir, target, output_at):
    # Refused before Docker is asked anything: the image does not exist.
    with (
        pytest.raises(ValueError, match=r"mount target|output"),
        sandboxes.run(
            client,
            image_id="sha256:" + "0" * 64,
            input_dir=input_dir,
            limits=Limits(),
            scratch_dir=scratch_dir,
            mounts={target: input_dir.resolve()},
            output_at=output_at,
        ),
    ):
        pass
    assert not scratch_dir.exists()


def test_overlapping_mounts_and_bad_host_paths_are_refused(client, tmp_path, scratch_dir):
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "link").symlink_to(folder)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = [
        ({"/a": folder, "/a/b": folder}, "overlaps"),
        ({"/a/b": folder, "/a": folder}, "overlaps"),
        ({"/a": tmp_path / "missing"}, "not a folder or a file"),
        ({"/a": fifo}, "not a folder or a file"),
        ({"/a": tmp_path / "link"}, "resolved"),
        ({"/a": tmp_path / "folder" / ".." / "folder"}, "resolved"),
        ({"/a": Path("folder")}, "resolved"),
    ]
    for mounts, reason in cases:
        with (
            pytest.raises(ValueError, match=reason),
            sandboxes.run(
                client,
                image_id="sha256:" + "0" * 64,
                limits=Limits(),
                scratch_dir=scratch_dir,
                mounts=mounts,
            ),
        ):
            pass
    assert not scratch_dir.exists()


@pytest.mark.parametrize(
    "environment",
    [{"JIEBANG_INPUT": "/x"}, {"JIEBANG_OUTPUT": "/x"}, {"PATH": "/x"}, {"A=B": "x"}, {"A": "\0"}],
)
def test_bad_environment_is_refused(client, scratch_dir, environment):
    with (
        pytest.raises(ValueError, match="environment variable"),
        sandboxes.run(
            client,
            image_id="sha256:" + "0" * 64,
            limits=Limits(),
            scratch_dir=scratch_dir,
            output_at="/scores",
            environment=environment,
        ),
    ):
        pass


def test_output_mb_below_one_is_refused(client, base_image, scratch_dir):
    # A tmpfs of size=0 would have no limit at all.
    with (
        pytest.raises(ValueError, match="output_mb"),
        sandboxes.run(
            client,
            image_id=base_image,
            limits=Limits(output_mb=0),
            scratch_dir=scratch_dir,
            command=_python("pass"),
        ),
    ):
        pass
