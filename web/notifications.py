"""Notifications on the site: the list, the settings, and unsubscribing from a mail.

The unsubscribe link of a mail works without logging in: its token is signed with
the app's secret and names one user and one kind (``*``: every kind). GET shows a
confirmation; POST unsubscribes (RFC 8058 one-click: mail clients POST
``List-Unsubscribe=One-Click`` without any cookie), so that route alone is exempt
from CSRF: it changes only what the signed token names, and only to "no mail".
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from jiebang import audit, notifications
from jiebang.errors import ServiceError
from jiebang.notifications import KINDS, EmailMode
from web.errors import translate
from web.ext import csrf, db, services
from web.i18n import LANGUAGES, lang
from web.notification_jobs import ALL_KINDS, install, read_unsubscribe_token
from web.notification_text import render_note

log = logging.getLogger(__name__)
bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(unsubscribe)
    found = app.extensions["jiebang"]
    install(found.sessions, found.settings, found.redis)

    @app.context_processor
    def _unread():
        def unread_notifications() -> int:
            if not current_user.is_authenticated:
                return 0
            try:
                return notifications.unread_count(db(), current_user.id)
            except SQLAlchemyError:  # an error page after a failed transaction still shows
                log.warning("could not count unread notifications", exc_info=True)
                return 0

        return {"unread_notifications": unread_notifications}


@bp.get("")
@login_required
def index():
    session = db()
    before = request.args.get("before", type=int)
    rows = notifications.list_for(session, current_user.id, limit=50, before_id=before)
    items = [(n, render_note(n, lang(), _)) for n in rows]
    return render_template(
        "notifications.html",
        items=items,
        unread=notifications.unread_count(session, current_user.id),
        more=rows[-1].id if len(rows) == 50 else None,
    )


@bp.post("/read")
@login_required
def mark_read():
    session = db()
    # No "id": mark all read; an "id" that is no positive integer marks none (not all).
    ids = None
    if "id" in request.form:
        one = request.form.get("id", type=int)
        ids = [one] if one is not None and one > 0 else []
    marked = notifications.mark_read(session, current_user.id, ids)
    session.commit()
    if ids is None:
        flash(_("%(n)s notifications marked read.", n=marked), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    session = db()
    if request.method == "POST":
        try:
            for name in KINDS:
                if f"email-{name}" not in request.form:  # a kind newer than the form
                    continue
                notifications.set_preference(
                    session,
                    user_id=current_user.id,
                    kind=name,
                    email=request.form.get(f"email-{name}", EmailMode.immediate.value),
                    site=request.form.get(f"site-{name}") == "on",
                )
            notifications.set_language(
                session, user_id=current_user.id, language=request.form.get("language", "en")
            )
            audit.record(session, "notifications.settings_changed", actor_id=current_user.id)
            session.commit()
        except ServiceError as exc:
            session.rollback()
            flash(translate(exc), "error")
            return redirect(url_for("notifications.settings"))
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("notifications.settings"))
    return render_template(
        "notifications_settings.html",
        kinds=KINDS,
        choices=notifications.preferences(session, current_user.id),
        language=notifications.language(session, current_user.id),
        languages=LANGUAGES,
        mail_on=bool(services().settings.smtp_host),
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    found = read_unsubscribe_token(services().settings, token)
    if found is None or (found[1] != ALL_KINDS and found[1] not in KINDS):
        abort(404)
    user_id, kind = found
    if request.method == "GET":
        return render_template(
            "notifications_unsubscribe.html",
            label=_label(kind),
            all_kinds=kind == ALL_KINDS,
            done=False,
        )
    session = db()
    for name in KINDS if kind == ALL_KINDS else [kind]:
        notifications.unsubscribe(session, user_id=user_id, kind=name)
    audit.record(session, "notifications.unsubscribed", actor_id=user_id, kind=kind)
    session.commit()
    return render_template(
        "notifications_unsubscribe.html", label=_label(kind), all_kinds=kind == ALL_KINDS, done=True
    )


def _label(kind: str) -> str:
    return (KINDS[kind].label or kind) if kind in KINDS else ""
