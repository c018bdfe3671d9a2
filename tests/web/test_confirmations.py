"""Irreversible actions ask first (issue 15, friction 5): publish, close, a verdict.

A page's POST without ``confirm=yes`` changes nothing and answers with a page that
says what will happen, whose form posts the same fields again with the confirmation.
"""

import re

from sqlalchemy import select

from challenges.models import Challenge
from jiebang.audit import AuditEvent
from leaderboards.models import Verdict


def _login(client, email):
    response = client.post("/login", data={"email": email, "password": "password123"})
    assert response.status_code == 302


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


def _status(session) -> str:
    session.expire_all()
    return session.scalars(select(Challenge.status)).one()


def test_publish_asks_first_and_nothing_happens_until_confirmed(client, world, session):
    world.challenge(publish=False)
    world.user("a@example.com", "admin")
    session.commit()
    _login(client, "a@example.com")
    asked = client.post("/admin/challenges/parity/approve")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "What will happen" in page
    assert "the sponsor can no longer edit it" in page and "This cannot be undone." in page
    assert _status(session) == "draft"
    assert "challenge.published" not in session.scalars(select(AuditEvent.kind)).all()
    assert _hidden(page)["confirm"] == "yes"
    done = client.post("/admin/challenges/parity/approve", data=_hidden(page))
    assert done.status_code == 302
    assert _status(session) == "open"


def test_close_asks_first(client, world, session, redis_conn):
    world.challenge(opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00")
    world.user("a@example.com", "admin")
    session.commit()
    _login(client, "a@example.com")
    page = client.post("/admin/challenges/parity/close").get_data(as_text=True)
    assert "Submissions end now, before the deadline." in page
    assert "The private board is frozen" in page
    assert _status(session) == "open"
    client.post("/admin/challenges/parity/close", data=_hidden(page))
    assert _status(session) != "open"


def test_a_verdict_asks_first_and_names_the_team(client, world, session, redis_conn):
    from challenges.lifecycle import assign_judge
    from leaderboards.lifecycle import close_now

    item = world.challenge(
        opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00"
    )
    judge = world.user("j@example.com")
    assign_judge(session, item, judge=judge, actor=None)
    world.scored(
        world.team(item, world.user("t@example.com"), name="Tango"), public=0.95, private=0.96
    )
    close_now(session, item)
    session.commit()
    _login(client, "j@example.com")
    form = {"decision": "disqualify", "reason": "Hand-labelled the test set."}
    page = client.post("/judge/parity/verdict", data=form).get_data(as_text=True)
    assert "Team Tango is disqualified" in page and "next eligible team" in page
    assert session.scalars(select(Verdict)).all() == []
    carried = _hidden(page)
    assert carried["reason"] == form["reason"] and carried["decision"] == "disqualify"
    done = client.post("/judge/parity/verdict", data=carried, follow_redirects=True)
    assert "Verdict recorded." in done.get_data(as_text=True)
    assert len(session.scalars(select(Verdict)).all()) == 1
    approve = client.post("/judge/parity/verdict", data={"decision": "approve"})
    assert "is awarded to team" in approve.get_data(as_text=True)
