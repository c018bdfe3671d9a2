"""What a worker process holds: settings, database, blob store, Docker, Redis.

Made by ``open_context`` when a worker starts (never at import time). A job run
in a process that did not call it builds one from the environment on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

import sandboxes
from jiebang.blobs import BlobStore
from jiebang.db import make_engine, make_sessionmaker
from jiebang.settings import Settings, load_settings


@dataclass
class Context:
    settings: Settings
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = make_sessionmaker(make_engine(self.settings.database_url))

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blob_dir)

    @cached_property
    def docker(self):
        return sandboxes.connect(self.settings.docker_host)

    @cached_property
    def redis(self) -> Redis:
        return Redis.from_url(self.settings.redis_url)

    def close(self) -> None:
        """Close the database and Redis connections it opened (a worker that has stopped)."""
        self.sessions.kw["bind"].dispose()
        if "redis" in self.__dict__:
            self.redis.close()


_current: Context | None = None


def open_context(settings: Settings | None = None) -> Context:
    global _current
    _current = Context(settings or load_settings())
    return _current


def current() -> Context:
    return _current if _current is not None else open_context()
