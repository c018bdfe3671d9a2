"""Who hears of a challenge's events, and the notifications sent for them.

The services call these after their ``audit.record`` (``jiebang.notifications.notify``
stores them with the same commit). Parameters are data, never words: the title is
``{"en", "zh"}`` and the web layer picks the reader's language.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeJudge, Membership, Status
from jiebang import notifications
from jiebang.accounts import Role, User
from jiebang.notifications import notify

WINDOW = dt.timedelta(hours=24)  # "closing in 24 h"
LATE = dt.timedelta(days=2)  # an opening older than this is not announced any more


def admins(session: Session) -> list[int]:
    query = select(User.id).where(User.role == Role.admin.value, User.active.is_(True))
    return list(session.scalars(query))


def sponsor_members(session: Session, challenge: Challenge) -> list[int]:
    query = select(User.id).where(
        User.org_id == challenge.sponsor_org_id,
        User.role == Role.sponsor.value,
        User.active.is_(True),
    )
    return list(session.scalars(query))


def judges(session: Session, challenge: Challenge) -> list[int]:
    query = select(ChallengeJudge.user_id).where(ChallengeJudge.challenge_id == challenge.id)
    return list(session.scalars(query))


def participants(session: Session, challenge: Challenge) -> list[int]:
    """Members of every team in the challenge."""
    query = select(Membership.user_id).where(Membership.challenge_id == challenge.id)
    return list(session.scalars(query))


def team_members(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(Membership.user_id).where(Membership.team_id == team_id)))


def about(challenge: Challenge, **more: object) -> dict:
    return {
        "challenge": {"en": challenge.title_en, "zh": challenge.title_zh or challenge.title_en},
        "slug": challenge.slug,
        **more,
    }


def link(challenge: Challenge) -> str:
    return f"/challenges/{challenge.slug}"


def send(session: Session, kind: str, challenge: Challenge, user_ids, **params: object) -> None:
    notify(
        session,
        kind=kind,
        user_ids=user_ids,
        params=about(challenge, **params),
        link=link(challenge),
    )


def review_requested(session: Session, challenge: Challenge) -> None:
    org = challenge.sponsor.name if getattr(challenge, "sponsor", None) else ""
    send(session, "challenge.review_requested", challenge, admins(session), org=org)


def approved(session: Session, challenge: Challenge) -> None:
    send(session, "challenge.approved", challenge, sponsor_members(session, challenge))


def refused(session: Session, challenge: Challenge, *, reason: str) -> None:
    """An administrator sent the challenge back (refused or changes requested)."""
    send(
        session, "challenge.refused", challenge, sponsor_members(session, challenge), reason=reason
    )


def closed(session: Session, challenge: Challenge) -> None:
    everyone = participants(session, challenge) + sponsor_members(session, challenge)
    send(session, "challenge.closed", challenge, everyone + judges(session, challenge))


def provisional_result(session: Session, challenge: Challenge, *, team: str) -> None:
    audience = sponsor_members(session, challenge) + judges(session, challenge)
    send(session, "challenge.provisional_result", challenge, audience, team=team)


def ended(session: Session, challenge: Challenge, *, team: str | None) -> None:
    """Awarded (``team`` the winner) or unclaimed (``team`` None): to everyone involved."""
    everyone = participants(session, challenge) + sponsor_members(session, challenge)
    everyone += judges(session, challenge)
    if team is None:
        send(session, "challenge.unclaimed", challenge, everyone)
    else:
        send(session, "challenge.awarded", challenge, everyone, team=team)


def announce_due(session: Session, *, now: dt.datetime) -> int:
    """The periodic part (every worker's ticker): "now open" once ``opens_at`` has come,
    "closing in 24 h" once the deadline is that near; each once per challenge, whatever
    the number of workers (``notifications.once``). Returns how many were sent."""
    sent = 0
    open_ = select(Challenge).where(Challenge.status == Status.open.value)
    opening = open_.where(Challenge.opens_at <= now, Challenge.opens_at > now - LATE)
    for challenge in session.scalars(opening).all():
        if notifications.once(session, f"challenge.opened:{challenge.id}"):
            audience = sponsor_members(session, challenge) + judges(session, challenge)
            closes_at = challenge.closes_at.strftime("%Y-%m-%d %H:%M UTC")
            send(session, "challenge.opened", challenge, audience, closes_at=closes_at)
            sent += 1
    closing = open_.where(Challenge.closes_at > now, Challenge.closes_at <= now + WINDOW)
    for challenge in session.scalars(closing).all():
        # Keyed by the deadline too: an extended one (challenges.corrections) warns again.
        key = f"challenge.closing_soon:{challenge.id}:{challenge.closes_at.isoformat()}"
        if notifications.once(session, key):
            closes_at = challenge.closes_at.strftime("%Y-%m-%d %H:%M UTC")
            send(
                session,
                "challenge.closing_soon",
                challenge,
                participants(session, challenge),
                closes_at=closes_at,
            )
            sent += 1
    return sent
