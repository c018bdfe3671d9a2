"""Sending mail through an SMTP server (the standard library's smtplib).

Settings: ``JIEBANG_SMTP_HOST`` (none: no mail), ``_PORT``, ``_USER``, ``_PASSWORD``
(or ``_PASSWORD_FILE``), ``_STARTTLS`` (upgrade a plain connection, the default),
``_SSL`` (TLS from the start, port 465), ``_CA_FILE`` (a private CA),
``JIEBANG_MAIL_FROM``. Only the jobs call ``send``; a web request never waits on a
mail server.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jiebang.settings import Settings


class MailNotConfigured(RuntimeError):
    """No JIEBANG_SMTP_HOST: mail is off."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    language: str = "en"
    unsubscribe_url: str | None = None  # one click, RFC 8058


def queue_name(settings: Settings) -> str:
    """The RQ queue of mail jobs; every worker serves it before the submissions queue."""
    return f"{settings.queue_name}-mail"


def enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    # One line: a title a sponsor typed with a line break (an announcement over the API)
    # would make the header refuse the mail (ValueError), so that no member gets it.
    message["Subject"] = " ".join(mail.subject.split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="jiebang")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # After the content: set_content drops the Content-* headers set before it.
    message["Content-Language"] = "zh-CN" if mail.language == "zh" else "en"
    return message


def _context(settings: Settings) -> ssl.SSLContext:
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


def send(settings: Settings, mail: Mail) -> None:
    """Deliver one message or raise (``smtplib.SMTPException``, ``OSError``): the caller's
    job retries."""
    if not enabled(settings):
        raise MailNotConfigured("JIEBANG_SMTP_HOST is not set")
    context = _context(settings)
    timeout = settings.smtp_timeout_s
    if settings.smtp_ssl:
        client = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        client.ehlo()
        if settings.smtp_starttls and not settings.smtp_ssl:
            client.starttls(context=context)
            client.ehlo()
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(build(settings, mail))
