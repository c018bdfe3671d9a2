"""Forms that help the person filling them: password managers, and input kept after a refusal."""

import re


def _login(client, email="p@example.com"):
    client.post("/login", data={"email": email, "password": "password123"})


def test_the_password_form_names_its_account(client, world, session):
    """A password manager (and a screen reader) pairs the new password with the account."""
    world.user("p@example.com")
    session.commit()
    _login(client)
    page = client.get("/profile").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/profile/password".*?</form>', page, re.S).group(0)
    username = re.search(r"<input[^>]*autocomplete=\"username\"[^>]*>", form).group(0)
    assert 'value="p@example.com"' in username and "hidden" in username
    assert 'name="username"' in username


def test_a_refused_team_name_stays_in_the_form(client, world, session, published):
    world.team(published, world.user("first@example.com"), name="Red Pandas")
    world.user("p@example.com")
    session.commit()
    _login(client)
    for typed in ("red pandas", "x"):  # taken (the service says), too short (the form says)
        page = client.post("/challenges/parity/teams", data={"name": typed}, follow_redirects=True)
        assert page.request.path == "/challenges/parity/team"
        field = re.search(r'<input id="team-name"[^>]*>', page.get_data(as_text=True)).group(0)
        assert f'value="{typed}"' in field
    made = client.post("/challenges/parity/teams", data={"name": "Blue Whales"})
    assert made.headers["Location"].endswith("/challenges/parity/team")  # nothing to keep
