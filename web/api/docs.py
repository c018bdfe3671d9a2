"""The API reference: Swagger UI, vendored under web/static/vendor/swagger-ui, reading
this site's own OpenAPI document. Nothing is loaded from another site."""

from __future__ import annotations

from flask import render_template

from web.api.base import bp


@bp.get("/docs")
def docs():
    """A page for people (the routes' documentation is the OpenAPI document)."""
    return render_template("api_docs.html")
