"""The schema of ``challenge.yaml``. Errors name the bad key and say what is expected."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from challenges.applicant_schema import (
    Applicants,
    RegistrationSpec,
    check_applicants,
    check_registration,
    check_round_tag,
)
from challenges.problems import Bad

# A challenge's time zone when its bundle names none: where its day (and daily quota) ends.
DEFAULT_TIMEZONE = "Asia/Shanghai"

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
# A plain file name inside the bundle folder: no separator, no "..", no newline
# (``\Z``, not ``$``, which would let a trailing newline through).
SAFE_NAME = re.compile(r"\A[A-Za-z0-9._-][A-Za-z0-9._ -]*\Z")
# What a scoring program reports a score under (a JSON key, a board column, an API field).
METRIC_NAME = re.compile(r"\A[a-z][a-z0-9_]{0,39}\Z")
# An image the operator built on the workers for scorers (no registry is ever asked),
# named in full: jiebang/NAME:TAG. Never an image id or a prefix of one, which Docker would
# match against any image on the engine, a team's included.
IMAGE_TAG = re.compile(r"\Ajiebang/[a-z0-9][a-z0-9._-]{0,63}:[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class I18n(Strict):
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class Target(Strict):
    """One indicator: a metric threshold, a run-time bound or a memory bound (finite
    numbers: a NaN or infinite bound would be a target nobody can read)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    metric: str | None = None
    at_least: float | None = None
    at_most: float | None = None
    max_runtime_s: float | None = Field(default=None, gt=0)
    max_memory_mb: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        kinds = [self.metric is not None, self.max_runtime_s is not None]
        kinds.append(self.max_memory_mb is not None)
        if sum(kinds) != 1:
            raise Bad("schema.target_kind")
        if self.metric is not None and (self.at_least is None) == (self.at_most is None):
            raise Bad("schema.target_bound")
        return self


class Prize(Strict):
    amount: Decimal = Field(ge=0)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    rule: Literal["winner-takes-all"] = "winner-takes-all"


class Limits(Strict):
    daily_submissions: int = Field(default=5, ge=1, le=1000)
    total_submissions: int | None = Field(default=None, ge=1)
    final_selections: int = Field(default=2, ge=1, le=10)
    team_size: int = Field(default=5, ge=1, le=100)
    running_submissions: int = Field(default=2, ge=1, le=1000)


class Resources(Strict):
    cpus: float = Field(default=1.0, gt=0, le=64)
    memory_mb: int = Field(default=2048, ge=64, le=262144)
    time_limit_s: int = Field(default=600, ge=1, le=86400)
    runtime: Literal["runc", "runsc"] | None = None


class ColumnDoc(Strict):
    """One column of the data dictionary shown on the data page."""

    column: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=40)
    description: I18n


class Data(Strict):
    """Names are files or folders of the bundle (``test/``, ``data/train.csv``)."""

    train: list[str] = Field(default_factory=list)
    test_inputs: str
    test_labels: str
    items: str | None = None
    sample_inputs: str | None = None
    sample_labels: str | None = None
    extra_inputs: list[str] = Field(default_factory=list)
    public_fraction: float = Field(default=0.3, gt=0, lt=1)
    sample_submission: str | None = None  # public: the predictions' format, a few rows
    dictionary: list[ColumnDoc] = Field(default_factory=list, max_length=200)

    @field_validator("train", "extra_inputs")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        return [_check_path(name) for name in names]

    @field_validator(
        "test_inputs", "test_labels", "items", "sample_inputs", "sample_labels", "sample_submission"
    )
    @classmethod
    def _name(cls, name: str | None) -> str | None:
        return None if name is None else _check_path(name)

    @model_validator(mode="after")
    def _samples(self) -> Data:
        if self.sample_labels is not None and self.sample_inputs is None:
            raise Bad("schema.sample_labels")
        return self


class DeclaredMetric(Strict):
    """One number a scoring program reports, and how it ranks."""

    name: str
    title: I18n
    higher_is_better: bool = True

    @field_validator("name")
    @classmethod
    def _metric_name(cls, name: str) -> str:
        if not METRIC_NAME.match(name):
            raise Bad("schema.metric_name", name=name)
        return name


class ScorerResources(Strict):
    cpus: float = Field(default=1.0, gt=0, le=64)
    memory_mb: int = Field(default=2048, ge=64, le=262144)
    time_limit_s: int = Field(default=300, ge=1, le=86400)


class Scoring(Strict):
    """A sponsor's scoring program, run in its own sandbox (ARCHITECTURE.md, "Tasks beyond
    one table")."""

    program: str
    image: str | None = None
    metrics: list[DeclaredMetric] = Field(min_length=1, max_length=12)
    resources: ScorerResources = Field(default_factory=ScorerResources)

    @field_validator("program")
    @classmethod
    def _program(cls, name: str) -> str:
        return _check_path(name)

    @field_validator("image")
    @classmethod
    def _image(cls, tag: str | None) -> str | None:
        if tag is not None and not IMAGE_TAG.match(tag):
            raise Bad("schema.image", name=tag)
        return tag

    @field_validator("metrics")
    @classmethod
    def _unique(cls, metrics: list[DeclaredMetric]) -> list[DeclaredMetric]:
        names = [m.name for m in metrics]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise Bad("schema.repeated_metrics", names=", ".join(repeated))
        return metrics


class ProposalCriterion(Strict):
    """One thing reviewers score a proposal on, 0 to 100, with its weight in the total."""

    name: str
    title: I18n
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)

    @field_validator("name")
    @classmethod
    def _criterion_name(cls, name: str) -> str:
        if not METRIC_NAME.match(name):
            raise Bad("schema.criterion_name", name=name)
        return name


class ProposalStage(Strict):
    """The proposal (申报书) stage: teams upload a PDF by ``due``, assigned reviewers score
    it on ``criteria``, the sponsor shortlists at most ``shortlist`` teams, and only
    those submit (README, "Proposals and the shortlist")."""

    due: dt.datetime
    max_mb: int = Field(default=20, ge=1, le=100)
    shortlist: int = Field(default=5, ge=1, le=1000)
    criteria: list[ProposalCriterion] = Field(min_length=1, max_length=20)

    @field_validator("due")
    @classmethod
    def _aware_due(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise Bad("schema.time_zone_needed", example="2027-01-15T00:00:00+08:00")
        return value

    @field_validator("criteria")
    @classmethod
    def _unique_criteria(cls, criteria: list[ProposalCriterion]) -> list[ProposalCriterion]:
        names = [c.name for c in criteria]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise Bad("schema.repeated_criteria", names=", ".join(repeated))
        return criteria


def _check_path(name: str) -> str:
    """A file or folder inside the bundle: plain names joined by '/', a trailing '/' allowed."""
    parts = name.rstrip("/").split("/")
    if not name.rstrip("/") or not all(is_safe_name(part) for part in parts):
        raise Bad("schema.path", name=name)
    return name


def _check_name(name: str) -> str:
    if not is_safe_name(name):
        raise Bad("schema.file_name", name=name)
    return name


def is_safe_name(name: str) -> bool:
    return bool(SAFE_NAME.match(name)) and name not in {".", ".."}


class Descriptions(Strict):
    """``description: {en: README.md, zh: README.zh.md}``: the description per language
    (the Chinese is optional; readers of Chinese then read the English)."""

    en: str
    zh: str | None = None

    @field_validator("en", "zh")
    @classmethod
    def _names(cls, name: str | None) -> str | None:
        return None if name is None else _check_name(name)


class ChallengeSpec(Strict):
    slug: str = Field(pattern=SLUG.pattern)
    title: I18n
    sponsor: str
    scenario: str
    summary: I18n
    description: str | Descriptions = "README.md"  # one file (English), or one a language
    metric: str
    targets: list[Target] = Field(default_factory=list)
    prize: Prize
    opens_at: dt.datetime
    closes_at: dt.datetime
    timezone: str = DEFAULT_TIMEZONE
    limits: Limits = Field(default_factory=Limits)
    resources: Resources = Field(default_factory=Resources)
    data: Data
    scoring: Scoring | None = None
    show_logs: bool = False
    proposal: ProposalStage | None = None
    round: str | None = None
    applicants: Applicants | None = None
    registration: RegistrationSpec | None = Field(default=None, validate_default=True)

    @field_validator("round")
    @classmethod
    def _round(cls, tag: str | None) -> str | None:
        return check_round_tag(tag)

    @field_validator("applicants")
    @classmethod
    def _applicants(cls, applicants: Applicants | None, info: ValidationInfo):
        return check_applicants(applicants, round_tag=info.data.get("round"))

    @field_validator("registration")
    @classmethod
    def _registration(cls, registration: RegistrationSpec | None, info: ValidationInfo):
        return check_registration(
            registration,
            applicants=info.data.get("applicants"),
            closes_at=info.data.get("closes_at"),
        )

    @field_validator("description")
    @classmethod
    def _description(cls, name: str | Descriptions) -> str | Descriptions:
        return name if isinstance(name, Descriptions) else _check_name(name)

    def description_files(self) -> dict[str, str]:
        """The description's file per language: "en" always, "zh" where given."""
        if isinstance(self.description, str):
            return {"en": self.description}
        files = {"en": self.description.en}
        if self.description.zh:
            files["zh"] = self.description.zh
        return files

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise Bad("schema.time_zone_needed", example="2026-12-01T00:00:00+08:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise Bad("schema.unknown_zone", name=value, example=DEFAULT_TIMEZONE) from None
        return value

    @model_validator(mode="after")
    def _dates(self) -> ChallengeSpec:
        if self.closes_at <= self.opens_at:
            raise Bad("schema.closes_before_opens")
        if self.proposal is not None and self.proposal.due >= self.closes_at:
            raise Bad("schema.due_before_close")
        return self
