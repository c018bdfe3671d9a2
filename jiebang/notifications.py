"""Notifications: on the site and by email, per user, per kind, in the reader's language.

Other code calls one function, after its ``audit.record``::

    notify(session, kind="challenge.closed", user_ids=ids, params={...}, link="/c/slug")

A notification is stored as its kind and parameters, never as words (STYLE 18): the
web layer renders it in the reader's language when it shows it or mails it
(``web.notification_text``). Each kind is one entry of ``KINDS``: its title and body
templates (English msgids, ``%(name)s`` filled from the parameters) and the default
email choice. A parameter may be a per-language dict (``{"en": ..., "zh": ...}``, e.g. a
challenge title) or a stored message (``{"code": ..., "params": ...}``, e.g. a
submission's failure reason), rendered the way the submission page renders it.

Email is an outbox: the row itself, committed with the event (``email_state``
``queued`` or ``digest``); a job sends it after the commit (``web.notification_jobs``),
never the request that made the event.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from jiebang.db import Base, UTCDateTime, utcnow
from jiebang.errors import Invalid

LANGUAGES = ("en", "zh")
OUTBOX_KEY = "jiebang.notifications.outbox"  # session.info: rows to enqueue after commit
MAX_ID = 2**31 - 1  # the largest INTEGER key on PostgreSQL


def N_(text: str) -> str:  # the name Babel extracts by default
    """Marks a msgid for extraction; translated where it is shown."""
    return text


class EmailMode(enum.StrEnum):
    off = "off"
    immediate = "immediate"
    digest = "digest"


class EmailState(enum.StrEnum):
    none = "none"  # no mail for this one (the reader chose off)
    queued = "queued"  # to send on its own; a job is (or will be) on the queue
    digest = "digest"  # waits for the reader's daily digest
    sending = "sending"  # claimed by a job
    sent = "sent"
    skipped = "skipped"  # no mail server configured, unsubscribed meanwhile, or no address
    failed = "failed"  # gave up after every retry


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # msgid: the subject of the mail and the line on the site
    body: str  # msgid: the text under it
    email: EmailMode = EmailMode.immediate  # the default choice
    audience: str = ""  # msgid: who receives it (the settings page, the docs)
    label: str = ""  # msgid: the kind on the settings page


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; a later kind is one ``register(Kind(...))`` call (docs/notifications.md)."""
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"notification kind {kind.name} registered twice")
    KINDS[kind.name] = kind
    return kind


for _kind in (
    Kind(
        "challenge.review_requested",
        N_("Review requested: %(challenge)s"),
        N_("%(org)s asks you to review the challenge %(challenge)s before it is published."),
        label=N_("A challenge awaits review"),
        audience=N_("administrators"),
    ),
    Kind(
        "challenge.approved",
        N_("Approved and published: %(challenge)s"),
        N_("An administrator approved %(challenge)s; it is published and opens on time."),
        label=N_("Your challenge is approved"),
        audience=N_("the sponsor's members"),
    ),
    Kind(
        "challenge.refused",
        N_("Changes requested: %(challenge)s"),
        N_("An administrator did not approve %(challenge)s yet: %(reason)s"),
        label=N_("Your challenge is sent back"),
        audience=N_("the sponsor's members"),
    ),
    Kind(
        "submission.scored",
        N_("Submission %(submission)s scored in %(challenge)s"),
        N_("Your submission %(submission)s was scored: public score %(score)s."),
        label=N_("A submission is scored"),
        audience=N_("the team's members"),
    ),
    Kind(
        "submission.failed",
        N_("Submission %(submission)s failed in %(challenge)s"),
        N_("Your submission %(submission)s failed (%(failure)s): %(reason)s"),
        label=N_("A submission failed"),
        audience=N_("the team's members"),
    ),
    Kind(
        "challenge.opened",
        N_("Now open: %(challenge)s"),
        N_("%(challenge)s is open for submissions until %(closes_at)s."),
        label=N_("A challenge opens"),
        audience=N_("the sponsor's members and the judges"),
    ),
    Kind(
        "challenge.closing_soon",
        N_("Closing in 24 hours: %(challenge)s"),
        N_("%(challenge)s closes at %(closes_at)s. Choose your final submissions before then."),
        label=N_("A challenge closes in 24 hours"),
        audience=N_("the teams' members"),
    ),
    Kind(
        "challenge.closed",
        N_("Closed: %(challenge)s"),
        N_("%(challenge)s is closed; the private board is computed from final selections."),
        label=N_("A challenge is closed"),
        audience=N_("the teams' members, the sponsor's members and the judges"),
    ),
    Kind(
        "challenge.provisional_result",
        N_("Provisional result: %(challenge)s"),
        N_("%(challenge)s has a provisional winner, %(team)s; the judges now verify it."),
        label=N_("A provisional result is in"),
        audience=N_("the sponsor's members and the judges"),
    ),
    Kind(
        "challenge.awarded",
        N_("Awarded: %(challenge)s"),
        N_("The prize of %(challenge)s is awarded to %(team)s."),
        label=N_("A prize is awarded"),
        audience=N_("the teams' members, the sponsor's members and the judges"),
    ),
    Kind(
        "challenge.unclaimed",
        N_("Unclaimed: %(challenge)s"),
        N_("No team met every target of %(challenge)s; the prize is not awarded."),
        label=N_("A challenge ends unclaimed"),
        audience=N_("the teams' members, the sponsor's members and the judges"),
    ),
):
    register(_kind)


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise Invalid("kind", "No notification kind %(kind)s.", kind=name) from None


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_email_state", "email_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    site: Mapped[bool] = mapped_column(Boolean, default=True)  # shown on the site
    email_state: Mapped[str] = mapped_column(String(16), default=EmailState.none.value)
    email_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NotificationPreference(Base):
    """One user's choice for one kind; no row: the kind's default (site on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(16))
    site: Mapped[bool] = mapped_column(Boolean, default=True)


class NotificationSettings(Base):
    """Per user: the language of their mail (no row: English)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), default="en")


class NotificationMark(Base):
    """An event that must be announced once (e.g. "closing in 24 h"), whoever ticks."""

    __tablename__ = "notification_marks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def once(session: Session, key: str) -> bool:
    """True the first time ``key`` is seen (then it is marked, with the caller's commit);
    False if any transaction marked it already. Safe in many workers at once: the key
    is the primary key, and a racing insert waits for the other's commit."""
    if session.get(NotificationMark, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(NotificationMark(key=key, created_at=utcnow()))
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class Choice:
    kind: str
    email: EmailMode
    site: bool


def preferences(session: Session, user_id: int) -> dict[str, Choice]:
    """Every kind's choice for this user, defaults filled in."""
    rows = session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    stored = {row.kind: row for row in rows}
    choices = {}
    for name, kind in KINDS.items():
        row = stored.get(name)
        choices[name] = (
            Choice(name, EmailMode(row.email), row.site) if row else Choice(name, kind.email, True)
        )
    return choices


def set_preference(
    session: Session, *, user_id: int, kind: str, email: EmailMode | str, site: bool
) -> None:
    get_kind(kind)
    try:
        email = EmailMode(email)
    except ValueError:
        raise Invalid(
            "email", "Email must be one of %(modes)s.", modes=", ".join(m.value for m in EmailMode)
        ) from None
    row = session.get(NotificationPreference, (user_id, kind))
    if row is None:
        session.add(
            NotificationPreference(user_id=user_id, kind=kind, email=email.value, site=site)
        )
    else:
        row.email, row.site = email.value, site


def language(session: Session, user_id: int) -> str:
    row = session.get(NotificationSettings, user_id)
    return row.language if row else "en"


def set_language(session: Session, *, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise Invalid(
            "language", "Language must be one of %(languages)s.", languages=", ".join(LANGUAGES)
        )
    row = session.get(NotificationSettings, user_id)
    if row is None:
        session.add(NotificationSettings(user_id=user_id, language=language))
    else:
        row.language = language


def notify(
    session: Session,
    *,
    kind: str,
    user_ids: Iterable[int],
    params: dict,
    link: str | None = None,
) -> list[Notification]:
    """Tell each user (once, whatever repeats ``user_ids`` holds) about an event.

    Stores a site notification per user (unless they turned the kind off on the site)
    and queues its email per their choice; both commit with the caller's transaction,
    and the mail goes out after the commit (``OUTBOX_KEY``). ``params`` must be JSON.
    """
    spec = get_kind(kind)
    ids = sorted(set(user_ids))
    if not ids:
        return []
    stored = {
        row.user_id: row
        for row in session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.kind == kind, NotificationPreference.user_id.in_(ids)
            )
        )
    }
    made = []
    for user_id in ids:
        row = stored.get(user_id)
        email = EmailMode(row.email) if row else spec.email
        site = row.site if row else True
        if email is EmailMode.off and not site:
            continue
        state = {
            EmailMode.off: EmailState.none,
            EmailMode.immediate: EmailState.queued,
            EmailMode.digest: EmailState.digest,
        }[email]
        note = Notification(
            user_id=user_id,
            kind=kind,
            params=params,
            link=link,
            site=site,
            email_state=state.value,
            created_at=utcnow(),
        )
        session.add(note)
        made.append(note)
    session.flush()
    session.info.setdefault(OUTBOX_KEY, []).extend(
        n.id for n in made if n.email_state == EmailState.queued.value
    )
    return made


# The site


def unread_count(session: Session, user_id: int) -> int:
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.site.is_(True), Notification.read_at.is_(None)
    )
    return session.scalar(query) or 0


def list_for(
    session: Session, user_id: int, *, limit: int = 50, before_id: int | None = None
) -> list[Notification]:
    """Newest first; ``before_id`` pages on."""
    query = select(Notification).where(Notification.user_id == user_id, Notification.site.is_(True))
    if before_id is not None and before_id <= MAX_ID:  # larger: before every row
        query = query.where(Notification.id < before_id)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (``ids`` None: all); returns how many changed.
    Another user's ids change nothing."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_([i for i in ids if 0 < i <= MAX_ID]))
    return session.execute(query.values(read_at=utcnow())).rowcount


def unsubscribe(session: Session, *, user_id: int, kind: str) -> None:
    """Stop this kind's email (the site keeps showing it), and drop what waits unsent."""
    current = preferences(session, user_id)[get_kind(kind).name]
    set_preference(session, user_id=user_id, kind=kind, email=EmailMode.off, site=current.site)
    session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.email_state.in_([EmailState.queued.value, EmailState.digest.value]),
        )
        .values(email_state=EmailState.skipped.value)
    )
