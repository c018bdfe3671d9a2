"""Amendments (corrections) of a published challenge, each one a numbered revision.

While a challenge is open its sponsor's members (or an administrator) may amend its
title, summary and description (English and Chinese), its terms, and extend its
deadline (``closes_at`` only later). Never its hidden data, split or metric: changing
those needs every submission re-scored with a record of it, a separate feature not
built yet. Each amendment is a ``ChallengeRevision`` (every changed field with its old
and new value), an audit event, and an announcement in both languages that notifies
the teams.

An extended deadline needs nothing more: closing on time (``lifecycle.close_due``),
intake and the pages all read ``closes_at`` from the row when they run.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges import announcements
from challenges.announcements import clean_text
from challenges.models import Challenge, Status
from challenges.policy import Action, require
from challenges.talk_models import ChallengeRevision
from jiebang import audit
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Invalid

# field: (most characters, required, English name, Chinese name)
TEXTS = {
    "title_en": (200, True, "English title", "英文标题"),
    "title_zh": (200, True, "Chinese title", "中文标题"),
    "summary_en": (2_000, True, "English summary", "英文简介"),
    "summary_zh": (2_000, True, "Chinese summary", "中文简介"),
    "description_md": (100_000, False, "English description", "英文说明"),
    "description_md_zh": (100_000, False, "Chinese description", "中文说明"),
    "terms_en": (100_000, False, "English terms", "英文参赛条款"),
    "terms_zh": (100_000, False, "Chinese terms", "中文参赛条款"),
}
DEADLINE = "closes_at"
AMENDABLE = (*TEXTS, DEADLINE)
# What a correction may never touch: the hidden data, the split and how it is scored.
NEVER = frozenset(
    {
        "metric",
        "targets",
        "scoring",
        "data",
        "files",
        "test_inputs",
        "test_labels",
        "items",
        "classes",
        "public_fraction",
        "split_secret",
        "dataset_hash",
    }
)
REASON_MAX = 2_000


def amendable_fields(challenge: Challenge) -> tuple[str, ...]:
    """The terms only where the challenge has them (``challenges.registration``)."""
    return tuple(f for f in AMENDABLE if hasattr(challenge, f))


def amend(
    session: Session,
    *,
    challenge: Challenge,
    actor: User,
    changes: Mapping[str, object],
    reason: str,
    now: dt.datetime | None = None,
) -> ChallengeRevision:
    """Apply ``changes`` (field: new value; unchanged values are left out of the
    revision) and record the revision; raises ``Invalid`` naming the field at fault."""
    require(session, actor, Action.amend_challenge, challenge)
    now = now or utcnow()
    if challenge.effective_status(now) != Status.open.value:
        raise Conflict(
            "status",
            "Only an open challenge can be amended, before its deadline; this one is not open.",
        )
    reason = clean_text(reason, field="reason", high=REASON_MAX, required=True)
    allowed = amendable_fields(challenge)
    for field in changes:
        if field in NEVER:
            raise Invalid(
                field,
                "%(name)s cannot be amended: the hidden data, the split and the metric stay "
                "as published (changing them needs a recorded re-score of every submission, "
                "which is not available yet).",
                name=field,
            )
        if field not in allowed:
            raise Invalid(
                field,
                "%(name)s cannot be amended; amend only %(fields)s.",
                name=field,
                fields=", ".join(allowed),
            )
    diff: dict[str, dict[str, object]] = {}
    for field, value in changes.items():
        if field == DEADLINE:
            new = _later_deadline(challenge, value, now)
            if new != challenge.closes_at:
                diff[field] = {"old": challenge.closes_at.isoformat(), "new": new.isoformat()}
            continue
        high, required, _en, _zh = TEXTS[field]
        new = clean_text(
            value if isinstance(value, str) else None, field=field, high=high, required=required
        )
        # Compared as the form sends it back: line ends and edge spaces are no change.
        if new != (getattr(challenge, field) or "").replace("\r\n", "\n").strip():
            diff[field] = {"old": getattr(challenge, field) or "", "new": new}
    if not diff:
        raise Invalid("changes", "Nothing would change: give a new value for at least one field.")
    for field, change in diff.items():
        value = dt.datetime.fromisoformat(change["new"]) if field == DEADLINE else change["new"]
        setattr(challenge, field, value)
    if {"terms_en", "terms_zh"} & diff.keys() and hasattr(challenge, "terms_version"):
        # New terms are a new version: teams accept them again (challenges.eligibility).
        challenge.terms_version = (challenge.terms_version or 0) + 1
    revision = _numbered(session, challenge, diff=diff, reason=reason, actor=actor, now=now)
    audit.record(
        session,
        "challenge.amended",
        actor_id=actor.id,
        challenge_id=challenge.id,
        revision=revision.number,
        fields=sorted(diff),
        reason=reason,
        **({"closes_at": diff[DEADLINE]["new"]} if DEADLINE in diff else {}),
    )
    title_en, title_zh, body_en, body_zh = _notice(challenge, revision)
    announcements.post(
        session,
        challenge=challenge,
        actor=None,
        title_en=title_en,
        title_zh=title_zh,
        body_en=body_en,
        body_zh=body_zh,
        email=True,
        revision_id=revision.id,
        revision_number=revision.number,
    )
    return revision


def _later_deadline(challenge: Challenge, value: object, now: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise Invalid(
            DEADLINE, "Give the new deadline with its time zone, e.g. 2027-03-01T00:00:00+08:00."
        )
    try:
        value = value.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:59-14:00 is past the calendar in UTC
        raise Invalid(DEADLINE, "Give a deadline before the year 9999.") from None
    if value < challenge.closes_at:
        raise Invalid(
            DEADLINE,
            "A deadline can only be extended: choose a time after %(current)s.",
            current=challenge.closes_at.isoformat(),
        )
    return value


def _numbered(session, challenge, *, diff, reason, actor, now) -> ChallengeRevision:
    """The next revision number; the unique key refuses a second amendment racing for it."""
    last = select(func.max(ChallengeRevision.number)).where(
        ChallengeRevision.challenge_id == challenge.id
    )
    revision = ChallengeRevision(
        challenge_id=challenge.id,
        number=(session.scalar(last) or 0) + 1,
        changes=diff,
        reason=reason,
        actor_id=actor.id,
        at=now,
    )
    try:
        with session.begin_nested():
            session.add(revision)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "changes", "Someone amended this challenge at the same moment; try again."
        ) from None
    return revision


def _notice(challenge: Challenge, revision: ChallengeRevision) -> tuple[str, str, str, str]:
    """The amendment's announcement, in both languages (stored like a sponsor's)."""
    fields = sorted(revision.changes)
    names_en = ", ".join(TEXTS[f][2] if f in TEXTS else "deadline" for f in fields)
    names_zh = "、".join(TEXTS[f][3] if f in TEXTS else "截止时间" for f in fields)
    title_en = f"Amendment {revision.number}: {names_en}"
    title_zh = f"第 {revision.number} 次更正：{names_zh}"
    body_en, body_zh = [revision.reason], [revision.reason]
    if DEADLINE in revision.changes:
        zone = zoneinfo.ZoneInfo(challenge.timezone)
        new = dt.datetime.fromisoformat(revision.changes[DEADLINE]["new"]).astimezone(zone)
        when = f"{new:%Y-%m-%d %H:%M} ({challenge.timezone})"
        body_en.append(f"The deadline is extended to {when}.")
        body_zh.append(f"截止时间延长至 {when}。")
    body_en.append(f"Every change: /challenges/{challenge.slug}/changes")
    body_zh.append(f"全部更正记录：/challenges/{challenge.slug}/changes")
    return title_en[:200], title_zh[:200], "\n\n".join(body_en), "\n\n".join(body_zh)


def revisions(session: Session, challenge: Challenge) -> list[ChallengeRevision]:
    """The challenge's public history of amendments, the latest first."""
    query = select(ChallengeRevision).where(ChallengeRevision.challenge_id == challenge.id)
    return list(session.scalars(query.order_by(ChallengeRevision.number.desc())))
