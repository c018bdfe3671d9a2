"""Organizations' own pages: register one, see and edit it, invite and manage members,
accept an invitation; and the way to become a sponsor for a participant (/sponsor)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from challenges.policy import AccountAction, can
from jiebang import organizations as services
from jiebang import orgs as sponsor_services
from jiebang.accounts import OrgKind, User
from jiebang.db import utcnow
from jiebang.errors import ServiceError
from jiebang.organizations import CODED_KINDS, EDITABLE, OrgInvitation
from web.acting import act
from web.errors import translate
from web.ext import db
from web.forms import Form, OrgRequestForm, valid_email
from web.i18n import lang

bp = Blueprint("organizations", __name__)

KINDS = {
    OrgKind.enterprise: _l("Enterprise"),
    OrgKind.university: _l("University"),
    OrgKind.research_institute: _l("Research institute"),
    OrgKind.government: _l("Government body"),
    OrgKind.other: _l("Other (e.g. an organization outside China)"),
}
STATES = {
    "unverified": _l("not verified"),
    "pending": _l("waiting for an administrator"),
    "verified": _l("verified"),
    "refused": _l("refused"),
    "changes_requested": _l("changes requested"),
    "approved": _l("approved"),
}


class OrgForm(Form):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KINDS.items()]
    )
    name_zh = StringField(
        _l("Legal name in Chinese"),
        validators=[Length(max=200)],
        description=_l("As on the business licence (营业执照) or registration certificate."),
    )
    name_en = StringField(_l("Legal name in English"), validators=[Length(max=200)])
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[Length(max=40)],
        description=_l(
            "18 characters (统一社会信用代码); needed for every kind but Other. "
            "Its check character is verified."
        ),
    )


class InviteForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), valid_email])


def _fill(form: OrgForm, exc: ServiceError) -> None:
    getattr(form, exc.field, form.name_en).errors.append(translate(exc))


def _mine():
    return current_user.org


def _page(form=None, invite_form=None, link=None, status=200):
    org = _mine()
    session = db()
    page = render_template(
        "organization.html",
        org=org,
        kinds=KINDS,
        states=STATES,
        coded=[k.value for k in CODED_KINDS],
        manage=org is not None and can(session, current_user, AccountAction.manage_org, org),
        editable=org is not None and org.verification in EDITABLE,
        members=services.members(session, org) if org else [],
        invitations=services.open_invitations(session, org) if org else [],
        form=form or _edit_form(org),
        invite_form=invite_form or InviteForm(formdata=None),
        link=link,
    )
    response = make_response(page, status)
    # An invitation link is shown once; keep it out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def _edit_form(org):
    form = OrgForm(formdata=None)
    if org is not None:
        form.kind.data = org.kind
        form.name_zh.data = org.name_zh
        form.name_en.data = org.name if org.name != org.name_zh else ""
        form.uscc.data = org.uscc or ""
    return form


@bp.get("/organization")
@login_required
def mine():
    return _page()


@bp.route("/organization/new", methods=["GET", "POST"])
@login_required
def new():
    if current_user.org_id is not None:
        flash(_("You belong to an organization already; one is the most."), "error")
        return redirect(url_for("organizations.mine"))
    form = OrgForm()
    if form.validate_on_submit():
        session = db()
        try:
            services.register_org(
                session,
                user=current_user,
                kind=form.kind.data,
                name_en=form.name_en.data or "",
                name_zh=form.name_zh.data or "",
                uscc=form.uscc.data or "",
            )
            session.commit()
            flash(_("Registered. An administrator will verify the organization."), "success")
            return redirect(url_for("organizations.mine"))
        except ServiceError as exc:
            session.rollback()
            _fill(form, exc)
    status = 400 if form.errors or any(f.errors for f in form) else 200
    return render_template(
        "organization_new.html", form=form, coded=[k.value for k in CODED_KINDS]
    ), status


@bp.post("/organization")
@login_required
def edit():
    """Save and submit again for verification (after changes were asked for)."""
    org = _mine() or abort(404)
    form = OrgForm()
    if not form.validate_on_submit():
        return _page(form=form, status=400)
    session = db()
    try:
        services.update_org(
            session,
            org=org,
            actor=current_user,
            kind=form.kind.data,
            name_en=form.name_en.data or "",
            name_zh=form.name_zh.data or "",
            uscc=form.uscc.data or "",
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        _fill(form, exc)
        return _page(form=form, status=exc.status)
    flash(_("Saved and submitted for verification."), "success")
    return redirect(url_for("organizations.mine"))


@bp.post("/organization/invitations")
@login_required
def invite():
    org = _mine() or abort(404)
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(invite_form=form, status=400)
    session = db()
    try:
        invitation, token = services.invite(
            session, org=org, actor=current_user, email=form.email.data
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        form.email.errors.append(translate(exc))
        return _page(invite_form=form, status=exc.status)
    link = url_for("organizations.invitation", token=token, _external=True)
    return _page(link=(invitation.email, link))


def _act(action, success: str):
    return act(action, success, url_for("organizations.mine"))


@bp.post("/organization/invitations/<id:invitation_id>/revoke")
@login_required
def revoke(invitation_id: int):
    org = _mine() or abort(404)
    invitation = db().get(OrgInvitation, invitation_id)
    if invitation is None or invitation.org_id != org.id:
        abort(404)
    return _act(
        lambda s: services.revoke_invitation(s, invitation=invitation, actor=current_user),
        _("Invitation withdrawn."),
    )


def _member(user_id: int) -> User:
    org = _mine() or abort(404)
    member = db().get(User, user_id)
    if member is None or member.org_id != org.id:
        abort(404)
    return member


@bp.post("/organization/members/<id:user_id>/remove")
@login_required
def remove(user_id: int):
    member, org = _member(user_id), _mine()
    return _act(
        lambda s: services.remove_member(s, org=org, member=member, actor=current_user),
        _("%(name)s is no longer a member.", name=member.name),
    )


@bp.post("/organization/members/<id:user_id>/admin")
@login_required
def set_admin(user_id: int):
    member, org = _member(user_id), _mine()
    admin = request.form.get("admin") == "on"
    return _act(
        lambda s: services.set_org_admin(
            s, org=org, member=member, actor=current_user, admin=admin
        ),
        _("Saved."),
    )


@bp.get("/invitations/<token>")
def invitation(token: str):
    """Anyone with the link sees whose invitation it is; accepting needs the account of
    the invited address (log in or sign up, then come back here)."""
    try:
        found = services.find_invitation(db(), token)
    except ServiceError:
        abort(404)
    return render_template(
        "invitation.html", invitation=found, token=token, state=found.state(utcnow())
    )


@bp.post("/invitations/<token>")
@login_required
def accept(token: str):
    session = db()
    try:
        org = services.accept(session, token=token, user=current_user)
        session.commit()
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
        return redirect(url_for("organizations.invitation", token=token))
    flash(_("Welcome to %(org)s.", org=org.display_name(lang())), "success")
    return redirect(url_for("organizations.mine"))


def become_sponsor():
    """/sponsor for a signed-in user who is not a sponsor: what sponsoring is, and the
    request (or its state)."""
    return render_template(
        "become_sponsor.html",
        org=current_user.org,
        states=STATES,
        org_form=OrgRequestForm(formdata=None),
        manage=current_user.org is not None
        and can(db(), current_user, AccountAction.manage_org, current_user.org),
    )


@bp.post("/sponsor/request")
@login_required
def request_sponsoring():
    """A new sponsor organization, or the user's organization asking (again)."""
    session = db()
    org = current_user.org
    form = OrgRequestForm()
    try:
        if org is None:
            if not form.validate_on_submit():
                flash(_("Give the organization a short name and a full name."), "error")
                return redirect("/sponsor")
            sponsor_services.request_org(
                session, user=current_user, slug=form.slug.data, name=form.name.data
            )
        else:
            sponsor_services.request_sponsoring(
                session, org=org, actor=current_user, name=request.form.get("name")
            )
        session.commit()
        flash(_("Thank you. An administrator will review your organization."), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return redirect("/sponsor")
