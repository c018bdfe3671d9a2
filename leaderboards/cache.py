"""Pages of boards, cached in Redis under the challenge's board version.

Everything that changes a board (a score, a selection, a draft's rules) raises
``challenges.board_version`` in its own transaction, so a cached page is never
stale: a changed board has a new key, and old keys simply expire. A page is read
after the challenge row, so at worst a page newer than its version is cached,
which the next version replaces. Who may see which board is decided by the
caller before it asks (``decision.may_see_private``); the board's kind is part of
the key, so a private page can never answer a public request.

Redis trouble never fails a page: the board is then computed as if uncached.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass

from redis import Redis, RedisError
from sqlalchemy.orm import Session

from challenges.models import Challenge
from leaderboards.board import Entry, private_board, public_board, public_board_size

log = logging.getLogger(__name__)

TTL_S = 600
# A private board is seen only after close, when it no longer changes: keep it longer.
PRIVATE_TTL_S = 86_400


@dataclass(frozen=True)
class BoardPage:
    entries: list[Entry]
    total: int
    page: int
    per_page: int

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
    """Page ``page`` (from 1) of the public or private board."""
    kind = "private" if private else "public"
    prefix = f"{namespace}:board:{challenge.id}:{kind}:v{challenge.board_version}:{per_page}"
    try:
        cached = redis.get(f"{prefix}:{page}")
    except RedisError:
        log.warning("board cache unavailable; computing the board", exc_info=True)
        return _compute(session, challenge, private, page, per_page)[page]
    if cached is not None:
        return _decode(cached, page, per_page)
    computed = _compute(session, challenge, private, page, per_page)
    ttl = PRIVATE_TTL_S if private else TTL_S
    try:
        with redis.pipeline(transaction=False) as pipe:
            for number, one in computed.items():
                pipe.set(f"{prefix}:{number}", _encode(one), ex=ttl)
            pipe.execute()
    except RedisError:
        log.warning("board cache unavailable; page not kept", exc_info=True)
    return computed[page]


def _compute(
    session: Session, challenge: Challenge, private: bool, page: int, per_page: int
) -> dict[int, BoardPage]:
    """The asked page; for the private board, which is ranked whole, every page."""
    if not private:
        start = (page - 1) * per_page
        entries = public_board(session, challenge, offset=start, limit=per_page)
        total = public_board_size(session, challenge)
        return {page: BoardPage(entries, total, page, per_page)}
    board = private_board(session, challenge)
    pages = {}
    for start in range(0, max(len(board), 1), per_page):
        number = 1 + start // per_page
        pages[number] = BoardPage(board[start : start + per_page], len(board), number, per_page)
    pages.setdefault(page, BoardPage([], len(board), page, per_page))
    return pages


def _encode(page: BoardPage) -> bytes:
    rows = [{**asdict(e), "submitted_at": e.submitted_at.isoformat()} for e in page.entries]
    return json.dumps({"total": page.total, "entries": rows}).encode()


def _decode(raw: bytes, page: int, per_page: int) -> BoardPage:
    data = json.loads(raw)
    entries = [
        Entry(**{**row, "submitted_at": dt.datetime.fromisoformat(row["submitted_at"])})
        for row in data["entries"]
    ]
    return BoardPage(entries, data["total"], page, per_page)
