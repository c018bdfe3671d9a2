"""``jiebang demo``: the whole story on the embedded default.

Creates the database, builds the base and scorer images if missing, loads the three
example challenges (each one's data made by its own script): a table (scikit-learn's
digits as CSV, built-in macro F1), a folder of images (the same digits as PNG files,
built-in accuracy) and object detection on generated scenes (scored by the detection
template, a scoring program in its own sandbox, three metrics on the board). For each it
creates three teams, builds three submissions as image archives (a good model, a weak
one, a broken one), submits them through the same service users go through, runs a
worker until all are final, prints the boards and serves the web app.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
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
PASSWORD = "demo-password"


@dataclass(frozen=True)
class Example:
    """An example challenge of web/examples and its three submissions."""

    folder: str
    slug: str
    teams: dict[str, str]  # submission folder -> team name
    build_files: tuple[str, ...] = ()  # bundle files each submission's image copies ("x/": folder)
    scorer: bool = False  # scored by a program on the scorer image


EXAMPLES = (
    Example(
        "digits",
        "handwritten-digits",
        {"good": "Sharp Eyes 慧眼", "baseline": "Baseline 基线", "broken": "Broken Pipe 断管"},
        ("train.csv",),
    ),
    Example(
        "digit-images",
        "digit-images",
        {"good": "Pixel Perfect 像素", "weak": "Weak Signal 弱信号", "broken": "Broken Pipe 断管"},
        ("train/", "train-labels.csv"),
    ),
    Example(
        "container-damage",
        "container-damage",
        {"good": "Port Eyes 港眼", "weak": "Weak Signal 弱信号", "broken": "Broken Pipe 断管"},
        scorer=True,
    ),
)
DIGITS = EXAMPLES[0]
TEAMS = DIGITS.teams


def example_dir(example: Example = DIGITS) -> Path:
    return Path(str(resources.files("web").joinpath("examples", example.folder)))


def prepare_bundle(
    dest: Path,
    *,
    now: dt.datetime,
    closes_in: dt.timedelta = dt.timedelta(days=30),
    example: Example = DIGITS,
) -> Path:
    """Copy the example bundle, make its data with its own script, and date it from now."""
    source = example_dir(example)
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


def image_tag(name: str, example: Example = DIGITS) -> str:
    """The tag an example submission's image gets on the engine that built it."""
    return f"jiebang-demo/{example.folder}-{name}:latest"


def build_submission_archives(
    client,
    bundle_dir: Path,
    workdir: Path,
    names: tuple[str, ...] | None = None,
    example: Example = DIGITS,
) -> dict[str, Path]:
    """Build example submissions FROM the base image and `docker save` each."""
    archives = {}
    for name in names or tuple(example.teams):
        context = workdir / f"build-{example.folder}-{name}"
        shutil.copytree(example_dir(example) / "submissions" / name, context, dirs_exist_ok=True)
        for wanted in example.build_files:
            if wanted.endswith("/"):
                shutil.copytree(bundle_dir / wanted, context / wanted, dirs_exist_ok=True)
            else:
                shutil.copy(bundle_dir / wanted, context / wanted)
        tag = image_tag(name, example)
        image, _logs = client.images.build(path=str(context), tag=tag, rm=True, network_mode="none")
        archive = workdir / f"{example.folder}-{name}.tar"
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


def setup_world(rt: Runtime, bundle_dir: Path, example: Example = DIGITS) -> dict[str, int]:
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
            challenge = challenges.get_challenge(session, example.slug)
        except NotFound:
            with open_bundle(bundle_dir) as bundle:
                challenge = challenges.create_from_bundle(
                    session, bundle=bundle, blobs=BlobStore(settings.blob_dir)
                )
            challenges.publish(session, challenge)
        users = {}
        for name, team_name in example.teams.items():
            user = _user(session, f"{name}@example.com", "participant")
            if team_of(session, user=user, challenge=challenge) is None:
                create_team(session, user=user, challenge=challenge, name=team_name)
            users[name] = user.id
    return users


def _images(client) -> bool:
    """Build what is missing; False when the scorer image cannot be had (offline)."""
    if sandboxes.base_image_id(client) is None:
        click.echo("building the base image jiebang/python:3.11 (a few minutes, once)...")
        sandboxes.build_base_image(client)
    from sandboxes.scorer_image import ScorerImageError, build_scorer_image, download_wheels

    try:
        download_wheels()
        build_scorer_image(client)
    except (ScorerImageError, OSError) as exc:
        click.echo(f"no scorer image, so no detection example: {exc}", err=True)
        return False
    return True


@click.command()
@click.option("--serve/--no-serve", default=True, help="Serve the web app at the end.")
@click.option("--port", default=5000, show_default=True)
@pass_runtime
def demo(rt: Runtime, serve: bool, port: int) -> None:
    """The whole story on the embedded default (SQLite, local blobs, Redis, Docker): three
    example challenges (a table, a folder of images, object detection with a scoring
    program), three teams and three submissions each, evaluated, then served."""
    settings = rt.settings
    click.echo(f"data directory: {settings.data_dir}")
    migrate.upgrade(rt.engine)
    client = sandboxes.connect(settings.docker_host)
    with_scorer = _images(client)
    work = settings.data_dir / "demo"
    ctx = open_context(settings)
    ids = []
    for example in EXAMPLES:
        if example.scorer and not with_scorer:
            continue
        bundle_dir = prepare_bundle(work / example.folder, now=utcnow(), example=example)
        users = setup_world(rt, bundle_dir, example)
        click.echo(f"{example.slug}: building three example submissions...")
        archives = build_submission_archives(client, bundle_dir, work, example=example)
        with rt.session() as session:
            challenge = challenges.get_challenge(session, example.slug)
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
                click.echo(f"  submitted {name}: submission {sub.id}")
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
        for example in EXAMPLES:
            try:
                challenge = challenges.get_challenge(session, example.slug)
            except NotFound:
                continue
            board = public_board(session, challenge)
            entries = [
                {
                    "rank": e.rank,
                    "team": e.team,
                    "score": e.score,
                    "meets_targets": e.meets_targets,
                    "metrics": e.metrics,
                }
                for e in board
            ]
            click.echo(f"\n{example.slug}\n" + format_board(entries, challenge.metric))
        subs = session.scalars(select(Submission).where(Submission.id.in_(ids)))
        for sub in subs:
            line = f"submission {sub.id} ({sub.challenge.slug}, {sub.team.name}): {sub.status}"
            if sub.failure:
                line += f" [{sub.failure}] {sub.message}"
            click.echo(line)
