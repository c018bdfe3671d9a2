"""notify(): stored per user as kind and parameters, per the user's choices; once(); read."""

import datetime as dt

import pytest

from challenges import notices
from jiebang import notifications
from jiebang.errors import Invalid
from jiebang.notifications import (
    KINDS,
    OUTBOX_KEY,
    EmailMode,
    EmailState,
    Kind,
    Notification,
    notify,
)


def _rows(session, user_id):
    return session.query(Notification).filter_by(user_id=user_id).order_by(Notification.id).all()


def test_notify_stores_kind_and_params_once_per_user_with_the_default_email(world, session):
    a, b = world.user("a@example.com"), world.user("b@example.com")
    params = {"challenge": {"en": "Parity", "zh": "奇偶"}, "slug": "parity"}
    made = notify(
        session, kind="challenge.closed", user_ids=[a.id, b.id, a.id], params=params, link="/x"
    )
    assert sorted(n.user_id for n in made) == [a.id, b.id]
    row = _rows(session, a.id)[0]
    assert (row.kind, row.params, row.link, row.site) == ("challenge.closed", params, "/x", True)
    assert row.email_state == EmailState.queued.value and row.read_at is None
    assert sorted(session.info[OUTBOX_KEY]) == sorted(n.id for n in made)


def test_preferences_decide_site_and_email(world, session):
    off, digest, silent = (world.user(f"{n}@example.com") for n in ("off", "digest", "silent"))
    notifications.set_preference(
        session, user_id=off.id, kind="challenge.closed", email="off", site=True
    )
    notifications.set_preference(
        session, user_id=digest.id, kind="challenge.closed", email="digest", site=False
    )
    notifications.set_preference(
        session, user_id=silent.id, kind="challenge.closed", email="off", site=False
    )
    notify(
        session,
        kind="challenge.closed",
        user_ids=[off.id, digest.id, silent.id],
        params={"challenge": "C"},
    )
    assert [(r.email_state, r.site) for r in _rows(session, off.id)] == [("none", True)]
    assert [(r.email_state, r.site) for r in _rows(session, digest.id)] == [("digest", False)]
    assert _rows(session, silent.id) == []  # nothing at all
    assert session.info.get(OUTBOX_KEY, []) == []  # nothing to mail at once
    # Another kind keeps its default.
    assert (
        notifications.preferences(session, off.id)["challenge.awarded"].email is EmailMode.immediate
    )
    assert notifications.unread_count(session, digest.id) == 0  # not shown on the site


def test_an_unknown_kind_or_mode_is_refused(world, session):
    user = world.user("a@example.com")
    with pytest.raises(Invalid, match="kind"):
        notify(session, kind="no.such", user_ids=[user.id], params={})
    with pytest.raises(Invalid) as caught:
        notifications.set_preference(
            session, user_id=user.id, kind="challenge.closed", email="sometimes", site=True
        )
    assert caught.value.field == "email"
    with pytest.raises(Invalid):
        notifications.set_language(session, user_id=user.id, language="fr")


def test_a_kind_is_one_registry_entry():
    """Every kind has both templates; a new one is one register() call."""
    for kind in KINDS.values():
        assert kind.title and kind.body
    for name in ("challenge.closed", "submission.failed", "challenge.awarded"):
        assert KINDS[name].label and KINDS[name].audience
    kind = Kind("test.kind", "T %(x)s", "B", label="L", audience="A")
    try:
        notifications.register(kind)
        assert KINDS["test.kind"] is kind
        with pytest.raises(ValueError):
            notifications.register(Kind("test.kind", "other", "B"))
    finally:
        KINDS.pop("test.kind", None)


def test_mark_read_touches_only_the_users_own(world, session):
    a, b = world.user("a@example.com"), world.user("b@example.com")
    notify(session, kind="challenge.closed", user_ids=[a.id, b.id], params={})
    notify(session, kind="challenge.awarded", user_ids=[a.id], params={})
    theirs = _rows(session, b.id)[0]
    assert notifications.mark_read(session, a.id, [theirs.id]) == 0
    first = _rows(session, a.id)[0]
    assert notifications.mark_read(session, a.id, [first.id]) == 1
    assert notifications.unread_count(session, a.id) == 1
    assert notifications.mark_read(session, a.id) == 1
    assert notifications.unread_count(session, a.id) == 0
    assert notifications.unread_count(session, b.id) == 1


def test_unsubscribe_stops_that_kinds_mail_and_drops_what_waits(world, session):
    user = world.user("a@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id], params={})
    notifications.unsubscribe(session, user_id=user.id, kind="challenge.closed")
    assert _rows(session, user.id)[0].email_state == EmailState.skipped.value
    choice = notifications.preferences(session, user.id)["challenge.closed"]
    assert choice.email is EmailMode.off and choice.site is True
    notify(session, kind="challenge.closed", user_ids=[user.id], params={})
    assert _rows(session, user.id)[-1].email_state == EmailState.none.value


def test_once_is_once(session):
    assert notifications.once(session, "k:1") is True
    assert notifications.once(session, "k:1") is False
    assert notifications.once(session, "k:2") is True


def test_announcements_are_sent_once_per_challenge(world, session):
    now = dt.datetime.now(dt.UTC)
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    player = world.user("p@example.com")
    challenge = world.challenge(
        opens_at=(now - dt.timedelta(hours=1)).isoformat(),
        closes_at=(now + dt.timedelta(hours=5)).isoformat(),
    )
    world.team(challenge, player)
    assert notices.announce_due(session, now=now) == 2
    assert notices.announce_due(session, now=now) == 0
    assert [n.kind for n in _rows(session, player.id)] == ["challenge.closing_soon"]
    kinds = [n.kind for n in _rows(session, sponsor.id)]
    assert "challenge.opened" in kinds and "challenge.closing_soon" not in kinds


def test_mail_settings_read_the_password_file_and_either_from_name(tmp_path, monkeypatch):
    from jiebang import mail
    from jiebang.settings import load_settings

    secret = tmp_path / "smtp-password"
    secret.write_text("from-the-file\n")
    monkeypatch.setenv("JIEBANG_SMTP_FROM", "Jiebang <mail@example.org>")
    settings = load_settings(
        data_dir=tmp_path, smtp_password_file=secret, public_url="https://x.example/"
    )
    assert settings.smtp_password == "from-the-file"
    assert settings.mail_from == "Jiebang <mail@example.org>"
    assert settings.public_url == "https://x.example"
    assert not mail.enabled(settings)  # no host: no mail
    with pytest.raises(mail.MailNotConfigured):
        mail.send(settings, mail.Mail(to="a@example.org", subject="s", text="t", html="h"))
    message = mail.build(
        settings,
        mail.Mail(
            to="a@example.org",
            subject="s",
            text="t",
            html="<p>h</p>",
            language="zh",
            unsubscribe_url="https://x.example/notifications/unsubscribe/tok",
        ),
    )
    assert message["Content-Language"] == "zh-CN"
    assert message["List-Unsubscribe"] == "<https://x.example/notifications/unsubscribe/tok>"
    assert message.get_body(("html",)).get_content().strip() == "<p>h</p>"
