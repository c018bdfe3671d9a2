"""Mail for notifications: the outbox's jobs, their enqueueing after commit, the sweep.

A notification to mail is a row with ``email_state`` ``queued`` (or ``digest``),
committed with its event. After the commit, ``after_commit`` (installed on the web
app's and the worker's sessionmakers) puts ``send_notification(id)`` on the
``<JIEBANG_QUEUE_NAME>-mail`` queue, which every worker serves before the submissions
queue. The job claims the row (``queued -> sending``, a conditional UPDATE), sends it,
and marks it ``sent``: a retried or duplicated job finds nothing to claim and never
sends twice after a success. An SMTP failure hands the row back and raises, and RQ
retries (``RETRY``). The sweep (every worker's ticker) re-enqueues rows whose job was
lost, hands back rows of a worker that died while sending, and starts the digests.
"""

from __future__ import annotations

import datetime as dt
import html
import logging

from itsdangerous import BadSignature, URLSafeSerializer
from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from evaluator.context import Context, current
from jiebang import mail
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.notifications import OUTBOX_KEY, EmailState, Notification, language
from jiebang.settings import Settings
from web.notification_text import MAIL_WORDS, gettext_for, render_note

log = logging.getLogger(__name__)

SEND = "web.notification_jobs.send_notification"
DIGEST = "web.notification_jobs.send_digest"
RETRY_INTERVALS = [30, 120, 600, 1800, 3600]  # seconds before each RQ retry
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1  # then the row is ``failed``
STUCK = dt.timedelta(minutes=15)  # a claim this old: its worker died while sending
LOST = dt.timedelta(minutes=2)  # a queued row with no job after this: enqueue it again
ALL_KINDS = "*"


def mail_queue(settings: Settings) -> str:
    return mail.queue_name(settings)


def _enqueue(redis: Redis, settings: Settings, func: str, arg: int, job_id: str) -> None:
    Queue(mail_queue(settings), connection=redis).enqueue_call(
        func,
        args=(arg,),
        job_id=job_id,
        timeout=120,
        result_ttl=3600,
        failure_ttl=7 * 86400,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
    )


def send_job_id(settings: Settings, notification_id: int) -> str:
    return f"{mail_queue(settings)}-n{notification_id}"


def enqueue_send(redis: Redis, settings: Settings, notification_id: int) -> None:
    _enqueue(redis, settings, SEND, notification_id, send_job_id(settings, notification_id))


def install(sessions: sessionmaker[Session], settings: Settings, redis: Redis) -> None:
    """After each commit of a session made by ``sessions``, enqueue the mail its
    ``notify`` calls queued. A failure to reach Redis loses nothing: the sweep finds
    the rows. No mail server configured: nothing is enqueued (the sweep marks them)."""
    from sqlalchemy import event

    def after_commit(session: Session) -> None:
        ids = session.info.pop(OUTBOX_KEY, [])
        if not ids or not mail.enabled(settings):
            return
        try:
            for notification_id in ids:
                enqueue_send(redis, settings, notification_id)
        except Exception:
            log.exception("could not enqueue mail for notifications %s; the sweep will", ids)

    def after_rollback(session: Session, _previous) -> None:
        if not session.in_transaction():  # the whole transaction, not a savepoint
            session.info.pop(OUTBOX_KEY, None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_soft_rollback", after_rollback)


# Unsubscribing without login: a signed (user, kind) in each mail.


def _signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="jiebang.unsubscribe")


def unsubscribe_token(settings: Settings, user_id: int, kind: str) -> str:
    return _signer(settings).dumps([user_id, kind])


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, str] | None:
    try:
        user_id, kind = _signer(settings).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(user_id), str(kind)


def unsubscribe_url(settings: Settings, user_id: int, kind: str) -> str:
    token = unsubscribe_token(settings, user_id, kind)
    return f"{settings.public_url}/notifications/unsubscribe/{token}"


# The jobs


def send_notification(notification_id: int) -> str:
    """RQ entry point."""
    return deliver(current(), notification_id)


def send_digest(user_id: int) -> str:
    """RQ entry point."""
    return deliver_digest(current(), user_id)


def deliver(ctx: Context, notification_id: int) -> str:
    settings = ctx.settings
    with ctx.sessions.begin() as session:
        claimed = session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.email_state == EmailState.queued.value,
            )
            .values(
                email_state=EmailState.sending.value,
                email_attempts=Notification.email_attempts + 1,
                emailed_at=utcnow(),
            )
        ).rowcount
    if not claimed:
        return "nothing to send"
    with ctx.sessions() as session:
        note = session.get(Notification, notification_id)
        user = session.get(User, note.user_id)
        lang = language(session, note.user_id)
        message = _message(settings, user, lang, [note], kind=note.kind) if user else None
    if message is None or not mail.enabled(settings) or not user.active:
        _finish(ctx, [notification_id], EmailState.skipped)
        return "skipped"
    try:
        mail.send(settings, message)
    except Exception:
        again = note.email_attempts < MAX_ATTEMPTS  # counted when claimed
        _finish(ctx, [notification_id], EmailState.queued if again else EmailState.failed)
        log.warning("mail for notification %s not sent (attempt %s)", notification_id, again)
        raise
    _finish(ctx, [notification_id], EmailState.sent)
    return "sent"


def deliver_digest(ctx: Context, user_id: int) -> str:
    """Every ``digest`` row of the user in one mail (claimed at one instant)."""
    settings = ctx.settings
    claim = utcnow()
    with ctx.sessions.begin() as session:
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.email_state == EmailState.digest.value,
            )
            .values(email_state=EmailState.sending.value, emailed_at=claim, email_attempts=-1)
        )
    with ctx.sessions() as session:
        notes = list(
            session.scalars(
                select(Notification)
                .where(
                    Notification.user_id == user_id,
                    Notification.email_state == EmailState.sending.value,
                    Notification.emailed_at == claim,
                )
                .order_by(Notification.id)
            )
        )
        user = session.get(User, user_id)
        lang = language(session, user_id)
    if not notes:
        return "nothing to send"
    ids = [n.id for n in notes]
    if not mail.enabled(settings) or user is None or not user.active:
        _finish(ctx, ids, EmailState.skipped)
        return "skipped"
    try:
        mail.send(settings, _message(settings, user, lang, notes, kind=ALL_KINDS))
    except Exception:
        _finish(ctx, ids, EmailState.digest)
        raise
    _finish(ctx, ids, EmailState.sent)
    return "sent"


def _finish(ctx: Context, ids: list[int], state: EmailState) -> None:
    values = {"email_state": state.value}
    if state is EmailState.sent:
        values["emailed_at"] = utcnow()
    if state is EmailState.digest:
        values["email_attempts"] = 0
    with ctx.sessions.begin() as session:
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(**values))


def _message(settings: Settings, user: User, lang: str, notes: list[Notification], *, kind: str):
    translate = gettext_for(lang)
    texts = [(render_note(n, lang, translate), n) for n in notes]
    site = settings.public_url
    stop = unsubscribe_url(settings, user.id, kind)
    footer = [
        translate(MAIL_WORDS["why"]) % {"settings": f"{site}/notifications/settings"},
        translate(MAIL_WORDS["unsubscribe"]) % {"url": stop},
    ]
    if len(notes) == 1 and kind != ALL_KINDS:
        subject = texts[0][0].title
    else:
        subject = translate(MAIL_WORDS["digest_subject"]) % {"n": len(notes)}
    lines, parts = [], []
    if kind == ALL_KINDS:
        lines.append(translate(MAIL_WORDS["digest_intro"]))
        parts.append(f"<p>{html.escape(lines[0])}</p>")
    for text, note in texts:
        url = note.link or "/"
        url = url if url.startswith(("https://", "http://")) else f"{site}{url}"
        opened = translate(MAIL_WORDS["open"]) % {"url": url}
        lines += ["", text.title, text.body, opened]
        parts.append(
            f"<h2>{html.escape(text.title)}</h2><p>{html.escape(text.body)}</p>"
            f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>'
        )
    lines += ["", "--", *footer]
    parts.append(
        '<hr><p style="color:#555;font-size:small">'
        + html.escape(footer[0])
        + f'<br><a href="{html.escape(stop)}">{html.escape(footer[1])}</a></p>'
    )
    body_html = (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><body>'
        + "".join(parts)
        + "</body></html>"
    )
    return mail.Mail(
        to=user.email,
        subject=subject,
        text="\n".join(lines) + "\n",
        html=body_html,
        language=lang,
        unsubscribe_url=stop,
    )


# The sweep (every worker's ticker)


def sweep(ctx: Context, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Recover lost mail work and start due digests; safe in many workers at once."""
    now = now or utcnow()
    settings = ctx.settings
    report = {"skipped": 0, "handed_back": 0, "requeued": 0, "digests": 0}
    with ctx.sessions.begin() as session:
        if not mail.enabled(settings):
            report["skipped"] = session.execute(
                update(Notification)
                .where(
                    Notification.email_state.in_([EmailState.queued.value, EmailState.digest.value])
                )
                .values(email_state=EmailState.skipped.value)
            ).rowcount
            return report
        stuck = Notification.email_state == EmailState.sending.value
        stuck &= Notification.emailed_at < now - STUCK
        digest_rows = stuck & (Notification.email_attempts < 0)
        report["handed_back"] = session.execute(
            update(Notification)
            .where(digest_rows)
            .values(email_state=EmailState.digest.value, email_attempts=0)
        ).rowcount
        report["handed_back"] += session.execute(
            update(Notification).where(stuck).values(email_state=EmailState.queued.value)
        ).rowcount
    with ctx.sessions() as session:
        queued = session.scalars(
            select(Notification.id).where(
                Notification.email_state == EmailState.queued.value,
                Notification.created_at < now - LOST,
            )
        ).all()
        cutoff = now - dt.timedelta(hours=settings.mail_digest_hours)
        due = session.execute(
            select(Notification.user_id, func.min(Notification.id))
            .where(Notification.email_state == EmailState.digest.value)
            .group_by(Notification.user_id)
            .having(func.min(Notification.created_at) <= cutoff)
        ).all()
    for notification_id in queued:
        if not Job.exists(send_job_id(settings, notification_id), connection=ctx.redis):
            enqueue_send(ctx.redis, settings, notification_id)
            report["requeued"] += 1
    for user_id, first_id in due:
        job_id = f"{mail_queue(settings)}-digest-{user_id}-{first_id}"
        if not Job.exists(job_id, connection=ctx.redis):
            _enqueue(ctx.redis, settings, DIGEST, user_id, job_id)
            report["digests"] += 1
    return report
