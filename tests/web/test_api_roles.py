"""Each role against the competition routes of the API."""

import pytest

from challenges import lifecycle


@pytest.fixture
def cast(world, session, published, token_for, redis_conn):
    """A participant team with two scored submissions, a sponsor, a judge, an admin."""
    alice = world.user("alice@example.com")
    team = world.team(published, alice, name="Alpha")
    low = world.scored(team, public=0.80, private=0.91)
    high = world.scored(team, public=0.95, private=0.97)
    sponsor = world.user("s@example.com", "sponsor", org=published.sponsor)
    judge = world.user("j@example.com", "judge")
    admin = world.user("a@example.com", "admin")
    outsider = world.user("o@example.com")
    session.commit()
    headers = {
        n: token_for(u)
        for n, u in [
            ("alice", alice),
            ("sponsor", sponsor),
            ("judge", judge),
            ("admin", admin),
            ("outsider", outsider),
        ]
    }
    return {"team": team, "low": low, "high": high, "h": headers, "judge": judge}


def _private(client, headers=None):
    return client.get("/api/v1/challenges/parity/leaderboard?board=private", headers=headers or {})


def test_private_board_before_and_after_close(client, cast):
    h = cast["h"]
    for who in (None, "alice", "sponsor", "judge", "admin"):
        assert _private(client, h.get(who)).status_code == 403
    assign = client.post(
        "/api/v1/challenges/parity/judges", json={"email": "j@example.com"}, headers=h["admin"]
    )
    assert assign.status_code == 201
    closed = client.post("/api/v1/challenges/parity/close", headers=h["admin"])
    assert closed.get_json()["status"] == "judging"
    assert [
        _private(client, h.get(w)).status_code
        for w in (None, "alice", "outsider", "sponsor", "judge", "admin")
    ] == [403, 403, 403, 200, 200, 200]
    entries = _private(client, h["judge"]).get_json()["entries"]
    assert [(e["team"], e["score"], e["meets_targets"]) for e in entries] == [("Alpha", 0.97, True)]
    mine = client.get(f"/api/v1/submissions/{cast['high'].id}", headers=h["alice"]).get_json()
    assert mine["private_score"] is None  # not before the decision
    judged = client.get(f"/api/v1/submissions/{cast['high'].id}", headers=h["judge"]).get_json()
    assert judged["private_score"] == 0.97


def test_only_admins_close_and_assign_and_no_email_probing(client, cast):
    h = cast["h"]
    assert client.post("/api/v1/challenges/parity/close", headers=h["sponsor"]).status_code == 403
    probe = client.post(
        "/api/v1/challenges/parity/judges", json={"email": "nobody@x.org"}, headers=h["alice"]
    )
    assert probe.status_code == 403 and "nobody" not in probe.get_data(as_text=True)
    conflict = client.post(
        "/api/v1/challenges/parity/judges", json={"email": "alice@example.com"}, headers=h["admin"]
    )
    # Any active account may judge, but not a member of a team in the challenge: the
    # refusal names the real reason.
    assert conflict.status_code == 409 and "Alpha" in conflict.get_json()["error"]["message"]


def test_selection_over_the_api(client, cast):
    h, low = cast["h"], cast["low"]
    response = client.post(f"/api/v1/submissions/{low.id}/select", headers=h["alice"])
    assert response.get_json() == {"id": low.id, "selected": True}
    assert (
        client.post(f"/api/v1/submissions/{low.id}/select", headers=h["outsider"]).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/submissions/{low.id}/select", headers=h["alice"]).get_json()[
            "selected"
        ]
        is False
    )


def test_judging_to_award_and_the_hall(client, cast, session):
    h, high = cast["h"], cast["high"]
    client.post(
        "/api/v1/challenges/parity/judges", json={"email": "j@example.com"}, headers=h["admin"]
    )
    assert client.get("/api/v1/challenges/parity/award").get_json()["status"] == "pending"
    client.post("/api/v1/challenges/parity/close", headers=h["admin"])
    state = client.get("/api/v1/challenges/parity/judging", headers=h["judge"]).get_json()
    assert state["provisional_winner"]["submission_id"] == high.id and state["reproduces"] is None
    assert client.get("/api/v1/challenges/parity/judging", headers=h["alice"]).status_code == 403
    early = client.post(
        "/api/v1/challenges/parity/verdicts", json={"decision": "approve"}, headers=h["judge"]
    )
    assert early.status_code == 400 and "Re-run" in early.get_json()["error"]["message"]
    rerun = client.post("/api/v1/challenges/parity/reruns", headers=h["judge"])
    assert rerun.status_code == 201
    again = client.post("/api/v1/challenges/parity/reruns", headers=h["judge"])
    assert again.status_code == 400 and "under way" in again.get_json()["error"]["message"]
    from evaluator.models import Submission

    row = session.get(Submission, rerun.get_json()["id"])  # what the worker would leave
    row.status, row.public_score, row.private_score = "scored", 0.95, 0.97
    session.commit()
    assert client.get("/api/v1/submissions/" + str(row.id), headers=h["alice"]).status_code == 404
    ok = client.post(
        "/api/v1/challenges/parity/verdicts", json={"decision": "approve"}, headers=h["judge"]
    )
    assert ok.status_code == 201 and ok.get_json()["status"] == "awarded"
    award = client.get("/api/v1/challenges/parity/award").get_json()
    assert (award["status"], award["team"], award["amount"]) == ("awarded", "Alpha", "1000.00")
    assert client.get("/api/v1/winners").get_json()["winners"][0]["team"] == "Alpha"
    assert _private(client).status_code == 200  # public once decided
    page = client.get("/winners").get_data(as_text=True)
    assert "Alpha" in page


def test_sponsor_review_then_admin_approval(client, world, session, token_for):
    draft = world.challenge(publish=False)
    sponsor = world.user("s2@example.com", "sponsor", org=draft.sponsor)
    admin = world.user("a2@example.com", "admin")
    other = world.user("x@example.com", "sponsor", org=world.org("other"))
    session.commit()
    assert (
        client.post("/api/v1/challenges/parity/review", headers=token_for(other)).status_code == 404
    )
    reviewed = client.post("/api/v1/challenges/parity/review", headers=token_for(sponsor))
    assert reviewed.get_json()["status"] == "in_review"
    assert (
        client.post("/api/v1/challenges/parity/approve", headers=token_for(sponsor)).status_code
        == 403
    )
    assert (
        client.post("/api/v1/challenges/parity/approve", headers=token_for(admin)).get_json()[
            "status"
        ]
        == "open"
    )
    assert lifecycle.is_judge(session, user=admin, challenge=draft) is False
