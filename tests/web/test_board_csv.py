"""The board as a CSV download: the page's columns, UTF-8 for Excel, no formulas."""

import csv
import io

import pytest


@pytest.fixture
def board(world, session, published):
    first = world.team(published, world.user("a@example.com"), name='=HYPERLINK("x")')
    second = world.team(published, world.user("b@example.com"), name="港口一队")
    world.scored(first, public=0.95, private=0.9)
    world.scored(second, public=0.5, private=0.4)
    session.commit()
    return published


def _rows(answer) -> list[list[str]]:
    body = answer.get_data()
    assert body.startswith("\ufeff".encode())  # the byte-order mark Excel needs
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_public_board_as_csv(client, board, redis_conn):
    answer = client.get("/challenges/parity/leaderboard.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    head, *rows = _rows(answer)
    assert head == ["Rank", "Team", "Score", "Entries", "Meets targets", "Submitted"]
    assert rows[0][:5] == ["1", '\'=HYPERLINK("x")', "0.9500", "1", "yes"]
    assert rows[1][:3] == ["2", "港口一队", "0.5000"]
    assert rows[0][5].startswith("2026-11-22T20:00:00+08:00")  # the challenge's time zone


def test_the_private_board_only_for_those_who_may_see_it(client, board, redis_conn):
    assert client.get("/challenges/parity/leaderboard.csv?board=private").status_code == 404
    assert client.get("/challenges/parity/leaderboard.csv?board=other").status_code == 404


def test_the_board_page_links_the_download(client, board, redis_conn):
    page = client.get("/challenges/parity/leaderboard").get_data(as_text=True)
    assert 'href="/challenges/parity/leaderboard.csv?board=public"' in page
