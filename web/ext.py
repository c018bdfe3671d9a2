"""Flask extensions, unbound; ``create_app`` binds them."""

from __future__ import annotations

import hashlib
import math

from flask import Flask, current_app, g, request
from flask_babel import Babel, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from limits import parse as parse_limit
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session

from jiebang.accounts import normalize_email
from jiebang.blobs import BlobStore
from jiebang.db import make_engine, make_sessionmaker
from jiebang.settings import Settings
from leaderboards.cache import BoardPage, board_page

babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def _namespace() -> str:
    """This app's prefix of rate-limit keys (``Settings.namespace``).

    It is read per request because one Limiter serves every app made in a process
    (tests make many), and Flask-Limiter keeps the first app's prefix.
    """
    return current_app.config["JIEBANG"].namespace


def client_key() -> str:
    """Rate-limit key: this app's namespace and the client's address."""
    return f"{_namespace()}:{get_remote_address()}"


limiter = Limiter(key_func=client_key)


def login_limit() -> str:
    return current_app.config["JIEBANG"].login_rate_limit


def login_limited() -> str:
    return gettext(
        "Too many sign-in attempts from your address. Wait %(minutes)d minutes, then try again.",
        minutes=_minutes(login_limit()),
    )


def account_key() -> str:
    """Rate-limit key: this app's namespace and the account a sign-in is for (the
    email of the form or JSON body, normalised and hashed), whatever the address."""
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    email = normalize_email(email) if isinstance(email, str) else ""
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return f"{_namespace()}:account:{digest}"


def _minutes(limit: str) -> int:
    return max(1, math.ceil(parse_limit(limit).get_expiry() / 60))


def _account_limit() -> str:
    return current_app.config["JIEBANG"].login_account_rate_limit


def _account_limited() -> str:
    return gettext(
        "Too many failed sign-ins for this account. Wait %(minutes)d minutes, then try again.",
        minutes=_minutes(_account_limit()),
    )


def _failed_sign_in(response) -> bool:
    # A sign-in that worked redirects (page) or creates a token (API); a refused one
    # (429) was not an attempt.
    return response.status_code not in (201, 302, 429)


# Failed sign-ins per account, on the page and the API together, from any address:
# the per-address limit alone lets many addresses guess one account's password.
account_login_limit = limiter.shared_limit(
    _account_limit,
    scope="login-account",
    key_func=account_key,
    methods=["POST"],
    deduct_when=_failed_sign_in,
    error_message=_account_limited,
)


def _user_key() -> str:
    # Limits are checked before the view's login_required: anonymous callers share one key.
    user_id = getattr(current_user, "id", "anonymous")
    return f"{_namespace()}:user:{user_id}"


# Wrong current passwords on the password form count like failed sign-ins: a stolen
# session must not become a way to guess the password.
password_check_limit = limiter.limit(
    _account_limit,
    key_func=_user_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 400,
    error_message=_account_limited,
)


def register_limit() -> str:
    return current_app.config["JIEBANG"].register_rate_limit


def register_limited() -> str:
    return gettext(
        "Too many sign-ups from your network. Wait %(minutes)d minutes, then try again.",
        minutes=_minutes(register_limit()),
    )


def submit_limit() -> str:
    return current_app.config["JIEBANG"].submit_rate_limit


class Services:
    """Per-app connections, made when the app is created, used per request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.blobs = BlobStore(settings.blob_dir)
        self.redis = Redis.from_url(settings.redis_url)
        # The board cache may only cost a moment: short timeouts, no retries.
        self.cache = Redis.from_url(
            settings.redis_url,
            socket_timeout=0.25,
            socket_connect_timeout=0.25,
            retry=Retry(NoBackoff(), 0),
        )

    def init_app(self, app: Flask) -> None:
        app.extensions["jiebang"] = self
        app.teardown_appcontext(_close_session)


def services() -> Services:
    return current_app.extensions["jiebang"]


def db() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        g.db = services().sessions()
    return g.db


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def cached_board(challenge, *, private: bool, page: int, per_page: int) -> BoardPage:
    """A page of a board through this app's Redis cache; the caller checked who may see it."""
    found = services()
    return board_page(
        db(),
        found.cache,
        challenge,
        namespace=found.settings.namespace,
        private=private,
        page=page,
        per_page=per_page,
    )
