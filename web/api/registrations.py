"""Registration over the API: your team's, the terms, partners, the sponsor's decisions."""

from __future__ import annotations

from flask import g

from challenges import eligibility, registration
from challenges import service as challenges
from challenges.models import Challenge, Team
from challenges.team_rules import applicant_kind, registration_closes_at, teams_freeze_at
from challenges.teams import get_team, team_of
from jiebang.errors import NotFound
from web.api import read
from web.api import registration_schemas as r
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.ext import db


def _challenge(slug: str) -> Challenge:
    return challenges.get_challenge(db(), slug, public_only=True)


def _my_team(challenge: Challenge) -> Team:
    team = team_of(db(), user=g.api_user, challenge=challenge)
    if team is None:
        raise NotFound("team", "You have no team in this challenge.")
    return team


def rules(challenge: Challenge) -> r.Rules:
    settings = challenge.registration or {}
    return r.Rules(
        required=bool(settings),
        mode=settings.get("mode"),
        who=applicant_kind(challenge),
        round=challenge.round_tag,
        max_partners=(challenge.applicants or {}).get("max_partners")
        if applicant_kind(challenge) == "consortia"
        else None,
        closes_at=registration_closes_at(challenge),
        teams_freeze_at=teams_freeze_at(challenge),
        terms_version=challenge.terms_version or 0,
        terms_en=challenge.terms_en or "",
        terms_zh=challenge.terms_zh or "",
    )


def org_view(row) -> r.TeamOrg:
    org = row.org
    return r.TeamOrg(
        org_id=org.id,
        slug=org.slug,
        name=org.name,
        name_zh=getattr(org, "name_zh", "") or "",
        uscc=getattr(org, "uscc", None),
        verified=bool(getattr(org, "is_verified", False)),
        role=row.role,
        confirmed=row.confirmed_at is not None,
    )


def registration_view(
    challenge: Challenge, reg, *, team: Team | None = None, orgs: list | None = None
) -> r.RegistrationView:
    """``team`` and ``orgs`` given: loaded for many at once (the list)."""
    session = db()
    team = team or session.get(Team, reg.team_id)
    if orgs is None:
        orgs = registration.team_orgs(session, team.id)
    return r.RegistrationView(
        team_id=team.id,
        team=team.name,
        status=reg.status,
        reason=reg.reason,
        submitted_at=reg.submitted_at,
        decided_at=reg.decided_at,
        terms_version=reg.terms_version,
        terms_accepted_at=reg.terms_accepted_at,
        terms_current=reg.terms_version >= (challenge.terms_version or 0),
        organizations=[org_view(o) for o in orgs],
    )


def _state(challenge: Challenge, team: Team) -> r.RegistrationState:
    reg = eligibility.registration_of(db(), team.id)
    return r.RegistrationState(
        rules=rules(challenge),
        team_id=team.id,
        organizations=[org_view(o) for o in registration.team_orgs(db(), team.id)],
        registration=registration_view(challenge, reg) if reg else None,
    )


@bp.get("/challenges/<slug>/registration")
@doc("Your team's registration and the challenge's rules", r.RegistrationState, tag="registration")
@token_required("read")
def my_registration(slug: str):
    challenge = _challenge(slug)
    return read.reply(_state(challenge, _my_team(challenge)))


@bp.post("/challenges/<slug>/registration")
@doc(
    "Register your team (accepting the terms' current version)",
    r.RegistrationState,
    tag="registration",
    status=201,
    scope="submit",
    body=r.ApplyBody,
)
@token_required("submit")
def apply(slug: str):
    session = db()
    challenge = _challenge(slug)
    team = _my_team(challenge)
    body = parse(r.ApplyBody)
    registration.apply(session, user=g.api_user, team=team, terms_version=body.terms_version)
    session.commit()
    return read.reply(_state(challenge, team), 201)


@bp.delete("/challenges/<slug>/registration")
@doc("Withdraw your team's registration", r.RegistrationState, tag="registration", scope="submit")
@token_required("submit")
def withdraw(slug: str):
    session = db()
    challenge = _challenge(slug)
    team = _my_team(challenge)
    registration.withdraw(session, user=g.api_user, team=team)
    session.commit()
    return read.reply(_state(challenge, team))


@bp.post("/challenges/<slug>/registration/terms")
@doc(
    "Accept the terms again after they changed",
    r.RegistrationState,
    tag="registration",
    scope="submit",
    body=r.TermsBody,
)
@token_required("submit")
def accept_terms(slug: str):
    session = db()
    challenge = _challenge(slug)
    team = _my_team(challenge)
    version = parse(r.TermsBody).version
    registration.accept_terms(session, user=g.api_user, team=team, version=version)
    session.commit()
    return read.reply(_state(challenge, team))


@bp.post("/challenges/<slug>/registration/partners")
@doc(
    "Name a partner organization of your consortium (its administrator confirms)",
    r.RegistrationState,
    tag="registration",
    status=201,
    scope="submit",
    body=r.PartnerBody,
)
@token_required("submit")
def add_partner(slug: str):
    session = db()
    challenge = _challenge(slug)
    team = _my_team(challenge)
    org = parse(r.PartnerBody).org
    registration.add_partner(session, user=g.api_user, team=team, org_slug=org)
    session.commit()
    return read.reply(_state(challenge, team), 201)


@bp.get("/challenges/<slug>/registrations")
@doc("Sponsor: every registration with its organizations", r.RegistrationList, tag="registration")
@token_required("read")
def list_registrations(slug: str):
    challenge = _challenge(slug)
    rows = registration.registrations(db(), actor=g.api_user, challenge=challenge)
    teams, orgs = registration.teams_and_orgs(db(), [reg.team_id for reg in rows])
    return read.reply(
        r.RegistrationList(
            rules=rules(challenge),
            registrations=[
                registration_view(challenge, reg, team=teams[reg.team_id], orgs=orgs[reg.team_id])
                for reg in rows
            ],
        )
    )


@bp.post("/challenges/<slug>/registrations/<id:team_id>/decision")
@doc(
    "Sponsor: approve a registration, or refuse it with a reason",
    r.RegistrationView,
    tag="registration",
    scope="manage",
    body=r.DecisionBody,
)
@token_required("manage")
def decide(slug: str, team_id: int):
    session = db()
    challenge = _challenge(slug)
    team = get_team(session, team_id)
    if team.challenge_id != challenge.id:
        raise NotFound("team", "No team %(id)s.", id=team_id)
    body = parse(r.DecisionBody)
    reg = registration.decide(
        session, actor=g.api_user, team=team, approve=body.decision == "approve", reason=body.reason
    )
    session.commit()
    return read.reply(registration_view(challenge, reg))


def invitation_view(row) -> r.Invitation:
    team = db().get(Team, row.team_id)
    challenge = db().get(Challenge, team.challenge_id)
    return r.Invitation(
        id=row.id, challenge=challenge.slug, team_id=team.id, team=team.name, org=org_view(row)
    )


@bp.get("/consortium-invitations")
@doc(
    "Organization administrators: consortia that name your organization as a partner",
    r.InvitationList,
    tag="registration",
)
@token_required("read")
def invitations():
    rows = registration.pending_invitations(db(), user=g.api_user)
    return read.reply(r.InvitationList(invitations=[invitation_view(x) for x in rows]))


@bp.post("/consortium-invitations/<id:row_id>")
@doc(
    "Organization administrators: confirm or decline a consortium invitation",
    r.InvitationList,
    tag="registration",
    scope="manage",
    body=r.InvitationAnswer,
)
@token_required("manage")
def answer_invitation(row_id: int):
    session = db()
    row = registration.get_partner_row(session, row_id)
    accept = parse(r.InvitationAnswer).accept
    registration.confirm_partner(session, user=g.api_user, row=row, accept=accept)
    session.commit()
    rows = registration.pending_invitations(session, user=g.api_user)
    return read.reply(r.InvitationList(invitations=[invitation_view(x) for x in rows]))
