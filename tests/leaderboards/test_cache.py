"""Board pages through the Redis cache: the same as uncached, never stale."""

import datetime as dt
import time

import pytest
from redis import Redis

from leaderboards import cache
from leaderboards.board import private_board, public_board
from leaderboards.cache import board_page

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
HUGE = 10**20


@pytest.fixture
def board(world, session):
    challenge = world.challenge()
    teams = [
        world.team(challenge, world.user(f"u{i}@example.com"), name=f"Team {i}") for i in range(7)
    ]
    for i, team in enumerate(teams):
        world.scored(team, public=i / 10, private=1 - i / 10, at=T0 + dt.timedelta(minutes=i))
    return challenge, teams


def _page(session, redis, settings, challenge, **kw):
    return board_page(session, redis, challenge, namespace=settings.namespace, **kw)


def _keys(redis, settings):
    return sorted(redis.scan_iter(f"{settings.namespace}:board*"))


def test_pages_follow_the_board_with_ranks_across_pages(board, session, redis_conn, settings):
    challenge, _teams = board
    whole = public_board(session, challenge)
    pages = [_page(session, redis_conn, settings, challenge, page=n, per_page=3) for n in (1, 2, 3)]
    assert [e for p in pages for e in p.entries] == whole
    assert [p.total for p in pages] == [7, 7, 7] and pages[0].pages == 3
    assert [e.rank for e in pages[2].entries] == [7]
    assert _keys(redis_conn, settings) == []  # an unusual page size is not kept


def test_usual_pages_are_kept_and_read_back_equal(board, session, redis_conn, settings):
    challenge, _teams = board
    first = _page(session, redis_conn, settings, challenge, page=1, per_page=10)
    assert len(_keys(redis_conn, settings)) == 1
    assert _page(session, redis_conn, settings, challenge, page=1, per_page=10) == first


def test_a_new_score_is_seen_at_once(board, world, session, redis_conn, settings):
    challenge, teams = board
    before = _page(session, redis_conn, settings, challenge, page=1, per_page=10)
    assert before.entries[0].team == "Team 6"
    world.scored(teams[0], public=0.99, private=0.5, at=T0 + dt.timedelta(hours=1))
    after = _page(session, redis_conn, settings, challenge, page=1, per_page=10)
    assert after.entries[0].team == "Team 0" and after.entries[0].entries == 2


def test_the_private_board_is_one_list_apart_from_the_public(board, session, redis_conn, settings):
    challenge, _teams = board
    public = _page(session, redis_conn, settings, challenge, page=1, per_page=50)
    private = _page(session, redis_conn, settings, challenge, private=True, page=1, per_page=50)
    assert private.entries == private_board(session, challenge)
    assert private.entries[0].team == "Team 0" and public.entries[0].team == "Team 6"
    assert _page(session, redis_conn, settings, challenge, page=1, per_page=50) == public
    keys = _keys(redis_conn, settings)
    # Any page size of the private board is a slice of the same list.
    second = _page(session, redis_conn, settings, challenge, private=True, page=2, per_page=3)
    assert second.entries == private.entries[3:6] and _keys(redis_conn, settings) == keys
    beyond = _page(session, redis_conn, settings, challenge, private=True, page=9, per_page=50)
    assert beyond.entries == [] and beyond.total == 7


def test_pages_past_the_end_are_empty_and_never_kept(board, session, redis_conn, settings):
    challenge, _teams = board
    for private in (False, True):
        far = _page(session, redis_conn, settings, challenge, private=private, page=HUGE)
        assert far.entries == [] and far.total == 7
    assert all(b":public:" not in key for key in _keys(redis_conn, settings))


def test_an_unreadable_page_is_computed_again(board, session, redis_conn, settings):
    challenge, _teams = board
    good = _page(session, redis_conn, settings, challenge, page=1, per_page=10)
    (key,) = _keys(redis_conn, settings)
    redis_conn.set(key, b'{"total": 7, "entries": [{"rank_change": 1}]}')
    assert _page(session, redis_conn, settings, challenge, page=1, per_page=10) == good


def test_without_redis_the_board_is_computed_and_redis_is_left_alone(
    board, session, settings, monkeypatch
):
    challenge, _teams = board
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    page = _page(session, down, settings, challenge, page=1, per_page=50)
    assert page.entries == public_board(session, challenge)
    assert cache._paused_until[down] > time.monotonic()

    def untouchable(*args, **kwargs):
        raise AssertionError("a paused cache was asked")

    for name in ("get", "set", "lindex", "pipeline"):
        monkeypatch.setattr(down, name, untouchable)
    private = _page(session, down, settings, challenge, private=True, page=1, per_page=50)
    assert private.entries == private_board(session, challenge)
