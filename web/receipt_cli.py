"""`jiebang receipt verify` and `jiebang keys generate`: receipts checked offline.

Neither reads the settings or the database: a team checks a receipt with the
platform's public key alone, and an operator makes a key before configuring it.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from jiebang import receipts


@click.group("receipt")
def receipt() -> None:
    """Signed receipts of scored submissions."""


@receipt.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "keys",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A public key (PEM) from the platform's /keys page, or a folder of them; repeatable.",
)
def verify(file: Path, keys: tuple[Path, ...]) -> None:
    """Check that FILE is a receipt signed by one of the given keys and unchanged since.
    Exit status 0 if it is, 1 if not."""
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{file} is not a JSON receipt: {exc}") from None
    try:
        public = receipts.public_keys(keys)
        if not public:
            raise receipts.ReceiptError("no public key found in the --key paths given")
        kid = receipts.verify(body, public)
    except receipts.ReceiptError as exc:
        raise click.ClickException(f"receipt NOT valid: {exc}") from None
    click.echo(f"receipt valid: signed by key {kid}")
    team = body.get("team") or {}
    click.echo(f"  submission {body.get('submission')} of challenge {body.get('challenge')}")
    click.echo(f"  team {team.get('name')} (id {team.get('id')})")
    click.echo(f"  archive sha256 {body.get('archive_sha256')}")
    click.echo(f"  public score {body.get('public_score')}")
    if "private_score" in body:
        click.echo(f"  private score {body.get('private_score')}")
    event = body.get("audit_event") or {}
    click.echo(f"  scored at {body.get('scored_at')}: audit event {event.get('id')}")
    click.echo(f"  event hash {event.get('hash')}")


@click.group("keys")
def keys() -> None:
    """The platform's receipt-signing keys."""


@keys.command("generate")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def generate(path: Path) -> None:
    """Write a new Ed25519 signing key to PATH (mode 600) and its public key beside it
    (PATH's name with .pub.pem). Point JIEBANG_SIGNING_KEY_FILE at PATH."""
    try:
        private = receipts.generate(path)
    except FileExistsError:
        raise click.ClickException(
            f"{path} exists; a key is never overwritten. Choose another path to rotate keys."
        ) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    click.echo(f"signing key {receipts.key_id(private.public_key())} written to {path}")
    click.echo(f"public key: {receipts.public_path(path)}")
