"""The sponsor's registration lists (page, CSV, API) cost the same SQL statements for 2
registrations as for 8: teams and their organizations are loaded for all at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from challenges import registration
from challenges.applicants import Registration, TeamOrganization

RULES = {
    "applicants": {"who": "organizations"},
    "registration": {"mode": "approval", "closes_at": "2098-01-01T00:00:00+08:00"},
}


@pytest.fixture
def counted(app, redis_conn):
    engine = app.extensions["jiebang"].engine

    def count(call, url, **kwargs):
        seen = []

        def note(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", note)
        try:
            response = call(url, **kwargs)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert response.status_code == 200
        return response, len(seen)

    return count


def _register(world, session, item, start, count):
    for n in range(start, start + count):
        org = world.org(f"org{n}")
        org.verification = "verified"
        lead = world.user(f"lead{n}@example.com", org=org)
        team = world.team(item, lead, name=f"Team {n:02d}")
        session.add(TeamOrganization(team_id=team.id, org_id=org.id, role="lead"))
        session.add(Registration(team_id=team.id, challenge_id=item.id, submitted_by=lead.id))
    session.commit()


def test_the_registration_lists_cost_the_same_at_2_and_8_rows(
    client, world, session, token_for, counted
):
    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00", **RULES
    )
    sponsor = world.user("s@example.com", "sponsor", org=world.org())
    session.commit()
    headers = token_for(sponsor, "read")
    client.post("/login", data={"email": "s@example.com", "password": "password123"})
    urls = [
        (client.get, "/challenges/parity/registrations", {}),
        (client.get, "/challenges/parity/registrations.csv", {}),
        (client.get, "/api/v1/challenges/parity/registrations", {"headers": headers}),
    ]
    _register(world, session, item, 0, 2)
    few = [counted(call, url, **kw)[1] for call, url, kw in urls]
    _register(world, session, item, 2, 6)
    many = []
    for call, url, kw in urls:
        response, n = counted(call, url, **kw)
        assert "Team 07" in response.get_data(as_text=True)
        many.append(n)
    assert many == few
    assert len(registration.registrations(session, actor=sponsor, challenge=item)) == 8
