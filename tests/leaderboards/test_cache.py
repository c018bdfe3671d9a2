"""Board pages through the Redis cache: the same as uncached, never stale."""

import datetime as dt

import pytest
from redis import Redis

from leaderboards.board import private_board, public_board
from leaderboards.cache import board_page

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def board(world, session):
    challenge = world.challenge()
    teams = [
        world.team(challenge, world.user(f"u{i}@example.com"), name=f"Team {i}") for i in range(7)
    ]
    for i, team in enumerate(teams):
        world.scored(team, public=i / 10, private=1 - i / 10, at=T0 + dt.timedelta(minutes=i))
    session.refresh(challenge)
    return challenge, teams


def _page(session, redis, settings, challenge, **kw):
    return board_page(session, redis, challenge, namespace=settings.queue_name, **kw)


def test_pages_equal_the_board_and_come_from_the_cache(board, session, redis_conn, settings):
    challenge, _teams = board
    whole = public_board(session, challenge)
    pages = [_page(session, redis_conn, settings, challenge, page=n, per_page=3) for n in (1, 2, 3)]
    assert [e for p in pages for e in p.entries] == whole
    assert [p.total for p in pages] == [7, 7, 7] and pages[0].pages == 3
    assert [e.rank for e in pages[2].entries] == [7]
    assert list(redis_conn.scan_iter(f"{settings.queue_name}:board:*"))
    again = _page(session, redis_conn, settings, challenge, page=2, per_page=3)
    assert again == pages[1]  # decoded from the cache, equal field by field


def test_a_new_score_is_seen_at_once(board, world, session, redis_conn, settings):
    challenge, teams = board
    before = _page(session, redis_conn, settings, challenge, page=1, per_page=3)
    assert before.entries[0].team == "Team 6"
    world.scored(teams[0], public=0.99, private=0.5, at=T0 + dt.timedelta(hours=1))
    session.refresh(challenge)
    after = _page(session, redis_conn, settings, challenge, page=1, per_page=3)
    assert after.entries[0].team == "Team 0"
    assert after.entries[0].entries == 2


def test_the_private_board_is_cached_apart_from_the_public(board, session, redis_conn, settings):
    challenge, _teams = board
    public = _page(session, redis_conn, settings, challenge, page=1, per_page=50)
    private = _page(session, redis_conn, settings, challenge, private=True, page=1, per_page=50)
    assert private.entries == private_board(session, challenge)
    assert private.entries[0].team == "Team 0" and public.entries[0].team == "Team 6"
    assert _page(session, redis_conn, settings, challenge, page=1, per_page=50) == public
    beyond = _page(session, redis_conn, settings, challenge, private=True, page=9, per_page=50)
    assert beyond.entries == [] and beyond.total == 7


def test_without_redis_the_board_is_computed(board, session, settings):
    challenge, _teams = board
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    page = _page(session, down, settings, challenge, page=1, per_page=50)
    assert page.entries == public_board(session, challenge)
