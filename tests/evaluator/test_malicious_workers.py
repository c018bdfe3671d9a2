"""The malicious-submission suite (SANDBOX.md), part 3: real ``jiebang worker`` processes.

A worker killed with SIGKILL in the middle of a run leaves a running container and a
mounted scratch directory; the next worker's start-up reaper removes both. A memory bomb
and a fork bomb evaluated at the same moment as a well-behaved submission, each in its
own worker process, change nothing of the well-behaved one's scores; the workers live on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue, Worker

from evaluator import queue
from evaluator.models import Submission

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RUNTIMES = ("runc", "runsc")
GRACE_S, CANARY = 6, "JBCANARY"
JIEBANG = str(Path(sys.executable).with_name("jiebang"))
FINAL = {"scored", "failed", "rejected", "cancelled"}


@pytest.fixture(scope="module")
def env(hostile) -> dict[str, str]:
    """A worker's environment: this suite's settings, and canaries among its secrets."""
    settings = hostile.settings
    return {
        **os.environ,
        "JIEBANG_ENV": "test",
        "JIEBANG_DATABASE_URL": settings.database_url,
        "JIEBANG_DATA_DIR": str(settings.data_dir),
        "JIEBANG_REDIS_URL": settings.redis_url,
        "JIEBANG_QUEUE_NAME": settings.queue_name,
        "JIEBANG_SECRET_KEY": settings.secret_key,
        "JIEBANG_MAX_PREDICTION_BYTES": str(settings.max_prediction_bytes),
        "AWS_SECRET_ACCESS_KEY": hostile.canaries["env"],
    }


@pytest.fixture
def start_worker(hostile, env, tmp_path, stop_gracefully):
    """``start_worker(*args)`` runs ``jiebang worker *args``; all are stopped at the end."""
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(*args: str) -> subprocess.Popen:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [JIEBANG, "worker", *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        started.append((proc, log))
        hostile.worker_names.add(f"{os.uname().nodename}:{proc.pid}")
        return proc

    yield start
    stop_gracefully(started)


def _enqueue(hostile, sub_id: int, queue_name: str | None = None) -> None:
    settings = hostile.settings
    queue.enqueue(
        hostile.ctx.redis,
        sub_id,
        attempt=1,
        queue_name=queue_name or settings.queue_name,
        job_timeout=settings.job_timeout_s,
    )


def _until(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_worker_killed_mid_run_is_cleaned_up_by_the_next(hostile, start_worker, runtime):
    key = hostile.challenge("long", runtime)
    before = hostile.host_state()
    sub_id = hostile.submit(key, hostile.bundle("sleep"))
    _enqueue(hostile, sub_id)
    first = start_worker("--burst")
    worker = f"{os.uname().nodename}:{first.pid}"
    mine = [f"jiebang.submission={sub_id}", f"jiebang.worker={worker}"]
    running = _until("the run to start", lambda: hostile.containers(mine, running=True))
    assert hostile.host_state().mounts - before.mounts  # its /output is mounted meanwhile
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    # What the killed worker left: its container runs on, its scratch stays mounted.
    assert hostile.containers(mine, running=True) == running
    left = hostile.host_state()
    assert left.scratch - before.scratch and left.mounts - before.mounts
    assert left.cgroups - before.cgroups
    second = start_worker("--burst")
    assert second.wait(timeout=120) == 0
    assert hostile.containers(mine) == []
    hostile.assert_restored(before)
    # The submission itself stays "running" until its lease runs out and the reconciler
    # retries it (not this suite's subject): cancel it, so no later worker runs it again.
    with hostile.sessions.begin() as session:
        session.get(Submission, sub_id).status = "cancelled"


@pytest.fixture(scope="module")
def pool(hostile, env, tmp_path_factory, stop_gracefully):
    """Three idle ``jiebang worker`` processes on a queue of their own."""
    name = f"{hostile.settings.queue_name}-pool"
    logs = tmp_path_factory.mktemp("pool")
    workers = []
    for index in range(3):
        with (logs / f"worker-{index}.log").open("w") as log:
            workers.append(
                subprocess.Popen(
                    [JIEBANG, "worker"],
                    env={**env, "JIEBANG_QUEUE_NAME": name},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        hostile.worker_names.add(f"{os.uname().nodename}:{workers[-1].pid}")
    rq_queue = Queue(name, connection=hostile.ctx.redis)
    try:
        # Started at once (imports take seconds); ready when all three wait on the queue.
        def ready() -> bool:
            for index, worker in enumerate(workers):
                log = (logs / f"worker-{index}.log").read_text()[-2000:]
                assert worker.poll() is None, f"worker {index} died:\n{log}"
            return len(Worker.all(queue=rq_queue)) == 3

        _until("three idle workers", ready, 120)
        yield name, workers
    finally:
        stop_gracefully([(w, logs / f"worker-{i}.log") for i, w in enumerate(workers)])


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bombs_in_other_workers_change_nothing(hostile, pool, runtime):
    queue_name, workers = pool
    # The fork bomb runs into its time limit; the others end by themselves.
    cases = {"memory_bomb": ("membomb", "roomy"), "fork_bomb": ("forkbomb", "tight")}
    cases["well"] = ("well", "roomy")
    keys = {name: hostile.challenge(kind, runtime) for name, (_, kind) in cases.items()}
    alone = hostile.baseline(keys["well"])
    before = hostile.host_state()
    subs = {
        name: hostile.submit(keys[name], hostile.bundle(program))
        for name, (program, _) in cases.items()
    }
    for sub_id in subs.values():
        _enqueue(hostile, sub_id, queue_name)

    def finished():
        seen = {name: hostile.observe(sub_id) for name, sub_id in subs.items()}
        return seen if all(s.status in FINAL for s in seen.values()) else None

    seen = _until("all three verdicts", finished)
    assert (seen["memory_bomb"].status, seen["memory_bomb"].failure) == ("failed", "memory")
    assert seen["fork_bomb"].failure in ("timeout", "memory", "crash")
    assert seen["well"].status == "scored"
    assert (seen["well"].public, seen["well"].private) == (alone.public, alone.private)
    with hostile.sessions() as session:
        rows = {name: session.get(Submission, sub_id) for name, sub_id in subs.items()}
    # Three worker processes, running at the same time, each free again in time.
    assert len({row.worker for row in rows.values()}) == 3
    assert max(r.started_at for r in rows.values()) < min(r.finished_at for r in rows.values())
    for name, row in rows.items():
        took = (row.finished_at - row.started_at).total_seconds()
        assert took < hostile.time_limit(keys[name]) + GRACE_S, name
    for name, observed in seen.items():
        assert CANARY not in observed.visible, name
        assert observed.containers_left == []
    assert all(worker.poll() is None for worker in workers)  # they all live on
    hostile.assert_restored(before)
