"""Teams as applicants: the organizations a team applies with, and its registration.

A challenge without ``registration`` has no rows here (today's open behaviour). The rules
live in ``challenges.registration`` (the services) and ``challenges.eligibility`` (what a
team may do once registered).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiebang.accounts import Organization
from jiebang.db import Base, UTCDateTime, utcnow


class OrgRole(enum.StrEnum):
    lead = "lead"
    partner = "partner"


class RegStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"


# Registrations that hold an organization's place (the per-organization cap counts them).
LIVE = (RegStatus.pending.value, RegStatus.approved.value)


class TeamOrganization(Base):
    """An organization a team applies with: its lead, or a partner of a consortium (which
    counts only once one of that organization's administrators confirmed)."""

    __tablename__ = "team_organizations"
    __table_args__ = (UniqueConstraint("team_id", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    org: Mapped[Organization] = relationship(lazy="joined")

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class Registration(Base):
    """A team's registration for a challenge that asks for one: one per team."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=RegStatus.pending.value)
    reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The version of the challenge's terms the team accepted (0: none yet).
    terms_version: Mapped[int] = mapped_column(Integer, default=0)
    terms_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    terms_accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
