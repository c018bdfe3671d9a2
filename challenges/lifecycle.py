"""The challenge lifecycle around publication: review, judges, closing on time.

draft -> in_review -> open -> closed -> judging -> awarded | unclaimed.
Publication (``service.publish``) needs an administrator; closing happens by
itself at ``closes_at`` (``close_due``, run periodically by every worker).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeJudge, Membership, Status, Team
from challenges.notices import closed as notice_closed
from challenges.notices import refused as notice_refused
from challenges.notices import review_requested as notice_review
from challenges.policy import Action, is_judge, require
from jiebang import audit
from jiebang.accounts import Role, User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Invalid, NotFound


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


class ReviewDecision(enum.StrEnum):
    """An administrator's answer to a challenge in review."""

    approve = "approve"  # publish it
    refuse = "refuse"  # not publishable as it stands: back to draft with the reason
    request_changes = "request_changes"  # back to draft with what to change


NOTE_EVENTS = {
    ReviewDecision.refuse: ("refused", "challenge.refused"),
    ReviewDecision.request_changes: ("changes_requested", "challenge.changes_requested"),
}


def review(
    session: Session, challenge: Challenge, *, decision: str, comment: str = "", actor: User
) -> Challenge:
    """Approve (publish), refuse, or request changes, with a comment for the sponsor.

    Refusing and requesting changes both send the challenge back to draft with the
    comment, which its sponsor reads on the dashboard and the edit page; the sponsor may
    edit it and send it for review again. The comment is required for both (the sponsor
    must learn why); approval takes an optional one, recorded in the audit log."""
    from challenges.service import publish  # service's layer; imported late, once needed

    require(session, actor, Action.approve_challenge, challenge)
    try:
        decision = ReviewDecision(decision)
    except ValueError:
        raise Invalid(
            "decision", "decision must be 'approve', 'refuse' or 'request_changes'."
        ) from None
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise Invalid("comment", "Keep the comment under 4000 characters.")
    if decision == ReviewDecision.approve:
        publish(session, challenge, actor=actor)
        challenge.review_decision = challenge.review_note = challenge.review_note_at = None
        if comment:
            audit.record(
                session,
                "challenge.approved",
                actor_id=actor.id,
                challenge_id=challenge.id,
                comment=comment,
            )
        return challenge
    if challenge.status != Status.in_review.value:
        raise Invalid(
            "status",
            "Only a challenge in review can be refused or sent back; this one is %(status)s.",
            status=challenge.status,
        )
    if len(comment) < 5:
        raise Invalid("comment", "Write the sponsor a comment: what to change, or why not.")
    stored, kind = NOTE_EVENTS[decision]
    challenge.status = Status.draft.value
    challenge.review_decision, challenge.review_note = stored, comment
    challenge.review_note_at = utcnow()
    audit.record(session, kind, actor_id=actor.id, challenge_id=challenge.id, comment=comment)
    notice_refused(session, challenge, reason=comment)
    return challenge


def judges_of(session: Session, challenge: Challenge) -> list[ChallengeJudge]:
    query = select(ChallengeJudge).where(ChallengeJudge.challenge_id == challenge.id)
    return list(session.scalars(query.order_by(ChallengeJudge.id)))


def assign_judge(
    session: Session, challenge: Challenge, *, judge: User, actor: User | None
) -> None:
    """Admins (or the operator's CLI, ``actor=None``) assign judges. Any active account
    may judge a challenge: the assignment is the role (``policy.is_judge``), the account's
    global role is not asked. The refusals name the real reason: an inactive account, an
    administrator (who oversees every challenge already and so cannot be one of its
    independent judges), a member of the sponsor's organization, a member of a team in
    the challenge, an existing assignment."""
    if actor is not None:
        require(session, actor, Action.assign_judge, challenge)
    if challenge.is_decided():
        raise Invalid("status", "The award of this challenge is decided; it needs no more judges.")
    if not judge.active:
        raise Invalid(
            "judge",
            "%(email)s's account is deactivated; reactivate it under Users first.",
            email=judge.email,
        )
    if judge.role == Role.admin:
        raise Invalid(
            "judge",
            "%(email)s is an administrator; administrators oversee every challenge and "
            "cannot also judge one. Assign an account that is not an administrator.",
            email=judge.email,
        )
    if judge.org_id is not None and judge.org_id == challenge.sponsor_org_id:
        raise Conflict(
            "judge",
            "%(email)s belongs to %(org)s, the sponsor of this challenge, and cannot judge it.",
            email=judge.email,
            org=challenge.sponsor.name,
        )
    team = session.scalar(
        select(Team.name)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.challenge_id == challenge.id, Membership.user_id == judge.id)
    )
    if team is not None:
        raise Conflict(
            "judge",
            "%(email)s is a member of team %(team)s in this challenge and cannot judge it.",
            email=judge.email,
            team=team,
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


def unassign_judge(
    session: Session, challenge: Challenge, *, judge: User, actor: User | None
) -> None:
    """Take a judge off a challenge (until its award is decided); the verdicts the judge
    recorded stay, with their name."""
    if actor is not None:
        require(session, actor, Action.assign_judge, challenge)
    if challenge.is_decided():
        raise Invalid(
            "status", "The award of this challenge is decided; its judges stay on record."
        )
    row = session.scalar(
        select(ChallengeJudge).where(
            ChallengeJudge.challenge_id == challenge.id, ChallengeJudge.user_id == judge.id
        )
    )
    if row is None:
        raise NotFound("judge", "%(email)s does not judge this challenge.", email=judge.email)
    session.delete(row)
    audit.record(
        session,
        "challenge.judge_unassigned",
        actor_id=actor.id if actor else None,
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
