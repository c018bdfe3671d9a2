import io

from rq import Queue

from evaluator.models import Submission


def test_challenges_and_detail(client, published):
    body = client.get("/api/v1/challenges").get_json()
    assert [c["slug"] for c in body["challenges"]] == ["parity"]
    detail = client.get("/api/v1/challenges/parity", headers={"Accept-Language": "zh"}).get_json()
    assert detail["title"] == "奇偶"
    assert detail["targets"][0] == {"metric": "f1_macro", "at_least": 0.9}
    assert "split_secret" not in detail and "labels.csv" not in str(detail)
    missing = client.get("/api/v1/challenges/nope")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_drafts_are_invisible(client, world, session):
    world.challenge(publish=False)
    session.commit()
    assert client.get("/api/v1/challenges").get_json()["challenges"] == []
    assert client.get("/api/v1/challenges/parity").status_code == 404
    assert client.get("/api/v1/challenges/parity/leaderboard").status_code == 404


def test_private_board_is_refused_while_open(client, published):
    response = client.get("/api/v1/challenges/parity/leaderboard?board=private")
    assert response.status_code == 403
    assert client.get("/api/v1/challenges/parity/leaderboard?board=x").status_code == 400
    board = client.get("/api/v1/challenges/parity/leaderboard").get_json()
    assert board == {
        "board": "public",
        "challenge": "parity",
        "metric": "f1_macro",
        "entries": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }


def test_tokens_are_required_and_checked(client, published):
    response = client.post("/api/v1/challenges/parity/teams", json={"name": "Blue"})
    assert response.status_code == 401
    assert "Bearer" in response.get_json()["error"]["message"]
    bad = {"Authorization": "Bearer jb_not-a-token"}
    assert (
        client.post("/api/v1/challenges/parity/teams", json={"name": "B"}, headers=bad).status_code
        == 401
    )


def test_team_create_join_and_submit_a_bundle(
    client, world, session, published, token_for, make_bundle_zip, redis_conn, settings
):
    alice, bob = world.user("alice@example.com"), world.user("bob@example.com")
    session.commit()
    created = client.post(
        "/api/v1/challenges/parity/teams", json={"name": "Blue"}, headers=token_for(alice)
    )
    assert created.status_code == 201
    team = created.get_json()
    wrong = client.post(
        f"/api/v1/teams/{team['id']}/join", json={"join_code": "nope"}, headers=token_for(bob)
    )
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "forbidden"
    joined = client.post(
        f"/api/v1/teams/{team['id']}/join",
        json={"join_code": team["join_code"]},
        headers=token_for(bob),
    )
    assert joined.status_code == 200

    response = client.post(
        "/api/v1/challenges/parity/submissions",
        data={"file": (make_bundle_zip(), "b.zip"), "kind": "bundle"},
        headers=token_for(bob),
    )
    assert response.status_code == 201, response.get_json()
    sub = response.get_json()
    assert sub["status"] == "queued"
    queued = Queue(settings.queue_name, connection=redis_conn).get_job_ids()
    assert queued == [f"{settings.queue_name}-submission-{sub['id']}-a1"]

    mine = client.get(f"/api/v1/submissions/{sub['id']}", headers=token_for(alice)).get_json()
    assert mine["status"] == "queued" and mine["team"] == "Blue"
    assert mine["private_score"] is None

    stranger = world.user("eve@example.com")
    session.commit()
    other = client.get(f"/api/v1/submissions/{sub['id']}", headers=token_for(stranger))
    assert other.status_code == 404


def test_bad_uploads_get_clear_errors_and_leave_no_row(
    client, world, session, published, token_for, redis_conn, settings
):
    user = world.user("u@example.com")
    world.team(published, user)
    session.commit()
    headers = token_for(user)
    blobs_before = sorted(p for p in settings.blob_dir.rglob("*") if p.is_file())
    no_file = client.post("/api/v1/challenges/parity/submissions", data={}, headers=headers)
    assert no_file.status_code == 400 and no_file.get_json()["error"]["field"] == "file"
    not_zip = client.post(
        "/api/v1/challenges/parity/submissions",
        data={"file": (io.BytesIO(b"hello"), "x.zip"), "kind": "bundle"},
        headers=headers,
    )
    assert not_zip.status_code == 400
    assert "zip" in not_zip.get_json()["error"]["message"].lower()
    not_image = client.post(
        "/api/v1/challenges/parity/submissions",
        data={"file": (io.BytesIO(b"hello"), "x.tar"), "kind": "image"},
        headers=headers,
    )
    assert not_image.status_code == 400
    assert "docker save" in not_image.get_json()["error"]["message"]
    bad_kind = client.post(
        "/api/v1/challenges/parity/submissions",
        data={"file": (io.BytesIO(b"x"), "x"), "kind": "wheel"},
        headers=headers,
    )
    assert bad_kind.status_code == 400 and bad_kind.get_json()["error"]["field"] == "kind"
    assert session.query(Submission).count() == 0
    assert sorted(p for p in settings.blob_dir.rglob("*") if p.is_file()) == blobs_before


def test_quota_and_membership(
    client, world, session, published, token_for, make_bundle_zip, redis_conn
):
    user = world.user("q@example.com")
    loner = world.user("l@example.com")
    world.team(published, user)
    session.commit()
    headers = token_for(user)
    for _ in range(3):
        ok = client.post(
            "/api/v1/challenges/parity/submissions",
            data={"file": (make_bundle_zip(), "b.zip"), "kind": "bundle"},
            headers=headers,
        )
        assert ok.status_code == 201
    over = client.post(
        "/api/v1/challenges/parity/submissions",
        data={"file": (make_bundle_zip(), "b.zip"), "kind": "bundle"},
        headers=headers,
    )
    assert over.status_code == 429 and "3 submissions" in over.get_json()["error"]["message"]
    no_team = client.post(
        "/api/v1/challenges/parity/submissions",
        data={"file": (make_bundle_zip(), "b.zip"), "kind": "bundle"},
        headers=token_for(loner),
    )
    assert no_team.status_code == 403


def test_the_audit_head_is_for_staff(client, world, session, token_for):
    participant = world.user("p@example.com")
    admin = world.user("admin@example.com", "admin")
    world.challenge()  # its creation is an audit event
    session.commit()
    url = "/api/v1/audit/head"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=token_for(participant, "read")).status_code == 403
    body = client.get(url, headers=token_for(admin, "read")).get_json()
    assert body["events"] >= 1 and len(body["head"]) == 64
    from jiebang import audit

    assert audit.verify(session, head=body["head"]).ok


def test_a_read_token_cannot_list_or_revoke_the_other_tokens(client, world, session, token_for):
    """A leaked read-only token must not cut its owner off: managing tokens takes a
    manage token (or the profile page); any token may still revoke itself."""
    user = world.user("t@example.com")
    session.commit()
    read, submit, manage = (token_for(user, scope=s) for s in ("read", "submit", "manage"))
    ids = {t["scope"]: t["id"] for t in client.get("/api/v1/tokens", headers=manage).json["tokens"]}
    for weak in (read, submit):
        assert client.get("/api/v1/tokens", headers=weak).status_code == 403
        refused = client.delete(f"/api/v1/tokens/{ids['manage']}", headers=weak)
        assert refused.status_code == 403
        assert "scope 'manage'" in refused.get_json()["error"]["message"]
    assert client.get("/api/v1/tokens", headers=manage).status_code == 200  # still works
    assert client.delete(f"/api/v1/tokens/{ids['read']}", headers=read).status_code == 200
    assert client.delete(f"/api/v1/tokens/{ids['submit']}", headers=manage).status_code == 200
    assert client.get("/api/v1/challenges", headers=submit).status_code == 200  # public
    assert (
        client.post(
            "/api/v1/challenges/parity/teams", json={"name": "x y"}, headers=submit
        ).status_code
        == 401
    )


def test_sponsor_members_and_admins_cannot_form_teams_over_the_api(
    client, world, session, published, token_for
):
    sponsor = token_for(world.user("s@example.com", "sponsor", org=published.sponsor))
    member = token_for(world.user("m@example.com", org=published.sponsor))  # not yet approved
    admin = token_for(world.user("a@example.com", "admin"))
    for headers, words in ((sponsor, "sponsor"), (member, "sponsor"), (admin, "Administrators")):
        refused = client.post(
            "/api/v1/challenges/parity/teams", json={"name": "Inside"}, headers=headers
        )
        assert refused.status_code == 403 and words in refused.get_json()["error"]["message"]


def test_team_names_with_invisible_characters_are_refused_over_the_api(
    client, world, session, published, token_for
):
    headers = token_for(world.user("p@example.com"))
    other = token_for(world.user("q@example.com"))
    hidden = client.post(
        "/api/v1/challenges/parity/teams", json={"name": "Sharp\u200bEyes"}, headers=headers
    )
    assert hidden.status_code == 400
    assert hidden.get_json()["error"]["field"] == "name"
    assert "U+200B" in hidden.get_json()["error"]["message"]
    made = client.post(
        "/api/v1/challenges/parity/teams", json={"name": "Sharp  Eyes "}, headers=headers
    )
    assert made.get_json()["name"] == "Sharp Eyes"
    alike = client.post(
        "/api/v1/challenges/parity/teams", json={"name": "ｓｈａｒｐ\u00a0eyes"}, headers=other
    )
    assert alike.status_code == 409 and alike.get_json()["error"]["field"] == "name"
