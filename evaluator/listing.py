"""Lists of submissions for readers, paged in SQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from challenges.models import Challenge
from evaluator.models import Submission
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
