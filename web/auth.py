"""Register, log in, log out, and the profile with API tokens."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from jiebang import accounts, orgs
from jiebang.db import utcnow
from jiebang.errors import ServiceError
from web.errors import translate
from web.ext import db, limiter, login_limit
from web.forms import LoginForm, OrgRequestForm, RegisterForm, TokenForm

bp = Blueprint("auth", __name__)


def init_login(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = None

    @manager.user_loader
    def load_user(user_id: str):
        return db().get(accounts.User, int(user_id)) if user_id.isdigit() else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlparse(target).netloc
    ):
        return target
    return url_for("pages.index")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        session = db()
        try:
            user = accounts.create_user(
                session, email=form.email.data, password=form.password.data, name=form.name.data
            )
            session.commit()
        except ServiceError as exc:
            session.rollback()
            getattr(form, exc.field, form.email).errors.append(translate(exc))
        else:
            login_user(user)
            flash(_("Welcome to Jiebang!"), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db(), email=form.email.data, password=form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("pages.index"))


@bp.get("/profile")
@login_required
def profile():
    return _profile()


def _profile(token: str | None = None, form: TokenForm | None = None, status: int = 200):
    response = make_response(
        render_template(
            "profile.html",
            token=token,
            form=form or TokenForm(formdata=None),
            org_form=OrgRequestForm(formdata=None),
            tokens=accounts.list_tokens(db(), current_user),
            now=utcnow(),
        ),
        status,
    )
    # A new token is on this page once; keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/profile/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _profile(form=form, status=400)
    session = db()
    token = accounts.issue_token(
        session,
        user=current_user,
        name=form.name.data.strip(),
        expires_in=dt.timedelta(days=int(form.days.data)),
    )
    session.commit()
    return _profile(token=token)


@bp.post("/profile/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    session = db()
    try:
        row = accounts.revoke_token(session, user=current_user, token_id=token_id)
        session.commit()
        flash(_("Token %(name)s revoked; it no longer works.", name=row.name), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return redirect(url_for("auth.profile"))


@bp.post("/profile/organization")
@login_required
def request_organization():
    form = OrgRequestForm()
    session = db()
    if form.validate_on_submit():
        try:
            orgs.request_org(session, user=current_user, slug=form.slug.data, name=form.name.data)
            session.commit()
            flash(_("Thank you. An administrator will review your organization."), "success")
        except ServiceError as exc:
            session.rollback()
            flash(translate(exc), "error")
    else:
        flash(_("Give the organization a short name and a full name."), "error")
    return redirect(url_for("auth.profile"))


@bp.get("/lang/<code>")
def set_language(code: str):
    response = redirect(_safe_next(request.args.get("next")))
    if code in ("en", "zh"):
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax")
    return response
