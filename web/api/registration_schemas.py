"""Read models of registration over the API (who may apply, terms, the sponsor's list)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from web.api.schemas import IsoTime


class TeamOrg(BaseModel):
    org_id: int
    slug: str
    name: str
    name_zh: str = ""
    uscc: str | None = None
    verified: bool
    role: Literal["lead", "partner"]
    confirmed: bool


class Rules(BaseModel):
    """What the challenge asks of applicants (``applicants``/``registration`` of its bundle)."""

    required: bool
    mode: Literal["open", "approval"] | None = None
    who: Literal["individuals", "organizations", "consortia"] = "individuals"
    round: str | None = None
    max_partners: int | None = None
    closes_at: IsoTime | None = None
    teams_freeze_at: IsoTime | None = None
    terms_version: int = 0
    terms_en: str = ""
    terms_zh: str = ""


class RegistrationView(BaseModel):
    team_id: int
    team: str
    status: Literal["pending", "approved", "refused", "withdrawn"]
    reason: str = ""
    submitted_at: IsoTime
    decided_at: IsoTime | None = None
    terms_version: int
    terms_accepted_at: IsoTime | None = None
    terms_current: bool
    organizations: list[TeamOrg]


class RegistrationState(BaseModel):
    """Your team's registration and the challenge's rules; ``registration`` is null before
    the team applies."""

    rules: Rules
    team_id: int
    organizations: list[TeamOrg]
    registration: RegistrationView | None = None


class RegistrationList(BaseModel):
    rules: Rules
    registrations: list[RegistrationView]


class ApplyBody(BaseModel):
    terms_version: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="The terms' version you accept (required where it has terms)",
    )


class TermsBody(BaseModel):
    version: int = Field(ge=0, le=2**31 - 1)


class PartnerBody(BaseModel):
    org: str = Field(min_length=1, max_length=64, description="The partner organization's slug")


class DecisionBody(BaseModel):
    decision: Literal["approve", "refuse"]
    reason: str = Field(default="", max_length=2000)


class Invitation(BaseModel):
    id: int
    challenge: str
    team_id: int
    team: str
    org: TeamOrg


class InvitationList(BaseModel):
    invitations: list[Invitation]


class InvitationAnswer(BaseModel):
    accept: bool
