"""Ranking: one SQL statement per board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import get_type_hints

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from challenges.models import Challenge, Team
from challenges.ranking import ranking_of
from challenges.targets import targets_test
from evaluator.models import State, Submission, TeamBest

INTERNAL = {"internal": True}  # field metadata: kept in the cache, never shown by the API


@dataclass(frozen=True)
class Entry:
    """One team's line on a board: the one list of its fields. The cache stores it with
    ``encode``/``decode`` and the API's ``BoardEntry`` is made from these fields (less
    those marked ``INTERNAL``), so a new field is added here and nowhere else."""

    rank: int
    team_id: int = field(metadata=INTERNAL)
    team: str
    score: float
    submission_id: int
    submitted_at: dt.datetime
    runtime_s: float | None
    peak_memory_mb: float | None
    meets_targets: bool
    entries: int
    # Every metric the challenge reports, by name, on this board's side (a scoring
    # program's several numbers; the built-in scorer's one, equal to ``score``).
    metrics: dict[str, float | None]

    def encode(self) -> dict:
        """Plain JSON values (times as ISO 8601 text); ``decode`` reverses it."""
        row = dict(self.__dict__)
        for name in _TIMES:
            row[name] = row[name].isoformat()
        return row

    @classmethod
    def decode(cls, row: dict) -> Entry:
        row = dict(row)
        for name in _TIMES:
            row[name] = dt.datetime.fromisoformat(row[name])
        return cls(**row)


_TIMES = tuple(name for name, kind in get_type_hints(Entry).items() if kind is dt.datetime)


def public_board(
    session: Session, challenge: Challenge, *, offset: int = 0, limit: int | None = None
) -> list[Entry]:
    """Each team's best public score, best first; ``offset``/``limit`` give one page.

    ``evaluator.standings`` keeps one row per team (its best: the earliest submission
    with its best score in the metric's direction), so this reads one row per team
    instead of ranking every submission, and a page reads only its own rows. Teams
    are ordered the same way (``challenges.ranking``).
    """
    ranking = ranking_of(challenge)
    # The page of team_bests first, then its own rows' names and metrics: a join before
    # the LIMIT made PostgreSQL hash-join every submission of the challenge (126-207 ms at
    # 500,000 submissions, against 4.6 ms for the page alone).
    page = (
        select(
            TeamBest.submission_id,
            TeamBest.team_id,
            TeamBest.score,
            TeamBest.created_at,
            TeamBest.runtime_s,
            TeamBest.peak_memory_mb,
            TeamBest.entries,
        )
        .where(TeamBest.challenge_id == challenge.id)
        .order_by(*ranking.order_by(TeamBest.score, TeamBest.created_at, TeamBest.submission_id))
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    query = (
        select(page, Team.name, Submission.public_metrics.label("metrics"))
        .join(Team, Team.id == page.c.team_id)
        .join(Submission, Submission.id == page.c.submission_id)
        .order_by(*ranking.order_by(page.c.score, page.c.created_at, page.c.submission_id))
    )
    return _entries(challenge, session.execute(query), first=offset + 1)


def public_board_size(session: Session, challenge: Challenge) -> int:
    """How many teams the public board ranks."""
    query = select(func.count()).where(TeamBest.challenge_id == challenge.id)
    return session.scalar(query)


def private_board(session: Session, challenge: Challenge) -> list[Entry]:
    """Each team's best private score among the submissions it put forward.

    A team's candidates are its final selections; a team that selected none is
    represented by its ``final_selections`` best public submissions (public
    score in the metric's direction, then earlier first). Among candidates the
    best private score counts, ties to the earlier submission; teams are ordered
    the same way. One statement: two window passes over the team's scored
    submissions. NULL private scores never rank.
    """
    ranking = ranking_of(challenge)
    public, private = Submission.public_score, Submission.private_score
    scored = (
        select(
            Submission.id,
            Submission.team_id,
            Submission.selected,
            public.label("public_score"),
            private.label("score"),
            Submission.created_at,
            Submission.runtime_s,
            Submission.peak_memory_mb,
            Submission.private_metrics.label("metrics"),
            func.row_number()
            .over(
                partition_by=Submission.team_id,
                order_by=ranking.order_by(
                    public, Submission.created_at, Submission.id, nulls_last=True
                ),
            )
            .label("public_rank"),
            func.sum(case((Submission.selected, 1), else_=0))
            .over(partition_by=Submission.team_id)
            .label("n_selected"),
        )
        .where(
            Submission.challenge_id == challenge.id,
            Submission.status == State.scored.value,
            Submission.rerun_of_id.is_(None),
            Submission.dry_run.is_(False),  # a sponsor's dry run: on no board
        )
        .subquery()
    )
    put_forward = or_(
        scored.c.selected,
        and_(
            scored.c.n_selected == 0,
            scored.c.public_score.is_not(None),
            scored.c.public_rank <= challenge.final_selections,
        ),
    )
    ranked = (
        select(
            scored.c.id,
            scored.c.team_id,
            scored.c.score,
            scored.c.created_at,
            scored.c.runtime_s,
            scored.c.peak_memory_mb,
            scored.c.metrics,
            func.row_number()
            .over(
                partition_by=scored.c.team_id,
                order_by=ranking.order_by(scored.c.score, scored.c.created_at, scored.c.id),
            )
            .label("rn"),
            func.count().over(partition_by=scored.c.team_id).label("entries"),
        )
        .where(put_forward, scored.c.score.is_not(None))
        .subquery()
    )
    query = (
        select(ranked, ranked.c.id.label("submission_id"), Team.name)
        .join(Team, Team.id == ranked.c.team_id)
        .where(ranked.c.rn == 1)
        .order_by(*ranking.order_by(ranked.c.score, ranked.c.created_at, ranked.c.id))
    )
    return _entries(challenge, session.execute(query))


def _entries(challenge: Challenge, rows, *, first: int = 1) -> list[Entry]:
    """Board entries from rows in rank order, each judged against the targets."""
    meets = targets_test(challenge.targets, challenge.metric)
    return [
        Entry(
            rank=rank,
            team_id=row.team_id,
            team=row.name,
            score=row.score,
            submission_id=row.submission_id,
            submitted_at=row.created_at,
            runtime_s=row.runtime_s,
            peak_memory_mb=row.peak_memory_mb,
            meets_targets=meets(row.score, row.runtime_s, row.peak_memory_mb, row.metrics),
            entries=row.entries,
            metrics=row.metrics or {challenge.metric: row.score},
        )
        for rank, row in enumerate(rows, start=first)
    ]
