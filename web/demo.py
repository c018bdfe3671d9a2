"""``jiebang demo``: the whole story on the embedded default.

Creates the database, builds the base image if missing, loads the example
challenge (data made by its own script from scikit-learn's digits), creates
users and three teams, builds three submissions as image archives (a good model,
a weak baseline, a broken one), submits them through the same service users go
through, runs a worker until all are final, prints the leaderboard and serves
the web app.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import click
import yaml
from sqlalchemy import select

import sandboxes
from challenges import service as challenges
from challenges.bundle import open_bundle
from challenges.teams import create_team, team_of
from evaluator.context import open_context
from evaluator.intake import submit_and_enqueue
from evaluator.models import Submission
from evaluator.worker import run_worker
from jiebang import accounts, migrate
from jiebang.blobs import BlobStore
from jiebang.cli import Runtime, pass_runtime
from jiebang.db import utcnow
from jiebang.errors import NotFound
from leaderboards.board import public_board
from web.client import format_board

log = logging.getLogger(__name__)
EXAMPLE = "digits"
PASSWORD = "demo-password"
TEAMS = {"good": "Sharp Eyes 慧眼", "baseline": "Baseline 基线", "broken": "Broken Pipe 断管"}


def example_dir() -> Path:
    return Path(str(resources.files("web").joinpath("examples", EXAMPLE)))


def prepare_bundle(
    dest: Path, *, now: dt.datetime, closes_in: dt.timedelta = dt.timedelta(days=30)
) -> Path:
    """Copy the example bundle, make its data with its own script, and date it from now."""
    source = example_dir()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("challenge.yaml", "README.md"):
        shutil.copy(source / name, dest / name)
    subprocess.run([sys.executable, str(source / "make_data.py"), str(dest)], check=True)
    spec = yaml.safe_load((dest / "challenge.yaml").read_text("utf-8"))
    spec["opens_at"] = (now - dt.timedelta(hours=1)).isoformat()
    spec["closes_at"] = (now + closes_in).isoformat()
    (dest / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    return dest


def build_submission_archives(
    client, bundle_dir: Path, workdir: Path, names: tuple[str, ...] = tuple(TEAMS)
) -> dict[str, Path]:
    """Build example submissions FROM the base image and `docker save` each."""
    archives = {}
    for name in names:
        context = workdir / f"build-{name}"
        shutil.copytree(example_dir() / "submissions" / name, context, dirs_exist_ok=True)
        shutil.copy(bundle_dir / "train.csv", context / "train.csv")
        tag = f"jiebang-demo/{name}:latest"
        image, _logs = client.images.build(path=str(context), tag=tag, rm=True, network_mode="none")
        archive = workdir / f"{name}.tar"
        with open(archive, "wb") as out:
            for chunk in image.save(named=False):
                out.write(chunk)
        archives[name] = archive
    return archives


def _user(session, email: str, role: str, org=None) -> accounts.User:
    try:
        return accounts.get_user_by_email(session, email)
    except NotFound:
        return accounts.create_user(
            session, email=email, password=PASSWORD, role=role, org=org, name=email.split("@")[0]
        )


def setup_world(rt: Runtime, bundle_dir: Path) -> dict[str, int]:
    """Organization, admin, sponsor, three participants with a team each; the challenge."""
    settings = rt.settings
    with rt.session() as session:
        try:
            org = accounts.get_org(session, "example-logistics")
        except NotFound:
            org = accounts.create_org(
                session, slug="example-logistics", name="Example Logistics 示例物流"
            )
        _user(session, "admin@example.com", "admin")
        _user(session, "sponsor@example.com", "sponsor", org)
        try:
            challenge = challenges.get_challenge(session, "handwritten-digits")
        except NotFound:
            with open_bundle(bundle_dir) as bundle:
                challenge = challenges.create_from_bundle(
                    session, bundle=bundle, blobs=BlobStore(settings.blob_dir)
                )
            challenges.publish(session, challenge)
        users = {}
        for name, team_name in TEAMS.items():
            user = _user(session, f"{name}@example.com", "participant")
            if team_of(session, user=user, challenge=challenge) is None:
                create_team(session, user=user, challenge=challenge, name=team_name)
            users[name] = user.id
    return users


@click.command()
@click.option("--serve/--no-serve", default=True, help="Serve the web app at the end.")
@click.option("--port", default=5000, show_default=True)
@pass_runtime
def demo(rt: Runtime, serve: bool, port: int) -> None:
    """The whole story on the embedded default (SQLite, local blobs, Redis, Docker)."""
    settings = rt.settings
    click.echo(f"data directory: {settings.data_dir}")
    migrate.upgrade(rt.engine)
    client = sandboxes.connect(settings.docker_host)
    if sandboxes.base_image_id(client) is None:
        click.echo("building the base image jiebang/python:3.11 (a few minutes, once)...")
        sandboxes.build_base_image(client)
    work = settings.data_dir / "demo"
    bundle_dir = prepare_bundle(work / "bundle", now=utcnow())
    users = setup_world(rt, bundle_dir)
    click.echo("building three example submissions...")
    archives = build_submission_archives(client, bundle_dir, work)
    ctx = open_context(settings)
    ids = []
    with rt.session() as session:
        challenge = challenges.get_challenge(session, "handwritten-digits")
        for name, archive in archives.items():
            user = session.get(accounts.User, users[name])
            with open(archive, "rb") as upload:
                sub = submit_and_enqueue(
                    session,
                    redis=ctx.redis,
                    user=user,
                    challenge=challenge,
                    upload=upload,
                    kind="image",
                    blobs=ctx.blobs,
                    settings=settings,
                    note=f"demo: {name}",
                )
            ids.append(sub.id)
            click.echo(f"submitted {name}: submission {sub.id}")
    click.echo("evaluating...")
    run_worker(ctx, burst=True)
    _report(rt, ids)
    if serve:
        from werkzeug.serving import run_simple

        from web.app import create_app

        click.echo(
            f"\nserving on http://127.0.0.1:{port}  (log in as good@example.com / {PASSWORD})"
        )
        run_simple("127.0.0.1", port, create_app(settings), threaded=True)


def _report(rt: Runtime, ids: list[int]) -> None:
    with rt.session() as session:
        challenge = challenges.get_challenge(session, "handwritten-digits")
        board = public_board(session, challenge)
        entries = [
            {"rank": e.rank, "team": e.team, "score": e.score, "meets_targets": e.meets_targets}
            for e in board
        ]
        click.echo("\n" + format_board(entries, challenge.metric))
        subs = session.scalars(select(Submission).where(Submission.id.in_(ids)))
        for sub in subs:
            line = f"submission {sub.id} ({sub.team.name}): {sub.status}"
            if sub.failure:
                line += f" [{sub.failure}] {sub.message}"
            click.echo(line)
