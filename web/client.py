"""The command-line client for teams and sponsors, over the REST API.

Server and token come from --server/--token, else JIEBANG_SERVER/JIEBANG_TOKEN,
else the file `jiebang login` writes (see ``client_config``).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import click
import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

from evaluator.models import FINAL, State
from web import client_config

CHUNK = 1024 * 1024


class FileBody:
    """A file sent as the whole request body, in large pieces (little CPU per byte).

    Its length gives the request a Content-Length, so the server can refuse a file
    over its limit before it reads any of it.
    """

    def __init__(
        self, file: BinaryIO, size: int, advance: Callable[[int], object] = lambda n: None
    ) -> None:
        self.file, self.size, self.advance = file, size, advance

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.file.read(CHUNK):
            self.advance(len(chunk))
            yield chunk


server_option = click.option("--server", envvar="JIEBANG_SERVER", help="Server URL.")
token_option = click.option("--token", envvar="JIEBANG_TOKEN", help="API token.")


class Client:
    def __init__(self, server: str | None, token: str | None) -> None:
        self.server = client_config.server(server)
        self.token = client_config.token(token)

    def headers(self, *, required: bool = True) -> dict:
        if not self.token:
            if required:
                raise click.ClickException("log in first: jiebang login --server URL")
            return {}
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs) -> dict:
        headers = kwargs.pop("headers", {}) | self.headers(required=auth)
        try:
            response = requests.request(
                method,
                self.server + path,
                headers=headers,
                timeout=kwargs.pop("timeout", 60),
                **kwargs,
            )
        except requests.ConnectionError:
            raise click.ClickException(f"cannot reach {self.server}") from None
        try:
            body = response.json()
        except ValueError:
            raise click.ClickException(f"the server answered {response.status_code}") from None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise click.ClickException(error.get("message") or f"HTTP {response.status_code}")
        return body

    def upload(self, path: str, field: str, file: Path, fields: dict) -> dict:
        """Stream ``file`` as multipart, with a progress bar on stderr."""
        size = file.stat().st_size
        with (
            open(file, "rb") as f,
            click.progressbar(
                length=size, label=f"uploading {file.name}", file=sys.stderr, show_pos=True
            ) as bar,
        ):
            encoder = MultipartEncoder(
                fields={**fields, field: (file.name, f, "application/octet-stream")}
            )
            seen = [0]

            def advance(monitor: MultipartEncoderMonitor) -> None:
                step = min(monitor.bytes_read, size) - seen[0]
                if step > 0:
                    bar.update(step)
                    seen[0] += step

            monitor = MultipartEncoderMonitor(encoder, advance)
            return self.call(
                "POST",
                path,
                data=monitor,
                headers={"Content-Type": monitor.content_type},
                timeout=3600,
            )

    def send_file(self, path: str, file: Path, params: dict) -> dict:
        """POST ``file`` as the raw request body, with a progress bar on stderr."""
        size = file.stat().st_size
        with (
            open(file, "rb") as f,
            click.progressbar(
                length=size, label=f"uploading {file.name}", file=sys.stderr, show_pos=True
            ) as bar,
        ):
            return self.call(
                "POST",
                path,
                params=params,
                data=FileBody(f, size, bar.update),
                headers={"Content-Type": "application/octet-stream"},
                timeout=3600,
            )

    def follow(self, submission_id: int) -> dict:
        delay = 0.5
        while True:
            body = self.call("GET", f"/api/v1/submissions/{submission_id}")
            if body["status"] in FINAL:
                return body
            time.sleep(delay)
            delay = min(delay * 1.5, 10)


def _zip_folder(folder: Path, dest: Path) -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder))


def _save_image(tag: str, dest: Path) -> None:
    import docker

    # The participant's own engine (DOCKER_HOST, or the default socket), where they built
    # the image: not Jiebang's sandbox engine, which JIEBANG_DOCKER_HOST names on workers.
    engine = docker.from_env(version="auto")
    try:
        image = engine.images.get(tag)
    except docker.errors.ImageNotFound:
        raise click.ClickException(f"no file, folder or local image named {tag!r}") from None
    with open(dest, "wb") as out:
        for chunk in image.save(named=False):
            out.write(chunk)


def prepare_upload(target: str, workdir: Path) -> tuple[Path, str]:
    """A file to upload and its kind: a zip or folder is a bundle, a tar or image tag an image."""
    path = Path(target)
    if path.is_dir():
        if not (path / "main.py").is_file():
            raise click.ClickException(f"{path} has no main.py at its top")
        bundle = workdir / "bundle.zip"
        _zip_folder(path, bundle)
        return bundle, "bundle"
    if path.is_file():
        return path, "bundle" if zipfile.is_zipfile(path) else "image"
    archive = workdir / "image.tar"
    _save_image(target, archive)
    return archive, "image"


@click.command()
@click.option(
    "--server",
    envvar="JIEBANG_SERVER",
    prompt=True,
    default=lambda: client_config.server(None),
    help="Server URL.",
)
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True)
@click.option(
    "--scope",
    type=click.Choice(["read", "submit", "manage"]),
    default="submit",
    show_default=True,
    help="manage: sponsors, judges and admins.",
)
@click.option("--days", default=90, show_default=True, help="Days until the token expires.")
def login(server: str, email: str, password: str, scope: str, days: int) -> None:
    """Get a token with your email and password and keep it (file mode 600)."""
    client = Client(server, None)
    body = client.call(
        "POST",
        "/api/v1/tokens",
        auth=False,
        json={
            "email": email,
            "password": password,
            "name": "jiebang-cli",
            "scope": scope,
            "days": days,
        },
    )
    path = client_config.save(
        {"server": client.server, "token": body["token"], "token_id": body["id"]}
    )
    click.echo(f"logged in to {client.server} (scope {body['scope']}); token kept in {path}")


@click.command()
@server_option
@token_option
def logout(server: str | None, token: str | None) -> None:
    """Revoke the kept token and forget it."""
    saved = client_config.load()
    if saved.get("token_id"):
        Client(server, token).call("DELETE", f"/api/v1/tokens/{saved['token_id']}")
    client_config.forget()
    click.echo("logged out")


@click.command()
@click.argument("challenge")
@click.argument("target")
@click.option("--note", default="")
@click.option("--wait", is_flag=True, help="Follow the status until it is final.")
@click.option("--full", is_flag=True, help="Upload the platform's base layers too.")
@server_option
@token_option
def submit(challenge: str, target: str, note: str, wait: bool, full: bool, server, token) -> None:
    """Submit PATH (image archive, zip, or folder with main.py) or a local IMAGE_TAG."""
    client = Client(server, token)
    client.headers()
    with tempfile.TemporaryDirectory(prefix="jiebang-submit-") as tmp:
        path, kind = prepare_upload(target, Path(tmp))
        if kind == "image" and not full:
            path = _thin(client, path, Path(tmp))
        body = client.send_file(
            f"/api/v1/challenges/{challenge}/submissions", path, {"kind": kind, "note": note}
        )
    click.echo(f"submission {body['id']} {body['status']}")
    if wait:
        _show(client.follow(body["id"]))


def _thin(client: Client, path: Path, workdir: Path) -> Path:
    """Leave out the layers of the server's base image, which its workers hold."""
    from sandboxes.thin import thin_archive

    images = client.call("GET", "/api/v1/base-images", auth=False)["images"]
    shared = {layer for image in images for layer in image["layers"]}
    if not shared:
        return path
    try:
        thinned = thin_archive(path, workdir / "thin.tar", shared)
    except (KeyError, ValueError, OSError):
        return path  # not a docker save archive we can read: upload it whole
    if not thinned.layers_left_out:
        return path
    click.echo(
        f"thin upload: {thinned.before / 1e6:.1f} MB -> {thinned.after / 1e6:.2f} MB "
        f"({thinned.layers_left_out} base layers left out)",
        err=True,
    )
    return workdir / "thin.tar"


def _show(body: dict) -> None:
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    if body["status"] in (State.failed, State.rejected):
        sys.exit(1)


@click.command()
@click.argument("submission_id", type=int)
@click.option("--wait", is_flag=True, help="Follow the status until it is final.")
@server_option
@token_option
def status(submission_id: int, wait: bool, server, token) -> None:
    """Show a submission's status and scores (exit 1 if it failed)."""
    client = Client(server, token)
    _show(
        client.follow(submission_id)
        if wait
        else client.call("GET", f"/api/v1/submissions/{submission_id}")
    )


@click.command()
@click.argument("challenge")
@click.option("--board", type=click.Choice(["public", "private"]), default="public")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@server_option
@token_option
def leaderboard(challenge: str, board: str, fmt: str, server, token) -> None:
    """Print a challenge's leaderboard (the private one where you may see it)."""
    client = Client(server, token)
    body = client.call(
        "GET",
        f"/api/v1/challenges/{challenge}/leaderboard",
        auth=False,
        params={"board": board, "per_page": 200},
        headers=client.headers(required=False),
    )
    if fmt == "json":
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        entries = body["entries"]
        names = list(entries[0].get("metrics") or {}) if entries else []
        writer.writerow(["rank", "team", "score", "meets_targets", "submission_id", *names])
        for e in entries:
            values = [e["metrics"].get(n) for n in names]
            writer.writerow(
                [e["rank"], e["team"], e["score"], e["meets_targets"], e["submission_id"], *values]
            )
        click.echo(out.getvalue(), nl=False)
    else:
        click.echo(format_board(body["entries"], body.get("metric", "score")))


def format_board(entries: list[dict], metric: str) -> str:
    """The board as text: the ranking metric, then any other metric the entries carry."""
    others = [m for m in (entries[0].get("metrics") or {}) if m != metric] if entries else []
    head = "".join(f" {m:>12}" for m in others)
    lines = [f"{'rank':>4}  {'team':<24} {metric:>12}{head}  targets"]
    for e in entries:
        met = "yes" if e["meets_targets"] else "no"
        values = "".join(f" {_number(e['metrics'].get(m)):>12}" for m in others)
        lines.append(f"{e['rank']:>4}  {e['team']:<24} {e['score']:>12.4f}{values}  {met}")
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


@click.group()
def teams() -> None:
    """Teams: create, join."""


@teams.command("create")
@click.argument("challenge")
@click.argument("name")
@server_option
@token_option
def teams_create(challenge: str, name: str, server, token) -> None:
    """Create a team; share the join code it prints."""
    body = Client(server, token).call(
        "POST", f"/api/v1/challenges/{challenge}/teams", json={"name": name}
    )
    click.echo(f"team {body['id']} {body['name']}: join code {body['join_code']}")


@teams.command("join")
@click.argument("team_id", type=int)
@click.argument("join_code")
@server_option
@token_option
def teams_join(team_id: int, join_code: str, server, token) -> None:
    """Join a team with its join code."""
    body = Client(server, token).call(
        "POST", f"/api/v1/teams/{team_id}/join", json={"join_code": join_code}
    )
    click.echo(f"joined team {body['id']} {body['name']}")


@click.command("select")
@click.argument("submission_id", type=int)
@click.option("--undo", is_flag=True, help="Drop it from the final selections.")
@server_option
@token_option
def select(submission_id: int, undo: bool, server, token) -> None:
    """Put a submission forward for the private board (or --undo)."""
    body = Client(server, token).call(
        "DELETE" if undo else "POST", f"/api/v1/submissions/{submission_id}/select"
    )
    click.echo(f"submission {body['id']} {'selected' if body['selected'] else 'not selected'}")


@click.command("push")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@server_option
@token_option
def push(bundle: Path, server, token) -> None:
    """Sponsors: upload a challenge bundle (folder or zip) to the server as a draft."""
    client = Client(server, token)
    with tempfile.TemporaryDirectory(prefix="jiebang-push-") as tmp:
        archive = bundle
        if bundle.is_dir():
            archive = Path(tmp) / "bundle.zip"
            _zip_folder(bundle, archive)
        body = client.upload("/api/v1/challenges", "bundle", archive, {})
    click.echo(f"uploaded {body['slug']} ({body['status']}); request a review when it is ready")


@click.command("dry-run")
@click.argument("challenge")
@click.argument("target")
@click.option("--note", default="")
@click.option("--wait", is_flag=True, help="Follow the dry run until it is final.")
@click.option("--full", is_flag=True, help="Upload the platform's base layers too.")
@server_option
@token_option
def dry_run(challenge: str, target: str, note: str, wait: bool, full: bool, server, token) -> None:
    """Sponsors: run a reference solution (PATH or IMAGE_TAG, as for submit) on the
    challenge's hidden data and scorer, before review; it goes on no board."""
    client = Client(server, token)
    client.headers()
    with tempfile.TemporaryDirectory(prefix="jiebang-dry-run-") as tmp:
        path, kind = prepare_upload(target, Path(tmp))
        if kind == "image" and not full:
            path = _thin(client, path, Path(tmp))
        body = client.upload(
            f"/api/v1/challenges/{challenge}/dry-runs", "file", path, {"kind": kind, "note": note}
        )
    click.echo(f"dry run {body['id']} {body['status']}")
    if wait:
        client.follow(body["id"])
        # The list shows the sponsor everything: both sides' metrics and both logs.
        runs = client.call("GET", f"/api/v1/challenges/{challenge}/dry-runs")["dry_runs"]
        _show(next(r for r in runs if r["id"] == body["id"]))
