"""Server-side commands of the web layer: challenges, worker, serve."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from jiebang.cli import Runtime, pass_runtime
from web.client import dry_run, push, request_review, update


@click.group()
def challenges() -> None:
    """Challenges: load bundles, close, assign judges, rebuild boards."""


@challenges.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish at once (admin approval).")
@pass_runtime
def challenges_load(rt: Runtime, path: Path, publish: bool) -> None:
    """Load a challenge bundle (folder or zip) as a draft, or published with --publish."""
    from challenges import service
    from challenges.bundle import ChallengeBundleError, open_bundle
    from jiebang.blobs import BlobStore

    try:
        with open_bundle(path) as bundle, rt.session() as session:
            item = service.create_from_bundle(
                session, bundle=bundle, blobs=BlobStore(rt.settings.blob_dir)
            )
            if publish:
                service.publish(session, item)
            click.echo(f"loaded {item.slug} ({item.status})")
    except ChallengeBundleError as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise click.ClickException(f"the bundle {path} has problems:\n{lines}") from None


@challenges.command("close")
@click.argument("slug")
@pass_runtime
def challenges_close(rt: Runtime, slug: str) -> None:
    """Close a challenge now and freeze its private board (normally automatic at closes_at)."""
    from challenges import service
    from leaderboards.lifecycle import close_now

    with rt.session() as session:
        status = close_now(session, service.get_challenge(session, slug))
        click.echo(f"closed {slug}: {status}")


@challenges.command("rebuild-boards")
@click.argument("slugs", nargs=-1)
@pass_runtime
def challenges_rebuild_boards(rt: Runtime, slugs: tuple[str, ...]) -> None:
    """Recompute the teams' best public results from the submissions (all challenges, or
    SLUGS). Workers keep them as they score; run this once after upgrading a platform
    whose workers scored with older code while the database was migrated."""
    from sqlalchemy import select

    from challenges import service
    from challenges.models import Challenge
    from evaluator import standings

    with rt.session() as session:
        items = (
            [service.get_challenge(session, slug) for slug in slugs]
            if slugs
            else list(session.scalars(select(Challenge).order_by(Challenge.id)))
        )
        for item in items:
            standings.rebuild(session, item)
            click.echo(f"rebuilt the boards of {item.slug}")


@challenges.command("assign-judge")
@click.argument("slug")
@click.option("--email", required=True, help="The judge's account.")
@pass_runtime
def challenges_assign_judge(rt: Runtime, slug: str, email: str) -> None:
    """Assign a judge to a challenge (as the platform operator): any active account that is
    not an administrator, not in the sponsor's organization and not in one of its teams."""
    from challenges import lifecycle, service
    from jiebang.accounts import get_user_by_email

    with rt.session() as session:
        judge = get_user_by_email(session, email)
        lifecycle.assign_judge(
            session, service.get_challenge(session, slug), judge=judge, actor=None
        )
        click.echo(f"{email} judges {slug}")


@challenges.command("unassign-judge")
@click.argument("slug")
@click.option("--email", required=True, help="The judge's account.")
@pass_runtime
def challenges_unassign_judge(rt: Runtime, slug: str, email: str) -> None:
    """Take a judge off a challenge (until its award is decided)."""
    from challenges import lifecycle, service
    from jiebang.accounts import get_user_by_email

    with rt.session() as session:
        judge = get_user_by_email(session, email)
        lifecycle.unassign_judge(
            session, service.get_challenge(session, slug), judge=judge, actor=None
        )
        click.echo(f"{email} no longer judges {slug}")


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@pass_runtime
def worker(rt: Runtime, burst: bool) -> None:
    """Run an evaluator worker (it also closes challenges on time and reconciles)."""
    from challenges.notices import announce_due
    from evaluator.context import open_context
    from evaluator.recovery import reconcile
    from evaluator.worker import run_worker
    from jiebang.db import utcnow
    from jiebang.ticker import Ticker
    from leaderboards.lifecycle import tick
    from web import notification_jobs as notifications

    ctx = open_context(rt.settings)

    def close_on_time() -> None:
        with ctx.sessions.begin() as session:
            tick(session)

    notifications.install(ctx.sessions, ctx.settings, ctx.redis)

    def announce_and_mail() -> None:
        with ctx.sessions.begin() as session:
            announce_due(session, now=utcnow())
        notifications.sweep(ctx)

    ticker = Ticker(
        [
            (5, close_on_time),
            (30, lambda: reconcile(ctx.sessions, ctx.redis, ctx.settings)),
            (30, announce_and_mail),
        ]
    )
    if burst:
        close_on_time()
        announce_and_mail()
        run_worker(ctx, burst=True)
        return
    ticker.start()
    try:
        run_worker(ctx)
    finally:
        ticker.stop()
    _exit_now(ctx)


def _exit_now(ctx) -> None:
    """End the process as soon as the worker has stopped. Python's own shutdown would then
    free the objects of pandas, scikit-learn and the rest one by one: 0.3 s on an idle
    machine, seconds on a loaded one, with nothing left to do (README: a stop's bounds)."""
    ctx.close()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@click.command()
@pass_runtime
def reconcile(rt: Runtime) -> None:
    """Re-enqueue lost work now (workers also do it every 30 s)."""
    from evaluator.context import open_context
    from evaluator.recovery import reconcile as run

    ctx = open_context(rt.settings)
    report = run(ctx.sessions, ctx.redis, ctx.settings)
    click.echo(
        f"re-enqueued {report.requeued_lost_jobs} lost jobs and "
        f"{report.requeued_dead_workers} runs of dead workers; "
        f"failed {report.failed_for_good} for good; "
        f"removed {report.removed_upload_files} abandoned upload files"
    )


@click.group("audit")
def audit() -> None:
    """The hash-chained audit log, and the live state checked against it."""


@audit.command("verify")
@click.option("--head", help="A head hash printed earlier: it must still be in the log.")
@pass_runtime
def audit_verify(rt: Runtime, head: str | None) -> None:
    """Check that no audit event was edited or removed, then that the live submissions,
    boards, verdicts and awards agree with what the log recorded. Keep the printed head
    outside the platform: giving it to a later run also detects events cut from the end.
    Exits non-zero on any problem."""
    from jiebang import audit as chain
    from leaderboards.verify import snapshot, verify_state

    with rt.session() as session:
        snapshot(session)  # the chain and the tables read as of one moment
        result = chain.verify(session, head=head)
        if not result.ok:
            raise click.ClickException(f"audit log broken: {result.problem}")
        state = verify_state(session)
    if state.agrees:
        click.echo(
            f"audit log intact: {result.events} events; state agrees with the log; "
            f"head {result.head}"
        )
        return
    click.echo(f"audit log intact: {result.events} events; head {result.head}")
    for line in state.first:
        click.echo(f"  {line}")
    if state.count > len(state.first):
        click.echo(f"  ... and {state.count - len(state.first)} more")
    places = "1 place" if state.count == 1 else f"{state.count} places"
    raise click.ClickException(f"the live state disagrees with the audit log in {places}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@pass_runtime
def serve(rt: Runtime, host: str, port: int) -> None:
    """Run the web app (for production, run web.wsgi:app under gunicorn)."""
    from werkzeug.serving import run_simple

    from web.app import create_app

    run_simple(host, port, create_app(rt.settings), threaded=True, use_reloader=False)


challenges.add_command(push)
challenges.add_command(dry_run)
challenges.add_command(update)
challenges.add_command(request_review)
