"""Issue 11: wrong words. A draft's preview, a closed challenge, a judge's view of a
submission, and the award's trophy (an icon of our own, not an emoji)."""

import re

import pytest

from challenges import lifecycle
from challenges.models import Challenge
from evaluator.models import Submission
from evaluator.outcome import audit_fields
from jiebang import audit

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}


def _login(app, user):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.get_id()
        cookie["_fresh"] = True
    return client


def _scored(session, sub):
    """The ``submission.scored`` event the worker writes (the award's receipts need it)."""
    sub.status = "scored"
    session.flush()
    audit.record(session, "submission.scored", **audit_fields(sub))
    return sub


@pytest.fixture
def cast(world, session, published, token_for):
    alice = world.user("alice@example.com")
    team = world.team(published, alice, name="Alpha 队")
    sub = _scored(session, world.scored(team, public=0.95, private=0.97))
    judge = world.user("j@example.com", "judge")
    admin = world.user("a@example.com", "admin")
    lifecycle.assign_judge(session, published, judge=judge, actor=admin)
    session.commit()
    users = {"alice": alice, "judge": judge, "admin": admin}
    return {"sub": sub, "users": users, "h": {n: token_for(u) for n, u in users.items()}}


def _award(client, session, cast):
    """Close, re-run (as the worker leaves it), approve: the prize is awarded."""
    h = cast["h"]
    assert client.post("/api/v1/challenges/parity/close", headers=h["admin"]).status_code == 200
    made = client.post("/api/v1/challenges/parity/reruns", headers=h["judge"])
    assert made.status_code == 201, made.get_json()
    rerun = session.get(Submission, made.get_json()["id"])
    rerun.public_score, rerun.private_score = 0.95, 0.97
    _scored(session, rerun)
    session.commit()
    ok = client.post(
        "/api/v1/challenges/parity/verdicts", json={"decision": "approve"}, headers=h["judge"]
    )
    assert ok.status_code == 201, ok.get_json()


def _text(client, url, headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_a_drafts_preview_says_it_is_not_open_yet(app, world, session):
    sponsor = world.user("s@example.com", "sponsor", org=world.org("acme"))
    world.challenge(publish=False)
    session.commit()
    client = _login(app, sponsor)
    en = _text(client, "/challenges/parity", EN)
    assert "takes no more submissions" not in en
    assert "This is a preview: the challenge is not open yet." in en
    zh = _text(client, "/challenges/parity", ZH)
    assert "不再接受提交" not in zh


def test_a_closed_challenge_invites_nobody_to_form_a_team(app, client, world, session):
    world.challenge(opens_at="2020-01-01T00:00:00+08:00", closes_at="2021-01-01T00:00:00+08:00")
    session.commit()
    assert session.query(Challenge).one().effective_status_now() == "closed"
    en = _text(client, "/challenges/parity", EN)
    assert "form a team" not in en.lower() and "Sign up" not in en.split("take-part")[1]
    assert "This challenge has closed" in en
    zh = _text(client, "/challenges/parity", ZH)
    assert "组队" not in zh.split("take-part")[1]


def test_an_open_challenge_still_invites_visitors(client, published):
    en = _text(client, "/challenges/parity", EN)
    assert "Log in to form a team and submit." in en


def test_a_judge_sees_the_submissions_team_not_my_team(app, client, cast, session):
    url = f"/submissions/{cast['sub'].id}"
    # Judges see submissions once the challenge closes.
    closed = client.post("/api/v1/challenges/parity/close", headers=cast["h"]["admin"])
    assert closed.status_code == 200
    judge = _login(app, cast["users"]["judge"])
    for headers, mine, theirs in ((EN, "My team", "Team Alpha 队"), (ZH, "我的团队", "Alpha 队")):
        page = _text(judge, url, headers)
        crumbs = page.split('class="crumbs"')[1].split("</nav>")[0]
        assert mine not in crumbs and theirs in crumbs
    alice = _login(app, cast["users"]["alice"])
    crumbs = _text(alice, url, EN).split('class="crumbs"')[1].split("</nav>")[0]
    assert "My team" in crumbs  # the team's own member


def test_the_trophy_is_our_icon_not_an_emoji(app, client, cast, session):
    _award(client, session, cast)
    for url in ("/challenges/parity", "/challenges/parity/leaderboard", "/judge/parity"):
        viewer = _login(app, cast["users"]["judge"])
        for headers in (EN, ZH):
            page = _text(viewer, url, headers)
            assert "🏆" not in page
            assert not re.search("[\U0001f300-\U0001faff]", page), url
            icon = re.search(r'<svg class="icon trophy"[^>]*>', page)
            assert icon and 'aria-hidden="true"' in icon.group(0), url


def test_no_template_or_module_draws_an_emoji():
    """Emoji need an emoji font; our pages use icons of their own (templates/_icons.html)."""
    from pathlib import Path

    import web

    root = Path(web.__file__).parent
    emoji = re.compile("[\U0001f000-\U0001faff\u2b50\u2705\u274c]")
    files = [*root.glob("templates/*.html"), *root.glob("*.py"), root / "static" / "app.js"]
    assert [f.name for f in files if emoji.search(f.read_text("utf-8"))] == []
