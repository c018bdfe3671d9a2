"""REST API v1: JSON, scoped bearer tokens, errors as ``{"error": {"code", "message"}}``.

Only a bearer token authenticates here, never the session cookie, so the API
needs no CSRF token and a browser page cannot act through it. Importing the
route modules registers their routes on ``bp``.
"""

from flask import current_app, jsonify, request

from web.api import (  # noqa: F401
    challenges,
    client_routes,
    docs,
    judging,
    notifications,
    organizations,
    proposals,
    registrations,
    submissions,
    talk,
    teams,
    tokens,
)
from web.api.base import bp
from web.api.openapi import build_spec

__all__ = ["bp"]


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document, generated from the routes (built once per process)."""
    spec = current_app.extensions.get("jiebang_openapi")
    if spec is None:
        spec = build_spec(current_app, server_url=request.host_url.rstrip("/"))
        current_app.extensions["jiebang_openapi"] = spec
    return jsonify(spec)
