"""Administrators' page of organizations: verify legal identities, decide sponsor
requests; refusals and requests for changes carry a note the organization reads."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, select

from jiebang import accounts
from jiebang import organizations as services
from jiebang import orgs as sponsor_services
from web.acting import act
from web.ext import db
from web.org_pages import KINDS, STATES
from web.roles import role_required

bp = Blueprint("org_admin", __name__)


@bp.get("/admin/orgs")
@role_required(accounts.Role.admin)
def index():
    """Organizations waiting for a decision first, then the rest by name."""
    Org = accounts.Organization
    waiting = case(
        ((Org.verification == "pending") | (Org.sponsor_request == "pending"), 0), else_=1
    )
    orgs = list(db().scalars(select(Org).order_by(waiting, Org.name)))
    return render_template("admin_orgs.html", orgs=orgs, kinds=KINDS, states=STATES)


def _org(org_id: int) -> accounts.Organization:
    org = db().get(accounts.Organization, org_id)
    if org is None:
        abort(404)
    return org


def _decide(action, success: str):
    return act(action, success, url_for("org_admin.index"))


@bp.post("/admin/orgs/<id:org_id>/verify")
@role_required(accounts.Role.admin)
def verify(org_id: int):
    org = _org(org_id)
    decision = request.form.get("decision", "")
    return _decide(
        lambda s: services.review_org(
            s, org=org, actor=current_user, decision=decision, note=request.form.get("note", "")
        ),
        _("Decision saved; the organization's administrators are told."),
    )


@bp.post("/admin/orgs/<id:org_id>/sponsor")
@role_required(accounts.Role.admin)
def sponsor(org_id: int):
    org = _org(org_id)
    decision = request.form.get("decision", "")
    return _decide(
        lambda s: sponsor_services.decide_sponsoring(
            s, org=org, actor=current_user, decision=decision, note=request.form.get("note", "")
        ),
        _("Decision saved."),
    )
