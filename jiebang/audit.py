"""An append-only, hash-chained audit log.

Each event stores the hash of the one before it and its own hash over
(previous hash, kind, time, actor, challenge, canonical JSON data). Editing or
deleting any row breaks the chain, which ``verify`` reports. A unique key on
``prev_hash`` means two writers racing to append after the same event cannot
both succeed: the loser retries on the new tail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import JSON, ForeignKey, String, Text, cast, func, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from jiebang.db import Base, UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    challenge_id: Mapped[int | None] = mapped_column(index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def _digest(prev: str, kind: str, at: dt.datetime, actor, challenge, data: str) -> str:
    stamp = at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    text = "\n".join([prev, kind, stamp, str(actor or ""), str(challenge or ""), data])
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    session: Session,
    kind: str,
    /,
    *,
    actor_id: int | None = None,
    challenge_id: int | None = None,
    **data: object,
) -> AuditEvent:
    """Append an event inside the caller's transaction."""
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    for _ in range(20):
        prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        prev = prev or GENESIS
        at = utcnow()
        event = AuditEvent(
            kind=kind,
            at=at,
            actor_id=actor_id,
            challenge_id=challenge_id,
            data=payload,
            prev_hash=prev,
            hash=_digest(prev, kind, at, actor_id, challenge_id, payload),
        )
        try:
            with session.begin_nested():
                session.add(event)
        except IntegrityError:
            continue
        return event
    raise RuntimeError("could not append to the audit log: too much contention")


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    problem: str = ""
    head: str = GENESIS  # the last event's hash: keep it elsewhere to detect removals


def head(session: Session) -> tuple[int, str]:
    """How many events there are and the last one's hash (``GENESIS`` for none).

    The chain alone cannot show that its newest events were removed: a shorter chain
    is still a valid chain. A head kept outside the platform (by a sponsor, a judge,
    anyone reading ``GET /api/v1/audit/head``) can: ``verify(head=...)`` then fails.
    """
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is None:
        return 0, GENESIS
    return session.scalar(select(func.count()).select_from(AuditEvent)), last.hash


def verify(session: Session, *, head: str | None = None) -> Verification:
    """Walk the chain from the first event; report the first broken link. ``head``: a
    hash read from the log earlier, which must still be in it (else events were cut)."""
    prev = GENESIS
    count = 0
    seen = head is None or head == GENESIS
    columns = select(
        AuditEvent.id,
        AuditEvent.kind,
        AuditEvent.at,
        AuditEvent.actor_id,
        AuditEvent.challenge_id,
        AuditEvent.data,
        AuditEvent.prev_hash,
        AuditEvent.hash,
    )
    # Streamed (a server-side cursor on PostgreSQL): memory stays flat however long the log.
    streamed = {"yield_per": 5000, "stream_results": True}
    for event in session.execute(columns.order_by(AuditEvent.id), execution_options=streamed):
        count += 1
        if event.prev_hash != prev:
            return Verification(False, count, f"event {event.id}: a previous event was removed")
        expected = _digest(
            prev, event.kind, event.at, event.actor_id, event.challenge_id, event.data
        )
        if expected != event.hash:
            return Verification(False, count, f"event {event.id} ({event.kind}) was edited")
        prev = event.hash
        seen = seen or event.hash == head
    if not seen:
        problem = f"the event with hash {head} is gone: events were removed from the end"
        return Verification(False, count, problem, prev)
    return Verification(True, count, head=prev)


def events_for(session: Session, challenge_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.challenge_id == challenge_id)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def integer_field(session: Session, name: str) -> ColumnElement[int]:
    """SQL: the integer ``name`` of an event's data (NULL where it has none), so that the
    database can sort events by, say, the submission they are about. ``data`` is text:
    PostgreSQL reads it as JSON through a cast, SQLite's JSON functions take it as it is
    (a CAST there would turn it into a number)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(AuditEvent.data, JSON)[name].as_integer()
    return type_coerce(AuditEvent.data, JSON)[name].as_integer()


def data_of(text: str) -> dict:
    """An event's data as it was recorded."""
    return json.loads(text)
