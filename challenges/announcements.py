"""A sponsor's announcements on a published challenge, in English and Chinese.

The Chinese title and body are optional: a reader of Chinese then reads the English.
With ``email`` the members of every team in the challenge are notified
(``jiebang.notifications``, which mails those who want mail).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, Membership
from challenges.policy import PREVIEW, Action, require
from challenges.talk_models import Announcement
from jiebang import audit, notifications
from jiebang.accounts import User
from jiebang.errors import Invalid
from jiebang.notifications import N_, Kind

ANNOUNCED = notifications.register(
    Kind(
        "challenge.announcement",
        N_("Announcement on %(challenge)s: %(title)s"),
        N_("The sponsor of %(challenge)s announced: %(title)s. Read it on the challenge page."),
        audience=N_("the teams' members, when the sponsor chooses to tell them"),
    )
)
AMENDED = notifications.register(
    Kind(
        "challenge.amended",
        N_("Amended: %(challenge)s"),
        N_("The sponsor amended %(challenge)s. %(title)s."),
        audience=N_("the teams' members"),
    )
)
ANSWERED = notifications.register(
    Kind(
        "question.answered",
        N_("Your question on %(challenge)s is answered"),
        N_("The sponsor of %(challenge)s answered your question: %(question)s"),
        audience=N_("the asker"),
    )
)

TITLE_MAX = 200
BODY_MAX = 20_000


def clean_text(value: str | None, *, field: str, high: int, required: bool) -> str:
    """``value`` stripped; refused when empty (if required), too long, or holding NUL."""
    text = (value or "").replace("\r\n", "\n").strip()  # a browser's textarea sends CRLF
    if required and not text:
        raise Invalid(field, "Fill in %(name)s.", name=field)
    if len(text) > high:
        raise Invalid(
            field,
            "%(name)s has %(length)s characters; shorten it to %(high)s at most.",
            name=field,
            length=len(text),
            high=high,
        )
    if "\x00" in text:
        raise Invalid(field, "Remove the NUL character from %(name)s.", name=field)
    return text


def team_members(session: Session, challenge: Challenge) -> list[int]:
    """The user ids of every member of every team in ``challenge``."""
    query = select(Membership.user_id).where(Membership.challenge_id == challenge.id)
    return sorted(set(session.scalars(query)))


def post(
    session: Session,
    *,
    challenge: Challenge,
    actor: User | None,
    title_en: str,
    body_en: str,
    title_zh: str = "",
    body_zh: str = "",
    email: bool = False,
    revision_id: int | None = None,
    revision_number: int | None = None,
) -> Announcement:
    """Announce on a published challenge. ``actor=None``: the platform itself (an
    amendment's notice, whose service asked the policy already)."""
    if actor is not None:
        require(session, actor, Action.announce, challenge)
    if challenge.status in PREVIEW:
        raise Invalid("status", "Announcements are made on published challenges; publish it first.")
    item = Announcement(
        challenge_id=challenge.id,
        title_en=clean_text(title_en, field="title_en", high=TITLE_MAX, required=True),
        title_zh=clean_text(title_zh, field="title_zh", high=TITLE_MAX, required=False),
        body_en=clean_text(body_en, field="body_en", high=BODY_MAX, required=True),
        body_zh=clean_text(body_zh, field="body_zh", high=BODY_MAX, required=False),
        emailed=bool(email),
        revision_id=revision_id,
        author_id=actor.id if actor else None,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        "challenge.announced",
        actor_id=item.author_id,
        challenge_id=challenge.id,
        announcement=item.id,
        emailed=item.emailed,
    )
    if email:
        params = {
            "challenge": titles(challenge),
            "title": {"en": item.title_en, "zh": item.title_zh or item.title_en},
        }
        if revision_number is not None:
            params["number"] = revision_number
        notifications.notify(
            session,
            kind=(ANNOUNCED if revision_id is None else AMENDED).name,
            user_ids=team_members(session, challenge),
            params=params,
            link=f"/challenges/{challenge.slug}/announcements#announcement-{item.id}",
        )
    return item


def titles(challenge: Challenge) -> dict[str, str]:
    """The challenge's title as a notification parameter, in both languages."""
    return {"en": challenge.title_en, "zh": challenge.title_zh or challenge.title_en}


def listing(session: Session, challenge: Challenge, *, limit: int | None = None):
    """The challenge's announcements, newest first."""
    query = (
        select(Announcement)
        .where(Announcement.challenge_id == challenge.id)
        .order_by(Announcement.created_at.desc(), Announcement.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
