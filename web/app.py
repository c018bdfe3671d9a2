"""The application factory: it only wires."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from jiebang.settings import Settings, load_settings
from web import (
    api,
    assets,
    auth,
    challenge_pages,
    filters,
    headers,
    i18n,
    judge,
    notifications,
    org_admin,
    org_pages,
    pages,
    proposals,
    registration_pages,
    sponsor,
    staff,
    submissions,
    talk,
)
from web.ext import Services, babel, csrf, limiter, login_manager
from web.uploads import UploadRequest


class IdConverter(IntegerConverter):
    """A row id: 1 to the largest INTEGER key (32-bit on PostgreSQL), so no id in a URL
    overflows the database; a larger one is simply not found."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.request_class = UploadRequest
    app.url_map.converters["id"] = IdConverter
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Per view: the upload routes take a file, every other a small body (UploadRequest).
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="en",
        TESTING=settings.env == "test",
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_KEY_PREFIX="jiebang-limits",
        RATELIMIT_HEADERS_ENABLED=True,
    )
    app.config["JIEBANG"] = settings
    Services(settings).init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_login(login_manager)
    filters.init_app(app)
    assets.init_app(app)
    headers.init_app(app, production=settings.env == "production")
    app.register_blueprint(pages.bp)
    app.register_blueprint(challenge_pages.bp)
    app.register_blueprint(talk.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(submissions.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(sponsor.bp)
    app.register_blueprint(judge.bp)
    app.register_blueprint(proposals.bp)
    app.register_blueprint(registration_pages.bp)
    app.register_blueprint(org_pages.bp)
    app.register_blueprint(org_admin.bp)
    notifications.init_app(app)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    return app
