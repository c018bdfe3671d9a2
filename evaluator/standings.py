"""Each team's best public result, kept up to date as submissions are scored.

``note_scored`` runs in the transaction that records a score: one upsert into
``team_bests`` and one increment of the challenge's ``board_version``. A team's
best is its best public score in the metric's direction; between equal scores the
earlier submission (then the lower id) wins, so the order in which workers finish
never changes a board. ``rebuild`` computes the same rows from the submissions
alone (the migration's backfill, and the reference the tests compare against).
"""

from __future__ import annotations

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from challenges.metrics import get_metric
from challenges.models import Challenge
from evaluator.models import State, Submission, TeamBest


def touch_board(session: Session, challenge_id: int) -> None:
    """Say that a board of this challenge changed (cached copies become stale)."""
    session.execute(
        update(Challenge)
        .where(Challenge.id == challenge_id)
        .values(board_version=Challenge.board_version + 1)
    )


def note_scored(session: Session, sub: Submission) -> None:
    """Count a newly scored submission towards its team's best and entries."""
    if sub.rerun_of_id is not None:
        return
    if sub.public_score is not None:
        higher = get_metric(sub.challenge.metric).higher_is_better
        _upsert(session, sub, higher)
    touch_board(session, sub.challenge_id)


def _upsert(session: Session, sub: Submission, higher: bool) -> None:
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {
        "team_id": sub.team_id,
        "challenge_id": sub.challenge_id,
        "submission_id": sub.id,
        "score": sub.public_score,
        "created_at": sub.created_at,
        "runtime_s": sub.runtime_s,
        "peak_memory_mb": sub.peak_memory_mb,
        "entries": 1,
    }
    stmt = make(TeamBest).values(**row)
    new, old = stmt.excluded, TeamBest
    better = or_(
        new.score > old.score if higher else new.score < old.score,
        and_(
            new.score == old.score,
            or_(
                new.created_at < old.created_at,
                and_(new.created_at == old.created_at, new.submission_id < old.submission_id),
            ),
        ),
    )
    kept = ("submission_id", "score", "created_at", "runtime_s", "peak_memory_mb")
    values = {name: case((better, getattr(new, name)), else_=getattr(old, name)) for name in kept}
    values["entries"] = old.entries + 1
    session.execute(stmt.on_conflict_do_update(index_elements=["team_id"], set_=values))


COLUMNS = (
    "team_id",
    "challenge_id",
    "submission_id",
    "score",
    "created_at",
    "runtime_s",
    "peak_memory_mb",
    "entries",
)


def rebuild(session: Session, challenge: Challenge) -> None:
    """Recompute the challenge's rows from its submissions (one statement)."""
    session.execute(delete(TeamBest).where(TeamBest.challenge_id == challenge.id))
    session.execute(insert(TeamBest).from_select(COLUMNS, bests_from_submissions(challenge)))
    touch_board(session, challenge.id)


def bests_from_submissions(challenge: Challenge):
    """Each team's best row, ranked from every submission: what ``team_bests`` holds."""
    higher = get_metric(challenge.metric).higher_is_better
    score = Submission.public_score
    ranked = (
        select(
            Submission.team_id,
            Submission.challenge_id,
            Submission.id.label("submission_id"),
            score.label("score"),
            Submission.created_at,
            Submission.runtime_s,
            Submission.peak_memory_mb,
            func.row_number()
            .over(
                partition_by=Submission.team_id,
                order_by=(
                    score.desc() if higher else score.asc(),
                    Submission.created_at.asc(),
                    Submission.id.asc(),
                ),
            )
            .label("rn"),
            func.count().over(partition_by=Submission.team_id).label("entries"),
        )
        .where(
            Submission.challenge_id == challenge.id,
            Submission.status == State.scored.value,
            Submission.rerun_of_id.is_(None),
            score.is_not(None),
        )
        .subquery()
    )
    return select(*(ranked.c[name] for name in COLUMNS)).where(ranked.c.rn == 1)
