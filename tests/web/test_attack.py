"""Attacks on the new pages and routes (security review): each test is a finding that
was fixed (CSV injection, caps, 500s, a competitor joining the sponsor)."""

from __future__ import annotations

import csv
import io

import pytest

from challenges import registration
from challenges.models import Team
from tests.web.test_registration_pages import RULES, login


def test_registrations_csv_names_like_formulas_stay_text(client, world, session):
    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00", **RULES
    )
    world.user("s@example.com", "sponsor", org=world.org())
    org = world.org("evil")
    org.name = '=HYPERLINK("http://evil.example","x")'
    org.verification = "verified"
    lead = world.user("lead@evil.example.com", org=org)
    team = world.team(item, lead, name="@SUM(1+1)*cmd|' /C calc'!A0")
    session.commit()
    registration.apply(session, user=lead, team=session.get(Team, team.id), terms_version=1)
    session.commit()
    login(client, "s@example.com")
    text = client.get("/challenges/parity/registrations.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows[1][3].startswith("'=HYPERLINK(")


def test_a_refusals_reason_on_the_page_is_capped_as_over_the_api(client, world, session):
    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00", **RULES
    )
    world.user("s@example.com", "sponsor", org=world.org())
    org = world.org("alpha")
    org.verification = "verified"
    lead = world.user("lead@alpha.example.com", org=org)
    team = world.team(item, lead, name="Alpha Team")
    session.commit()
    registration.apply(session, user=lead, team=session.get(Team, team.id), terms_version=1)
    session.commit()
    login(client, "s@example.com")
    url = f"/challenges/parity/registrations/{team.id}/decision"
    page = client.post(url, data={"decision": "refuse", "reason": "x" * 100_000})
    session.expire_all()
    assert registration.registration_of(session, team.id).status == "pending"
    assert page.status_code == 302
    client.post(url, data={"decision": "refuse", "reason": "Out of scope\x00"})
    session.expire_all()
    assert registration.registration_of(session, team.id).status == "pending"
    client.post(url, data={"decision": "refuse", "reason": "Out of scope"})
    session.expire_all()
    got = registration.registration_of(session, team.id)
    assert (got.status, got.reason) == ("refused", "Out of scope")


@pytest.mark.parametrize(
    "closes_at",
    ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999-00:01", "+10000-01-01T00:00:00"],
)
def test_a_deadline_past_the_calendar_is_refused_not_a_500(
    client, world, session, published, token_for, closes_at
):
    sponsor = world.user("s@example.com", "sponsor", org=world.org())
    session.commit()
    response = client.post(
        "/api/v1/challenges/parity/amend",
        json={"changes": {"closes_at": closes_at}, "reason": "More time."},
        headers=token_for(sponsor, "manage"),
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "closes_at"


def test_marking_very_many_notifications_read_is_no_server_error(client, world, session, token_for):
    """PostgreSQL takes at most 65,535 parameters a statement; a list past that was a
    500 there; now a list of more than 1,000 ids is refused, naming the field."""
    user = world.user("a1@example.com")
    session.commit()
    response = client.post(
        "/api/v1/notifications/read",
        json={"ids": list(range(1, 70_001))},
        headers=token_for(user, "read"),
    )
    assert response.status_code == 400, response.status_code
    assert response.get_json()["error"]["field"] == "ids"


def test_registration_times_over_the_api_are_iso_8601(client, world, session, token_for):
    """The API's times are ISO 8601 as its OpenAPI says (date-time); the registration
    API answered 'Sat, 05 Dec 2026 08:17:14 GMT' (Flask's default for a datetime)."""
    import datetime as dt

    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00", **RULES
    )
    org = world.org("alpha")
    org.verification = "verified"
    lead = world.user("lead@alpha.example.com", org=org)
    world.team(item, lead, name="Alpha Team")
    session.commit()
    response = client.post(
        "/api/v1/challenges/parity/registration",
        json={"terms_version": 0},
        headers=token_for(lead, "submit"),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    dt.datetime.fromisoformat(body["registration"]["submitted_at"])
    dt.datetime.fromisoformat(body["rules"]["closes_at"])


def test_a_team_member_cannot_join_the_sponsor_of_their_challenge(world, session):
    """An invitation into the sponsor's organization made a competitor a sponsor of the
    challenge they take part in (manage_challenge) while staying in their team."""
    from challenges.policy import Action, can
    from jiebang import organizations
    from jiebang.errors import Conflict

    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00"
    )
    acme = world.org()
    boss = world.user("boss@acme.example.com", "sponsor", org=acme)
    boss.org_admin = True
    player = world.user("p@example.com")
    world.team(item, player, name="P Team")
    session.flush()
    _invitation, token = organizations.invite(session, org=acme, actor=boss, email="p@example.com")
    with pytest.raises(Conflict) as refused:
        organizations.accept(session, token=token, user=player)
    assert refused.value.field == "invitation"
    assert player.org_id is None and player.role == "participant"
    assert not can(session, player, Action.manage_challenge, item)
    # Another organization, not the sponsor, takes them.
    other = world.org("other")
    other.approved = False
    boss2 = world.user("boss@other.example.com", org=other)
    boss2.org_admin = True
    session.flush()
    _invitation, token = organizations.invite(
        session, org=other, actor=boss2, email="p@example.com"
    )
    assert organizations.accept(session, token=token, user=player) is other


def test_an_assigned_judge_cannot_join_the_sponsor_of_their_challenge(world, session):
    """Assignment refuses a member of the sponsor; joining the sponsor afterwards must be
    refused too, or the sponsor's own member judges its challenge (found in review)."""
    from challenges import lifecycle
    from challenges.policy import is_judge
    from jiebang import organizations
    from jiebang.errors import Conflict

    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00"
    )
    acme = world.org()
    boss = world.user("boss@acme.example.com", "sponsor", org=acme)
    boss.org_admin = True
    admin = world.user("admin@example.com", "admin")
    expert = world.user("j@example.com")
    session.flush()
    lifecycle.assign_judge(session, item, judge=expert, actor=admin)
    _invitation, token = organizations.invite(session, org=acme, actor=boss, email="j@example.com")
    with pytest.raises(Conflict, match="judge"):
        organizations.accept(session, token=token, user=expert)
    assert expert.org_id is None and is_judge(session, user=expert, challenge=item)


def test_a_team_refused_on_open_registration_cannot_approve_itself_again(world, session):
    """``open`` registration approves at once; a team the sponsor refused registered again
    and was approved at once, which made the refusal void."""
    from jiebang.errors import Forbidden

    rules = {**RULES, "registration": {**RULES["registration"], "mode": "open"}}
    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00", **rules
    )
    sponsor = world.user("s@example.com", "sponsor", org=world.org())
    org = world.org("alpha")
    org.verification = "verified"
    lead = world.user("lead@alpha.example.com", org=org)
    team = world.team(item, lead, name="Alpha Team")
    session.flush()
    assert registration.apply(session, user=lead, team=team).status == "approved"
    registration.decide(session, actor=sponsor, team=team, approve=False, reason="Not eligible")
    with pytest.raises(Forbidden) as refused:
        registration.apply(session, user=lead, team=team)
    assert refused.value.field == "registration"
    assert registration.registration_of(session, team.id).status == "refused"
