"""What is said about a published challenge: announcements, questions and answers, and
the versioned amendments (corrections) of its description, terms and deadline."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from challenges.models import Challenge
from jiebang.accounts import User
from jiebang.db import Base, UTCDateTime, utcnow


class Announcement(Base):
    """A sponsor's notice on a challenge, in English and (optionally) Chinese; an
    amendment's automatic notice names its revision."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_zh: Mapped[str] = mapped_column(Text, default="")
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("challenge_revisions.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def title(self, lang: str) -> str:
        return self.title_zh if lang.startswith("zh") and self.title_zh else self.title_en

    def body(self, lang: str) -> str:
        return self.body_zh if lang.startswith("zh") and self.body_zh else self.body_en


class Visibility(enum.StrEnum):
    """Who reads a question. ``private``: its asker, the asker's team, the sponsor's
    members and administrators (every question starts so); ``public``: everyone, once
    answered publicly; ``hidden``: withdrawn by the sponsor (abuse), its managers only."""

    private = "private"
    public = "public"
    hidden = "hidden"


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The asker's team in this challenge when asked (None: not in one): a private answer
    # is read by that team.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.private.value)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    asker: Mapped[User] = relationship(lazy="joined", foreign_keys=[asker_id])
    challenge: Mapped[Challenge] = relationship()

    @property
    def answered(self) -> bool:
        return self.answer is not None


class ChallengeRevision(Base):
    """One amendment of a published challenge: every changed field with its old and new
    value (``{"closes_at": {"old": "...", "new": "..."}}``), the reason, who and when."""

    __tablename__ = "challenge_revisions"
    __table_args__ = (UniqueConstraint("challenge_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")
