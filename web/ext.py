"""Flask extensions, unbound; ``create_app`` binds them."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session

from jiebang.blobs import BlobStore
from jiebang.db import make_engine, make_sessionmaker
from jiebang.settings import Settings
from leaderboards.cache import BoardPage, board_page

babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def client_key() -> str:
    """Rate-limit key: this app's namespace and the client's address.

    The namespace is read per request because one Limiter serves every app made
    in a process (tests make many), and Flask-Limiter keeps the first app's prefix.
    """
    return f"{current_app.config['JIEBANG'].queue_name}:{get_remote_address()}"


limiter = Limiter(key_func=client_key)


def login_limit() -> str:
    return current_app.config["JIEBANG"].login_rate_limit


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
        namespace=found.settings.queue_name,
        private=private,
        page=page,
        per_page=per_page,
    )
