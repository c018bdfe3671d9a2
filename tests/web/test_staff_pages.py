"""Pages of the admin, the sponsor and the judge."""

import io
import zipfile

from challenges.models import Challenge


def _login(client, email):
    assert (
        client.post("/login", data={"email": email, "password": "password123"}).status_code == 302
    )


def _zip(folder) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    data.seek(0)
    return data


def test_pages_are_hidden_from_other_roles(client, world, session):
    world.user("p@example.com")
    session.commit()
    for path in ("/admin", "/sponsor", "/judge"):
        assert client.get(path).status_code == 302  # to the log-in page
    _login(client, "p@example.com")
    for path in ("/admin", "/judge", "/sponsor/challenges/new"):
        assert client.get(path).status_code == 404
    # /sponsor itself explains to a participant how to become one (issue 15, friction 3).
    assert "Request a sponsor organization" in client.get("/sponsor").get_data(as_text=True)


def test_sponsor_uploads_a_bundle_and_requests_review(client, world, session, bundle_dir):
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    _login(client, "s@example.com")
    bad = client.post(
        "/sponsor/challenges",
        data={"bundle": (io.BytesIO(b"junk"), "b.zip")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "not a folder or a zip" in bad.get_data(as_text=True)
    ok = client.post(
        "/sponsor/challenges",
        data={"bundle": (_zip(bundle_dir), "b.zip")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    assert "parity" in client.get("/sponsor").get_data(as_text=True)
    client.post("/sponsor/challenges/parity/review")
    session.expire_all()
    assert session.query(Challenge).one().status == "in_review"


def test_admin_assigns_and_closes_then_judge_sees_the_board(client, world, session, redis_conn):
    world.challenge(opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00")
    world.user("a@example.com", "admin")
    world.user("j@example.com", "judge")
    item = session.query(Challenge).one()
    team = world.team(item, world.user("t@example.com"), name="Tango")
    world.scored(team, public=0.95, private=0.96)
    session.commit()
    _login(client, "a@example.com")
    assert "parity" in client.get("/admin").get_data(as_text=True)
    client.post("/admin/challenges/parity/judges", data={"email": "j@example.com"})
    client.post("/admin/challenges/parity/close", data={"confirm": "yes"})
    session.expire_all()
    assert session.query(Challenge).one().status == "judging"
    client.post("/logout")
    _login(client, "j@example.com")
    assert "Parity" in client.get("/judge").get_data(as_text=True)
    page = client.get("/judge/parity").get_data(as_text=True)
    assert "Tango" in page and "0.9600" in page and "Re-run" in page
    assert client.post("/judge/parity/rerun").status_code == 302
    early = client.post(
        "/judge/parity/verdict",
        data={"decision": "approve", "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Re-run the submission and wait" in early.get_data(as_text=True)


def _judging(world, session):
    """A closed challenge in judging: two teams, one judge; nothing re-run yet."""
    from leaderboards.lifecycle import close_now

    item = world.challenge(
        opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00"
    )
    world.user("j@example.com", "judge")
    world.user("k@example.com", "judge")
    from challenges.lifecycle import assign_judge
    from jiebang.accounts import get_user_by_email

    assign_judge(session, item, judge=get_user_by_email(session, "j@example.com"), actor=None)
    first = world.team(item, world.user("t@example.com"), name="Tango")
    second = world.team(item, world.user("u@example.com"), name="Uniform")
    world.scored(first, public=0.95, private=0.96)
    world.scored(second, public=0.93, private=0.94)
    close_now(session, item)
    session.commit()
    return item


def test_judge_pages_show_the_winner_and_disqualify_moves_on(client, world, session, redis_conn):
    _judging(world, session)
    _login(client, "k@example.com")  # a judge, but not of this challenge
    assert client.get("/judge/parity").status_code == 404
    assert "Parity" not in client.get("/judge").get_data(as_text=True)
    client.post("/logout")
    _login(client, "j@example.com")
    listing = client.get("/judge").get_data(as_text=True)
    assert "Parity" in listing and "your verdict is needed" in listing
    page = client.get("/judge/parity").get_data(as_text=True)
    assert "Provisional winner" in page and "Tango" in page and "run time ≤ 60 s" in page
    first = client.post("/judge/parity/rerun", follow_redirects=True).get_data(as_text=True)
    assert "Re-run queued" in first and "data-status-url" in first
    second = client.post("/judge/parity/rerun", follow_redirects=True).get_data(as_text=True)
    assert "already under way" in second
    no_reason = client.post(
        "/judge/parity/verdict",
        data={"decision": "disqualify", "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Give the reason" in no_reason.get_data(as_text=True)
    moved = client.post(
        "/judge/parity/verdict",
        data={
            "decision": "disqualify",
            "reason": "Hand-labelled the test set.",
            "confirm": "yes",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Verdict recorded" in moved and "Hand-labelled the test set." in moved
    assert "Uniform" in moved.split("Provisional winner")[1].split("</dl>")[0]


def test_admin_manages_users_and_sees_pending_challenges_first(client, world, session):
    world.challenge(slug="alpha", opens_at="2020-01-01T00:00:00+00:00")
    world.challenge(slug="waiting", publish=False)
    world.user("a@example.com", "admin")
    person = world.user("p@example.com")
    session.commit()
    from challenges.lifecycle import request_review
    from jiebang.accounts import create_user

    sponsor = create_user(
        session, email="s@example.com", password="password123", role="sponsor", org=world.org()
    )
    request_review(session, session.query(Challenge).filter_by(slug="waiting").one(), actor=sponsor)
    session.commit()
    _login(client, "a@example.com")
    page = client.get("/admin").get_data(as_text=True)
    assert page.index("waiting") < page.index("alpha")
    found = client.get("/admin?q=p%40example").get_data(as_text=True)
    assert "p@example.com" in found and "s@example.com" not in found
    saved = client.post(
        f"/admin/users/{person.id}", data={"role": "sponsor", "org": "acme"}, follow_redirects=True
    )
    assert "User saved" in saved.get_data(as_text=True)
    session.expire_all()
    assert (person.role, person.org.slug, person.active) == ("sponsor", "acme", False)
    client.post(f"/admin/users/{person.id}", data={"role": "sponsor", "org": "", "active": "on"})
    session.expire_all()
    assert person.org_id is None and person.active
    me = session.query(type(person)).filter_by(email="a@example.com").one()
    last = client.post(f"/admin/users/{me.id}", data={"role": "admin"}, follow_redirects=True)
    assert "Keep at least one administrator" in last.get_data(as_text=True)
