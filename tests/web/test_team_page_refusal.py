"""The team page says why the team may not submit now (the shortlist, the registration)
above the upload form, before anyone uploads a file only to be refused; a team free to
submit reads nothing of the kind."""

from __future__ import annotations

from tests.web.test_proposals import cast  # noqa: F401  (the fixture)


def _login(client, email):
    client.post("/login", data={"email": email, "password": "password123"})


def test_the_team_page_says_why_the_team_cannot_submit(client, world, session, cast):  # noqa: F811
    people, _teams, _future, done = cast
    free = world.challenge(
        slug="free", opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00"
    )
    world.team(free, people["a"], name="Alpha free")
    session.commit()
    _login(client, "a@team.example.com")
    page = client.get(f"/challenges/{done.slug}/team").get_data(as_text=True)
    assert 'id="submit-refusal"' in page
    assert "the shortlist is not decided yet" in page
    assert 'id="submit-refusal"' not in client.get("/challenges/free/team").get_data(as_text=True)
    client.set_cookie("lang", "zh")
    zh = client.get(f"/challenges/{done.slug}/team").get_data(as_text=True)
    assert 'id="submit-refusal"' in zh and "the shortlist is not decided yet" not in zh
