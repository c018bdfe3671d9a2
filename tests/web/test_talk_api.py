"""The talk over the API: announcements, questions, answers, revisions, amendments."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def tokens(world, session, published, token_for):
    org = world.org()
    sponsor = world.user("s@example.com", "sponsor", org=org)
    a1, b1 = world.user("a1@example.com"), world.user("b1@example.com")
    world.team(published, a1, name="Team A")
    world.team(published, b1, name="Team B")
    session.commit()
    return {
        "sponsor": token_for(sponsor, "manage"),
        "a1": token_for(a1, "submit"),
        "b1": token_for(b1, "submit"),
        "a1_read": token_for(a1, "read"),
    }


BASE = "/api/v1/challenges/parity"


def test_announcements(client, tokens):
    made = client.post(
        f"{BASE}/announcements",
        json={"title_en": "Hello", "body_en": "Welcome.", "title_zh": "你好", "body_zh": "欢迎。"},
        headers=tokens["sponsor"],
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["title_zh"] == "你好"
    refused = client.post(
        f"{BASE}/announcements", json={"title_en": "x", "body_en": "y"}, headers=tokens["a1"]
    )
    assert refused.status_code == 403  # scope: a submit token
    listed = client.get(f"{BASE}/announcements").get_json()["announcements"]
    assert [a["title_en"] for a in listed] == ["Hello"]


def test_questions_privacy_and_search(client, tokens):
    asked = client.post(f"{BASE}/questions", json={"text": "Private 50%?"}, headers=tokens["a1"])
    assert asked.status_code == 201 and asked.get_json()["visibility"] == "private"
    qid = asked.get_json()["id"]

    def texts(headers=None, q=None):
        url = f"{BASE}/questions" + (f"?q={q}" if q else "")
        return [x["text"] for x in client.get(url, headers=headers or {}).get_json()["questions"]]

    assert texts(tokens["a1_read"]) == ["Private 50%?"]
    assert texts(tokens["b1"]) == [] and texts() == []
    assert client.post(
        f"{BASE}/questions/{qid}/answer", json={"answer": "x"}, headers=tokens["b1"]
    ).status_code in (403, 404)
    private = client.post(
        f"{BASE}/questions/{qid}/answer",
        json={"answer": "Yes.", "public": False},
        headers=tokens["sponsor"],
    )
    assert private.status_code == 200 and private.get_json()["answer"] == "Yes."
    assert texts(tokens["b1"]) == [] and texts() == []
    client.post(
        f"{BASE}/questions/{qid}/answer",
        json={"answer": "Yes, for all.", "public": True},
        headers=tokens["sponsor"],
    )
    assert texts() == ["Private 50%?"]
    assert texts(q="50%25") == ["Private 50%?"] and texts(q="5_%25") == []
    sponsor_asks = client.post(f"{BASE}/questions", json={"text": "?"}, headers=tokens["sponsor"])
    assert sponsor_asks.status_code == 403


def test_amend_and_revisions(client, tokens, published):
    later = (published.closes_at + dt.timedelta(days=2)).isoformat()
    made = client.post(
        f"{BASE}/amend",
        json={"changes": {"closes_at": later, "summary_zh": "新的简介"}, "reason": "More time."},
        headers=tokens["sponsor"],
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["number"] == 1
    revisions = client.get(f"{BASE}/revisions").get_json()["revisions"]
    assert revisions[0]["changes"]["summary_zh"]["new"] == "新的简介"
    closes = client.get(f"{BASE}").get_json()["closes_at"]
    assert dt.datetime.fromisoformat(closes) == dt.datetime.fromisoformat(later)
    metric = client.post(
        f"{BASE}/amend",
        json={"changes": {"metric": "accuracy"}, "reason": "r"},
        headers=tokens["sponsor"],
    )
    assert metric.status_code == 400
    assert metric.get_json()["error"]["field"] == "metric"
    assert "re-score" in metric.get_json()["error"]["message"]
    earlier = client.post(
        f"{BASE}/amend",
        json={"changes": {"closes_at": "2030-01-01T00:00:00+00:00"}, "reason": "r"},
        headers=tokens["sponsor"],
    )
    assert earlier.status_code == 400 and earlier.get_json()["error"]["field"] == "closes_at"
    amendment = client.get(f"{BASE}/announcements").get_json()["announcements"][0]
    assert amendment["amendment"] == 1


def test_the_lists_cost_a_fixed_few_statements(app, client, tokens, world, session, published):
    """No query per row: the same count with one question and announcement as with six."""
    from sqlalchemy import event

    from challenges import announcements, questions

    sponsor = world.user("s2@example.com", "sponsor", org=world.org())
    asker = world.user("asker@example.com")
    engine = app.extensions["jiebang"].engine

    def counted(url):
        seen = []

        def note(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", note)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", note)
        return len(seen)

    def add(n):
        for i in range(n):
            q = questions.ask(session, challenge=published, user=asker, text=f"q{i}")
            questions.answer(session, question=q, actor=sponsor, text="a", public=True)
            announcements.post(
                session, challenge=published, actor=sponsor, title_en=f"t{i}", body_en="b"
            )
        session.commit()

    add(1)
    few = {u: counted(f"{BASE}/{u}") for u in ("questions", "announcements", "revisions")}
    add(5)
    more = {u: counted(f"{BASE}/{u}") for u in ("questions", "announcements", "revisions")}
    assert few == more and max(more.values()) <= 6, more
