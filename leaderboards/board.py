"""Ranking: one SQL statement per board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from challenges.metrics import get_metric
from challenges.models import Challenge
from challenges.targets import check_targets, meets_all
from evaluator.models import State, Submission
from jiebang.accounts import Team


@dataclass(frozen=True)
class Entry:
    rank: int
    team_id: int
    team: str
    score: float
    submission_id: int
    submitted_at: dt.datetime
    runtime_s: float | None
    peak_memory_mb: float | None
    meets_targets: bool
    entries: int


def public_board(session: Session, challenge: Challenge) -> list[Entry]:
    """Each team's best public score, best first.

    One statement: a window ranks each team's scored submissions by public score
    (in the metric's direction), then by submission time and id, so a team's best
    is its earliest submission with its best score. Teams are then ordered the
    same way: a tie between teams goes to the earlier submission. A NULL score
    (missing, or NaN stored as NULL) never ranks.
    """
    metric = get_metric(challenge.metric)
    score = Submission.public_score
    best_first = score.desc() if metric.higher_is_better else score.asc()
    order = (best_first, Submission.created_at.asc(), Submission.id.asc())
    ranked = (
        select(
            Submission.id,
            Submission.team_id,
            score.label("score"),
            Submission.created_at,
            Submission.runtime_s,
            Submission.peak_memory_mb,
            func.row_number().over(partition_by=Submission.team_id, order_by=order).label("rn"),
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
    return _entries(session, challenge, ranked)


def private_board(session: Session, challenge: Challenge) -> list[Entry]:
    """Each team's best private score among the submissions it put forward.

    A team's candidates are its final selections; a team that selected none is
    represented by its ``final_selections`` best public submissions (public
    score in the metric's direction, then earlier first). Among candidates the
    best private score counts, ties to the earlier submission; teams are ordered
    the same way. One statement: two window passes over the team's scored
    submissions. NULL private scores never rank.
    """
    metric = get_metric(challenge.metric)
    public, private = Submission.public_score, Submission.private_score
    by_public = (public.desc() if metric.higher_is_better else public.asc()).nulls_last()
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
            func.row_number()
            .over(
                partition_by=Submission.team_id,
                order_by=(by_public, Submission.created_at.asc(), Submission.id.asc()),
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
    best = scored.c.score.desc() if metric.higher_is_better else scored.c.score.asc()
    ranked = (
        select(
            scored.c.id,
            scored.c.team_id,
            scored.c.score,
            scored.c.created_at,
            scored.c.runtime_s,
            scored.c.peak_memory_mb,
            func.row_number()
            .over(
                partition_by=scored.c.team_id,
                order_by=(best, scored.c.created_at.asc(), scored.c.id.asc()),
            )
            .label("rn"),
            func.count().over(partition_by=scored.c.team_id).label("entries"),
        )
        .where(put_forward, scored.c.score.is_not(None))
        .subquery()
    )
    return _entries(session, challenge, ranked)


def _entries(session: Session, challenge: Challenge, ranked) -> list[Entry]:
    """Rank the teams' best rows of ``ranked`` (rn = 1) and judge their targets."""
    metric = get_metric(challenge.metric)
    best = ranked.c.score.desc() if metric.higher_is_better else ranked.c.score.asc()
    query = (
        select(ranked, Team.name)
        .join(Team, Team.id == ranked.c.team_id)
        .where(ranked.c.rn == 1)
        .order_by(best, ranked.c.created_at.asc(), ranked.c.id.asc())
    )
    entries = []
    for rank, row in enumerate(session.execute(query), start=1):
        checks = check_targets(
            challenge.targets,
            scores={challenge.metric: row.score},
            runtime_s=row.runtime_s,
            peak_memory_mb=row.peak_memory_mb,
        )
        entries.append(
            Entry(
                rank=rank,
                team_id=row.team_id,
                team=row.name,
                score=row.score,
                submission_id=row.id,
                submitted_at=row.created_at,
                runtime_s=row.runtime_s,
                peak_memory_mb=row.peak_memory_mb,
                meets_targets=meets_all(checks),
                entries=row.entries,
            )
        )
    return entries
