"""The proposal stage (申报书): proposals, their reviewers and scores, the shortlist."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from challenges.models import Team
from jiebang.accounts import User
from jiebang.db import Base, UTCDateTime, utcnow


class Proposal(Base):
    """A team's current proposal: one per team, replaced by a re-upload until the due
    date (each upload is an audit event with its sha256, so the history stays)."""

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The sponsor's choice: True shortlisted, False not; None not chosen. Teams read it
    # only once the shortlist is final (a ``Shortlist`` row).
    shortlisted: Mapped[bool | None] = mapped_column(Boolean)

    team: Mapped[Team] = relationship(lazy="joined")


class ProposalReviewer(Base):
    """An expert the sponsor (or an administrator) assigned to review a challenge's
    proposals."""

    __tablename__ = "proposal_reviewers"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class ProposalScore(Base):
    """One reviewer's score (0 to 100) and comment on one criterion of one proposal.
    ``released``: the sponsor lets the team read the comment (never the score)."""

    __tablename__ = "proposal_scores"
    __table_args__ = (
        UniqueConstraint("proposal_id", "reviewer_id", "criterion"),
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    criterion: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Shortlist(Base):
    """The shortlist made final: from here on scores are closed, teams see the result and
    only shortlisted teams submit. One per challenge (the unique key)."""

    __tablename__ = "shortlists"
    __table_args__ = (UniqueConstraint("challenge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
