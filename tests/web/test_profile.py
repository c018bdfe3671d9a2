"""The profile: API tokens (create with a name, list, revoke) and registering an organization."""

import re

from jiebang import accounts, tokens


def _login(client, email="p@example.com"):
    client.post("/login", data={"email": email, "password": "password123"})


def test_create_list_and_revoke_tokens(client, world, session):
    user = world.user("p@example.com")
    other = world.user("o@example.com")
    foreign = tokens.issue_token(session, user=other, name="theirs")
    session.commit()
    _login(client)
    missing_name = client.post("/profile/tokens", data={"name": "", "days": "90"})
    assert missing_name.status_code == 400
    created = client.post("/profile/tokens", data={"name": "laptop", "days": "30"})
    page = created.get_data(as_text=True)
    assert created.headers["Cache-Control"] == "no-store"
    token = re.search(r"jb_[A-Za-z0-9_-]{20,}", page).group(0)
    assert tokens.user_for_token(session, token).id == user.id
    rows = tokens.list_tokens(session, user)
    assert [r.name for r in rows] == ["laptop"] and token not in str(vars(rows[0]))
    listing = client.get("/profile").get_data(as_text=True)
    assert "laptop" in listing and token not in listing and "theirs" not in listing
    theirs = tokens.list_tokens(session, other)[0]
    assert client.post(f"/profile/tokens/{theirs.id}/revoke").status_code == 302
    session.expire_all()
    assert tokens.user_for_token(session, foreign) is not None  # not ours to revoke
    client.post(f"/profile/tokens/{rows[0].id}/revoke")
    session.expire_all()
    assert tokens.user_for_token(session, token) is None
    assert "revoked" in client.get("/profile").get_data(as_text=True)


def test_a_revoked_token_no_longer_opens_the_api(client, world, session):
    world.user("p@example.com")
    session.commit()
    _login(client)
    page = client.post("/profile/tokens", data={"name": "ci", "days": "90"})
    token = re.search(r"jb_[A-Za-z0-9_-]{20,}", page.get_data(as_text=True)).group(0)
    headers = {"Authorization": f"Bearer {token}"}
    team = {"name": "Api Team"}
    world.challenge(opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00")
    session.commit()
    assert (
        client.post("/api/v1/challenges/parity/teams", json=team, headers=headers).status_code
        == 201
    )
    row = tokens.list_tokens(session, accounts.get_user_by_email(session, "p@example.com"))[0]
    client.post(f"/profile/tokens/{row.id}/revoke")
    again = client.post("/api/v1/challenges/parity/teams", json=team, headers=headers)
    assert again.status_code == 401


def test_register_an_organization_then_an_admin_approves_it(client, world, session):
    world.user("p@example.com")
    world.user("a@example.com", "admin")
    session.commit()
    _login(client)
    client.post("/profile/organization", data={"slug": "harbor-co", "name": "Harbor Co"})
    page = client.get("/profile").get_data(as_text=True)
    assert "Harbor Co" in page and "waiting" in page
    client.post("/logout")
    _login(client, "a@example.com")
    admin = client.get("/admin").get_data(as_text=True)
    assert "waiting for approval" in admin
    org = accounts.get_org(session, "harbor-co")
    client.post(f"/admin/orgs/{org.id}/approve")
    session.expire_all()
    assert org.approved and accounts.get_user_by_email(session, "p@example.com").role == "sponsor"
