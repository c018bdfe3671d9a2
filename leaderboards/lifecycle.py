"""Closing on time, then freezing: run periodically by every worker, safe to repeat."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges import lifecycle, service
from challenges.models import Challenge, Status
from evaluator.models import WAITING_OR_RUNNING, Submission
from jiebang.accounts import User
from jiebang.db import utcnow
from leaderboards.decision import freeze

log = logging.getLogger(__name__)


def pending(session: Session, challenge: Challenge) -> int:
    """Submissions received before the deadline that are not final yet."""
    query = select(func.count()).where(
        Submission.challenge_id == challenge.id,
        Submission.rerun_of_id.is_(None),
        Submission.dry_run.is_(False),  # a dry run changes no board: freezing need not wait
        Submission.status.in_(WAITING_OR_RUNNING),
    )
    return session.scalar(query)


def tick(session: Session, *, now: dt.datetime | None = None) -> list[str]:
    """Close due challenges; freeze each closed one once every submission it received
    before its deadline is final. Returns the slugs frozen."""
    now = now or utcnow()
    lifecycle.close_due(session, now=now)
    touched = []
    closed = select(Challenge).where(Challenge.status == Status.closed.value)
    for challenge in session.scalars(closed).all():
        if pending(session, challenge):
            continue
        status = freeze(session, challenge, now=now)
        log.info("challenge %s closed and frozen: %s", challenge.slug, status)
        touched.append(challenge.slug)
    return touched


def close_now(session: Session, challenge: Challenge, *, actor: User | None = None) -> str:
    """Close before ``closes_at`` (an administrator's decision); freeze at once unless
    submissions are still being evaluated (the workers' tick freezes it then)."""
    service.close(session, challenge, actor=actor)
    if pending(session, challenge):
        return challenge.status
    return freeze(session, challenge)
