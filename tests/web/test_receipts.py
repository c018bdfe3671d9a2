"""Signed receipts end to end: from the audit event, through the API and the pages, to
`jiebang receipt verify` offline; private scores once decided; the award's chain."""

import json

import pytest
from click.testing import CliRunner

import web.cli  # noqa: F401  (fills the lazy command table)
from challenges import lifecycle
from evaluator.models import Submission
from evaluator.outcome import audit_fields
from jiebang import audit, receipts
from jiebang.cli import cli


def scored_as_the_worker_leaves_it(session, sub, **fields):
    """The row's final fields and its ``submission.scored`` event (evaluator.jobs)."""
    for name, value in fields.items():
        setattr(sub, name, value)
    sub.status = "scored"
    session.flush()
    audit.record(session, "submission.scored", **audit_fields(sub))
    return sub


@pytest.fixture
def cast(world, session, published, token_for, redis_conn):
    alice = world.user("alice@example.com")
    team = world.team(published, alice, name="Alpha 队")
    sub = world.scored(team, public=0.95, private=0.97)
    scored_as_the_worker_leaves_it(
        session,
        sub,
        image_id="sha256:" + "1" * 64,
        dataset_hash="d" * 64,
        public_metrics={"f1_macro": 0.95},
        private_metrics={"f1_macro": 0.97},
    )
    other = world.team(published, world.user("bob@example.com"), name="Beta")
    other_sub = world.scored(other, public=0.5, private=0.5)
    scored_as_the_worker_leaves_it(session, other_sub)
    queued = world._submission(team, status="queued")
    judge = world.user("j@example.com", "judge")
    admin = world.user("a@example.com", "admin")
    lifecycle.assign_judge(session, published, judge=judge, actor=admin)
    session.commit()
    users = {"alice": alice, "bob": other.memberships[0].user, "judge": judge, "admin": admin}
    headers = {name: token_for(user) for name, user in users.items()}
    return {"sub": sub, "other": other_sub, "queued": queued, "h": headers, "users": users}


def _keys(app):
    return receipts.keyring(app.config["JIEBANG"])


def _login(app, user):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.get_id()
        cookie["_fresh"] = True
    return client


def test_the_api_receipt_is_the_audit_events_word_signed(app, client, cast, session):
    sub, h = cast["sub"], cast["h"]
    answer = client.get(f"/api/v1/submissions/{sub.id}/receipt", headers=h["alice"])
    assert answer.status_code == 200
    body = answer.get_json()
    event = audit.events_for(session, sub.challenge_id)
    scored = next(
        e for e in event if e.kind == "submission.scored" and f'"submission":{sub.id},' in e.data
    )
    # Before the award the event's hash would let the team guess its private scores (the
    # review's F1): the receipt names the event only.
    assert body["audit_event"] == {"id": scored.id}
    assert scored.hash not in answer.get_data(as_text=True)
    assert body["team"] == {"id": sub.team_id, "name": "Alpha 队"}
    assert (body["challenge"], body["submission"], body["archive_sha256"]) == (
        "parity",
        sub.id,
        sub.blob_sha256,
    )
    assert (body["public_score"], body["public_metrics"]) == (0.95, {"f1_macro": 0.95})
    assert body["image_id"] == "sha256:" + "1" * 64 and body["dataset_hash"] == "d" * 64
    assert "private_score" not in body and "private_metrics" not in body  # not decided yet
    assert _keys(app).verify(body) == body["key_id"] == _keys(app).current_id
    # What the platform said at the time, whatever the row says now.
    session.get(Submission, sub.id).public_score = 0.99
    session.commit()
    again = client.get(f"/api/v1/submissions/{sub.id}/receipt", headers=h["alice"]).get_json()
    assert again == body


def test_who_gets_a_receipt(client, cast):
    sub, other, queued, h = cast["sub"], cast["other"], cast["queued"], cast["h"]
    url = f"/api/v1/submissions/{sub.id}/receipt"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=h["bob"]).status_code == 404  # another team's
    assert client.get(url, headers=h["judge"]).status_code == 404  # before close
    assert client.get(url, headers=h["admin"]).status_code == 200
    assert (
        client.get(f"/api/v1/submissions/{other.id}/receipt", headers=h["bob"]).status_code == 200
    )
    pending = client.get(f"/api/v1/submissions/{queued.id}/receipt", headers=h["alice"])
    assert pending.status_code == 404
    assert "not been scored" in pending.get_json()["error"]["message"]
    assert client.get("/api/v1/submissions/999999/receipt", headers=h["alice"]).status_code == 404


def test_the_submission_page_links_a_download_for_the_team_only(app, cast):
    sub, users = cast["sub"], cast["users"]
    alice = _login(app, users["alice"])
    page = alice.get(f"/submissions/{sub.id}").get_data(as_text=True)
    assert "Download receipt" in page and f"/submissions/{sub.id}/receipt" in page
    download = alice.get(f"/submissions/{sub.id}/receipt")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert _keys(app).verify(json.loads(download.get_data(as_text=True)))
    bob = _login(app, users["bob"])
    assert bob.get(f"/submissions/{sub.id}/receipt").status_code == 404
    assert app.test_client().get(f"/submissions/{sub.id}/receipt").status_code == 302  # log in
    queued = alice.get(f"/submissions/{cast['queued'].id}").get_data(as_text=True)
    assert "Download receipt" not in queued
    assert alice.get(f"/submissions/{cast['queued'].id}/receipt").status_code == 404


def test_public_keys_on_a_page_and_in_the_api(app, client, cast):
    ring = _keys(app)
    listed = client.get("/api/v1/keys").get_json()["keys"]
    assert listed == [{"key_id": ring.current_id, "pem": ring.published()[0].pem, "current": True}]
    page = client.get("/keys").get_data(as_text=True)
    assert ring.current_id in page and "BEGIN PUBLIC KEY" in page


def test_the_cli_verifies_offline_and_refuses_a_changed_byte(app, client, cast, tmp_path):
    h = cast["h"]
    body = client.get(
        f"/api/v1/submissions/{cast['sub'].id}/receipt", headers=h["alice"]
    ).get_json()
    key = tmp_path / "platform.pem"
    key.write_text(client.get("/api/v1/keys").get_json()["keys"][0]["pem"])
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(body, indent=2))
    runner = CliRunner()
    ok = runner.invoke(cli, ["receipt", "verify", str(good), "--key", str(key)])
    assert ok.exit_code == 0, ok.output
    assert f"signed by key {body['key_id']}" in ok.output and "team Alpha 队" in ok.output
    folder = runner.invoke(cli, ["receipt", "verify", str(good), "--key", str(tmp_path)])
    assert folder.exit_code == 0, folder.output
    for field, value in [("public_score", 0.951), ("team", {"id": 1, "name": "Beta"})]:
        bad = tmp_path / f"bad-{field}.json"
        bad.write_text(json.dumps({**body, field: value}))
        failed = runner.invoke(cli, ["receipt", "verify", str(bad), "--key", str(key)])
        assert failed.exit_code == 1 and "NOT valid" in failed.output
    other = tmp_path / "other" / "k.pem"
    receipts.generate(other)
    wrong = runner.invoke(
        cli, ["receipt", "verify", str(good), "--key", str(other.with_name("k.pub.pem"))]
    )
    assert wrong.exit_code == 1 and "not among the keys given" in wrong.output


def test_keys_generate_never_overwrites(tmp_path):
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "generate", str(tmp_path / "s.pem")])
    assert made.exit_code == 0 and "s.pub.pem" in made.output
    again = runner.invoke(cli, ["keys", "generate", str(tmp_path / "s.pem")])
    assert again.exit_code == 1 and "never overwritten" in again.output


def _award(client, session, cast):
    """Close, re-run (as the worker leaves it), approve."""
    h = cast["h"]
    # Freezing waits for what is still queued: let the queued one fail first.
    session.get(Submission, cast["queued"].id).status = "failed"
    session.commit()
    assert client.post("/api/v1/challenges/parity/close", headers=h["admin"]).status_code == 200
    made = client.post("/api/v1/challenges/parity/reruns", headers=h["judge"])
    assert made.status_code == 201, made.get_json()
    rerun = session.get(Submission, made.get_json()["id"])
    scored_as_the_worker_leaves_it(
        session,
        rerun,
        public_score=0.95,
        private_score=0.97,
        public_metrics={"f1_macro": 0.95},
        private_metrics={"f1_macro": 0.97},
    )
    session.commit()
    ok = client.post(
        "/api/v1/challenges/parity/verdicts", json={"decision": "approve"}, headers=h["judge"]
    )
    assert ok.status_code == 201
    return rerun


def test_private_scores_appear_once_the_award_is_decided(app, client, cast, session):
    sub, h = cast["sub"], cast["h"]
    url = f"/api/v1/submissions/{sub.id}/receipt"
    client.post(
        "/api/v1/challenges/parity/judges", json={"email": "j@example.com"}, headers=h["admin"]
    )
    before = client.get(url, headers=h["alice"]).get_json()
    assert "private_score" not in before
    _award(client, session, cast)
    after = client.get(url, headers=h["alice"]).get_json()
    assert (after["private_score"], after["private_metrics"]) == (0.97, {"f1_macro": 0.97})
    assert _keys(app).verify(after)
    # The earlier receipt still verifies: it said what was public then.
    assert _keys(app).verify(before)
    other = client.get(f"/api/v1/submissions/{cast['other'].id}/receipt", headers=h["bob"])
    assert other.get_json()["private_score"] == 0.5


def test_the_award_page_shows_the_chain_and_the_head_at_the_award(app, client, cast, session):
    sub = cast["sub"]
    rerun = _award(client, session, cast)
    events = audit.events_for(session, sub.challenge_id)
    kinds = {e.kind: e for e in events}
    verdict, awarded = kinds["verdict.approve"], kinds["award.awarded"]
    _count, head = audit.head(session)
    assert head == awarded.hash  # the award was the newest event
    for url in ("/challenges/parity/leaderboard", "/challenges/parity"):
        page = client.get(url).get_data(as_text=True)  # anyone, signed in or not
        assert "What backs the award" in page
        for event in (verdict, awarded):
            assert event.hash in page and event.kind in page
        assert f'data-field="audit-head">{awarded.hash}<' in page
        for item in (sub, rerun):
            assert f"/challenges/parity/award/receipts/{item.id}" in page
    # Anyone may download those two receipts; each verifies and names its event.
    ring = _keys(app)
    for item in (sub, rerun):
        body = json.loads(client.get(f"/challenges/parity/award/receipts/{item.id}").get_data())
        assert ring.verify(body) and body["submission"] == item.id
        assert body["audit_event"]["hash"] in client.get("/challenges/parity").get_data(
            as_text=True
        )
    assert body["rerun_of"] == sub.id and body["private_score"] == 0.97
    # No other submission's receipt through the award.
    assert client.get(f"/challenges/parity/award/receipts/{cast['other'].id}").status_code == 404
    # Events after the award do not move the head the page shows.
    audit.record(session, "user.active_changed", user=1, active=True)
    session.commit()
    page = client.get("/challenges/parity/leaderboard").get_data(as_text=True)
    assert f'data-field="audit-head">{awarded.hash}<' in page


def test_no_chain_before_an_award(client, cast):
    page = client.get("/challenges/parity/leaderboard").get_data(as_text=True)
    assert "What backs the award" not in page
    sub = cast["sub"]
    assert client.get(f"/challenges/parity/award/receipts/{sub.id}").status_code == 404
    assert client.get(f"/challenges/nothing/award/receipts/{sub.id}").status_code == 404
