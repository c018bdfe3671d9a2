"""The ``round``, ``applicants`` and ``registration`` keys of ``challenge.yaml``.

Absent, a challenge behaves as before: any account forms a team, no registration.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from challenges.problems import Bad

ROUND_TAG = re.compile(r"\A[a-z0-9][a-z0-9._-]{0,62}\Z")
_SAFE = re.compile(r"\A[A-Za-z0-9._-][A-Za-z0-9._ -]*\Z")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PerOrganization(_Strict):
    """At most ``limit`` challenges per organization across the round or the sponsor."""

    limit: int = Field(ge=1, le=1000)
    across: Literal["round", "sponsor"] = "round"


class Applicants(_Strict):
    who: Literal["individuals", "organizations", "consortia"] = "individuals"
    # Organizations must be verified; None: true unless individuals.
    verified: bool | None = None
    max_partners: int = Field(default=4, ge=1, le=50)
    per_organization: PerOrganization | None = None
    bar_round_winners: bool = False

    @model_validator(mode="after")
    def _default_verified(self) -> Applicants:
        if self.verified is None:
            self.verified = self.who != "individuals"
        return self


class Terms(_Strict):
    """Files of the bundle: the terms in English and in Chinese (markdown)."""

    en: str
    zh: str

    @field_validator("en", "zh")
    @classmethod
    def _file(cls, name: str) -> str:
        if not _SAFE.match(name) or name in {".", ".."}:
            raise Bad("schema.file_name", name=name)
        return name


class RegistrationSpec(_Strict):
    mode: Literal["open", "approval"]
    closes_at: dt.datetime | None = None
    teams_freeze_at: dt.datetime | None = None
    terms: Terms | None = None

    @field_validator("closes_at", "teams_freeze_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise Bad("schema.time_zone_needed", example="2027-02-01T00:00:00+08:00")
        return value


def check_round_tag(tag: str | None) -> str | None:
    if tag is not None and not ROUND_TAG.match(tag):
        raise Bad("schema.round_tag", name=tag)
    return tag


def check_applicants(applicants: Applicants | None, *, round_tag: str | None):
    """What ``applicants`` needs of the other keys (a ValueError names what is missing)."""
    if applicants is None:
        return None
    per = applicants.per_organization
    if per is not None and per.across == "round" and round_tag is None:
        raise ValueError("per_organization across: round needs a round: tag")
    if applicants.bar_round_winners and round_tag is None:
        raise ValueError("bar_round_winners needs a round: tag")
    return applicants


def check_registration(
    registration: RegistrationSpec | None,
    *,
    applicants: Applicants | None,
    closes_at: dt.datetime | None,
):
    """Registration's dates come before the challenge closes; organizations and consortia
    apply by registration."""
    if registration is None:
        if applicants is not None and applicants.who != "individuals":
            raise ValueError(
                "organizations and consortia apply by registration; "
                "add registration: {mode: open} or {mode: approval}"
            )
        return None
    if closes_at is not None:
        for key in ("closes_at", "teams_freeze_at"):
            value = getattr(registration, key)
            if value is not None and value >= closes_at:
                raise ValueError(f"{key} must be before the challenge's closes_at")
    return registration


def registration_json(registration: RegistrationSpec | None) -> dict | None:
    """What the challenge row keeps (the terms' texts live in their own columns)."""
    if registration is None:
        return None
    return registration.model_dump(mode="json", exclude={"terms"})
