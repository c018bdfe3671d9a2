"""``jiebang mail``: check the mail settings; run the outbox's sweep now."""

from __future__ import annotations

import click

from jiebang.cli import Runtime, pass_runtime


@click.group()
def mail() -> None:
    """Email: check the SMTP settings, send what waits."""


@mail.command("test")
@click.option("--to", "to", required=True, help="The address to send a test message to.")
@pass_runtime
def mail_test(rt: Runtime, to: str) -> None:
    """Send one message now through JIEBANG_SMTP_HOST (STARTTLS, AUTH as configured)."""
    from jiebang import mail as smtp

    settings = rt.settings
    if not smtp.enabled(settings):
        raise click.ClickException("JIEBANG_SMTP_HOST is not set: no mail is sent.")
    text = f"Jiebang can send mail through {settings.smtp_host}:{settings.smtp_port}.\n"
    try:
        smtp.send(
            settings,
            smtp.Mail(to=to, subject="Jiebang: test message", text=text, html=f"<p>{text}</p>"),
        )
    except Exception as exc:  # the operator needs the server's own words
        raise click.ClickException(f"not sent: {exc}") from exc
    click.echo(f"sent to {to} through {settings.smtp_host}:{settings.smtp_port}")


@mail.command("sweep")
@pass_runtime
def mail_sweep(rt: Runtime) -> None:
    """Enqueue mail whose job was lost and the digests that are due (workers do it every 30 s)."""
    from evaluator.context import open_context
    from web.notification_jobs import sweep

    ctx = open_context(rt.settings)
    try:
        report = sweep(ctx)
    finally:
        ctx.close()
    click.echo(", ".join(f"{name}: {count}" for name, count in report.items()))
