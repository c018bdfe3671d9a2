"""Leases, the reconciler and idempotent recording, with real Redis and a real database."""

import datetime as dt
import os
import time

from rq import Queue

from evaluator import queue
from evaluator.context import open_context
from evaluator.jobs import _claim, _record
from evaluator.models import Failure, State, Submission
from evaluator.outcome import Outcome
from evaluator.recovery import MAX_ATTEMPTS, reconcile
from jiebang import audit
from jiebang.db import utcnow


def _queued(world, session):
    challenge = world.challenge()
    team = world.team(challenge, world.user("r@example.com"))
    sub = world.scored(team, public=None, private=None)
    sub.status = State.queued.value
    session.commit()
    return sub


def test_a_flushed_redis_loses_nothing(world, session, settings, redis_conn):
    sub = _queued(world, session)
    ctx = open_context(settings)
    report = reconcile(ctx.sessions, redis_conn, settings)
    assert report.requeued_lost_jobs == 1
    assert Queue(settings.queue_name, connection=redis_conn).get_job_ids() == [
        queue.job_id(settings.queue_name, sub.id, 1)
    ]
    assert reconcile(ctx.sessions, redis_conn, settings).total == 0  # the job is there now
    for key in redis_conn.scan_iter(f"*{settings.queue_name}*"):
        redis_conn.delete(key)
    redis_conn.delete(f"rq:job:{queue.job_id(settings.queue_name, sub.id, 1)}")
    assert reconcile(ctx.sessions, redis_conn, settings).requeued_lost_jobs == 1


def test_a_dead_workers_run_is_retried_then_failed_for_good(world, session, settings, redis_conn):
    sub = _queued(world, session)
    ctx = open_context(settings)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert _claim(ctx, sub.id) == attempt
        later = utcnow() + dt.timedelta(seconds=settings.lease_s + 1)
        assert reconcile(ctx.sessions, redis_conn, settings, now=utcnow()).total == 0
        report = reconcile(ctx.sessions, redis_conn, settings, now=later)
        session.expire_all()
        row = session.get(Submission, sub.id)
        if attempt < MAX_ATTEMPTS:
            assert report.requeued_dead_workers == 1
            assert row.status == State.queued and "retried" in row.message
        else:
            assert report.failed_for_good == 1
            assert row.status == State.failed and row.failure == Failure.infrastructure
            assert "does not count against your quota" in row.message


def test_a_result_is_recorded_once(world, session, settings, redis_conn):
    sub = _queued(world, session)
    ctx = open_context(settings)
    attempt = _claim(ctx, sub.id)
    metric = sub.challenge.metric
    outcome = Outcome(
        State.scored, public_metrics={metric: 0.5}, private_metrics={metric: 0.6}, runtime_s=1.0
    )
    assert _record(ctx, sub.id, attempt, outcome) is True
    assert _record(ctx, sub.id, attempt, outcome) is False  # a repeat changes nothing
    assert _claim(ctx, sub.id) is None  # final rows are never claimed again
    events = [e.kind for e in audit.events_for(session, sub.challenge_id)]
    assert events.count("submission.scored") == 1


def test_a_superseded_attempt_cannot_overwrite(world, session, settings, redis_conn):
    sub = _queued(world, session)
    ctx = open_context(settings)
    first = _claim(ctx, sub.id)
    later = utcnow() + dt.timedelta(seconds=settings.lease_s + 1)
    reconcile(ctx.sessions, redis_conn, settings, now=later)  # the first worker "died"
    second = _claim(ctx, sub.id)
    assert second == first + 1
    metric = sub.challenge.metric
    late = Outcome(State.scored, public_metrics={metric: 0.1}, private_metrics={metric: 0.1})
    assert _record(ctx, sub.id, first, late) is False
    scored = Outcome(State.scored, public_metrics={metric: 0.9})
    assert _record(ctx, sub.id, second, scored) is True
    session.expire_all()
    assert session.get(Submission, sub.id).public_score == 0.9
    assert session.get(Submission, sub.id).public_metrics == {metric: 0.9}


def test_uploads_abandoned_by_a_dead_server_are_swept(session, settings, redis_conn, blobs):
    abandoned, live = blobs.receive(), blobs.receive()
    abandoned.write(b"the server died half-way")
    live.write(b"still arriving")
    stale = time.time() - 7 * 3600
    os.utime(abandoned.name, (stale, stale))
    gone = abandoned.name
    report = reconcile(open_context(settings).sessions, redis_conn, settings)
    assert report.removed_upload_files == 1 and report.total == 0
    assert not os.path.exists(gone) and os.path.exists(live.name)
    live.close()
    abandoned.close()


def test_an_unexpected_error_is_retried_at_once_then_failed(
    world, session, settings, redis_conn, monkeypatch
):
    """A job that raises (here: as a sponsor's unreadable labels would) does not leave its
    row running until the lease runs out: it is retried with back-off, then failed."""
    from evaluator import jobs

    def broken(ctx, submission_id, attempt):
        raise ValueError("labels.csv: row 3 has 2 fields, expected 3")

    monkeypatch.setattr(jobs, "_evaluate", broken)
    sub = _queued(world, session)
    ctx = open_context(settings)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        outcome = jobs.run_evaluation(ctx, sub.id)
        session.expire_all()
        row = session.get(Submission, sub.id)
        assert row.attempts == attempt and row.lease_expires_at is None
        if attempt < MAX_ATTEMPTS:
            assert outcome == "retrying" and row.status == State.queued
            delayed = Queue(settings.queue_name, connection=redis_conn).scheduled_job_registry
            assert queue.job_id(settings.queue_name, sub.id, attempt + 1) in delayed.get_job_ids()
        else:
            assert outcome == State.failed and row.failure == Failure.infrastructure
    assert "labels.csv" not in row.message  # the operator's log has it, the team does not
