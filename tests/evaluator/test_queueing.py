"""The queue as a team sees it: its place, an estimate, and cancelling a queued submission."""

import datetime as dt
import io
import tarfile
import threading
import uuid
import zipfile

import pytest
from rq import Queue, Worker
from rq.job import Job
from sqlalchemy import select

from challenges.models import Challenge
from evaluator import queue, queueing
from evaluator.context import open_context
from evaluator.intake import sniff_kind, submit, used_today
from evaluator.jobs import _claim, run_evaluation
from evaluator.models import State, Submission
from jiebang.audit import AuditEvent
from jiebang.errors import Conflict, NotFound
from leaderboards.verify import verify_state

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def teams(world, session):
    first = world.challenge(
        opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00"
    )
    other = world.challenge(
        slug="other", opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00"
    )
    alice, bob = world.user("alice@example.com"), world.user("bob@example.com")
    mine = world.team(first, alice, name="mine")
    theirs = world.team(other, bob, name="theirs")
    session.commit()
    return mine, theirs, alice, bob


def _row(world, team, status="queued", **fields):
    sub = world._submission(team, status=status, created_at=T0, **fields)
    world.session.flush()
    return sub


@pytest.fixture
def workers(redis_conn, settings):
    """Register ``n`` live workers on the test queue."""
    made = []

    def start(n):
        for _ in range(n):
            worker = Worker(
                [Queue(settings.queue_name, connection=redis_conn)],
                connection=redis_conn,
                name=f"test-{uuid.uuid4().hex[:8]}",
            )
            worker.register_birth()
            made.append(worker)

    yield start
    for worker in made:
        worker.register_death()


def test_the_place_counts_every_challenge_ahead_and_nothing_behind(
    world, session, teams, redis_conn, settings, workers
):
    mine, theirs, *_ = teams
    _row(world, theirs, status="running", started_at=T0)  # another challenge's run
    _row(world, theirs)  # queued before mine, on another challenge
    _row(world, mine, status="scored")  # finished: not ahead
    sub = _row(world, mine)
    _row(world, theirs)  # queued after mine: not ahead
    session.commit()
    place = queueing.place_in_queue(session, sub, redis=redis_conn, queue_name=settings.queue_name)
    assert place.ahead == 2
    assert place.estimated_start_s is None  # no run of this challenge to go by, no worker


def test_the_estimate_is_the_median_run_times_those_ahead_over_the_workers(
    world, session, teams, redis_conn, settings, workers
):
    mine, theirs, *_ = teams
    for seconds in (10, 30, 1000):  # median 30 s
        _row(
            world,
            mine,
            status="scored",
            started_at=T0,
            finished_at=T0 + dt.timedelta(seconds=seconds),
        )
    for _ in range(3):
        _row(world, theirs)
    sub = _row(world, mine)
    session.commit()
    workers(2)
    place = queueing.place_in_queue(session, sub, redis=redis_conn, queue_name=settings.queue_name)
    assert (place.ahead, place.estimated_start_s) == (3, 45)


def test_a_submission_that_left_the_queue_has_no_place(world, session, teams, redis_conn):
    mine, *_ = teams
    sub = _row(world, mine, status="running")
    assert queueing.place_in_queue(session, sub, redis=redis_conn, queue_name="q") is None


def test_cancelling_spends_no_quota_drops_the_job_and_a_worker_skips_it(
    world, session, teams, redis_conn, settings
):
    mine, _, alice, _ = teams
    challenge = world.session.get(Challenge, mine.challenge_id)
    sub = submit(
        session,
        user=alice,
        challenge=challenge,
        upload=_zip(),
        kind="bundle",
        blobs=world.blobs,
        settings=settings,
    )
    session.commit()
    queue.enqueue_new(redis_conn, sub.id, settings)
    now = sub.created_at
    assert used_today(session, team_id=mine.id, challenge=challenge, now=now) == 1

    queueing.cancel(session, user=alice, submission_id=sub.id)
    session.commit()
    queueing.forget_job(redis_conn, sub, queue_name=settings.queue_name)

    session.expire_all()
    sub = session.get(Submission, sub.id)
    assert sub.status == State.cancelled.value and sub.finished_at is not None
    assert sub.message_code == "queue.cancelled"
    assert used_today(session, team_id=mine.id, challenge=challenge, now=now) == 0
    assert not Job.exists(queue.job_id(settings.queue_name, sub.id, 1), connection=redis_conn)
    assert Queue(settings.queue_name, connection=redis_conn).count == 0
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "submission.cancelled"))
    assert event is not None and event.actor_id == alice.id
    # `jiebang audit verify` finds the row as the log tells it.
    state = verify_state(session)
    assert state.agrees, state.first
    # A worker that got the job anyway (taken before the cancel) leaves the row alone.
    assert run_evaluation(open_context(settings), sub.id) == "skipped"
    session.expire_all()
    assert session.get(Submission, sub.id).status == State.cancelled.value


def test_a_running_or_finished_submission_cannot_be_cancelled(world, session, teams):
    mine, _, alice, _ = teams
    running = _row(world, mine, status="running")
    scored = _row(world, mine, status="scored")
    session.commit()
    with pytest.raises(Conflict, match="already being evaluated"):
        queueing.cancel(session, user=alice, submission_id=running.id)
    with pytest.raises(Conflict, match="already finished"):
        queueing.cancel(session, user=alice, submission_id=scored.id)
    session.rollback()
    assert session.get(Submission, running.id).status == "running"


def test_only_the_team_may_cancel(world, session, teams):
    mine, _, _, bob = teams
    sub = _row(world, mine)
    session.commit()
    with pytest.raises(NotFound):
        queueing.cancel(session, user=bob, submission_id=sub.id)
    assert session.get(Submission, sub.id).status == "queued"


def _race(sessions, ctx, user, sub_id: int) -> dict:
    """Cancel and a worker's claim of one queued row, let go at the same moment."""
    results = {}
    barrier = threading.Barrier(2)

    def cancel():
        with sessions() as own:
            who = own.merge(user)
            barrier.wait()
            try:
                queueing.cancel(own, user=who, submission_id=sub_id)
                own.commit()
                results["cancel"] = True
            except Conflict:
                own.rollback()
                results["cancel"] = False

    def claim():
        barrier.wait()
        results["claim"] = _claim(ctx, sub_id) is not None

    threads = [threading.Thread(target=cancel), threading.Thread(target=claim)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_cancel_and_a_worker_claim_race_and_exactly_one_wins(
    world, session, sessions, teams, settings
):
    mine, _, alice, _ = teams
    ctx = open_context(settings)
    try:
        for _ in range(8):
            sub = _row(world, mine)
            session.commit()
            results = _race(sessions, ctx, alice, sub.id)
            assert results["cancel"] != results["claim"], results
            session.expire_all()
            status = session.get(Submission, sub.id).status
            assert status == ("cancelled" if results["cancel"] else "running")
    finally:
        ctx.close()


def _zip() -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", "print('hi')\n")
    data.seek(0)
    return data


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, n=-1) -> bytes:
        return self.inner.read(n)


def test_the_kind_is_sniffed_from_the_first_bytes_and_nothing_is_lost():
    zipped = _zip().getvalue()
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"[]"))
    for data, kind in ((zipped, "bundle"), (tarred.getvalue(), "image")):
        for stream in (io.BytesIO(data), _Unseekable(data)):
            rest, found = sniff_kind(stream)
            assert found == kind
            assert b"".join(iter(lambda r=rest: r.read(7), b"")) == data


def test_a_zip_submitted_with_kind_auto_is_a_bundle(world, session, teams, settings):
    mine, _, alice, _ = teams
    sub = submit(
        session,
        user=alice,
        challenge=session.get(Challenge, mine.challenge_id),
        upload=_zip(),
        kind="auto",
        blobs=world.blobs,
        settings=settings,
    )
    assert sub.kind == "bundle"
