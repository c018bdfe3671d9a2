"""Verdict-relevant behaviour of ``run``: success, timeout, memory, crash, output and log caps."""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import time
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
