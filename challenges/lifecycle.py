"""The challenge lifecycle around publication: review, judges, closing on time.

draft -> in_review -> open -> closed -> judging -> awarded | unclaimed.
Publication (``service.publish``) needs an administrator; closing happens by
itself at ``closes_at`` (``close_due``, run periodically by every worker).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeJudge, Membership, Status
from challenges.notices import closed as notice_closed
from challenges.notices import review_requested as notice_review
from challenges.policy import Action, is_judge, require
from jiebang import audit
from jiebang.accounts import Role, User
from jiebang.errors import Conflict, Invalid


def request_review(session: Session, challenge: Challenge, *, actor: User) -> Challenge:
    require(session, actor, Action.manage_challenge, challenge)
    if challenge.status != Status.draft.value:
        raise Invalid("status", "Only a draft can be sent for review.")
    challenge.status = Status.in_review.value
    audit.record(
        session, "challenge.review_requested", actor_id=actor.id, challenge_id=challenge.id
    )
    notice_review(session, challenge)
    return challenge


def judges_of(session: Session, challenge: Challenge) -> list[ChallengeJudge]:
    query = select(ChallengeJudge).where(ChallengeJudge.challenge_id == challenge.id)
    return list(session.scalars(query.order_by(ChallengeJudge.id)))


def assign_judge(
    session: Session, challenge: Challenge, *, judge: User, actor: User | None
) -> None:
    """Admins (or the operator's CLI, ``actor=None``) assign judges; nobody in a team
    of this challenge may judge it."""
    if actor is not None:
        require(session, actor, Action.assign_judge, challenge)
    if judge.role != Role.judge:
        raise Invalid("judge", "%(email)s is not a judge account.", email=judge.email)
    in_team = select(Membership.id).where(
        Membership.challenge_id == challenge.id, Membership.user_id == judge.id
    )
    if session.scalar(in_team) is not None:
        raise Conflict(
            "judge",
            "%(email)s is a member of a team in this challenge and cannot judge it.",
            email=judge.email,
        )
    if is_judge(session, user=judge, challenge=challenge):
        raise Conflict("judge", "%(email)s already judges this challenge.", email=judge.email)
    actor_id = actor.id if actor else None
    session.add(ChallengeJudge(challenge_id=challenge.id, user_id=judge.id, assigned_by=actor_id))
    audit.record(
        session,
        "challenge.judge_assigned",
        actor_id=actor_id,
        challenge_id=challenge.id,
        judge=judge.id,
    )


def close_due(session: Session, *, now: dt.datetime) -> list[Challenge]:
    """Close every open challenge whose deadline has passed; each exactly once.

    The conditional UPDATE makes this safe when several workers run it at once:
    only the one that changes the row records the event.
    """
    due = session.scalars(
        select(Challenge).where(Challenge.status == Status.open.value, Challenge.closes_at <= now)
    ).all()
    closed = []
    for challenge in due:
        changed = session.execute(
            update(Challenge)
            .where(Challenge.id == challenge.id, Challenge.status == Status.open.value)
            .values(status=Status.closed.value)
        )
        if changed.rowcount == 1:
            session.refresh(challenge)
            audit.record(
                session,
                "challenge.closed",
                challenge_id=challenge.id,
                slug=challenge.slug,
                at=challenge.closes_at.isoformat(),
            )
            notice_closed(session, challenge)
            closed.append(challenge)
    return closed
