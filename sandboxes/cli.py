"""``jiebang sandbox ...``: build the base image, reap leftovers."""

from __future__ import annotations

from pathlib import Path

import click

from sandboxes.base import BASE_IMAGE, build_base_image
from sandboxes.docker_client import connect
from sandboxes.runner import reap


@click.group("sandbox")
def sandbox() -> None:
    """Manage the sandbox: base images and leftovers."""


@sandbox.command("build-base")
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
@click.option("--tag", default=BASE_IMAGE, show_default=True, help="Image name to build.")
def build_base(force: bool, tag: str) -> None:
    """Build the base image from Debian packages (needs root and debootstrap)."""
    image_id = build_base_image(connect(), tag=tag, force=force)
    click.echo(f"{tag} {image_id}")


@sandbox.command("reap")
@click.option(
    "--scratch-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also delete leftover run directories under this directory.",
)
def reap_command(scratch_root: Path | None) -> None:
    """Remove sandbox containers and scratch directories left by dead workers."""
    count = reap(connect(), scratch_root=scratch_root)
    click.echo(f"removed {count} leftovers")
