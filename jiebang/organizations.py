"""Applicant organizations (揭榜方): registration, an administrator's verification, members
by invitation.

A signed-in user without an organization registers one (kind, legal names, unified
social credit code); it waits ``pending`` until an administrator verifies it, refuses
it or asks for changes with a note; its administrator edits and resubmits. The first
member is the organization's administrator (``User.org_admin``); administrators invite
members by email, remove them and name other administrators. A user belongs to at most
one organization. Sponsoring is a separate request (``jiebang.orgs``).
Services take a session and keyword arguments; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiebang.accounts import Organization
from jiebang.db import Base, UTCDateTime, utcnow

INVITATION_DAYS = 7


class OrgInvitation(Base):
    """An invitation to join an organization; only the sha256 of its token is stored."""

    __tablename__ = "org_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship(lazy="joined")

    def state(self, now: dt.datetime) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "open"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)
