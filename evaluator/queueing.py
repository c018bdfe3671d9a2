"""A queued submission's place in the queue, an estimate of its start, and cancelling it.

The place counts every submission ahead of it on the workers' queue, whatever its
challenge (all challenges share the workers): those already running, and those
waiting that were queued before it (by id, the order they were queued in). Only
counts leave here, never another team's submissions.

The estimate is an estimate: the median wall time of the challenge's recent runs,
times the submissions ahead, over the live workers of the queue. No recent run or
no live worker: no estimate.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import statistics
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from challenges.policy import Action, require
from evaluator import queue
from evaluator.models import IN_FLIGHT, State, Submission
from jiebang import audit
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import Conflict, NotFound

log = logging.getLogger(__name__)

RECENT_RUNS = 20  # the runs the estimate's median is taken over


@dataclass(frozen=True)
class Place:
    ahead: int  # submissions running or queued before it, on every challenge
    estimated_start_s: int | None  # None: no recent run to go by, or no live worker


def ahead_of(session: Session, sub: Submission) -> int:
    """Submissions the workers take before ``sub``: running ones, and earlier queued ones."""
    return (
        session.scalar(
            select(func.count()).where(
                or_(
                    Submission.status.in_(IN_FLIGHT),
                    and_(Submission.status == State.queued.value, Submission.id < sub.id),
                )
            )
        )
        or 0
    )


def typical_run_s(session: Session, challenge_id: int) -> float | None:
    """The median wall time (start to finish) of the challenge's latest finished runs."""
    rows = session.execute(
        select(Submission.started_at, Submission.finished_at)
        .where(
            Submission.challenge_id == challenge_id,
            Submission.status.in_((State.scored.value, State.failed.value)),
            Submission.started_at.is_not(None),
            Submission.finished_at.is_not(None),
        )
        .order_by(Submission.finished_at.desc())
        .limit(RECENT_RUNS)
    ).all()
    walls = [(end - start).total_seconds() for start, end in rows if end >= start]
    return statistics.median(walls) if walls else None


def live_workers(redis: Redis, queue_name: str) -> int | None:
    """Workers listening on the queue now; None when Redis does not answer."""
    try:
        return Worker.count(queue=Queue(queue_name, connection=redis))
    except RedisError:
        log.warning("could not count the workers of queue %s", queue_name)
        return None


def place_in_queue(
    session: Session, sub: Submission, *, redis: Redis, queue_name: str
) -> Place | None:
    """Where a queued submission stands; None once it is no longer queued."""
    if sub.status != State.queued.value:
        return None
    ahead = ahead_of(session, sub)
    typical = typical_run_s(session, sub.challenge_id)
    workers = live_workers(redis, queue_name)
    estimate = None
    if typical is not None and workers:
        estimate = math.ceil(typical * ahead / workers)
    return Place(ahead=ahead, estimated_start_s=estimate)


def cancel(
    session: Session, *, user: User, submission_id: int, now: dt.datetime | None = None
) -> Submission:
    """A team member takes back a submission still waiting in the queue; it costs no quota.

    One conditional UPDATE (``status = 'queued'``) decides between this and a worker's
    claim, which is the same kind of UPDATE: exactly one of them changes the row. The
    caller commits, then ``forget_job``.
    """
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound("submission", "No submission %(id)s among your teams'.", id=submission_id)
    require(session, user, Action.cancel_submission, sub)
    now = now or utcnow()
    won = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == State.queued.value)
        .values(
            status=State.cancelled.value,
            finished_at=now,
            lease_expires_at=None,
            message_code="queue.cancelled",
            message_params={},
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(sub)
    if not won:
        if sub.status in IN_FLIGHT:
            raise Conflict(
                "submission",
                "Submission %(id)s is already being evaluated; only a submission still "
                "waiting in the queue can be cancelled.",
                id=submission_id,
            )
        raise Conflict(
            "submission",
            "Submission %(id)s has already finished; only a submission still waiting in "
            "the queue can be cancelled.",
            id=submission_id,
        )
    audit.record(
        session,
        "submission.cancelled",
        actor_id=user.id,
        challenge_id=sub.challenge_id,
        submission=sub.id,
        team=sub.team_id,
    )
    return sub


def forget_job(redis: Redis, sub: Submission, *, queue_name: str) -> None:
    """Take the cancelled submission's job off the queue. Not needed for correctness (a
    worker that picks it up skips a row that is not queued), but it frees the queue."""
    try:
        Job.fetch(queue.job_id(queue_name, sub.id, sub.attempts + 1), connection=redis).delete()
    except NoSuchJobError:
        pass
    except RedisError:
        log.warning("could not remove the job of cancelled submission %s", sub.id)
