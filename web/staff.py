"""Administrators' pages: approve challenges and organizations, assign judges, users."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from challenges import lifecycle
from challenges import service as challenges
from challenges.models import Challenge, ChallengeJudge, Status
from evaluator import dryrun
from jiebang import accounts
from jiebang import orgs as org_services
from jiebang.errors import NotFound
from leaderboards.lifecycle import close_now
from web.acting import act as _act
from web.confirm import ask, confirmed
from web.ext import db
from web.i18n import lang
from web.org_pages import STATES as ORG_STATES
from web.roles import role_required

bp = Blueprint("staff", __name__)

# Challenges needing the administrator first, then the running ones, then the rest.
ORDER = {
    Status.in_review: 0,
    Status.draft: 1,
    Status.open: 2,
    Status.closed: 3,
    Status.judging: 4,
}


@bp.get("/admin")
@role_required(accounts.Role.admin)
def admin():
    session = db()
    items = list(session.scalars(select(Challenge).order_by(Challenge.id.desc())))
    items.sort(key=lambda c: ORDER.get(c.status, 9))
    judges: dict[int, list[accounts.User]] = {}
    for row in session.scalars(select(ChallengeJudge).order_by(ChallengeJudge.id)):
        judges.setdefault(row.challenge_id, []).append(row.user)
    organizations = list(
        session.scalars(select(accounts.Organization).order_by(accounts.Organization.name))
    )
    return render_template(
        "admin.html",
        challenges=items,
        judges=judges,
        users=_users(session, request.args.get("q", "").strip()),
        search=request.args.get("q", "").strip(),
        orgs=organizations,
        org_states=ORG_STATES,
        # Waiting for an administrator: a sponsor request or a verification.
        pending_orgs=[
            o
            for o in organizations
            if (o.sponsor_request == "pending" and not o.approved) or o.verification == "pending"
        ],
        roles=[r.value for r in accounts.Role],
        # What a reference solution scored, next to "Approve": a challenge whose scorer
        # fails on it is visibly not ready.
        dry_runs=dryrun.latest(
            session, [c.id for c in items if c.status in (Status.draft, Status.in_review)]
        ),
    )


def _users(session, search: str) -> list[accounts.User]:
    """Users whose email or name holds ``search``; the first 200."""
    query = select(accounts.User).order_by(accounts.User.id).limit(200)
    if search:
        pattern = "%" + search.replace("%", "").replace("_", "")[:100] + "%"
        query = query.where(
            or_(accounts.User.email.ilike(pattern), accounts.User.name.ilike(pattern))
        )
    return list(session.scalars(query))


def _user(session, user_id: int) -> accounts.User:
    user = session.get(accounts.User, user_id)
    if user is None:
        raise NotFound("user", "No such user.")
    return user


@bp.post("/admin/challenges/<slug>/approve")
@role_required(accounts.Role.admin)
def approve(slug: str):
    if not confirmed():
        item = _challenge_or_404(slug)
        return ask(
            title=_("Publish %(title)s?", title=item.title(lang())),
            consequences=[
                _("Everyone can see the challenge, and teams can submit from its opening time."),
                _("Its rules, data and scorer are fixed: the sponsor can no longer edit it."),
            ],
            button=_("Publish the challenge"),
            back=url_for("staff.admin"),
        )

    def act(session):
        challenges.publish(session, challenges.get_challenge(session, slug), actor=current_user)

    return _act(act, _("Published."), url_for("staff.admin"))


@bp.post("/admin/challenges/<slug>/review")
@role_required(accounts.Role.admin)
def review(slug: str):
    """Refuse or request changes with a comment: the challenge goes back to its sponsor
    as a draft, with the comment on its dashboard. (Approval is ``approve``: it asks to
    confirm first.)"""
    decision = request.form.get("decision", "")
    if decision not in ("refuse", "request_changes"):
        abort(400)

    def act(session):
        item = challenges.get_challenge(session, slug)
        lifecycle.review(
            session,
            item,
            decision=decision,
            comment=request.form.get("comment", ""),
            actor=current_user,
        )

    said = (
        _("Refused; the sponsor sees your comment.")
        if decision == "refuse"
        else _("Sent back to the sponsor with your comment.")
    )
    return _act(act, said, url_for("staff.admin"))


@bp.post("/admin/challenges/<slug>/close")
@role_required(accounts.Role.admin)
def close(slug: str):
    if not confirmed():
        item = _challenge_or_404(slug)
        return ask(
            title=_("Close %(title)s now?", title=item.title(lang())),
            consequences=[
                _("Submissions end now, before the deadline."),
                _("The private board is frozen from each team's final selections."),
                _("Judging begins."),
            ],
            button=_("Close the challenge now"),
            back=url_for("staff.admin"),
        )

    def act(session):
        close_now(session, challenges.get_challenge(session, slug), actor=current_user)

    return _act(act, _("Closed; the private board is frozen."), url_for("staff.admin"))


def _challenge_or_404(slug: str) -> Challenge:
    try:
        return challenges.get_challenge(db(), slug)
    except NotFound:
        abort(404)


@bp.post("/admin/challenges/<slug>/judges")
@role_required(accounts.Role.admin)
def assign_judge(slug: str):
    """Any active account becomes a judge of this challenge by being assigned to it."""

    def act(session):
        judge = accounts.get_user_by_email(session, request.form.get("email", ""))
        item = challenges.get_challenge(session, slug)
        lifecycle.assign_judge(session, item, judge=judge, actor=current_user)

    return _act(act, _("Judge assigned."), url_for("staff.admin"))


@bp.post("/admin/challenges/<slug>/judges/<id:user_id>/remove")
@role_required(accounts.Role.admin)
def unassign_judge(slug: str, user_id: int):
    def act(session):
        item = challenges.get_challenge(session, slug)
        lifecycle.unassign_judge(session, item, judge=_user(session, user_id), actor=current_user)

    return _act(act, _("Judge removed from the challenge."), url_for("staff.admin"))


@bp.post("/admin/users/<id:user_id>")
@role_required(accounts.Role.admin)
def update_user(user_id: int):
    """Role, organization and whether the account may log in, in one form per user."""

    def act(session):
        user = _user(session, user_id)
        slug = request.form.get("org", "")
        org = accounts.get_org(session, slug) if slug else None
        if (user.org_id or None) != (org.id if org else None):
            org_services.set_org(session, user=user, org=org, actor=current_user)
        role = request.form.get("role", user.role)
        if role != user.role:
            org_services.set_role(session, user=user, role=role, actor=current_user)
        active = request.form.get("active") == "on"
        if active != user.active:
            org_services.set_active(session, user=user, active=active, actor=current_user)

    return _act(act, _("User saved."), url_for("staff.admin") + "#adm-users")


@bp.post("/admin/orgs")
@role_required(accounts.Role.admin)
def create_org():
    def act(session):
        accounts.create_org(
            session, slug=request.form.get("slug", ""), name=request.form.get("name", "")
        )

    return _act(act, _("Organization created."), url_for("staff.admin") + "#adm-orgs")


@bp.post("/admin/orgs/<id:org_id>/approve")
@role_required(accounts.Role.admin)
def approve_org(org_id: int):
    def act(session):
        org = session.get(accounts.Organization, org_id)
        if org is None:
            abort(404)
        org_services.approve_org(session, org=org, actor=current_user)

    return _act(
        act, _("Organization approved; its members are sponsors now."), url_for("staff.admin")
    )
