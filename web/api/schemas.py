"""Request and response bodies of API v1, as pydantic models.

They validate what clients send and describe what the API answers; the OpenAPI
document is generated from them (``web/api/openapi.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, get_type_hints

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    field_validator,
)

from leaderboards.board import Entry


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _text(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


# Read models are built from rows (``model_validate(row, from_attributes=True)`` or by
# name); these keep the JSON as it always was: times as ``isoformat()`` text, money as
# its exact decimal text, and a plain string in the document.
IsoTime = Annotated[str, BeforeValidator(_iso)]
Money = Annotated[str, BeforeValidator(_text)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL refuses NUL in text: a 400 naming the field, not a 500 on the query.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Requests
class TeamCreate(Body):
    name: str = Field(min_length=2, max_length=100)


class TeamJoin(Body):
    join_code: str = Field(min_length=1, max_length=32)


class JudgeAssign(Body):
    email: str = Field(min_length=3, max_length=254)


class VerdictCreate(Body):
    decision: Literal["approve", "disqualify"]
    reason: str = Field(default="", max_length=2000)


class TokenCreate(Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)
    name: str = Field(default="cli", max_length=100)
    scope: Literal["read", "submit", "manage"] = "submit"
    days: int = Field(default=90, ge=1, le=365)


# Responses
class ErrorDetail(Out):
    code: str
    message: str
    field: str | None = None


class Error(Out):
    error: ErrorDetail


class Page(Out):
    page: int
    per_page: int
    total: int


class Prize(Out):
    amount: Money
    currency: str
    rule: str


class ChallengeSummary(Out):
    slug: str
    title: str
    title_en: str
    title_zh: str
    sponsor: str
    scenario: str
    status: str
    metric: str
    opens_at: IsoTime
    closes_at: IsoTime
    prize: Prize


class Limits(Out):
    daily_submissions: int
    total_submissions: int | None
    final_selections: int
    team_size: int
    running_submissions: int


class Resources(Out):
    cpus: float
    memory_mb: int
    time_limit_s: int


class MetricView(Out):
    name: str
    title: str  # in the reader's language
    title_en: str
    title_zh: str
    higher_is_better: bool


class ChallengeDetail(ChallengeSummary):
    metrics: list[MetricView]  # every metric reported, in board order; `metric` ranks
    scoring_program: bool  # scored by the sponsor's program (else the built-in scorer)
    summary: str
    description_md: str  # English (the default)
    description_md_zh: str  # Chinese; "" where the sponsor gave none
    targets: list[dict[str, str | int | float]]  # as written: 60 stays 60, not 60.0
    timezone: str
    limits: Limits
    resources: Resources
    public_fraction: float


class ChallengeList(Page):
    challenges: list[ChallengeSummary]


def _from_entry() -> type[Out]:
    """``BoardEntry``: the fields of ``leaderboards.board.Entry`` but its internal ones,
    so the board's fields are listed once (the cache encodes the same ``Entry``)."""
    kinds = get_type_hints(Entry)
    fields = {
        f.name: (IsoTime if kinds[f.name] is dt.datetime else kinds[f.name], ...)
        for f in dataclasses.fields(Entry)
        if not f.metadata.get("internal")
    }
    return create_model("BoardEntry", __base__=Out, __module__=__name__, **fields)


BoardEntry = _from_entry()


class Board(Page):
    board: Literal["public", "private"]
    challenge: str
    metric: str
    entries: list[BoardEntry]


class TeamCreated(Out):
    id: int
    name: str
    join_code: str


class TeamRef(Out):
    id: int
    name: str


class TeamJoined(Out):
    id: int
    name: str
    challenge: str  # its slug


class TeamLeft(Out):
    left: int


class SubmissionCreated(Out):
    id: int
    status: str


class SubmissionView(Out):
    id: int
    challenge: str
    team: str | None  # None: a sponsor's dry run, which belongs to no team
    kind: str
    status: str
    final: bool
    failure: str | None
    message: str  # in the reader's language (Accept-Language)
    message_code: str  # stable: evaluator.messages; "" when there is no message
    public_score: float | None  # the ranking metric's
    private_score: float | None
    public_metrics: dict[str, float | None] | None  # every metric reported, by name
    private_metrics: dict[str, float | None] | None
    runtime_s: float | None
    peak_memory_mb: float | None
    exit_code: int | None
    log: str | None
    scorer_log: str | None  # the scoring program's output: sponsor and staff only
    selected: bool
    rerun_of: int | None
    sha256: str
    size: int
    note: str
    submitted_at: IsoTime
    finished_at: IsoTime | None
    # Only while queued, on the read of one submission (evaluator.queueing): how many
    # submissions, of every challenge, the workers take before it, and an estimate of
    # the seconds until it starts (null: no recent run or no live worker to go by).
    queue_position: int | None = None
    estimated_start_s: int | None = None


class SubmissionList(Page):
    submissions: list[SubmissionView]


class DryRunList(Out):
    """A challenge's dry runs, newest first: every metric of both sides, the run log and
    the scorer's log (their readers are the sponsor and the administrators)."""

    challenge: str
    dry_runs: list[SubmissionView]


class Selection(Out):
    id: int
    selected: bool


class AwardView(Out):
    challenge: str
    status: Literal["pending", "awarded", "unclaimed"]
    team: str | None
    title: str | None = None
    submission_id: int | None = None
    score: float | None = None
    amount: Money | None = None
    currency: str | None = None
    decided_at: IsoTime | None = None


class Winners(Page):
    winners: list[AwardView]


class StatusChange(Out):
    slug: str
    status: str


class JudgeAssigned(Out):
    slug: str
    judge: str


class ReviewDecisionBody(Body):
    decision: Literal["approve", "refuse", "request_changes"]
    comment: str = Field(default="", max_length=4000)


class ReviewDecided(Out):
    slug: str
    status: str
    decision: str
    comment: str


class RerunView(Out):
    id: int
    status: str
    public_score: float | None
    private_score: float | None
    public_metrics: dict[str, float | None] | None
    private_metrics: dict[str, float | None] | None
    failure: str | None


class JudgingView(Out):
    challenge: str
    status: str
    provisional_winner: BoardEntry | None
    rerun: RerunView | None
    reproduces: bool | None


class RerunCreated(Out):
    id: int
    rerun_of: int
    status: str


class TokenCreated(Out):
    id: int
    token: str
    name: str
    scope: str
    expires_at: IsoTime | None


class TokenView(Out):
    id: int
    name: str
    scope: str
    created_at: IsoTime
    expires_at: IsoTime | None
    revoked: bool


class TokenList(Out):
    tokens: list[TokenView]


class TokenRevoked(Out):
    id: int
    revoked: bool


class BaseImage(Out):
    name: str
    id: str
    layers: list[str]


class BaseImages(Out):
    images: list[BaseImage]


class AuditHead(Out):
    events: int
    head: str
    # Only with ``?state=true``: whether the live state agrees with the log, how many
    # disagreements there are, and the first few in words (as `jiebang audit verify`).
    state_agrees: bool | None = None
    disagreements: int | None = None
    first_disagreements: list[str] | None = None


class ChallengeCreated(Out):
    slug: str
    status: str


class KitResources(Out):
    cpus: float
    memory_mb: int
    time_limit_s: float


class KitMetric(Out):
    name: str
    title: dict[str, str]
    higher_is_better: bool


class CheckKit(Out):
    """``kit.json`` in the check kit: what `jiebang check` needs besides the files."""

    format: int
    slug: str
    metric: str
    metrics: list[KitMetric]
    scoring_program: bool
    scoring_image: str | None
    resources: dict[Literal["run", "scorer"], KitResources | None]
    classes: list[str] | None
    public_fraction: float
    reference: bool


class ReceiptTeam(Out):
    id: int | None
    name: str | None


class ReceiptEvent(Out):
    id: int
    hash: str


class Receipt(Out):
    """A signed receipt (``jiebang/receipts.py``): ``signature`` (base64 Ed25519) is over
    the canonical JSON of every other field; the private fields appear only once the
    challenge is decided. Verify offline with `jiebang receipt verify FILE --key KEY`."""

    version: int
    key_id: str
    submission: int
    rerun_of: int | None
    challenge: str
    team: ReceiptTeam
    archive_sha256: str
    image_id: str | None
    dataset_hash: str | None
    public_score: float | None
    public_metrics: dict[str, float | None] | None
    private_score: float | None = None
    private_metrics: dict[str, float | None] | None = None
    dry_run: bool | None = None  # only in a sponsor's dry run's receipt: true
    scored_at: str
    audit_event: ReceiptEvent
    signature: str


class PublicKeyView(Out):
    key_id: str
    pem: str
    current: bool  # the key that signs new receipts; the others are retired


class PublicKeys(Out):
    keys: list[PublicKeyView]


# Notifications (web/api/notifications.py)
class NotificationView(Out):
    id: int
    kind: str
    title: str  # in the language of the request (Accept-Language)
    body: str
    link: str | None
    params: dict  # the stored parameters, for clients that word it themselves
    created_at: IsoTime
    read: bool


class NotificationList(Out):
    unread: int
    notifications: list[NotificationView]


class NotificationsRead(Body):
    # absent or null: all; at most 1,000 (PostgreSQL takes 65,535 parameters a statement)
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(None, max_length=1000)


class NotificationsMarked(Out):
    marked: int
    unread: int


# Talk: announcements, questions and answers, amendments (web/api/talk.py)
class AnnouncementCreate(Body):
    title_en: str = Field(min_length=1, max_length=200)
    body_en: str = Field(min_length=1, max_length=20_000)
    title_zh: str = Field(default="", max_length=200)  # empty: readers of Chinese get English
    body_zh: str = Field(default="", max_length=20_000)
    email: bool = False  # notify the members of every team in the challenge


class AnnouncementView(Out):
    id: int
    title_en: str
    title_zh: str
    body_en: str
    body_zh: str
    emailed: bool
    amendment: int | None  # the revision number, for an amendment's own announcement
    created_at: IsoTime


class AnnouncementList(Out):
    announcements: list[AnnouncementView]  # newest first


class QuestionCreate(Body):
    text: str = Field(min_length=1, max_length=2_000)


class AnswerCreate(Body):
    answer: str = Field(min_length=1, max_length=10_000)
    public: bool = True  # false: only the asker and the asker's team read it


class QuestionView(Out):
    id: int
    text: str
    asker: str
    visibility: str  # private (until answered publicly), public, hidden
    answer: str | None
    asked_at: IsoTime
    answered_at: IsoTime | None


class QuestionList(Out):
    questions: list[QuestionView]  # newest first; only those the caller may read
    page: int
    per_page: int


class AmendmentCreate(Body):
    # Field to new value: title_en/_zh, summary_en/_zh, description_md (English),
    # description_md_zh, terms_en/_zh, closes_at (ISO 8601 with its zone; only later).
    changes: dict[str, str] = Field(min_length=1, max_length=12)
    reason: str = Field(min_length=1, max_length=2_000)


class RevisionChange(Out):
    old: str
    new: str


class RevisionView(Out):
    number: int
    changes: dict[str, RevisionChange]
    reason: str
    actor: str | None
    at: IsoTime


class RevisionList(Out):
    revisions: list[RevisionView]  # the latest first


# Organizations (issue 14): applicant organizations, their verification, invitations.
class OrganizationCreate(Body):
    kind: Literal["enterprise", "university", "research_institute", "government", "other"]
    name_en: str = Field(default="", max_length=200)
    name_zh: str = Field(default="", max_length=200)
    uscc: str = Field(default="", max_length=40)  # normalized and checked by the service


class InvitationCreate(Body):
    email: str = Field(min_length=3, max_length=254)


class OrganizationDecision(Body):
    decision: Literal["verify", "refuse", "request_changes"]
    note: str = Field(default="", max_length=2000)


class OrganizationView(Out):
    id: int
    slug: str
    kind: str
    name_en: str
    name_zh: str
    uscc: str | None
    verification: str  # unverified | pending | verified | refused | changes_requested
    review_note: str
    verified_at: IsoTime | None
    sponsor: bool  # approved to list challenges
    sponsor_request: str | None  # pending | approved | refused | changes_requested
    sponsor_note: str


class MyOrganization(Out):
    organization: OrganizationView | None
    org_admin: bool


class InvitationCreated(Out):
    id: int
    email: str
    expires_at: IsoTime
    accept_url: str  # shown once: only its hash is stored
