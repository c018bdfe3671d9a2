"""Security headers on every response, and JSON bodies that cannot crash a parser."""

from __future__ import annotations

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _

# Pages load their scripts, styles and images from this site only and may not be
# framed: an admin's or judge's form in a hostile page's frame could be clicked blind.
CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SafeJSONProvider(DefaultJSONProvider):
    """Deeply nested JSON is bad JSON (a 400 that says so), not a RecursionError (a 500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def init_app(app: Flask, *, production: bool) -> None:
    app.json = SafeJSONProvider(app)

    @app.before_request
    def _no_nul():
        # PostgreSQL refuses NUL in text: a 400 that says so, not a 500 on the query. Form
        # fields are checked by web.forms.Form (a multipart body is parsed by its view).
        args = request.args
        if "\x00" in request.path:
            abort(400, description=_("The address holds a NUL character; remove it."))
        if any("\x00" in k or any("\x00" in v for v in args.getlist(k)) for k in args):
            abort(400, description=_("A query parameter holds a NUL character; remove it."))

    @app.after_request
    def _secure(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if production:
            # Production is served over HTTPS (see README); browsers then refuse plain HTTP.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
