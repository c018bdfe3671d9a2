"""Lists of submissions for readers, paged in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from challenges.models import Challenge
from evaluator.models import Failure, Submission
from jiebang.paging import Page, page_of

_WITH_CHALLENGE = joinedload(Submission.challenge).lazyload(Challenge.files)  # files: unused


def one_submission(session: Session, submission_id: int) -> Submission | None:
    """A submission with its challenge and team, in one statement."""
    return session.get(Submission, submission_id, options=[_WITH_CHALLENGE])


def team_submissions(session: Session, *, team_id: int, page: int, per_page: int) -> Page:
    """A team's own submissions (not judges' re-runs of them), newest first: a count and
    one page of rows, each with its challenge and team (joined, never a query a row)."""
    query = (
        select(Submission)
        .where(Submission.team_id == team_id, Submission.rerun_of_id.is_(None))
        # (a dry run has no team: never on a team's list)
        .order_by(Submission.id.desc())
        .options(_WITH_CHALLENGE)
    )
    return page_of(session, query, page=page, per_page=per_page)


@dataclass(frozen=True)
class ScorerFailure:
    submission_id: int
    finished_at: dt.datetime | None
    diagnosis: str  # the platform's own words, never what the program printed


@dataclass(frozen=True)
class ScorerFailures:
    total: int
    latest: list[ScorerFailure]


def scorer_failures(session: Session, challenge: Challenge, *, limit: int = 10) -> ScorerFailures:
    """The teams' submissions the challenge's scoring program failed on, latest first.

    For the sponsor while the challenge is open: the platform's diagnosis of each (the
    ``[jiebang]`` line of the scorer's log) and nothing the program printed, which could
    carry a team's predictions to the sponsor before the close. Dry runs are not here:
    the sponsor sees their whole logs."""
    failed = (
        Submission.challenge_id == challenge.id,
        Submission.failure == Failure.scorer.value,
        Submission.team_id.is_not(None),
    )
    total = session.scalar(select(func.count()).where(*failed)) or 0
    rows = session.execute(
        select(Submission.id, Submission.finished_at, Submission.scorer_log)
        .where(*failed)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    return ScorerFailures(
        total,
        [ScorerFailure(row.id, row.finished_at, _diagnosis(row.scorer_log)) for row in rows],
    )


def _diagnosis(log: str) -> str:
    ours = [line for line in (log or "").splitlines() if line.startswith("[jiebang] ")]
    return ours[-1].removeprefix("[jiebang] ") if ours else ""
