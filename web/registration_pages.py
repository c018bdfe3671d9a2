"""Registration pages: a team's registration, consortium confirmations, the sponsor's list."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from challenges import eligibility, registration
from challenges.models import Challenge, Team
from challenges.policy import Action
from challenges.team_rules import applicant_kind, registration_closes_at, teams_freeze_at
from challenges.teams import get_team, team_of
from jiebang.db import utcnow
from jiebang.errors import ServiceError
from web.acting import finish
from web.board_csv import safe_text
from web.errors import translate
from web.ext import db
from web.roles import allowed_or_404, published_or_404

bp = Blueprint("registration", __name__)


def _asking(slug: str) -> Challenge:
    """A published challenge that asks for registration; a 404 otherwise."""
    return published_or_404(slug, asking="registration")


def _done(exc: ServiceError | None, target: str, message: str = "", **values):
    return finish(exc, url_for(target, **values), message)


def _rules(item: Challenge) -> dict:
    return {
        "mode": item.registration.get("mode"),
        "who": applicant_kind(item),
        "closes_at": registration_closes_at(item),
        "freeze_at": teams_freeze_at(item),
        "max_partners": (item.applicants or {}).get("max_partners", 4),
    }


# --- a team --------------------------------------------------------------------------


@bp.get("/challenges/<slug>/registration")
@login_required
def team_page(slug: str):
    item = _asking(slug)
    session = db()
    team = team_of(session, user=current_user, challenge=item)
    if team is None:
        flash(_("Create or join a team first; the team registers."), "error")
        return redirect(url_for("challenge.team", slug=slug))
    refused = eligibility.submit_refusal(session, challenge=item, team=team, now=utcnow())
    return render_template(
        "registration_team.html",
        challenge=item,
        team=team,
        tab="team",
        rules=_rules(item),
        reg=eligibility.registration_of(session, team.id),
        orgs=registration.team_orgs(session, team.id),
        refusal_text=translate(refused) if refused else None,
    )


def _team_action(slug: str, act, message: str):
    item = _asking(slug)
    team = team_of(db(), user=current_user, challenge=item)
    if team is None:
        abort(404)
    try:
        act(db(), team)
    except ServiceError as exc:
        return _done(exc, "registration.team_page", slug=slug)
    return _done(None, "registration.team_page", message, slug=slug)


def _version() -> int | None:
    value = request.form.get("terms_version", "")
    return int(value) if value.isdigit() else None


@bp.post("/challenges/<slug>/registration")
@login_required
def apply(slug: str):
    if request.form.get("accept") != "1" and request.form.get("terms_version"):
        flash(_("Tick the box to accept the terms."), "error")
        return redirect(url_for("registration.team_page", slug=slug))
    return _team_action(
        slug,
        lambda s, team: registration.apply(
            s, user=current_user, team=team, terms_version=_version()
        ),
        _("Your team's registration is in."),
    )


@bp.post("/challenges/<slug>/registration/terms")
@login_required
def accept_terms(slug: str):
    if request.form.get("accept") != "1":
        flash(_("Tick the box to accept the terms."), "error")
        return redirect(url_for("registration.team_page", slug=slug))
    return _team_action(
        slug,
        lambda s, team: registration.accept_terms(
            s, user=current_user, team=team, version=_version() or 0
        ),
        _("Terms accepted."),
    )


@bp.post("/challenges/<slug>/registration/withdraw")
@login_required
def withdraw(slug: str):
    return _team_action(
        slug,
        lambda s, team: registration.withdraw(s, user=current_user, team=team),
        _("Registration withdrawn."),
    )


@bp.post("/challenges/<slug>/registration/partners")
@login_required
def add_partner(slug: str):
    org = request.form.get("org", "")
    return _team_action(
        slug,
        lambda s, team: registration.add_partner(s, user=current_user, team=team, org_slug=org),
        _("Partner added; an administrator of that organization confirms it."),
    )


@bp.post("/challenges/<slug>/registration/partners/<id:org_id>/remove")
@login_required
def remove_partner(slug: str, org_id: int):
    return _team_action(
        slug,
        lambda s, team: registration.remove_partner(s, user=current_user, team=team, org_id=org_id),
        _("Partner removed."),
    )


# --- a partner organization's administrators ------------------------------------------


@bp.get("/consortium-invitations")
@login_required
def invitations():
    session = db()
    rows = registration.pending_invitations(session, user=current_user)
    teams = {row.id: session.get(Team, row.team_id) for row in rows}
    found = {t.challenge_id for t in teams.values()}
    items = {c: session.get(Challenge, c) for c in found}
    return render_template("consortium_invitations.html", rows=rows, teams=teams, items=items)


@bp.post("/consortium-invitations/<id:row_id>")
@login_required
def answer(row_id: int):
    accept = request.form.get("accept") == "1"
    try:
        row = registration.get_partner_row(db(), row_id)
        registration.confirm_partner(db(), user=current_user, row=row, accept=accept)
    except ServiceError as exc:
        return _done(exc, "registration.invitations")
    message = _("Partnership confirmed.") if accept else _("Invitation declined.")
    return _done(None, "registration.invitations", message)


# --- the sponsor -----------------------------------------------------------------------


@bp.get("/challenges/<slug>/registrations")
@login_required
def sponsor_page(slug: str):
    item = _asking(slug)
    allowed_or_404(Action.manage_registrations, item)
    session = db()
    rows = registration.registrations(session, actor=current_user, challenge=item)
    teams, orgs = registration.teams_and_orgs(session, [r.team_id for r in rows])
    return render_template(
        "registrations_sponsor.html",
        challenge=item,
        rows=rows,
        teams=teams,
        orgs=orgs,
        rules=_rules(item),
    )


@bp.get("/challenges/<slug>/registrations.csv")
@login_required
def sponsor_csv(slug: str):
    item = _asking(slug)
    allowed_or_404(Action.manage_registrations, item)
    session = db()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["team_id", "team", "status", "organizations", "uscc", "terms_version"])
    found = registration.registrations(session, actor=current_user, challenge=item)
    teams, orgs = registration.teams_and_orgs(session, [r.team_id for r in found])
    for r in found:
        rows = orgs[r.team_id]
        writer.writerow(
            [
                r.team_id,
                safe_text(teams[r.team_id].name),
                r.status,
                safe_text("; ".join(f"{o.org.name} ({o.role})" for o in rows)),
                safe_text("; ".join(o.org.uscc or "" for o in rows)),
                r.terms_version,
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-registrations.csv"'},
    )


@bp.post("/challenges/<slug>/registrations/<id:team_id>/decision")
@login_required
def decide(slug: str, team_id: int):
    item = _asking(slug)
    allowed_or_404(Action.manage_registrations, item)
    approve = request.form.get("decision") == "approve"
    try:
        team = get_team(db(), team_id)
        if team.challenge_id != item.id:
            abort(404)
        registration.decide(
            db(),
            actor=current_user,
            team=team,
            approve=approve,
            reason=request.form.get("reason", ""),
        )
    except ServiceError as exc:
        return _done(exc, "registration.sponsor_page", slug=slug)
    message = _("Registration approved.") if approve else _("Registration refused.")
    return _done(None, "registration.sponsor_page", message, slug=slug)
