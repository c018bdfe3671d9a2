"""A page's action on a service: commit and say so, or roll back and say why; then back."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect
from sqlalchemy.orm import Session

from jiebang.errors import ServiceError
from web.errors import translate
from web.ext import db


def finish(exc: ServiceError | None, back: str, message: str = ""):
    """After a service call: commit with ``message`` (if any), or roll back and show the
    refusal in the reader's language; redirect to ``back``."""
    session = db()
    if exc is None:
        session.commit()
        if message:
            flash(message, "success")
    else:
        session.rollback()
        flash(translate(exc), "error")
    return redirect(back)


def act(action: Callable[[Session], object], success: str, back: str):
    """Run ``action`` on the request's session, then ``finish``."""
    try:
        action(db())
    except ServiceError as exc:
        return finish(exc, back)
    return finish(None, back, success)
