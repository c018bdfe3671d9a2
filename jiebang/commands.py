"""Core commands: the database schema, users, organizations, the audit log."""

from __future__ import annotations

import datetime as dt

import click

from jiebang import accounts, audit, migrate, tokens
from jiebang.cli import Runtime, pass_runtime


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_runtime
def db_upgrade(rt: Runtime) -> None:
    """Create or migrate the schema to the newest revision."""
    migrate.upgrade(rt.engine)
    click.echo("database is up to date")


@click.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in accounts.Role]), default="participant")
@click.option("--org", "org_slug", help="Organization slug (sponsors and judges).")
@click.option("--name", default="")
@pass_runtime
def users_create(rt: Runtime, email, password, role, org_slug, name) -> None:
    """Create a user."""
    with rt.session() as session:
        org = accounts.get_org(session, org_slug) if org_slug else None
        user = accounts.create_user(
            session, email=email, password=password, role=role, name=name, org=org
        )
        click.echo(f"created user {user.id} <{user.email}> ({user.role})")


@users.command("token")
@click.option("--email", required=True)
@click.option("--name", default="cli")
@click.option("--days", default=90, show_default=True, help="Days until it expires.")
@click.option(
    "--scope",
    type=click.Choice(tokens.SCOPES),
    help="read, submit or manage; default: manage for admins, sponsors and judges, else submit.",
)
@pass_runtime
def users_token(rt: Runtime, email: str, name: str, days: int, scope: str | None) -> None:
    """Print a new API token for a user (shown once)."""
    with rt.session() as session:
        user = accounts.get_user_by_email(session, email)
        scope = scope or ("submit" if user.role == accounts.Role.participant else "manage")
        token = tokens.issue_token(
            session, user=user, name=name, scope=scope, expires_in=dt.timedelta(days=days)
        )
    click.echo(token)


@click.group()
def orgs() -> None:
    """Organizations (sponsors and applicants)."""


@orgs.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True, help="The English (display) name.")
@click.option("--name-zh", default="", help="The legal name in Chinese.")
@click.option("--kind", type=click.Choice([k.value for k in accounts.OrgKind]), default="other")
@click.option("--uscc", default="", help="Unified social credit code (checked, GB 32100).")
@pass_runtime
def orgs_create(rt: Runtime, slug: str, name: str, name_zh: str, kind: str, uscc: str) -> None:
    """Create an approved (sponsor) organization; an administrator verifies it on the web."""
    with rt.session() as session:
        org = accounts.create_org(
            session, slug=slug, name=name, name_zh=name_zh, kind=kind, uscc=uscc
        )
        click.echo(f"created organization {org.slug}")


# The core layer's check: the chain alone. The `jiebang` program (web/cli.py) registers
# web.commands' `audit` instead, which then checks the live state against the log: that
# needs the boards, which this layer may not import.
@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.option("--head", help="A head hash printed earlier: it must still be in the log.")
@pass_runtime
def audit_verify(rt: Runtime, head: str | None) -> None:
    """Check that no audit event was edited or removed. Keep the printed head outside
    the platform: giving it to a later run also detects events cut from the end."""
    with rt.session() as session:
        result = audit.verify(session, head=head)
    if not result.ok:
        raise click.ClickException(f"audit log broken: {result.problem}")
    click.echo(f"audit log intact: {result.events} events; head {result.head}")
