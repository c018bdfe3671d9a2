"""What a viewer may see; shared by the pages and the API so both tell the same.

Decided once per request, for a whole list, never per row; the read models of
``web.api.read`` apply the decision to each row they build.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from challenges.models import Challenge
from challenges.policy import Action, can
from jiebang.accounts import User


@dataclass(frozen=True)
class Sight:
    """What a viewer may see of the submissions of one challenge they may see at all."""

    private_scores: bool  # those who may see the private board
    logs: bool  # run logs: the challenge shows them, or the viewer oversees it
    scorer_logs: bool  # the sponsor's scoring program's log: those who oversee it only


def sight(session: Session, viewer: User | None, challenge: Challenge) -> Sight:
    """The one visibility decision of a request about ``challenge``'s submissions."""
    return Sight(
        private_scores=can(session, viewer, Action.see_private_board, challenge),
        logs=can(session, viewer, Action.see_logs, challenge),
        scorer_logs=can(session, viewer, Action.oversee_challenge, challenge),
    )
