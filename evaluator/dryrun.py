"""Dry runs: a sponsor's reference solution run against the real scorer before review.

A dry run is a ``Submission`` with ``dry_run`` set and no team. The worker runs it
exactly as a team's (``evaluator.jobs.run_evaluation``: the same sandbox, the same
hidden data, the same scorer), so a challenge whose scorer fails on a good solution
shows it before anyone competes. Having no team keeps it off every board, quota and
team's list; the queries that read a whole challenge's submissions filter it out.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import BinaryIO

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from challenges.models import Challenge, Status
from challenges.policy import Action, require
from evaluator.intake import (
    AUTO,
    commit_and_enqueue,
    drop_if_unused,
    parse_kind,
    sniff_kind,
    store_upload,
)
from evaluator.models import WAITING_OR_RUNNING, State, Submission
from jiebang import audit
from jiebang.accounts import User
from jiebang.blobs import BlobStore
from jiebang.db import utcnow
from jiebang.errors import Conflict
from jiebang.settings import Settings

log = logging.getLogger(__name__)

# Before close: a draft and one in review above all, and an open one (a fixed scorer
# can be checked again).
TAKES_DRY_RUNS = (Status.draft.value, Status.in_review.value, Status.open.value)
# Key space of the PostgreSQL advisory lock taken per challenge ("jbdr").
_LOCK_SPACE = 0x6A626472 << 24


def check_may_dry_run(
    session: Session, *, user: User, challenge: Challenge, now: dt.datetime
) -> None:
    """Raise what stands in the way of a dry run now."""
    require(session, user, Action.dry_run, challenge, now=now)
    if challenge.status not in TAKES_DRY_RUNS or challenge.is_after_close(now):
        raise Conflict("status", "This challenge has closed; dry runs are for before close.")
    if waiting(session, challenge) is not None:
        raise Conflict(
            "dry_run",
            "A dry run of this challenge is still waiting or running; try again when it "
            "has finished.",
        )


def waiting(session: Session, challenge: Challenge) -> int | None:
    """The id of the challenge's dry run not final yet, if any."""
    query = select(Submission.id).where(
        Submission.challenge_id == challenge.id,
        Submission.dry_run,
        Submission.status.in_(WAITING_OR_RUNNING),
    )
    return session.scalar(query.limit(1))


def submit_dry_run(
    session: Session,
    *,
    user: User,
    challenge: Challenge,
    upload: BinaryIO,
    kind: str,
    blobs: BlobStore,
    settings: Settings,
    note: str = "",
    now: dt.datetime | None = None,
    shared_layers: frozenset[str] = frozenset(),
    declared_size: int | None = None,
) -> Submission:
    """Check, store and record a dry run; the caller commits, then enqueues it.

    The upload is stored and validated as a team's is; no quota is asked or spent.
    """
    now = now or utcnow()
    kind = kind if kind == AUTO else parse_kind(kind)
    check_may_dry_run(session, user=user, challenge=challenge, now=now)
    if kind == AUTO:  # only now: the body is read after permission and quota
        upload, kind = sniff_kind(upload)
        kind = parse_kind(kind)
    blob, image_id = store_upload(
        session,
        upload=upload,
        kind=kind,
        blobs=blobs,
        settings=settings,
        shared_layers=shared_layers,
        declared_size=declared_size,
    )
    # Two uploads may both have passed the check while streaming: decide again, one
    # at a time per challenge, until the caller's commit.
    _lock(session, challenge.id)
    try:
        check_may_dry_run(session, user=user, challenge=challenge, now=now)
    except Exception:
        drop_if_unused(blobs, blob.sha256, session)
        raise
    sub = Submission(
        image_id=image_id,
        challenge_id=challenge.id,
        team_id=None,
        user_id=user.id,
        kind=kind.value,
        blob_sha256=blob.sha256,
        size=blob.size,
        note=note.strip()[:200],
        status=State.queued.value,
        dry_run=True,
        created_at=now,
    )
    session.add(sub)
    session.flush()
    audit.record(
        session,
        "submission.received",
        actor_id=user.id,
        challenge_id=challenge.id,
        submission=sub.id,
        team=None,
        dry_run=True,
        kind=kind.value,
        sha256=blob.sha256,
        size=blob.size,
    )
    return sub


def _lock(session: Session, challenge_id: int) -> None:
    """Serialize dry-run decisions of one challenge until the transaction ends.

    PostgreSQL: a transaction-level advisory lock, not the challenge row's lock, which
    takes part in the lock order of closing and verdicts (see ``BoardVersion``); only
    this module takes it, so it cannot close a cycle. SQLite: a no-op write takes the
    database's write lock, as ``intake.lock_team`` does.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_SPACE + challenge_id})
    else:
        session.execute(
            update(Challenge).where(Challenge.id == challenge_id).values(slug=Challenge.slug)
        )


def submit_dry_run_and_enqueue(
    session: Session,
    *,
    redis,
    user: User,
    challenge: Challenge,
    upload: BinaryIO,
    kind: str,
    blobs: BlobStore,
    settings: Settings,
    note: str = "",
    declared_size: int | None = None,
) -> Submission:
    """``submit_dry_run``, commit, then queue it (``intake.commit_and_enqueue``)."""
    return commit_and_enqueue(
        session,
        redis=redis,
        settings=settings,
        accept=lambda shared: submit_dry_run(
            session,
            user=user,
            challenge=challenge,
            upload=upload,
            kind=kind,
            blobs=blobs,
            settings=settings,
            note=note,
            shared_layers=shared,
            declared_size=declared_size,
        ),
    )


def dry_runs(session: Session, challenge: Challenge, *, limit: int = 20) -> list[Submission]:
    """The challenge's dry runs, newest first (the caller asked ``Action.dry_run``)."""
    query = (
        select(Submission)
        .where(Submission.challenge_id == challenge.id, Submission.dry_run)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def latest(session: Session, challenge_ids: list[int]) -> dict[int, Submission]:
    """Each challenge's newest dry run, for the administrators' list (one query)."""
    if not challenge_ids:
        return {}
    newest = (
        select(func.max(Submission.id))
        .where(Submission.challenge_id.in_(challenge_ids), Submission.dry_run)
        .group_by(Submission.challenge_id)
    )
    rows = session.scalars(select(Submission).where(Submission.id.in_(newest)))
    return {sub.challenge_id: sub for sub in rows}
