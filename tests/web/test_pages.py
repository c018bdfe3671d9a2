"""Public pages, the participant's pages and the upload protocol of the page's script."""

import re

from web.app import create_app

JSON = {"Accept": "application/json"}


def _login(client, email="p@example.com", password="password123"):
    return client.post("/login", data={"email": email, "password": password})


def test_public_pages_in_both_languages(client, published):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "奇偶" in page and "挑战" in page and 'lang="zh-CN"' in page
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Parity" in page and "Open now" in page
    detail = client.get("/challenges/parity").get_data(as_text=True)
    assert "Predict x mod 2" in detail and "(f1_macro) ≥ 0.9" in detail
    assert "data-countdown" in detail
    for tab in ("data", "rules", "leaderboard"):
        assert client.get(f"/challenges/parity/{tab}").status_code == 200
    rules = client.get("/challenges/parity/rules").get_data(as_text=True)
    assert "1,000 CNY" in rules and "Asia/Shanghai" in rules and "run time ≤ 60 s" in rules
    assert client.get("/challenges/nope").status_code == 404


def test_language_switch_sticks(client, published):
    response = client.get("/lang/zh?next=/")
    assert response.status_code == 302
    assert "奇偶" in client.get("/").get_data(as_text=True)


def test_search_in_both_languages_and_scenario_pages(client, published):
    assert "Parity" in client.get("/?q=parity").get_data(as_text=True)
    assert "Parity" in client.get("/?q=奇偶").get_data(as_text=True)
    assert "Parity" in client.get("/?q=预测").get_data(as_text=True)
    assert "Parity" not in client.get("/?q=nothing-like-it").get_data(as_text=True)
    assert "Parity" not in client.get("/?q=%25%25").get_data(as_text=True)  # '%' is literal
    assert "Parity" in client.get("/?scenario=manufacturing").get_data(as_text=True)
    assert "Parity" in client.get("/?scenario=intelligent-economy").get_data(as_text=True)
    assert "Parity" not in client.get("/?scenario=healthcare").get_data(as_text=True)
    group = client.get("/scenarios/intelligent-economy").get_data(as_text=True)
    assert "Parity" in group and "Manufacturing" in group
    sector = client.get("/scenarios/manufacturing", headers={"Accept-Language": "zh"})
    assert "奇偶" in sector.get_data(as_text=True) and "制造" in sector.get_data(as_text=True)
    assert "Parity" not in client.get("/scenarios/healthcare").get_data(as_text=True)
    assert client.get("/scenarios/no-such-thing").status_code == 404
    assert "Smart ports" in client.get("/scenarios").get_data(as_text=True)


def test_drafts_are_previewed_only_by_their_sponsor(client, world, session):
    world.challenge(publish=False)
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    world.user("other@example.com", "sponsor", org=world.org("other"))
    session.commit()
    assert client.get("/challenges/parity").status_code == 404
    assert "Parity" not in client.get("/").get_data(as_text=True)
    _login(client, "other@example.com")
    assert client.get("/challenges/parity").status_code == 404
    client.post("/logout")
    _login(client, "s@example.com")
    page = client.get("/challenges/parity").get_data(as_text=True)
    assert "Preview" in page


def test_only_training_files_download(client, published):
    train = client.get("/challenges/parity/data/train.csv")
    assert train.status_code == 200 and train.data.startswith(b"id,x,label")
    for hidden in ("test.csv", "labels.csv", "../labels.csv"):
        assert client.get(f"/challenges/parity/data/{hidden}").status_code == 404


def test_register_log_out_log_in(client, published):
    form = {
        "name": "Pat",
        "email": "p@example.com",
        "password": "password123",
        "confirm": "password123",
    }
    signed_up = client.post("/register?next=/submissions", data=form)
    assert signed_up.status_code == 302 and "/login" in signed_up.headers["Location"]
    assert "Pat" not in client.get("/").get_data(as_text=True)  # signs in next
    assert _login(client).status_code == 302
    assert "Pat" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    assert "Pat" not in client.get("/").get_data(as_text=True)
    again = client.post("/register", data=form)
    assert again.status_code == 302  # the same answer as a free address: nothing said
    wrong = _login(client, password="wrong-password").get_data(as_text=True)
    assert "Wrong email or password" in wrong
    assert _login(client).status_code == 302
    assert client.get("/submissions").status_code == 200


def test_login_redirects_only_to_this_site(client, world, session):
    world.user("p@example.com")
    session.commit()
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "p@example.com", "password": "password123"},
    )
    assert response.headers["Location"] == "/"


def test_team_page_submission_and_selection(
    client, world, session, published, make_bundle_zip, redis_conn
):
    world.user("p@example.com")
    session.commit()
    _login(client)
    assert "Create a team" in client.get("/challenges/parity/team").get_data(as_text=True)
    made = client.post("/challenges/parity/teams", data={"name": "Page Team"})
    assert made.headers["Location"] == "/challenges/parity/team"
    page = client.get("/challenges/parity/team").get_data(as_text=True)
    assert "Page Team" in page and "Join code" in page and "Used today: 0 of 3" in page
    assert "<svg" in page  # the progress chart, even before any score
    response = client.post(
        "/challenges/parity/submissions",
        data={"kind": "bundle", "file": (make_bundle_zip(), "b.zip"), "note": "first"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "queued" in detail and "data-status-url" in detail
    sub_id = response.headers["Location"].rsplit("/", 1)[1]
    status = client.get(f"/submissions/{sub_id}/status").get_json()
    assert status["status"] == "queued" and status["final"] is False
    assert "Page Team" in client.get("/submissions").get_data(as_text=True)


def test_no_page_is_given_the_settings(client, world, session, published):
    """The team page shows upload limits; the settings (secret key and all) stay out."""
    from flask import template_rendered

    from jiebang.settings import Settings

    world.team(published, world.user("p@example.com"), name="Limits Team")
    session.commit()
    _login(client)
    contexts = []

    def record(_app, template, context, **_extra):
        contexts.append(context)

    with template_rendered.connected_to(record, client.application):
        page = client.get("/challenges/parity/team").get_data(as_text=True)
    assert "Limits Team" in page and "data-max-image=" in page
    values = [v for context in contexts for v in context.values()]
    assert values and not any(isinstance(v, Settings) for v in values)


def test_the_upload_script_gets_json_answers(
    client, world, session, published, make_bundle_zip, redis_conn
):
    team = world.team(published, world.user("p@example.com"), name="Json Team")
    session.commit()
    _login(client)
    empty = client.post("/challenges/parity/submissions", data={"kind": "bundle"}, headers=JSON)
    assert empty.status_code == 400 and empty.get_json()["error"] == "Choose a file to upload."
    bad = client.post(
        "/challenges/parity/submissions",
        data={"kind": "image", "file": (make_bundle_zip(), "b.zip")},
        content_type="multipart/form-data",
        headers={**JSON, "Accept-Language": "zh"},
    )
    assert bad.status_code == 400 and bad.get_json()["ok"] is False and bad.get_json()["error"]
    good = client.post(
        "/challenges/parity/submissions",
        data={"kind": "bundle", "file": (make_bundle_zip(), "b.zip")},
        content_type="multipart/form-data",
        headers=JSON,
    )
    body = good.get_json()
    assert good.status_code == 201 and body["redirect"] == f"/submissions/{body['id']}"
    assert team.name in client.get(body["redirect"]).get_data(as_text=True)


def test_team_chart_shows_own_scores_against_the_top(client, world, session, published):
    import datetime as dt

    mine = world.team(published, world.user("p@example.com"), name="Mine")
    top = world.team(published, world.user("t@example.com"), name="Top")
    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    world.scored(mine, public=0.61, private=0.6, at=at)
    world.scored(top, public=0.93, private=0.9, at=at + dt.timedelta(hours=1))
    world.scored(mine, public=0.72, private=0.7, at=at + dt.timedelta(hours=2), selected=True)
    session.commit()
    _login(client)
    page = client.get("/challenges/parity/team").get_data(as_text=True)
    # Two points, in the drawing for a desktop and in the one for a phone.
    assert page.count('<circle class="team"') == 4 and '<path class="top"' in page
    assert "0.93" in page and 'class="target"' in page
    assert "★" in page  # the selection


def test_other_teams_submissions_are_not_found(
    client, world, session, published, make_bundle_zip, redis_conn
):
    owner = world.user("o@example.com")
    world.team(published, owner)
    world.user("p@example.com")
    session.commit()
    other = create_app(client.application.config["JIEBANG"]).test_client()
    other.application.config["WTF_CSRF_ENABLED"] = False
    _login(other, "o@example.com")
    response = other.post(
        "/challenges/parity/submissions",
        data={"kind": "bundle", "file": (make_bundle_zip(), "b.zip")},
        content_type="multipart/form-data",
    )
    sub_id = response.headers["Location"].rsplit("/", 1)[1]
    _login(client)
    assert client.get(f"/submissions/{sub_id}").status_code == 404
    assert client.get(f"/submissions/{sub_id}/status").status_code == 404


def test_forms_need_a_csrf_token(settings, engine, published):
    app = create_app(settings)
    response = app.test_client().post(
        "/login", data={"email": "p@example.com", "password": "password123"}
    )
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_every_page_names_its_language_and_loads_nothing_from_elsewhere(client, published):
    for path in ("/", "/scenarios", "/winners", "/challenges/parity", "/login", "/register"):
        page = client.get(path).get_data(as_text=True)
        assert "http://" not in page.replace("http://localhost", "")
        assert "https://" not in page


def test_the_board_pages_a_hundred_teams_at_a_time(client, published, world, session):
    for i in range(101):
        team = world.team(published, world.user(f"t{i}@example.com"), name=f"Team {i:03d}")
        world.scored(team, public=i / 1000, private=0.5)
    session.commit()
    first = client.get("/challenges/parity/leaderboard").get_data(as_text=True)
    assert len(re.findall(r"Team \d{3}", first)) == 100
    assert "Team 100" in first and "Team 000" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/challenges/parity/leaderboard?page=2").get_data(as_text=True)
    assert "Team 000" in second and ">101</td>" in second and 'rel="prev"' in second
    api = client.get("/api/v1/challenges/parity/leaderboard?page=3&per_page=50").get_json()
    assert api["total"] == 101 and [e["rank"] for e in api["entries"]] == [101]
    assert client.get("/challenges/parity/leaderboard?page=0").status_code == 404
    assert client.get("/challenges/parity/leaderboard?page=3").status_code == 404
    huge = "99999999999999999999"
    assert client.get(f"/challenges/parity/leaderboard?page={huge}").status_code == 404
    far = client.get(f"/api/v1/challenges/parity/leaderboard?page={huge}").get_json()
    assert far["entries"] == [] and far["total"] == 101


def test_the_board_table_is_kept_per_language_and_mine_is_marked(
    client, published, world, session, redis_conn, settings
):
    member = world.user("m@example.com")
    mine = world.team(published, member, name="Team Mine")
    world.scored(mine, public=0.5, private=0.5)
    other = world.team(published, world.user("o@example.com"), name="Team Other")
    world.scored(other, public=0.7, private=0.5)
    session.commit()
    url = "/challenges/parity/leaderboard"
    first = client.get(url).get_data(as_text=True)
    kept = list(redis_conn.scan_iter(f"{settings.namespace}:board*:html-*"))
    assert len(kept) == 1 and b"html-en" in kept[0]
    assert client.get(url).get_data(as_text=True) == first  # from the kept table
    zh = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "名次" in zh and ">Rank<" not in zh
    assert 'class="mine"' not in first
    _login(client, "m@example.com")
    page = client.get(url).get_data(as_text=True)
    assert page.count('class="mine"') == 1
    assert re.search(r'class="mine">\s*<td class="num">2</td><td>Team Mine<', page)


def test_chinese_names_are_tagged_on_english_pages(client, world, session, published):
    """WCAG 3.1.2 (issue 16): a screen reader reads a Chinese team name with a Chinese
    voice on the submission page and the list of one's submissions, not only on boards."""
    team = world.team(published, world.user("p@example.com"), name="Sharp Eyes 慧眼")
    sub = world.scored(team, public=0.5, private=0.5)
    session.commit()
    _login(client)
    client.set_cookie("lang", "en")
    for url in (f"/submissions/{sub.id}", "/submissions"):
        page = client.get(url).get_data(as_text=True)
        assert 'Sharp Eyes <span lang="zh-CN">慧眼</span>' in page, url
