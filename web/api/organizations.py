"""Organizations over the API: one's own, registering one, invitations, verification."""

from __future__ import annotations

from flask import abort, g, url_for

from jiebang import accounts
from jiebang import organizations as services
from web.api import read
from web.api import schemas as s
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.ext import db


def view(org: accounts.Organization) -> s.OrganizationView:
    return s.OrganizationView(
        id=org.id,
        slug=org.slug,
        kind=org.kind,
        name_en=org.name,
        name_zh=org.name_zh,
        uscc=org.uscc,
        verification=org.verification,
        review_note=org.review_note,
        verified_at=org.verified_at,
        sponsor=org.approved,
        sponsor_request=org.sponsor_request,
        sponsor_note=org.sponsor_note,
    )


def _org(org_id: int) -> accounts.Organization:
    org = db().get(accounts.Organization, org_id)
    if org is None:
        abort(404)
    return org


@bp.get("/organizations/mine")
@doc("Your organization (null when you belong to none)", s.MyOrganization, tag="organizations")
@token_required("read")
def mine():
    user = g.api_user
    org = user.org
    return read.reply(
        s.MyOrganization(organization=view(org) if org else None, org_admin=user.org_admin)
    )


@bp.post("/organizations")
@doc(
    "Register an applicant organization; you become its administrator",
    s.OrganizationView,
    tag="organizations",
    status=201,
    scope="manage",
    body=s.OrganizationCreate,
)
@token_required("manage")
def register():
    session = db()
    body = parse(s.OrganizationCreate)
    org = services.register_org(
        session,
        user=g.api_user,
        kind=body.kind,
        name_en=body.name_en,
        name_zh=body.name_zh,
        uscc=body.uscc,
    )
    session.commit()
    return read.reply(view(org), 201)


@bp.post("/organizations/<id:org_id>/invitations")
@doc(
    "Invite a person by email (organization administrators)",
    s.InvitationCreated,
    tag="organizations",
    status=201,
    scope="manage",
    body=s.InvitationCreate,
)
@token_required("manage")
def invite(org_id: int):
    session = db()
    body = parse(s.InvitationCreate)
    invitation, token = services.invite(
        session, org=_org(org_id), actor=g.api_user, email=body.email
    )
    session.commit()
    return read.reply(
        s.InvitationCreated(
            id=invitation.id,
            email=invitation.email,
            expires_at=invitation.expires_at,
            accept_url=url_for("organizations.invitation", token=token, _external=True),
        ),
        201,
    )


@bp.post("/admin/organizations/<id:org_id>/verify")
@doc(
    "Verify, refuse or ask for changes (administrators; a note is needed but to verify)",
    s.OrganizationView,
    tag="organizations",
    scope="manage",
    body=s.OrganizationDecision,
)
@token_required("manage")
def verify(org_id: int):
    session = db()
    body = parse(s.OrganizationDecision)
    org = services.review_org(
        session, org=_org(org_id), actor=g.api_user, decision=body.decision, note=body.note
    )
    session.commit()
    return read.reply(view(org))
