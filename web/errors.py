"""Turning service errors into words for the user, in their language."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext

from evaluator import messages
from jiebang.errors import ServiceError


def translate(exc: ServiceError) -> str:
    if not exc.params:
        return gettext(exc.template)
    params = {
        name: translate_message(value.code, value.params)
        if isinstance(value, messages.Words)
        else value
        for name, value in exc.params.items()
    }
    return gettext(exc.template, **params)


def translate_message(code: str | None, params: dict | None) -> str:
    """A stored message (``evaluator.messages``) in the reader's language."""
    return messages.render(code, params, gettext)


def api_error(code: str, message: str, status: int, field: str | None = None):
    body = {"error": {"code": code, "message": message}}
    if field:
        body["error"]["field"] = field
    return jsonify(body), status


def api_service_error(exc: ServiceError):
    return api_error(exc.code, translate(exc), exc.status, exc.field)
