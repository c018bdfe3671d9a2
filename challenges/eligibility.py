"""Who may take part once a team exists: the one place the registration rules are read.

Evaluator intake asks ``submit_refusal`` before it takes a submission; the data pages and
routes ask ``may_download`` before they show training data or sample inputs; judging asks
``conflicted``. A challenge without ``registration`` (today's open challenges) refuses
nothing here. Later stages (a proposal's shortlist) add their rules to ``submit_refusal``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.applicants import OrgRole, Registration, RegStatus, TeamOrganization
from challenges.models import Challenge, Team
from challenges.policy import is_judge, is_sponsor_of
from challenges.teams import team_of
from jiebang.accounts import User
from jiebang.errors import Forbidden, ServiceError
from jiebang.policy import is_admin


def requires_registration(challenge: Challenge) -> bool:
    return bool(challenge.registration)


def registration_of(session: Session, team_id: int) -> Registration | None:
    return session.scalar(select(Registration).where(Registration.team_id == team_id))


def team_org_ids(session: Session, team_id: int) -> set[int]:
    """The organizations a team applies with: its lead and every confirmed partner."""
    query = select(TeamOrganization.org_id).where(
        TeamOrganization.team_id == team_id,
        (TeamOrganization.role == OrgRole.lead.value) | TeamOrganization.confirmed_at.isnot(None),
    )
    return set(session.scalars(query))


def conflicted(session: Session, *, user: User, team: Team) -> bool:
    """The user belongs to one of the team's organizations (a judge of it may not judge it)."""
    return user.org_id is not None and user.org_id in team_org_ids(session, team.id)


def registration_refusal(
    session: Session, *, challenge: Challenge, team: Team, now: dt.datetime
) -> ServiceError | None:
    """What keeps an existing team from taking part: no approved registration, or terms
    accepted in an older version than the current one."""
    if not requires_registration(challenge):
        return None
    reg = registration_of(session, team.id)
    if reg is None or reg.status in (RegStatus.refused.value, RegStatus.withdrawn.value):
        return Forbidden(
            "registration",
            "This challenge takes part only by registration; register your team on its "
            "team page first.",
        )
    if reg.status != RegStatus.approved.value:
        return Forbidden(
            "registration",
            "Your team's registration waits for the sponsor's approval; you can take part "
            "once it is approved.",
        )
    if reg.terms_version < challenge.terms_version:
        return Forbidden(
            "terms",
            "The challenge's terms have changed (version %(version)d); accept them again on "
            "your team page to go on.",
            version=challenge.terms_version,
        )
    return None


def submit_refusal(
    session: Session, *, challenge: Challenge, team: Team, now: dt.datetime
) -> ServiceError | None:
    """What stands in the way of ``team`` submitting now, beyond deadline and quota
    (``evaluator.intake`` checks those); None if nothing."""
    refused = registration_refusal(session, challenge=challenge, team=team, now=now)
    if refused is None and challenge.proposal:  # a proposal stage: the shortlist only
        from challenges.proposals import shortlist_refusal  # it reads this module too

        refused = shortlist_refusal(session, challenge=challenge, team=team)
    return refused


def may_download(
    session: Session, *, challenge: Challenge, user: User | None, now: dt.datetime
) -> bool:
    """Training data and sample inputs: everyone where no registration is asked; else the
    challenge's managers and judges, and the members of an approved team on current terms."""
    if not requires_registration(challenge):
        return True
    if user is None:
        return False
    if is_admin(user) or is_sponsor_of(user, challenge):
        return True
    if is_judge(session, user=user, challenge=challenge):
        return True
    team = team_of(session, user=user, challenge=challenge)
    if team is None:
        return False
    return registration_refusal(session, challenge=challenge, team=team, now=now) is None
