"""Turning service errors into words for the user, in their language."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext

from jiebang.errors import ServiceError


def translate(exc: ServiceError) -> str:
    return gettext(exc.template, **exc.params) if exc.params else gettext(exc.template)


def api_error(code: str, message: str, status: int, field: str | None = None):
    body = {"error": {"code": code, "message": message}}
    if field:
        body["error"]["field"] = field
    return jsonify(body), status


def api_service_error(exc: ServiceError):
    return api_error(exc.code, translate(exc), exc.status, exc.field)
