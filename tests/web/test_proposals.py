"""The proposal stage over the API and the pages: upload, reviewers, scores, shortlist,
the PDF's headers, what each role sees, and both languages."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from challenges import proposals
from jiebang.notifications import Notification
from tests.challenges.test_proposals import STAGE, make_pdf

PAST = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)  # before the closed stage's due date


def _login(client, email, password="password123"):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def cast(world, session):
    """Two challenges on the real clock: 'open-stage' takes proposals until 2098, and
    'parity' whose proposals were due in 2026 (so its shortlist can be made final)."""
    acme = world.org()
    people = {
        "sponsor": world.user("s@acme.example.com", "sponsor", org=acme),
        "expert": world.user("expert@uni.example.com"),
        "a": world.user("a@team.example.com"),
        "b": world.user("b@team.example.com"),
        "outsider": world.user("o@x.example.com"),
        "admin": world.user("admin@x.example.com", "admin"),
    }
    dates = {"opens_at": "2020-01-01T00:00:00+08:00", "closes_at": "2099-01-01T00:00:00+08:00"}
    future = world.challenge(
        slug="open-stage", proposal={**STAGE, "due": "2098-01-01T00:00:00+08:00"}, **dates
    )
    done = world.challenge(proposal={**STAGE, "due": "2026-01-01T00:00:00+08:00"}, **dates)
    teams = {
        "a": world.team(done, people["a"], name="Alpha"),
        "b": world.team(done, people["b"], name="Beta"),
        "fa": world.team(future, people["a"], name="Alpha"),
    }
    for key in ("a", "b"):
        proposals.upload(
            session, user=people[key], team=teams[key], challenge=done,
            stream=io.BytesIO(make_pdf(key)), filename=f"{key}.pdf", blobs=world.blobs, now=PAST,
        )  # fmt: skip
    session.commit()
    return people, teams, future, done


def test_a_team_uploads_its_proposal_over_the_api(client, cast, token_for):
    people, _teams, _future, _done = cast
    headers = token_for(people["a"], "submit")
    answer = client.get("/api/v1/challenges/open-stage/proposal", headers=headers)
    assert answer.status_code == 200 and answer.json["proposal"] is None and answer.json["open"]
    bad = client.post(
        "/api/v1/challenges/open-stage/proposal",
        headers=headers,
        data={"file": (io.BytesIO(b"GIF89a..."), "x.pdf")},
    )
    assert bad.status_code == 400 and "Not a PDF" in bad.json["error"]["message"]
    good = client.post(
        "/api/v1/challenges/open-stage/proposal?filename=plan.pdf",
        headers={**headers, "Content-Type": "application/octet-stream"},
        data=make_pdf(),
    )
    assert good.status_code == 201, good.json
    assert good.json["proposal"]["filename"] == "plan.pdf" and good.json["shortlisted"] is None
    # A read token may look, not upload; an outsider has no team here.
    read = token_for(people["a"], "read")
    assert client.post("/api/v1/challenges/open-stage/proposal", headers=read).status_code == 403
    outsider = token_for(people["outsider"], "submit")
    assert client.get("/api/v1/challenges/open-stage/proposal", headers=outsider).status_code == 404


def test_the_whole_stage_over_the_api(client, cast, token_for, session):
    people, teams, _future, _done = cast
    sponsor = token_for(people["sponsor"])
    expert = token_for(people["expert"])
    base = "/api/v1/challenges/parity"
    added = client.post(
        f"{base}/reviewers", headers=sponsor, json={"email": "expert@uni.example.com"}
    )
    assert (
        added.status_code == 201 and added.json["reviewers"][0]["email"] == "expert@uni.example.com"
    )
    member = client.post(f"{base}/reviewers", headers=sponsor, json={"email": "a@team.example.com"})
    assert member.status_code == 409
    assert (
        client.post(
            f"{base}/reviewers", headers=expert, json={"email": "o@x.example.com"}
        ).status_code
        == 404
    )
    to_review = client.get(f"{base}/proposals", headers=expert).json
    assert "totals" not in to_review and len(to_review["to_review"]) == 2
    a, b = teams["a"].id, teams["b"].id
    for team_id, value in ((a, 80), (b, 60)):
        put = client.put(
            f"{base}/proposals/{team_id}/scores",
            headers=expert,
            json={
                "scores": {"technical": value, "team": value, "plan": value},
                "comments": {"plan": f"c{value}"},
            },
        )
        assert put.status_code == 200, put.json
    over = client.put(
        f"{base}/proposals/{a}/scores", headers=expert,
        json={"scores": {"technical": 101, "team": 1, "plan": 1}},
    )  # fmt: skip
    assert over.status_code == 400
    # The sponsor's totals; a team's members and outsiders see no scores.
    totals = client.get(f"{base}/proposals", headers=sponsor).json["totals"]
    assert [(t["team_id"], t["total"]) for t in totals] == [(a, 80.0), (b, 60.0)]
    for who in ("a", "outsider"):
        token = token_for(people[who])
        assert client.get(f"{base}/proposals/{a}/scores", headers=token).status_code in (403, 404)
        assert client.get(f"{base}/shortlist", headers=token).status_code == 404
    scores = client.get(f"{base}/proposals/{a}/scores", headers=sponsor).json["scores"]
    plan = next(s["id"] for s in scores if s["criterion"] == "plan")
    released = client.post(
        f"{base}/proposals/comments", headers=sponsor, json={"score_ids": [plan]}
    )
    assert released.json == {"changed": 1}
    too_many = client.put(f"{base}/shortlist", headers=sponsor, json={"team_ids": [a, b, 999]})
    assert too_many.status_code == 400 and "At most 2" in too_many.json["error"]["message"]
    final = client.put(f"{base}/shortlist", headers=sponsor, json={"team_ids": [a], "final": True})
    assert final.status_code == 200 and final.json == {
        "shortlist": 2,
        "final": True,
        "team_ids": [a],
    }
    mine = client.get(f"{base}/proposal", headers=token_for(people["a"])).json
    assert mine["shortlisted"] is True and mine["comments"] == [
        {"criterion": "plan", "comment": "c80"}
    ]
    theirs = client.get(f"{base}/proposal", headers=token_for(people["b"])).json
    assert theirs["shortlisted"] is False and theirs["comments"] == []
    kinds = {(n.user_id, n.kind) for n in session.query(Notification)}
    assert (people["a"].id, "proposal.shortlisted") in kinds
    assert (people["b"].id, "proposal.not_shortlisted") in kinds
    assert (people["expert"].id, "proposal.reviewer_assigned") in kinds
    # Only the shortlisted team submits.
    refused = client.post(
        f"{base}/submissions", headers=token_for(people["b"], "submit"),
        data={"file": (io.BytesIO(b"x"), "x.zip"), "kind": "bundle"},
    )  # fmt: skip
    assert refused.status_code == 403 and "not shortlisted" in refused.json["error"]["message"]


def test_the_pdf_is_served_as_an_attachment_to_those_who_may_read_it(client, cast, token_for):
    people, teams, _future, _done = cast
    url = f"/api/v1/challenges/parity/proposals/{teams['a'].id}/file"
    answer = client.get(url, headers=token_for(people["sponsor"]))
    assert answer.status_code == 200 and answer.data == make_pdf("a")
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(url, headers=token_for(people["a"])).status_code == 200
    for who in ("b", "outsider", "expert"):  # the expert is not assigned
        assert client.get(url, headers=token_for(people[who])).status_code == 404


def test_the_pages_in_both_languages(app, cast, session):
    people, teams, _future, done = cast
    sponsor = app.test_client()
    _login(sponsor, "s@acme.example.com")
    dashboard = sponsor.get("/sponsor/challenges/parity").get_data(as_text=True)
    assert 'id="proposals-link"' in dashboard
    page = sponsor.get("/challenges/parity/proposals")
    assert page.status_code == 200 and "Alpha" in page.get_data(as_text=True)
    answer = sponsor.post(
        "/challenges/parity/proposals/reviewers", data={"email": "expert@uni.example.com"}
    )
    assert answer.status_code == 302
    expert = app.test_client()
    _login(expert, "expert@uni.example.com")
    listing = expert.get("/review").get_data(as_text=True)
    assert "Parity" in listing and 'href="/review"' in listing  # the "Reviews" link
    review = expert.get("/review/parity", headers={"Accept-Language": "zh-CN"})
    assert review.status_code == 200 and "技术方案" in review.get_data(as_text=True)
    form = {"score-technical": "90", "score-team": "90", "score-plan": "90", "comment-plan": "ok"}
    assert expert.post(f"/review/parity/{teams['a'].id}", data=form).status_code == 302
    assert proposals.scores_of(
        session, challenge=done, team_id=teams["a"].id, user=people["sponsor"]
    )
    sponsor.post(
        "/challenges/parity/proposals/shortlist", data={"team": [str(teams["a"].id)], "final": "1"}
    )
    assert proposals.is_final(session, done)
    team = app.test_client()
    _login(team, "a@team.example.com")
    assert 'id="proposal-link"' in team.get("/challenges/parity/team").get_data(as_text=True)
    assert 'href="/review"' not in team.get("/challenges/parity/team").get_data(as_text=True)
    mine = team.get("/challenges/parity/proposal").get_data(as_text=True)
    assert "shortlisted" in mine and "90" not in mine  # no score reaches the team
    assert team.get("/challenges/parity/proposals").status_code == 404
    assert team.get("/review/parity").status_code == 404
    outsider = app.test_client()
    _login(outsider, "o@x.example.com")
    assert outsider.get(f"/challenges/parity/proposals/{teams['a'].id}/file").status_code == 404


def test_the_rules_page_explains_the_stage_to_everyone(client, cast):
    page = client.get("/challenges/parity/rules").get_data(as_text=True)
    assert 'id="proposal-stage"' in page and "2026-01-01 00:00 (Asia/Shanghai)" in page
    assert "Technical" in page and "at most 2 teams" in page


def test_the_lists_cost_the_same_few_statements_at_2_and_12_proposals(
    app, client, cast, world, session, token_for
):
    """The sponsor's totals and a reviewer's list: no statement per proposal (6 and 7)."""
    from sqlalchemy import event

    people, _teams, _future, done = cast
    proposals.assign_reviewer(
        session, challenge=done, user=people["expert"], actor=people["sponsor"]
    )
    session.commit()
    engine = app.extensions["jiebang"].engine
    headers = {who: token_for(people[who], "read") for who in ("sponsor", "expert")}

    def counted(who):
        seen = []

        def note(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", note)
        try:
            answer = client.get("/api/v1/challenges/parity/proposals", headers=headers[who])
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert answer.status_code == 200
        return answer.json, len(seen)

    few = {who: counted(who) for who in headers}
    for n in range(10):
        user = world.user(f"t{n}@team.example.com")
        team = world.team(done, user, name=f"Team {n}")
        proposals.upload(
            session, user=user, team=team, challenge=done, stream=io.BytesIO(make_pdf()),
            filename="p.pdf", blobs=world.blobs, now=PAST,
        )  # fmt: skip
    session.commit()
    many = {who: counted(who) for who in headers}
    assert len(many["sponsor"][0]["totals"]) == 12 and len(many["expert"][0]["to_review"]) == 12
    for who in headers:
        assert few[who][1] == many[who][1] <= 8, (who, few[who][1], many[who][1])
