"""How many SQL statements each API read route issues: a fixed few, whatever the size.

An N+1 (a query per row of a list) shows as a count that grows with the rows, so
each route is measured on a small world and again on a larger one: the counts must
be equal and stay under a small bound. Counted with SQLAlchemy's
``before_cursor_execute`` event on the app's engine.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from challenges import lifecycle
from leaderboards.models import Award

BOUND = 8  # token, challenge, visibility, a page and its count, with room to spare
AT = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def statements(app, redis_conn):
    """``statements(client.get, url, **kw)``: the answer's JSON and how many SQL
    statements the request issued."""
    engine = app.extensions["jiebang"].engine

    def count(call, url, **kwargs):
        seen = []

        def note(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", note)
        try:
            response = call(url, **kwargs)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert response.status_code == 200, response.get_json()
        return response.get_json(), len(seen)

    return count


def _close(session, challenge):
    """Past the deadline on the real clock: the challenge reads as closed."""
    challenge.closes_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    session.commit()


def _teams(world, challenge, count, start=0):
    made = []
    for n in range(start, start + count):
        team = world.team(challenge, world.user(f"p{n}@example.com"), name=f"Team {n:03d}")
        world.scored(team, public=0.5 + n / 1000, private=0.6 + n / 1000, at=AT)
        made.append(team)
    return made


def test_a_teams_submissions_cost_the_same_at_5_and_50_rows(
    client, world, session, published, token_for, statements
):
    """Once 105 statements for 5 of 50 rows after close: two visibility queries a row."""
    alice = world.user("alice@example.com")
    team = world.team(published, alice, name="Alpha")
    for n in range(5):
        world.scored(team, public=0.5, private=0.6, at=AT + dt.timedelta(minutes=n))
    _close(session, published)
    headers = token_for(alice, "read")
    url = "/api/v1/challenges/parity/submissions"
    small, few = statements(client.get, url + "?per_page=5", headers=headers)
    for n in range(5, 50):
        world.scored(team, public=0.5, private=0.6, at=AT + dt.timedelta(minutes=n))
    session.commit()
    large, many = statements(client.get, url + "?per_page=5", headers=headers)
    whole, all_rows = statements(client.get, url + "?per_page=50", headers=headers)
    assert (small["total"], large["total"], len(large["submissions"])) == (5, 50, 5)
    assert len(whole["submissions"]) == 50
    assert few == many == all_rows <= BOUND


def test_one_submission_and_the_judging_view_cost_a_fixed_few(
    client, world, session, published, token_for, statements
):
    judge = world.user("judge@example.com", "judge")
    alice = world.user("alice@example.com")
    team = world.team(published, alice, name="Alpha")
    sub = world.scored(team, public=0.95, private=0.97, at=AT)
    _teams(world, published, 4)
    lifecycle.assign_judge(session, published, judge=judge, actor=None)
    _close(session, published)
    url = f"/api/v1/submissions/{sub.id}"
    mine, by_member = statements(client.get, url, headers=token_for(alice, "read"))
    judged, by_judge = statements(client.get, url, headers=token_for(judge, "read"))
    assert mine["private_score"] is None and judged["private_score"] == 0.97
    assert by_member <= BOUND and by_judge <= BOUND
    headers = token_for(judge, "read")
    state, few = statements(client.get, "/api/v1/challenges/parity/judging", headers=headers)
    assert state["provisional_winner"]["team"] == "Alpha"
    _teams(world, published, 45, start=4)
    session.commit()
    _state, many = statements(client.get, "/api/v1/challenges/parity/judging", headers=headers)
    assert few == many <= BOUND


@pytest.mark.parametrize("board", ["public", "private"])
def test_a_board_page_costs_the_same_at_5_and_50_teams(
    client, world, session, published, token_for, statements, board
):
    admin = world.user("admin@example.com", "admin")
    _teams(world, published, 5)
    _close(session, published)
    headers = token_for(admin, "read")
    url = f"/api/v1/challenges/parity/leaderboard?board={board}&per_page=10"
    small, few = statements(client.get, url, headers=headers)
    _teams(world, published, 45, start=5)
    session.commit()  # a new board version: the cache does not answer
    large, many = statements(client.get, url, headers=headers)
    assert (small["total"], large["total"], len(large["entries"])) == (5, 50, 10)
    assert few == many <= BOUND
    _cached, cached = statements(client.get, url, headers=headers)
    assert cached <= few


def test_challenges_and_winners_cost_the_same_at_1_and_4(
    client, world, session, published, statements
):
    def awarded(challenge):
        session.add(Award(challenge_id=challenge.id, status="unclaimed", currency="CNY"))

    awarded(published)
    session.commit()
    one, few = statements(client.get, "/api/v1/challenges?per_page=2")
    won, few_won = statements(client.get, "/api/v1/winners?per_page=2")
    for n in range(3):
        awarded(world.challenge(slug=f"other-{n}"))
    session.commit()
    four, many = statements(client.get, "/api/v1/challenges?per_page=2")
    all_won, many_won = statements(client.get, "/api/v1/winners?per_page=2")
    assert (one["total"], four["total"], len(four["challenges"])) == (1, 4, 2)
    assert (won["total"], all_won["total"], len(all_won["winners"])) == (1, 4, 2)
    assert few == many <= BOUND and few_won == many_won <= BOUND
