"""Pages of boards, cached in Redis under the challenge's board version.

Everything that changes a board (a score, a selection) raises the challenge's
version in its own transaction (``evaluator.standings.touch_board``), so a cached
page is never stale: a changed board has a new key, and old keys expire. The
version is read before the board, so at worst a page newer than its version is
kept, which the next version replaces. Who may see which board is decided by the
caller before it asks (``challenges.policy``, ``Action.see_private_board``); the
board's kind is part of the key, so a private page can never answer a public
request. The key also holds the challenge's creation time, so two databases
sharing one Redis (a restore, a second deployment) cannot read each other's pages.

- public board: one key per page, each a cheap query of ``team_bests``; pages past
  the end, and pages of unusual sizes, are answered from the database and not kept;
- private board: ranked whole once per version into one Redis list (a header, then
  one entry per element), from which any page is a slice; it no longer changes
  after close, so it is kept for a day.

Redis trouble never fails a page: the board is computed as if uncached, and the
cache is left alone for a few seconds before it is tried again.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace

from redis import Redis, RedisError
from sqlalchemy.orm import Session

from challenges.models import Challenge
from evaluator.standings import board_version
from leaderboards.board import Entry, private_board, public_board, public_board_size

log = logging.getLogger(__name__)

FORMAT = 2  # raise when Entry or the encoding changes: old pages are then never read
TTL_S = 600
# Page sizes whose public pages are kept (the site's and the API's usual ones): any
# other size is answered from the database, so odd sizes cannot fill Redis.
KEPT_PAGE_SIZES = frozenset({10, 20, 25, 50, 100, 200})
PRIVATE_TTL_S = 86_400
PAUSE_S = 10.0
_paused_until: weakref.WeakKeyDictionary[Redis, float] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class BoardPage:
    entries: list[Entry]
    total: int
    page: int
    per_page: int
    key: str = ""  # what identifies this page's contents in the cache ("" if uncached)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def board_page(
    session: Session,
    redis: Redis,
    challenge: Challenge,
    *,
    namespace: str,
    private: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> BoardPage:
    """Page ``page`` (from 1) of the public or private board; past the end, no entries."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    born = int(challenge.created_at.timestamp() * 1_000_000)
    version = board_version(session, challenge.id)
    key = f"{namespace}:board{FORMAT}:{challenge.id}-{born}:v{version}"
    if private:
        found = _private_page(session, redis, challenge, f"{key}:private", page, per_page)
        return replace(found, key=f"{key}:private:{per_page}:{page}")
    key = f"{key}:public:{per_page}:{page}"
    return replace(_public_page(session, redis, challenge, key, page, per_page), key=key)


def kept_text(redis: Redis, page: BoardPage, variant: str, make: Callable[[], str]) -> str:
    """Text made from a board page (its HTML table in one language, say), kept in the
    cache as long as the page itself: ``make()`` runs only when it is not there."""
    key = f"{page.key}:{variant}"
    cached = _cache(redis, redis.get, key) if page.key else None
    if cached is not None:
        return cached.decode()
    text = make()
    if page.key:
        _cache(redis, redis.set, key, text, ex=TTL_S)
    return text


def _public_page(session, redis, challenge, key, page, per_page) -> BoardPage:
    cached = _cache(redis, redis.get, key) if per_page in KEPT_PAGE_SIZES else None
    if cached is not None:
        try:
            data = json.loads(cached)
            return BoardPage(_decode(data["entries"]), data["total"], page, per_page)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable board page in the cache; computing it", exc_info=True)
    total = public_board_size(session, challenge)
    if (page - 1) * per_page >= total and page > 1:
        return BoardPage([], total, page, per_page)  # past the end: nothing to keep
    start = (page - 1) * per_page
    entries = public_board(session, challenge, offset=start, limit=per_page)
    if per_page in KEPT_PAGE_SIZES:
        body = json.dumps({"total": total, "entries": [e.encode() for e in entries]})
        _cache(redis, redis.set, key, body, ex=TTL_S)
    return BoardPage(entries, total, page, per_page)


def _private_page(session, redis, challenge, key, page, per_page) -> BoardPage:
    start = (page - 1) * per_page
    found = _cache(redis, _slice, redis, key, start, per_page)
    if found is not None:
        try:
            header, rows = found
            entries = _decode([json.loads(row) for row in rows])
            return BoardPage(entries, json.loads(header)["total"], page, per_page)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable private board in the cache; ranking it", exc_info=True)
    board = private_board(session, challenge)
    rows = [json.dumps({"total": len(board)})] + [json.dumps(e.encode()) for e in board]
    _cache(redis, _store_list, redis, key, rows, PRIVATE_TTL_S)
    return BoardPage(board[start : start + per_page], len(board), page, per_page)


def _slice(redis: Redis, key: str, start: int, count: int):
    """(header, rows) of a cached list, or None if it is not there."""
    if start >= 2**40:  # past any board, and past what Redis takes as an index
        header = redis.lindex(key, 0)
        return None if header is None else (header, [])
    with redis.pipeline(transaction=False) as pipe:
        pipe.lindex(key, 0)
        pipe.lrange(key, start + 1, start + count)
        header, rows = pipe.execute()
    return None if header is None else (header, rows)


def _store_list(redis: Redis, key: str, rows: list[str], ttl: int) -> None:
    """Write the list under a fresh name, then rename it: readers see all of it or none."""
    fresh = f"{key}:building:{uuid.uuid4().hex}"
    with redis.pipeline(transaction=False) as pipe:
        for at in range(0, len(rows), 1000):
            pipe.rpush(fresh, *rows[at : at + 1000])
        pipe.expire(fresh, ttl)
        pipe.rename(fresh, key)
        pipe.execute()


def _cache(redis: Redis, call, *args, **kwargs):
    """Run a cache operation; on Redis trouble, None, and this Redis is left alone for
    ``PAUSE_S`` (a hung server would otherwise cost every request its timeout)."""
    if time.monotonic() < _paused_until.get(redis, 0.0):
        return None
    try:
        return call(*args, **kwargs)
    except RedisError:
        _paused_until[redis] = time.monotonic() + PAUSE_S
        log.warning("board cache unavailable; boards are computed for %ss", PAUSE_S)
        return None


def _decode(rows: list[dict]) -> list[Entry]:
    return [Entry.decode(row) for row in rows]
