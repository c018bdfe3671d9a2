"""Assigning judges from the admin page, the API and the CLI (issue 15, friction 4)."""

from click.testing import CliRunner
from sqlalchemy import select

from challenges.models import ChallengeJudge
from web.commands import challenges


def _login(client, email):
    response = client.post("/login", data={"email": email, "password": "password123"})
    assert response.status_code == 302


def test_admin_assigns_a_participant_account_who_then_judges(client, world, session):
    item = world.challenge()
    world.user("a@example.com", "admin")
    person = world.user("p@example.com")
    member = world.user("m@example.com")
    world.team(item, member, name="Tango")
    session.commit()
    _login(client, "a@example.com")
    done = client.post(
        "/admin/challenges/parity/judges", data={"email": "p@example.com"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Judge assigned." in done and "p@example.com" in done
    refused = client.post(
        "/admin/challenges/parity/judges", data={"email": "m@example.com"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "m@example.com is a member of team Tango in this challenge" in refused
    client.post("/logout")
    _login(client, "p@example.com")
    assert "Judging" in client.get("/").get_data(as_text=True)  # the navigation's link
    assert "Parity" in client.get("/judge").get_data(as_text=True)
    client.post("/logout")
    _login(client, "a@example.com")
    removed = client.post(
        f"/admin/challenges/parity/judges/{person.id}/remove", follow_redirects=True
    ).get_data(as_text=True)
    assert "Judge removed from the challenge." in removed
    assert session.scalars(select(ChallengeJudge)).all() == []
    client.post("/logout")
    _login(client, "p@example.com")
    assert client.get("/judge").status_code == 404  # judges nothing any more


def test_api_assigns_and_unassigns_with_the_reason(client, world, session, token_for):
    world.challenge()
    admin = world.user("a@example.com", "admin")
    world.user("p@example.com")
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    headers = token_for(admin)
    url = "/api/v1/challenges/parity/judges"
    assert client.post(url, json={"email": "p@example.com"}, headers=headers).status_code == 201
    insider = client.post(url, json={"email": "s@example.com"}, headers=headers)
    assert insider.status_code == 409
    assert "belongs to Acme, the sponsor" in insider.get_json()["error"]["message"]
    gone = client.delete(f"{url}/p@example.com", headers=headers)
    assert gone.status_code == 200 and gone.get_json()["judge"] == "p@example.com"
    again = client.delete(f"{url}/p@example.com", headers=headers)
    assert again.status_code == 404


def test_cli_assigns_and_unassigns(world, session, settings):
    world.challenge()
    world.user("p@example.com")
    session.commit()
    env = {
        "JIEBANG_DATABASE_URL": settings.database_url,
        "JIEBANG_DATA_DIR": str(settings.data_dir),
        "JIEBANG_REDIS_URL": settings.redis_url,
    }
    args = ["parity", "--email", "p@example.com"]
    out = CliRunner().invoke(challenges, ["assign-judge", *args], env=env)
    assert out.exit_code == 0, out.output
    assert "p@example.com judges parity" in out.output
    out = CliRunner().invoke(challenges, ["unassign-judge", *args], env=env)
    assert out.exit_code == 0, out.output
    session.expire_all()
    assert session.scalars(select(ChallengeJudge)).all() == []
