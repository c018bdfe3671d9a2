"""Each team's best public result, kept up to date as submissions are scored.

``note_scored`` runs in the transaction that records a score: one upsert into
``team_bests`` and one increment of the challenge's ``board_versions`` row. A team's
best is its best public score in the metric's direction; between equal scores the
earlier submission (then the lower id) wins, so the order in which workers finish
never changes a board. ``rebuild`` computes the same rows from the submissions
alone (the migration's backfill, and the reference the tests compare against).
"""

from __future__ import annotations

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from challenges.metrics import get_metric
from challenges.models import Challenge
from evaluator.models import BoardVersion, State, Submission, TeamBest


def touch_board(session: Session, challenge_id: int) -> None:
    """Say that a board of this challenge changed (cached copies become stale).

    Call it before ``audit.record`` in a transaction: every writer then takes this
    row's lock before the audit log's head, and none can deadlock another.
    """
    _upsert(
        session,
        BoardVersion,
        {"challenge_id": challenge_id, "version": 1},
        key="challenge_id",
        update=lambda new: {"version": BoardVersion.version + 1},
    )


def board_version(session: Session, challenge_id: int) -> int:
    query = select(BoardVersion.version).where(BoardVersion.challenge_id == challenge_id)
    return session.scalar(query) or 0


def _upsert(session: Session, model, row: dict, *, key: str, update) -> None:
    """``INSERT row ... ON CONFLICT (key) DO UPDATE SET update(excluded)``, on PostgreSQL
    and SQLite alike."""
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model).values(**row)
    session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update(stmt.excluded)))


def note_scored(session: Session, sub: Submission) -> None:
    """Count a newly scored submission towards its team's best and entries."""
    if sub.rerun_of_id is not None:
        return
    if sub.public_score is not None:
        higher = get_metric(sub.challenge.metric).higher_is_better
        _keep_best(session, sub, higher)
    touch_board(session, sub.challenge_id)


def _keep_best(session: Session, sub: Submission, higher: bool) -> None:
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

    def values(new):
        old = TeamBest
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
        chosen = {n: case((better, getattr(new, n)), else_=getattr(old, n)) for n in kept}
        return {**chosen, "entries": old.entries + 1}

    _upsert(session, TeamBest, row, key="team_id", update=values)


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
