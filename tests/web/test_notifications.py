"""Notifications on the site and in the API; the events that make them; no mail in a request."""

import datetime as dt

from rq import Queue

from challenges import lifecycle, service
from evaluator import notices as submission_notices
from jiebang import mail, notifications
from jiebang.notifications import EmailState, Notification, notify
from jiebang.settings import load_settings
from leaderboards.decision import record_verdict
from leaderboards.lifecycle import tick
from web import notification_jobs
from web.app import create_app

PARAMS = {"challenge": {"en": "Parity", "zh": "奇偶校验"}, "slug": "parity"}


def _login(client, email):
    client.post("/login", data={"email": email, "password": "password123"})


def _kinds(session, user):
    session.expire_all()
    rows = session.query(Notification).filter_by(user_id=user.id).order_by(Notification.id)
    return [n.kind for n in rows]


def test_the_list_the_count_in_the_menu_and_marking_read(client, world, session):
    user = world.user("p@example.com")
    other = world.user("o@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id, other.id], params=PARAMS, link="/x")
    notify(session, kind="challenge.awarded", user_ids=[user.id], params={**PARAMS, "team": "Reds"})
    session.commit()
    _login(client, "p@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Closed: Parity" in page and "The prize of Parity is awarded to Reds." in page
    assert '<span class="badge" aria-label="2 unread">2</span>' in page  # the menu
    client.set_cookie("lang", "zh")
    assert "奇偶校验" in client.get("/notifications").get_data(as_text=True)
    first = session.query(Notification).filter_by(user_id=user.id, kind="challenge.closed").one()
    client.post("/notifications/read", data={"id": first.id})
    assert notifications.unread_count(session, user.id) == 1
    for bad in ("0", "x", ""):  # a broken id marks none, not every notification
        client.post("/notifications/read", data={"id": bad})
        assert notifications.unread_count(session, user.id) == 1
    client.post("/notifications/read", data={})
    assert notifications.unread_count(session, user.id) == 0
    assert notifications.unread_count(session, other.id) == 1  # theirs untouched
    page = client.get("/").get_data(as_text=True)
    assert 'class="badge"' not in page


def test_settings_choose_per_kind_and_the_language(client, world, session):
    user = world.user("p@example.com")
    session.commit()
    _login(client, "p@example.com")
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "A challenge is closed" in page and "no mail server is configured" in page
    form = {f"site-{k}": "on" for k in notifications.KINDS}
    form |= {f"email-{k}": "immediate" for k in notifications.KINDS}
    form |= {"email-challenge.closed": "digest", "language": "zh"}
    del form["site-challenge.awarded"]
    answer = client.post("/notifications/settings", data=form)
    assert answer.status_code == 302
    session.expire_all()
    choices = notifications.preferences(session, user.id)
    assert choices["challenge.closed"].email.value == "digest"
    assert choices["challenge.awarded"].site is False
    assert notifications.language(session, user.id) == "zh"
    bad = client.post("/notifications/settings", data={**form, "email-challenge.closed": "x"})
    assert bad.status_code == 302
    session.expire_all()
    assert notifications.preferences(session, user.id)["challenge.closed"].email.value == "digest"


def test_the_api_lists_and_marks_read(client, world, session, token_for):
    user = world.user("p@example.com")
    other = world.user("o@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id, other.id], params=PARAMS)
    notify(session, kind="challenge.unclaimed", user_ids=[user.id], params=PARAMS)
    session.commit()
    headers = token_for(user, scope="read")
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert body["unread"] == 2
    assert [n["kind"] for n in body["notifications"]] == ["challenge.unclaimed", "challenge.closed"]
    assert body["notifications"][1]["title"] == "Closed: Parity"
    zh = client.get("/api/v1/notifications", headers={**headers, "Accept-Language": "zh-CN"})
    assert "奇偶校验" in zh.get_json()["notifications"][1]["title"]
    theirs = session.query(Notification).filter_by(user_id=other.id).one()
    mine = body["notifications"][0]["id"]
    answer = client.post(
        "/api/v1/notifications/read", json={"ids": [mine, theirs.id]}, headers=headers
    )
    assert answer.get_json() == {"marked": 1, "unread": 1}
    answer = client.post("/api/v1/notifications/read", json={}, headers=headers)
    assert answer.get_json() == {"marked": 1, "unread": 0}
    assert notifications.unread_count(session, other.id) == 1
    assert client.get("/api/v1/notifications").status_code == 401


def test_a_request_only_queues_the_mail(settings, engine, world, session, redis_conn):
    """The sponsor's request for review: the administrator's mail is a queued row and a
    job on the mail queue when the response comes; nothing was sent in the request."""
    mail_on = load_settings(**{**settings.model_dump(), "smtp_host": "127.0.0.1", "smtp_port": 9})
    app = create_app(mail_on)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    admin = world.user("admin@example.com", role="admin")
    draft = world.challenge(publish=False)
    session.commit()
    _login(client, sponsor.email)
    answer = client.post(f"/sponsor/challenges/{draft.slug}/review")
    assert answer.status_code == 302
    session.expire_all()
    note = session.query(Notification).filter_by(user_id=admin.id).one()
    assert note.kind == "challenge.review_requested"
    assert note.email_state == EmailState.queued.value and note.email_attempts == 0
    queued = Queue(mail.queue_name(mail_on), connection=redis_conn).job_ids
    assert queued == [notification_jobs.send_job_id(mail_on, note.id)]


def test_the_events_notify_the_people_involved(world, session):
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    admin = world.user("admin@example.com", role="admin")
    judge = world.user("judge@example.com", role="judge")
    a, b = world.user("a@example.com"), world.user("b@example.com")
    challenge = world.challenge(publish=False)
    lifecycle.request_review(session, challenge, actor=sponsor)
    assert _kinds(session, admin) == ["challenge.review_requested"]
    service.publish(session, challenge, actor=admin)
    assert _kinds(session, sponsor) == ["challenge.approved"]
    lifecycle.assign_judge(session, challenge, judge=judge, actor=admin)
    team = world.team(challenge, a, b, name="Reds")
    scored = world.scored(team, public=0.95, private=0.97)
    submission_notices.submission_final(session, scored)
    failed = world.failed(team, "output.missing", failure="bad_output", file="predictions.csv")
    submission_notices.submission_final(session, failed)
    assert _kinds(session, a) == ["submission.scored", "submission.failed"]
    assert _kinds(session, b) == _kinds(session, a)
    note = session.query(Notification).filter_by(user_id=a.id, kind="submission.failed").one()
    assert note.params["reason"] == {
        "code": "output.missing",
        "params": {"file": "predictions.csv"},
    }
    tick(session, now=challenge.closes_at + dt.timedelta(seconds=1))  # closed, then judging
    for user in (a, sponsor, judge):
        assert "challenge.closed" in _kinds(session, user)
    assert _kinds(session, judge)[-1] == "challenge.provisional_result"
    rerun = world.scored(team, public=0.95, private=0.97, rerun_of=scored)
    submission_notices.submission_final(session, rerun)  # a judge's re-run tells no team
    assert _kinds(session, a).count("submission.scored") == 1


def test_an_award_and_an_unclaimed_end_notify_everyone(world, session):
    from evaluator.reruns import request_rerun

    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    admin = world.user("admin@example.com", role="admin")
    judge = world.user("judge@example.com", role="judge")
    a = world.user("a@example.com")
    challenge = world.challenge()
    lifecycle.assign_judge(session, challenge, judge=judge, actor=admin)
    team = world.team(challenge, a, name="Reds")
    best = world.scored(team, public=0.95, private=0.97)
    tick(session, now=challenge.closes_at + dt.timedelta(seconds=1))
    rerun = request_rerun(session, original=best, judge=judge)
    rerun.status, rerun.public_score, rerun.private_score = "scored", 0.95, 0.97
    session.flush()
    record_verdict(session, challenge, judge=judge, decision="approve")
    for user in (a, sponsor, judge):
        assert _kinds(session, user)[-1] == "challenge.awarded"
    note = session.query(Notification).filter_by(user_id=a.id, kind="challenge.awarded").one()
    assert note.params["team"] == "Reds"
    empty = world.challenge(slug="empty")
    tick(session, now=empty.closes_at + dt.timedelta(seconds=1))
    assert _kinds(session, sponsor)[-1] == "challenge.unclaimed"


def test_a_challenge_sent_back_tells_its_sponsor_why(world, session):
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    admin = world.user("admin@example.com", role="admin")
    challenge = world.challenge(publish=False)
    lifecycle.request_review(session, challenge, actor=sponsor)
    lifecycle.review(
        session, challenge, decision="request_changes", comment="Add a sample.", actor=admin
    )
    assert _kinds(session, sponsor) == ["challenge.refused"]
    note = session.query(Notification).filter_by(user_id=sponsor.id).one()
    assert note.params["reason"] == "Add a sample."
