"""Register, log in, log out, and the profile with API tokens."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from jiebang import accounts, orgs, tokens
from jiebang.db import utcnow
from jiebang.errors import ServiceError
from web.errors import translate
from web.ext import (
    account_login_limit,
    db,
    limiter,
    login_limit,
    login_limited,
    password_check_limit,
    register_limit,
    register_limited,
)
from web.forms import LoginForm, OrgRequestForm, PasswordForm, RegisterForm, TokenForm

bp = Blueprint("auth", __name__)


def init_login(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = None

    @manager.user_loader
    def load_user(session_id: str):
        # "<id>:<generation>", checked on every request: a logged-out, deactivated or
        # re-passworded account's old cookies open nothing.
        return accounts.user_for_session(db(), session_id)


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
@limiter.limit(register_limit, methods=["POST"], error_message=register_limited)
def register():
    """The same answer whether the address was free or not (``accounts.sign_up``):
    sign in next. Nobody learns here who has an account."""
    form = RegisterForm()
    if form.validate_on_submit():
        session = db()
        try:
            accounts.sign_up(
                session, email=form.email.data, password=form.password.data, name=form.name.data
            )
            session.commit()
        except ServiceError as exc:
            session.rollback()
            getattr(form, exc.field, form.email).errors.append(translate(exc))
        except IntegrityError:  # the same address signed up at the same moment
            session.rollback()
            return _signed_up()
        else:
            return _signed_up()
    return render_template("register.html", form=form)


def _signed_up():
    flash(
        _(
            "Welcome to Jiebang! Sign in with your email and password. (If this address had "
            "an account already, nothing was changed: sign in with its password.)"
        ),
        "success",
    )
    return redirect(url_for("auth.login", next=request.args.get("next")))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], error_message=login_limited)
@account_login_limit
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
    """Ends every session of the account, also copies of this cookie kept elsewhere."""
    session = db()
    accounts.end_sessions(current_user)
    session.commit()
    logout_user()
    return redirect(url_for("pages.index"))


@bp.post("/profile/password")
@login_required
@password_check_limit
def change_password():
    """A new password signs the account out everywhere else; this browser stays in."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _profile(password_form=form, status=400)
    session = db()
    try:
        accounts.change_password(
            session, user=current_user, current=form.current.data, new=form.new.data
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        getattr(form, exc.field, form.new).errors.append(translate(exc))
        return _profile(password_form=form, status=400)
    login_user(current_user._get_current_object())
    flash(_("Password changed; you are signed out everywhere else."), "success")
    return redirect(url_for("auth.profile"))


@bp.get("/profile")
@login_required
def profile():
    return _profile()


def _profile(
    token: str | None = None,
    form: TokenForm | None = None,
    status: int = 200,
    password_form: PasswordForm | None = None,
):
    response = make_response(
        render_template(
            "profile.html",
            token=token,
            form=form or TokenForm(formdata=None),
            org_form=OrgRequestForm(formdata=None),
            password_form=password_form or PasswordForm(formdata=None),
            tokens=tokens.list_tokens(db(), current_user),
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
    token = tokens.issue_token(
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
        row = tokens.revoke_token(session, user=current_user, token_id=token_id)
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
