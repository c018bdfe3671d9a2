"""The JSON of the read routes as clients have always read it, now that each body is a
read model dumped: times as ``isoformat()``, money as decimal text, integers kept as
written, fields absent where they always were."""

import datetime as dt

from leaderboards.board import Entry
from web.api import schemas as s


def test_board_entries_show_every_field_of_entry_but_the_internal_ones():
    entry = Entry(
        rank=1,
        team_id=7,
        team="Alpha",
        score=0.9,
        submission_id=3,
        submitted_at=dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC),
        runtime_s=None,
        peak_memory_mb=12.5,
        meets_targets=True,
        entries=2,
        metrics={"map50": 0.9, "recall": None},
    )
    shown = s.BoardEntry.model_validate(entry, from_attributes=True).model_dump()
    assert shown == {
        "rank": 1,
        "team": "Alpha",
        "score": 0.9,
        "submission_id": 3,
        "submitted_at": "2026-11-22T12:00:00+00:00",
        "runtime_s": None,
        "peak_memory_mb": 12.5,
        "meets_targets": True,
        "entries": 2,
        "metrics": {"map50": 0.9, "recall": None},
    }
    assert Entry.decode(entry.encode()) == entry  # the cache's codec


def test_challenge_award_and_board_bodies(client, world, session, published):
    detail = client.get("/api/v1/challenges/parity").get_json()
    assert detail["targets"] == published.targets  # as stored, int or float alike
    assert detail["prize"] == {"amount": "1000.00", "currency": "CNY", "rule": "winner-takes-all"}
    assert detail["opens_at"] == "2019-12-31T16:00:00+00:00"  # stored in UTC
    assert detail["limits"]["total_submissions"] is None
    listed = client.get("/api/v1/challenges").get_json()
    assert set(listed["challenges"][0]) == set(s.ChallengeSummary.model_fields)
    pending = client.get("/api/v1/challenges/parity/award").get_json()
    assert pending == {"challenge": "parity", "status": "pending", "team": None}
    team = world.team(published, world.user("p@example.com"), name="Alpha")
    sub = world.scored(team, public=0.9, private=0.95)
    session.commit()
    (entry,) = client.get("/api/v1/challenges/parity/leaderboard").get_json()["entries"]
    assert entry["submitted_at"] == sub.created_at.isoformat() and "team_id" not in entry


def test_a_nul_character_in_a_body_is_a_400_naming_the_field(client):
    # PostgreSQL refuses NUL in text; the body is refused before any query.
    answer = client.post("/api/v1/tokens", json={"email": "a\x00@example.com", "password": "x"})
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "email"
