"""What a sponsor lists: the challenge and its data files."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from challenges.metrics import Declared, declared_metrics
from challenges.schema import DEFAULT_TIMEZONE
from jiebang.accounts import Organization, User
from jiebang.db import Base, UTCDateTime, utcnow


class Status(enum.StrEnum):
    draft = "draft"
    in_review = "in_review"
    open = "open"
    closed = "closed"
    judging = "judging"
    awarded = "awarded"
    unclaimed = "unclaimed"


AFTER_CLOSE = frozenset(
    {Status.closed.value, Status.judging.value, Status.awarded.value, Status.unclaimed.value}
)


class FileRole(enum.StrEnum):
    """A file's part in a challenge. A name ending in "/" is a folder, stored as one plain
    tar blob (``challenges.folders``)."""

    train = "train"  # public download
    test_inputs = "test_inputs"  # /input/test.csv (a file) or /input (a folder); never downloadable
    extra_input = "extra_input"  # other files under /input, never downloadable
    test_labels = "test_labels"  # read by the scorer only (/reference for a scoring program)
    items = "items"  # the test item ids the public/private split is made over
    sample_inputs = "sample_inputs"  # public: what `jiebang check` runs a submission on
    sample_labels = "sample_labels"  # public: lets `jiebang check` score the sample
    sample_submission = "sample_submission"  # public: the predictions' format, a few rows
    scoring_program = "scoring_program"  # the sponsor's scorer, run as /scoring/score.py


# What the public may download from a published challenge.
PUBLIC_ROLES = frozenset(
    {
        FileRole.train.value,
        FileRole.sample_inputs.value,
        FileRole.sample_labels.value,
        FileRole.sample_submission.value,
    }
)


class Challenge(Base):
    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    sponsor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(64), index=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    summary_en: Mapped[str] = mapped_column(Text, default="")
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    description_md: Mapped[str] = mapped_column(Text, default="")  # English, the default
    description_md_zh: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(String(40))
    classes: Mapped[list[str] | None] = mapped_column(JSON)
    targets: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # The scoring block of challenge.yaml less its program (a file of the challenge):
    # {"image", "metrics": [{"name", "title": {"en", "zh"}, "higher_is_better"}],
    # "resources"}. None: the built-in scorer of ``metric`` on predictions.csv.
    scoring: Mapped[dict | None] = mapped_column(JSON)
    # The proposal block of challenge.yaml (``schema.ProposalStage`` as JSON: "due",
    # "max_mb", "shortlist", "criteria"). None: no proposal stage, any team submits.
    proposal: Mapped[dict | None] = mapped_column(JSON)
    prize_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    prize_currency: Mapped[str] = mapped_column(String(3), default="CNY")
    prize_rule: Mapped[str] = mapped_column(String(40), default="winner-takes-all")
    opens_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    daily_submissions: Mapped[int] = mapped_column(Integer, default=5)
    total_submissions: Mapped[int | None] = mapped_column(Integer)
    final_selections: Mapped[int] = mapped_column(Integer, default=2)
    team_size: Mapped[int] = mapped_column(Integer, default=5)
    running_submissions: Mapped[int] = mapped_column(Integer, default=2)
    cpus: Mapped[float] = mapped_column(Float, default=1.0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=2048)
    time_limit_s: Mapped[int] = mapped_column(Integer, default=600)
    runtime: Mapped[str | None] = mapped_column(String(10))
    public_fraction: Mapped[float] = mapped_column(Float, default=0.3)
    split_secret: Mapped[str] = mapped_column(String(64))
    dataset_hash: Mapped[str] = mapped_column(String(64), default="")
    show_logs: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=Status.draft.value, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    frozen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # An administrator's last review decision that sent the challenge back to its sponsor
    # ("refused" or "changes_requested") and its comment; cleared on publication.
    review_decision: Mapped[str | None] = mapped_column(String(20))
    review_note: Mapped[str | None] = mapped_column(Text)
    review_note_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The data page's dictionary: [{"column", "type", "description": {"en", "zh"}}].
    data_dictionary: Mapped[list[dict] | None] = mapped_column(JSON)
    # Who may apply and how (challenges.registration): None keeps today's open behaviour.
    round_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    applicants: Mapped[dict | None] = mapped_column(JSON)
    registration: Mapped[dict | None] = mapped_column(JSON)
    terms_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    terms_zh: Mapped[str] = mapped_column(Text, default="", server_default="")
    terms_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    sponsor: Mapped[Organization] = relationship(lazy="joined")
    files: Mapped[list[ChallengeFile]] = relationship(
        back_populates="challenge",
        cascade="all, delete-orphan",
        order_by="ChallengeFile.id",
        lazy="selectin",
    )

    def title(self, lang: str) -> str:
        return self.title_zh if lang.startswith("zh") and self.title_zh else self.title_en

    def summary(self, lang: str) -> str:
        return self.summary_zh if lang.startswith("zh") and self.summary_zh else self.summary_en

    def description(self, lang: str) -> str:
        if lang.startswith("zh") and self.description_md_zh:
            return self.description_md_zh
        return self.description_md

    @property
    def metrics(self) -> list[Declared]:
        """Every metric the challenge reports, in board order; ``metric`` ranks."""
        return declared_metrics(self.metric, self.scoring)

    def file_with(self, role: FileRole) -> ChallengeFile | None:
        return next((f for f in self.files if f.role == role.value), None)

    def files_with(self, role: FileRole) -> list[ChallengeFile]:
        return [f for f in self.files if f.role == role.value]

    def is_accepting(self, now: dt.datetime) -> bool:
        return self.status == Status.open.value and self.opens_at <= now < self.closes_at

    def effective_status(self, now: dt.datetime) -> str:
        """The status as users see it: an open challenge past its deadline is closed,
        even in the seconds before the closing job writes it down."""
        if self.status == Status.open.value and now >= self.closes_at:
            return Status.closed.value
        return self.status

    def is_after_close(self, now: dt.datetime) -> bool:
        return self.effective_status(now) in AFTER_CLOSE

    def effective_status_now(self) -> str:
        return self.effective_status(utcnow())

    def is_after_close_now(self) -> bool:
        return self.is_after_close(utcnow())

    def is_decided(self) -> bool:
        return self.status in (Status.awarded.value, Status.unclaimed.value)


class ChallengeFile(Base):
    __tablename__ = "challenge_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    # SQLite's INTEGER holds 64 bits already (and stays INTEGER in its schema).
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))

    challenge: Mapped[Challenge] = relationship(back_populates="files")

    @property
    def is_folder(self) -> bool:
        return self.name.endswith("/")


class ChallengeJudge(Base):
    """A judge assigned to a challenge by an administrator."""

    __tablename__ = "challenge_judges"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class Team(Base):
    """A team takes up one challenge."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("challenge_id", "name"),
        Index("uq_teams_challenge_id_name_key", "challenge_id", "name_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # ``names.name_key(name)``: names that look alike collide here (case folding may
    # lengthen a name, hence the room).
    name_key: Mapped[str] = mapped_column(String(400))
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class Membership(Base):
    """One team per user per challenge: the unique key says so."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(lazy="joined")
