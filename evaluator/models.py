"""Submissions and their states."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from challenges.models import Challenge, Team
from evaluator import messages
from jiebang.accounts import User
from jiebang.db import Base, UTCDateTime, utcnow


class State(enum.StrEnum):
    queued = "queued"
    running = "running"
    scoring = "scoring"
    scored = "scored"
    failed = "failed"
    rejected = "rejected"
    cancelled = "cancelled"


FINAL = frozenset({State.scored, State.failed, State.rejected, State.cancelled})
# Not final yet, waiting in the queue or in a worker: a team's running_submissions
# limit counts these, and a board is frozen only when none is left.
WAITING_OR_RUNNING = (State.queued.value, State.running.value, State.scoring.value)
# Claimed by a worker and held under its lease: what the reconciler watches.
IN_FLIGHT = (State.running.value, State.scoring.value)


class Failure(enum.StrEnum):
    timeout = "timeout"
    memory = "memory"
    crash = "crash"
    bad_output = "bad_output"
    infrastructure = "infrastructure"
    scorer = "scorer"  # the sponsor's scoring program failed: not the team's doing


# Failures that are not the team's doing: they cost no quota.
NO_QUOTA = (Failure.infrastructure.value, Failure.scorer.value)


class Kind(enum.StrEnum):
    image = "image"
    bundle = "bundle"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_board", "challenge_id", "status", "team_id"),
        Index("ix_submissions_team_created", "team_id", "created_at"),
        # A queued submission's place: those running, and those queued before it.
        Index("ix_submissions_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    # None only for a dry run (``dry_run``): it belongs to no team.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default=State.queued.value)
    failure: Mapped[str | None] = mapped_column(String(20))
    # What the team is told: a code of evaluator.messages and its parameters, put into
    # words when shown, in the reader's language. "" when there is nothing to tell.
    message_code: Mapped[str] = mapped_column(String(40), default="")
    message_params: Mapped[dict] = mapped_column(JSON, default=dict)
    image_id: Mapped[str | None] = mapped_column(String(80))
    dataset_hash: Mapped[str | None] = mapped_column(String(64))
    public_score: Mapped[float | None] = mapped_column(Float)
    private_score: Mapped[float | None] = mapped_column(Float)
    # Every metric the challenge reports, by name, for each side; public_score and
    # private_score are the ranking metric's values, repeated here.
    public_metrics: Mapped[dict | None] = mapped_column(JSON)
    private_metrics: Mapped[dict | None] = mapped_column(JSON)
    runtime_s: Mapped[float | None] = mapped_column(Float)
    peak_memory_mb: Mapped[float | None] = mapped_column(Float)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    log_excerpt: Mapped[str] = mapped_column(Text, default="")
    # What the sponsor's scoring program printed: for the sponsor and staff, never the team.
    scorer_log: Mapped[str] = mapped_column(Text, default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    # Held by the worker running it, renewed by its heartbeat; expired means it died.
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    # A judge's re-run of another submission: same file, never on a board or a quota.
    rerun_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    # A sponsor's reference solution run before review (``evaluator.dryrun``): no team,
    # never on a board, a quota or a team's list.
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    challenge: Mapped[Challenge] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def message(self) -> str:
        """The message in English (logs, the demo, tests); pages and the API translate
        ``message_code`` for their reader instead."""
        return messages.english(self.message_code, self.message_params)

    def tell(self, code: str = "", **params: object) -> None:
        """Set the message (no arguments: none)."""
        self.message_code = code
        self.message_params = params


class BoardVersion(Base):
    """Raised in the transaction of anything that changes a challenge's boards (a score,
    a selection); cached board pages are keyed by it (``leaderboards.cache``).

    A row of its own, not a column of ``challenges``: scoring locks it, and a lock on
    the challenge row would take part in the lock order of closing, freezing and
    verdicts (which write the audit log first), where it could deadlock.
    """

    __tablename__ = "board_versions"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class TeamBest(Base):
    """Each team's best public result, kept as submissions are scored (``standings``).

    The public board reads these rows, one per team, instead of ranking every
    submission: at 500,000 submissions that is the difference between a few
    milliseconds and most of a second.
    """

    __tablename__ = "team_bests"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    runtime_s: Mapped[float | None] = mapped_column(Float)
    peak_memory_mb: Mapped[float | None] = mapped_column(Float)
    # Scored submissions with a public score, the best included.
    entries: Mapped[int] = mapped_column(Integer)
