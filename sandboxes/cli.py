"""``jiebang sandbox ...``: build the base and scorer images, reap leftovers."""

from __future__ import annotations

from pathlib import Path

import click

from sandboxes.base import BASE_IMAGE, build_base_image
from sandboxes.docker_client import DEFAULT_DOCKER_HOST, connect
from sandboxes.runner import reap
from sandboxes.scorer_image import (
    SCORER_IMAGE,
    WHEELS_ENV,
    ScorerImageError,
    build_scorer_image,
    download_wheels,
    wheels_dir,
)

# The same names and default as the JIEBANG_DOCKER_HOST setting the worker reads.
docker_host_option = click.option(
    "--docker-host",
    envvar=["JIEBANG_DOCKER_HOST", "JIEBANG_DOCKER_URL"],
    default=DEFAULT_DOCKER_HOST,
    show_default=True,
    help="Jiebang's Docker engine (JIEBANG_DOCKER_HOST); never the one DOCKER_HOST names.",
)


@click.group("sandbox")
def sandbox() -> None:
    """Manage the sandbox: base and scorer images, leftovers."""


@sandbox.command("build-base")
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
@click.option("--tag", default=BASE_IMAGE, show_default=True, help="Image name to build.")
@docker_host_option
def build_base(force: bool, tag: str, docker_host: str) -> None:
    """Build the base image from Debian packages (needs root and debootstrap)."""
    image_id = build_base_image(connect(docker_host), tag=tag, force=force)
    click.echo(f"{tag} {image_id}")


@sandbox.command("build-scorer")
@click.option("--force", is_flag=True, help="Rebuild even if the image is up to date.")
@click.option("--tag", default=SCORER_IMAGE, show_default=True, help="Image name to build.")
@click.option(
    "--wheels",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=WHEELS_ENV,
    default=None,
    help=f"Wheel cache folder ({WHEELS_ENV}; default {wheels_dir()}).",
)
@click.option(
    "--download/--no-download",
    default=True,
    show_default=True,
    help="Fetch missing wheels from PyPI on this host first (containers never download).",
)
@docker_host_option
def build_scorer(
    force: bool, tag: str, wheels: Path | None, download: bool, docker_host: str
) -> None:
    """Build the scorer image: the base image plus pycocotools, sacrebleu, jiwer, Pillow."""
    try:
        if download:
            download_wheels(wheels)
        image_id = build_scorer_image(connect(docker_host), tag=tag, wheels=wheels, force=force)
    except ScorerImageError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{tag} {image_id}")


@sandbox.command("reap")
@click.option(
    "--scratch-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also delete leftover run directories under this directory.",
)
@docker_host_option
def reap_command(scratch_root: Path | None, docker_host: str) -> None:
    """Remove sandbox containers and scratch directories left by dead workers."""
    count = reap(connect(docker_host), scratch_root=scratch_root)
    click.echo(f"removed {count} leftovers")
