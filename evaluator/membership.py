"""Leaving a team: the challenges service's rules, and the evaluator's answer to
"has this member submitted for the team?" (submissions are the evaluator's)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges import teams
from challenges.models import Team
from evaluator.models import Submission
from jiebang.accounts import User


def has_submitted(session: Session, *, user: User, team: Team) -> bool:
    """Any submission by ``user`` for ``team``, whatever became of it."""
    query = select(Submission.id).where(
        Submission.team_id == team.id, Submission.user_id == user.id
    )
    return session.scalar(query.limit(1)) is not None


def leave_team(session: Session, *, user: User, team: Team) -> None:
    """``user`` leaves ``team`` (see ``challenges.teams.leave_team`` for the rules)."""
    submitted = has_submitted(session, user=user, team=team)
    teams.leave_team(session, user=user, team=team, has_submitted=submitted)
