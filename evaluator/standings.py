"""Each team's best public result, kept up to date as submissions are scored.

``note_scored`` runs in the transaction that records a score: one upsert into
``team_bests`` and one increment of the challenge's ``board_versions`` row. A team's
best is its first public result in the order of ``challenges.ranking``. ``rebuild``
computes the same rows from the submissions alone (the migration's backfill, and the
reference the tests compare against).
"""

from __future__ import annotations

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from challenges.models import Challenge
from challenges.ranking import Ranking, ranking_of
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
    """Count a newly scored submission towards its team's best and entries (a re-run
    or a dry run counts towards nothing and changes no board)."""
    if sub.rerun_of_id is not None or sub.dry_run:
        return
    if sub.public_score is not None:
        _keep_best(session, sub, ranking_of(sub.challenge))
    touch_board(session, sub.challenge_id)


def _keep_best(session: Session, sub: Submission, ranking: Ranking) -> None:
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
        better = ranking.beats(new, old)
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
    ranking = ranking_of(challenge)
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
                order_by=ranking.order_by(score, Submission.created_at, Submission.id),
            )
            .label("rn"),
            func.count().over(partition_by=Submission.team_id).label("entries"),
        )
        .where(
            Submission.challenge_id == challenge.id,
            Submission.status == State.scored.value,
            Submission.rerun_of_id.is_(None),
            Submission.dry_run.is_(False),
            score.is_not(None),
        )
        .subquery()
    )
    return select(*(ranked.c[name] for name in COLUMNS)).where(ranked.c.rn == 1)
