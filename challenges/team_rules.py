"""Who may join or leave a team of a challenge that asks for registration.

Read by ``challenges.teams`` (create, join, leave) and ``challenges.registration``; it
imports neither, so both may ask. A challenge without ``registration`` refuses nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.applicants import OrgRole, TeamOrganization
from challenges.models import Challenge, Team
from jiebang.accounts import User
from jiebang.errors import Forbidden, ServiceError


def parse_time(value: str | None) -> dt.datetime | None:
    return None if not value else dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def registration_closes_at(challenge: Challenge) -> dt.datetime | None:
    return parse_time((challenge.registration or {}).get("closes_at"))


def teams_freeze_at(challenge: Challenge) -> dt.datetime | None:
    return parse_time((challenge.registration or {}).get("teams_freeze_at"))


def applicant_kind(challenge: Challenge) -> str:
    """individuals, organizations or consortia."""
    return (challenge.applicants or {}).get("who", "individuals")


def frozen_refusal(challenge: Challenge, now: dt.datetime) -> ServiceError | None:
    """Teams freeze from ``registration.teams_freeze_at``: no joining, leaving or change of
    organizations."""
    freeze = teams_freeze_at(challenge)
    if freeze is not None and now >= freeze:
        return Forbidden(
            "team",
            "Teams of this challenge are frozen since %(at)s: nobody joins or leaves, and "
            "their organizations stay as they are.",
            at=freeze.isoformat(timespec="minutes"),
        )
    return None


def listed_org_ids(session: Session, team_id: int) -> set[int]:
    """Every organization a team has named (its lead, partners confirmed or not)."""
    query = select(TeamOrganization.org_id).where(TeamOrganization.team_id == team_id)
    return set(session.scalars(query))


def lead_org_id(session: Session, team_id: int) -> int | None:
    query = select(TeamOrganization.org_id).where(
        TeamOrganization.team_id == team_id, TeamOrganization.role == OrgRole.lead.value
    )
    return session.scalar(query)


def join_refusal(
    session: Session, *, user: User, team: Team | None, challenge: Challenge, now: dt.datetime
) -> ServiceError | None:
    """What keeps ``user`` from forming (``team`` None) or joining a team: the freeze, and on
    a challenge for organizations or consortia, an organization outside the team's."""
    if not challenge.registration:
        return None
    if (refused := frozen_refusal(challenge, now)) is not None:
        return refused
    if applicant_kind(challenge) == "individuals":
        return None
    if user.org_id is None:
        return Forbidden(
            "organization",
            "This challenge is for organizations: join your organization on the platform "
            "(or register it) before you take part.",
        )
    if team is not None:
        orgs = listed_org_ids(session, team.id)
        if orgs and user.org_id not in orgs:
            return Forbidden(
                "organization",
                "Members of this team belong to its organizations; yours is not one of them.",
            )
    return None
