"""Mail through a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS required, AUTH),
sent by the RQ jobs on a real Redis; the same notifications shown on the site."""

import datetime as dt
import email
import ipaddress
import re
import socket
import ssl
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from rq import Queue, SimpleWorker

from evaluator import context
from jiebang import mail, notifications
from jiebang.notifications import KINDS, EmailState, Notification, notify
from jiebang.settings import load_settings
from web import notification_jobs
from web.app import create_app

USER, PASSWORD = "mailer", "s3cret-pass"


def _certificate(folder):
    """A self-signed certificate for 127.0.0.1, made here."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.sessions: list[tuple[bool, bool]] = []  # (TLS, authenticated) per message

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.sessions.append((session.ssl is not None, session.authenticated))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword)
    ok = ok and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


class SmtpServer:
    def __init__(self, tmp_path) -> None:
        self.cert, self.key = _certificate(tmp_path)
        self.port = _free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=tls,
            require_starttls=True,
            authenticator=_authenticate,
            auth_required=True,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings, smtp):
    return load_settings(
        **{
            **settings.model_dump(),
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_user": USER,
            "smtp_password": PASSWORD,
            "smtp_starttls": True,
            "smtp_ca_file": smtp.cert,
            "public_url": "https://jiebang.example",
        }
    )


@pytest.fixture
def ctx(mail_settings, engine, redis_conn, sessions):
    found = context.open_context(mail_settings)
    notification_jobs.install(sessions, mail_settings, redis_conn)
    yield found
    found.close()
    context._current = None


class _Worker(SimpleWorker):
    """RQ's worker without its command listener, whose stop can take a minute (see
    evaluator.worker); a burst run needs no commands."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def _work(ctx, *, scheduler=False) -> None:
    queue = Queue(mail.queue_name(ctx.settings), connection=ctx.redis)
    _Worker([queue], connection=ctx.redis).work(burst=True, with_scheduler=scheduler)


def _login(client, email):
    client.post("/login", data={"email": email, "password": "password123"})


PARAMS = {
    "challenge": {"en": "Container damage", "zh": "集装箱箱损识别"},
    "slug": "parity",
    "org": "Acme",
    "reason": {"code": "output.missing", "params": {"file": "predictions.csv"}},
    "failure": {"word": "bad_output"},
    "submission": 7,
    "score": "0.91",
    "team": "Red Pandas",
    "closes_at": "2027-03-01 00:00 UTC",
}
MINE = [k for k in KINDS if k.startswith(("challenge.", "submission."))]


def test_every_kind_is_mailed_through_smtp_and_shown_on_the_site(
    ctx, smtp, mail_settings, world, session
):
    smtp.start()
    en, zh = world.user("en@example.com"), world.user("zh@example.com")
    notifications.set_language(session, user_id=zh.id, language="zh")
    every = list(KINDS)  # the other areas' kinds too (organizations, registration, ...)
    for kind in every:
        notify(
            session, kind=kind, user_ids=[en.id, zh.id], params=PARAMS, link="/challenges/parity"
        )
    session.commit()  # after the commit, one job per mail
    assert smtp.inbox.messages == []
    _work(ctx)
    assert len(MINE) >= 11 and len(smtp.inbox.messages) == 2 * len(every)
    assert set(smtp.inbox.sessions) == {(True, True)}  # STARTTLS, then AUTH
    by = {}
    for message in smtp.inbox.messages:
        by.setdefault(message["To"], []).append(message)
    english = {m["Subject"] for m in by["en@example.com"]}
    assert "Closed: Container damage" in english
    assert "Submission 7 failed in Container damage" in english
    failed = next(m for m in by["en@example.com"] if m["Subject"].startswith("Submission 7 f"))
    text = failed.get_body(("plain",)).get_content()
    # The reason in the words of the submission page (evaluator.messages).
    assert "predictions.csv was not found: write your predictions to predictions.csv." in text
    assert "wrong output" in text
    assert "https://jiebang.example/challenges/parity" in text
    html = failed.get_body(("html",)).get_content()
    assert 'href="https://jiebang.example/challenges/parity"' in html
    for message in by["zh@example.com"]:
        assert message["Content-Language"] == "zh-CN"
    titled = [m for m in by["zh@example.com"] if "集装箱箱损识别" in m["Subject"]]
    assert len(titled) >= len(MINE)  # every kind about a challenge, in Chinese
    for message in smtp.inbox.messages:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<https://jiebang.example/notifications/")
    states = {n.email_state for n in session.query(Notification).all()}
    assert states == {EmailState.sent.value}
    # A job run again (a retry after a success) sends nothing twice.
    first = session.query(Notification).first()
    assert notification_jobs.deliver(ctx, first.id) == "nothing to send"
    assert len(smtp.inbox.messages) == 2 * len(every)

    app = create_app(mail_settings)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    _login(client, "en@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Closed: Container damage" in page and "Awarded: Container damage" in page
    assert "predictions.csv was not found" in page
    _login_zh = app.test_client()
    _login_zh.set_cookie("lang", "zh")
    _login(_login_zh, "zh@example.com")
    page = _login_zh.get("/notifications").get_data(as_text=True)
    assert page.count("集装箱箱损识别") >= len(MINE)


def test_the_unsubscribe_link_of_a_received_mail_works_without_login(
    ctx, smtp, mail_settings, world, session
):
    smtp.start()
    user = world.user("a@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id], params=PARAMS)
    session.commit()
    _work(ctx)
    (message,) = smtp.inbox.messages
    url = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert url in message.get_body(("plain",)).get_content()
    path = url.removeprefix("https://jiebang.example")
    app = create_app(mail_settings)  # CSRF on: the one-click POST needs no token
    client = app.test_client()
    assert "Unsubscribe" in client.get(path).get_data(as_text=True)
    session.expire_all()
    assert (
        notifications.preferences(session, user.id)["challenge.closed"].email.value == "immediate"
    )
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert client.post("/notifications/read").status_code == 400  # CSRF still guards the rest
    session.expire_all()
    assert notifications.preferences(session, user.id)["challenge.closed"].email.value == "off"
    notify(session, kind="challenge.closed", user_ids=[user.id], params=PARAMS)
    session.commit()
    _work(ctx)
    assert len(smtp.inbox.messages) == 1  # no more mail of that kind
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.post(tampered).status_code == 404


def test_a_mail_is_retried_until_the_server_is_up(ctx, smtp, world, session, monkeypatch):
    monkeypatch.setattr(notification_jobs, "RETRY_INTERVALS", [1, 1, 1, 1, 1])
    user = world.user("a@example.com")
    notify(session, kind="challenge.awarded", user_ids=[user.id], params=PARAMS)
    session.commit()
    _work(ctx)  # nothing listens on the port: the job fails, RQ schedules a retry
    note = session.query(Notification).one()
    session.refresh(note)
    assert (note.email_state, note.email_attempts) == (EmailState.queued.value, 1)
    smtp.start()
    time.sleep(1.5)
    _work(ctx, scheduler=True)  # the scheduler puts the retry back on the queue
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Awarded: Container damage"]
    session.refresh(note)
    assert (note.email_state, note.email_attempts) == (EmailState.sent.value, 2)


def test_a_digest_gathers_a_days_notifications_in_one_mail(ctx, smtp, world, session):
    smtp.start()
    user = world.user("a@example.com")
    for kind in ("challenge.closed", "challenge.awarded"):
        notifications.set_preference(session, user_id=user.id, kind=kind, email="digest", site=True)
        notify(session, kind=kind, user_ids=[user.id], params=PARAMS)
    session.commit()
    _work(ctx)
    assert smtp.inbox.messages == []  # nothing at once
    assert notification_jobs.sweep(ctx)["digests"] == 0  # not a day old yet
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    assert notification_jobs.sweep(ctx, now=later)["digests"] == 1
    _work(ctx)
    (digest,) = smtp.inbox.messages
    assert digest["Subject"] == "Jiebang: 2 notifications"
    text = digest.get_body(("plain",)).get_content()
    assert "Closed: Container damage" in text and "Awarded: Container damage" in text
    assert notification_jobs.sweep(ctx, now=later)["digests"] == 0


def test_the_sweep_requeues_mail_whose_job_was_lost(ctx, smtp, world, session, redis_conn):
    smtp.start()
    user = world.user("a@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id], params=PARAMS)
    session.info.pop(notifications.OUTBOX_KEY)  # as if Redis had been unreachable
    session.commit()
    _work(ctx)
    assert smtp.inbox.messages == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert notification_jobs.sweep(ctx, now=later)["requeued"] == 1
    _work(ctx)
    assert len(smtp.inbox.messages) == 1


def test_no_mail_server_no_mail_but_the_site_still_notifies(settings, world, session, engine):
    user = world.user("a@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id], params=PARAMS)
    session.commit()
    found = context.open_context(settings)
    try:
        assert notification_jobs.sweep(found)["skipped"] == 1
    finally:
        found.close()
        context._current = None
    note = session.query(Notification).one()
    session.refresh(note)
    assert note.email_state == EmailState.skipped.value
    assert notifications.unread_count(session, user.id) == 1


def test_jiebang_mail_test_sends_through_the_server(smtp, mail_settings):
    from click.testing import CliRunner

    from jiebang.cli import Runtime
    from web.cli import cli

    smtp.start()
    runtime = Runtime()
    runtime.__dict__["settings"] = mail_settings
    result = CliRunner().invoke(cli, ["mail", "test", "--to", "ops@example.com"], obj=runtime)
    assert result.exit_code == 0, result.output
    (message,) = smtp.inbox.messages
    assert (message["To"], message["Subject"]) == ("ops@example.com", "Jiebang: test message")
    smtp.stop()
    result = CliRunner().invoke(cli, ["mail", "test", "--to", "ops@example.com"], obj=runtime)
    assert result.exit_code == 1 and "not sent" in result.output
