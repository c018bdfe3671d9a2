"""Final selections: which submissions a team puts forward for the private board."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.policy import Action, require
from evaluator.models import State, Submission
from evaluator.standings import touch_board
from jiebang import audit
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound


def own_submission(session: Session, *, user: User, submission_id: int) -> Submission:
    """A submission of one of the user's teams (re-runs are the judges' own)."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound("submission", "No submission %(id)s among your teams'.", id=submission_id)
    require(session, user, Action.choose_final, sub)
    return sub


def set_selected(
    session: Session,
    *,
    user: User,
    submission_id: int,
    selected: bool,
    now: dt.datetime | None = None,
) -> Submission:
    now = now or utcnow()
    sub = own_submission(session, user=user, submission_id=submission_id)
    challenge = sub.challenge
    if not challenge.is_accepting(now):
        raise Forbidden(
            "challenge", "Final selections can only change while the challenge is open."
        )
    if selected and sub.status != State.scored.value:
        raise Invalid("submission", "Only a scored submission can be selected.")
    if selected and not sub.selected:
        count = session.scalar(
            select(func.count()).where(Submission.team_id == sub.team_id, Submission.selected)
        )
        if count >= challenge.final_selections:
            raise Conflict(
                "submission",
                "Your team has selected %(n)d submissions already; unselect one first.",
                n=challenge.final_selections,
            )
    if sub.selected != selected:
        sub.selected = selected
        touch_board(session, challenge.id)
        audit.record(
            session,
            "submission.selected" if selected else "submission.unselected",
            actor_id=user.id,
            challenge_id=challenge.id,
            submission=sub.id,
            team=sub.team_id,
        )
    return sub
