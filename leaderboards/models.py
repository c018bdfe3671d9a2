"""Judges' verdicts and the award decision."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from challenges.models import Challenge, Team
from jiebang.accounts import User
from jiebang.db import Base, UTCDateTime, utcnow


class Decision(enum.StrEnum):
    approve = "approve"
    disqualify = "disqualify"


class Verdict(Base):
    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    rerun_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(lazy="joined")
    judge: Mapped[User] = relationship(lazy="joined")


class AwardStatus(enum.StrEnum):
    awarded = "awarded"
    unclaimed = "unclaimed"


class Award(Base):
    """The end of a challenge: a winning team and its prize, or nobody."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    score: Mapped[float | None] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    challenge: Mapped[Challenge] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship(lazy="joined")
