"""Your notifications: list them, mark them read."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext

from jiebang import notifications
from web.api import read
from web.api import schemas as s
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.ext import db
from web.i18n import lang
from web.notification_text import render_note


def view(note: notifications.Notification) -> s.NotificationView:
    text = render_note(note, lang(), gettext)
    return s.NotificationView(
        id=note.id,
        kind=note.kind,
        title=text.title,
        body=text.body,
        link=note.link,
        params=note.params or {},
        created_at=note.created_at,
        read=note.read_at is not None,
    )


@bp.get("/notifications")
@doc(
    "Your notifications, newest first (before=ID pages on)",
    s.NotificationList,
    tag="notifications",
    scope="read",
    query={
        "before": {"type": "integer", "minimum": 1, "maximum": notifications.MAX_ID},
        "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
)
@token_required("read")
def list_notifications():
    before = request.args.get("before", type=int)
    limit = min(max(request.args.get("limit", 50, type=int), 1), 200)
    session = db()
    rows = notifications.list_for(session, g.api_user.id, limit=limit, before_id=before)
    return read.reply(
        s.NotificationList(
            unread=notifications.unread_count(session, g.api_user.id),
            notifications=[view(n) for n in rows],
        )
    )


@bp.post("/notifications/read")
@doc(
    "Mark your notifications read: the ids given, or all",
    s.NotificationsMarked,
    tag="notifications",
    scope="read",
    body=s.NotificationsRead,
)
@token_required("read")
def mark_notifications_read():
    body = parse(s.NotificationsRead)
    session = db()
    marked = notifications.mark_read(session, g.api_user.id, body.ids)
    session.commit()
    unread = notifications.unread_count(session, g.api_user.id)
    return read.reply(s.NotificationsMarked(marked=marked, unread=unread))
