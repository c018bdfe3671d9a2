"""Nothing stuck, nothing lost: faults with real worker processes, Redis, Docker, disks.

Each test ends with every submission final and correct, quotas right, and no
container or scratch left behind.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluator.context import open_context
from evaluator.intake import submit_and_enqueue, used_today
from evaluator.jobs import _claim
from evaluator.models import Failure, State, Submission
from jiebang import audit
from jiebang.db import utcnow
from jiebang.errors import Unavailable

from .conftest import JIEBANG

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FAST = (
    "import csv, os\n"
    "rows = list(csv.DictReader(open('/input/test.csv')))\n"
    "out = open(os.environ['JIEBANG_OUTPUT'] + '/predictions.csv', 'w')\n"
    "out.write('id,prediction\\n' + ''.join(f\"{r['id']},{int(r['x']) % 2}\\n\" for r in rows))\n"
)
SLOW = "import time\ntime.sleep(4)\n" + FAST


def _zip(program: str) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", program)
    data.seek(0)
    return data


@pytest.fixture
def contest(world, session):
    challenge = world.challenge(
        opens_at="2020-01-01T00:00:00+00:00",
        closes_at="2099-01-01T00:00:00+00:00",
        limits={"daily_submissions": 1000, "running_submissions": 1000, "team_size": 5},
        resources={"cpus": 0.5, "memory_mb": 256, "time_limit_s": 30},
    )
    user = world.user("f@example.com")
    world.team(challenge, user)
    session.commit()
    return challenge, user


def _submit(session, settings, redis_conn, contest, program=FAST, n=1) -> list[int]:
    challenge, user = contest
    ctx = open_context(settings)
    ids = []
    for _ in range(n):
        sub = submit_and_enqueue(
            session,
            redis=redis_conn,
            user=user,
            challenge=challenge,
            upload=_zip(program),
            kind="bundle",
            blobs=ctx.blobs,
            settings=settings,
        )
        ids.append(sub.id)
    return ids


class Workers:
    def __init__(self, env, tmp_path, stop_gracefully):
        self.env, self.tmp, self.procs = env, tmp_path, []
        self.stop_gracefully = stop_gracefully

    def start(self, **extra: str) -> subprocess.Popen:
        log = self.tmp / f"worker-{len(self.procs)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [*JIEBANG, "worker"],
                env={**self.env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append((proc, log))
        return proc

    def stop_all(self) -> None:
        self.stop_gracefully(self.procs, timeout=60)


@pytest.fixture
def workers(env, tmp_path, redis_conn, stop_gracefully):
    pool = Workers(env, tmp_path, stop_gracefully)
    yield pool
    pool.stop_all()


def _final(session, ids, timeout=300) -> list[Submission]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.expire_all()
        rows = [session.get(Submission, i) for i in ids]
        if all(r.is_final for r in rows):
            return rows
        time.sleep(0.5)
    raise AssertionError({r.id: r.status for r in rows if not r.is_final})


def _until(session, sub_id, condition, timeout=60) -> Submission:
    """The submission's row once ``condition`` holds (or as it is after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        session.expire_all()
        row = session.get(Submission, sub_id)
        if condition(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue  # gone meanwhile
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def _no_leftovers(settings, ids):
    import sandboxes

    client = sandboxes.connect(settings.docker_host)
    for i in ids:
        labels = [f"jiebang.namespace={settings.namespace}", f"jiebang.submission={i}"]
        assert client.containers.list(all=True, filters={"label": labels}) == []
    scratch = settings.scratch_dir
    assert not scratch.exists() or list(scratch.iterdir()) == []


def test_two_hundred_submissions_two_workers_each_scored_once(
    session, settings, redis_conn, contest, workers
):
    ids = _submit(session, settings, redis_conn, contest, n=200)
    workers.start()
    workers.start()
    rows = _final(session, ids, timeout=900)
    assert {r.status for r in rows} == {State.scored}
    assert {r.public_score for r in rows} == {1.0}
    assert {r.attempts for r in rows} == {1}
    assert len({r.worker for r in rows}) == 2  # both did work
    scored = [e for e in audit.events_for(session, contest[0].id) if e.kind == "submission.scored"]
    assert len(scored) == 200
    _no_leftovers(settings, ids)


def test_a_worker_killed_mid_run_loses_nothing(session, settings, redis_conn, contest, workers):
    lease = {"JIEBANG_LEASE_S": "3"}
    (sub_id,) = _submit(session, settings, redis_conn, contest, program=SLOW)
    victim = workers.start(**lease)
    _until(session, sub_id, lambda row: row.status == State.running)
    time.sleep(1)
    forked = _children(victim.pid)  # RQ's scheduler
    assert forked, "the worker should have forked its scheduler"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    session.expire_all()
    assert session.get(Submission, sub_id).status == State.running  # owned by a dead worker
    deadline = time.monotonic() + 10  # no orphan lives on, holding the scheduler's lock
    while any(Path(f"/proc/{pid}").exists() for pid in forked) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in forked if Path(f"/proc/{pid}").exists()]
    time.sleep(4)  # let the lease run out
    workers.start(**lease)  # reaps the container, reconciles the row, runs it again
    (row,) = _final(session, [sub_id])
    assert row.status == State.scored and row.attempts == 2
    _no_leftovers(settings, [sub_id])


def test_lost_redis_jobs_are_recovered(session, settings, redis_conn, contest, workers):
    ids = _submit(session, settings, redis_conn, contest, n=3)
    for key in redis_conn.scan_iter(f"*{settings.queue_name}*"):
        redis_conn.delete(key)  # as if Redis restarted empty
    workers.start()  # reconciles at start
    rows = _final(session, ids)
    assert {r.status for r in rows} == {State.scored}


def test_docker_unreachable_is_retried_and_never_counts(
    session, settings, redis_conn, contest, workers
):
    (sub_id,) = _submit(session, settings, redis_conn, contest)
    broken = workers.start(JIEBANG_DOCKER_HOST="unix:///nonexistent/docker.sock")
    row = _until(session, sub_id, lambda row: row.attempts >= 1 and row.status == State.queued)
    assert row.status == State.queued and "retried" in row.message  # "retrying", not failed
    broken.terminate()
    broken.wait(timeout=60)
    workers.start()  # a healthy worker takes the scheduled retry
    (row,) = _final(session, [sub_id], timeout=120)
    assert row.status == State.scored and row.attempts == 2
    challenge, _ = contest
    assert used_today(session, team_id=row.team_id, challenge=challenge, now=utcnow()) == 1


def test_graceful_shutdown_finishes_the_current_run(
    session, settings, redis_conn, contest, workers
):
    (sub_id,) = _submit(session, settings, redis_conn, contest, program=SLOW)
    worker = workers.start()
    _until(session, sub_id, lambda row: row.status == State.running)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    session.expire_all()
    assert session.get(Submission, sub_id).status == State.scored


def test_racing_claims_have_one_winner(session, settings, redis_conn, contest):
    (sub_id,) = _submit(session, settings, redis_conn, contest)
    ctx = open_context(settings)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(_claim(ctx, sub_id))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda r: r is not None) == [None] * 7 + [1]


def test_a_full_blob_disk_keeps_nothing_and_says_so(session, settings, redis_conn, contest):
    blob_dir = settings.blob_dir
    blob_dir.mkdir(parents=True, exist_ok=True)
    existing = {p: p.read_bytes() for p in blob_dir.rglob("*") if p.is_file()}
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(blob_dir)])
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        big = "x = '" + "a" * 400_000 + "'\n" + FAST
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as z:
            z.writestr("main.py", big)
        data.seek(0)
        challenge, user = contest
        ctx = open_context(settings)
        with pytest.raises(Unavailable, match="out of storage"):
            submit_and_enqueue(
                session,
                redis=redis_conn,
                user=user,
                challenge=challenge,
                upload=data,
                kind="bundle",
                blobs=ctx.blobs,
                settings=settings,
            )
        session.rollback()
        assert [p for p in blob_dir.rglob("*") if p.is_file()] == []
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
    finally:
        subprocess.run(["umount", str(blob_dir)], check=True)
    assert {p: p.read_bytes() for p in blob_dir.rglob("*") if p.is_file()} == existing
    assert Failure.infrastructure  # the kind the team would see for platform trouble


@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("JIEBANG_TEST_RESTART_DOCKER")),
    reason="stops Jiebang's Docker engine; runs in CI (or with JIEBANG_TEST_RESTART_DOCKER=1)",
)
def test_dockerd_stopped_during_a_run(session, settings, redis_conn, contest, workers):
    # Jiebang's own engine only, by its pid file: a host's dockerd must never be stopped.
    script = Path(__file__).resolve().parents[2] / "scripts" / "start-engine.sh"
    (sub_id,) = _submit(session, settings, redis_conn, contest, program=SLOW)
    workers.start()
    _until(session, sub_id, lambda row: row.status == State.running)
    subprocess.run(["bash", str(script), "--stop"], check=True, timeout=120)
    try:
        row = _until(session, sub_id, lambda row: row.status == State.queued and row.attempts == 1)
        assert row.status == State.queued and "retried" in row.message
    finally:
        subprocess.run(["bash", str(script)], check=True, timeout=120)
    (row,) = _final(session, [sub_id], timeout=180)
    assert row.status == State.scored and row.attempts >= 2
    assert row.failure is None
