"""The client's commands: log in, submit and follow, cancel, boards, teams, selections,
and the sponsor's drafts. ``jiebang`` (a server install) and ``jiebang-client`` (the
client alone) both offer them."""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from pathlib import Path

import click

from jiebang_client import config
from jiebang_client.api import Client, server_option, token_option
from jiebang_client.files import prepare_upload, thin, zip_folder
from jiebang_client.summary import BOARD_PAGE, describe

json_option = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")


@click.command()
@click.option(
    "--server",
    envvar="JIEBANG_SERVER",
    prompt=True,
    default=lambda: config.server(None),
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
    path = config.save({"server": client.server, "token": body["token"], "token_id": body["id"]})
    click.echo(f"logged in to {client.server} (scope {body['scope']}); token kept in {path}")


@click.command()
@server_option
@token_option
def logout(server: str | None, token: str | None) -> None:
    """Revoke the kept token and forget it."""
    saved = config.load()
    if saved.get("token_id"):
        Client(server, token).call("DELETE", f"/api/v1/tokens/{saved['token_id']}")
    config.forget()
    click.echo("logged out")


@click.command()
@click.argument("challenge")
@click.argument("target")
@click.option("--note", default="")
@click.option("--wait", is_flag=True, help="Follow the status until it is final.")
@click.option("--full", is_flag=True, help="Upload the platform's base layers too.")
@json_option
@server_option
@token_option
def submit(
    challenge: str, target: str, note: str, wait: bool, full: bool, as_json: bool, server, token
) -> None:
    """Submit PATH (image archive, zip, or folder with main.py) or a local IMAGE_TAG."""
    client = Client(server, token)
    client.headers()
    with tempfile.TemporaryDirectory(prefix="jiebang-submit-") as tmp:
        path, kind = prepare_upload(target, Path(tmp))
        if kind == "image" and not full:
            path = thin(client, path, Path(tmp))
        body = client.send_file(
            f"/api/v1/challenges/{challenge}/submissions", path, {"kind": kind, "note": note}
        )
    click.echo(f"submission {body['id']} {body['status']}", err=as_json)
    if wait:
        show(client, client.follow(body["id"]), as_json=as_json)


def show(client: Client, body: dict, *, as_json: bool) -> None:
    """The result, in words or as JSON; exit 1 if it failed or was refused."""
    if as_json:
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        challenge = board = None
        if body["status"] == "scored":
            slug = body["challenge"]
            challenge = client.call("GET", f"/api/v1/challenges/{slug}", auth=False)
            board = client.call(
                "GET",
                f"/api/v1/challenges/{slug}/leaderboard",
                auth=False,
                params={"per_page": BOARD_PAGE},
            )
        click.echo(describe(body, challenge=challenge, board=board))
    if body["status"] in ("failed", "rejected"):
        sys.exit(1)


def show_json(body: dict) -> None:
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    if body["status"] in ("failed", "rejected"):
        sys.exit(1)


@click.command()
@click.argument("submission_id", type=int)
@click.option("--wait", is_flag=True, help="Follow the status until it is final.")
@json_option
@server_option
@token_option
def status(submission_id: int, wait: bool, as_json: bool, server, token) -> None:
    """Show a submission's status, scores, rank and targets (exit 1 if it failed)."""
    client = Client(server, token)
    body = (
        client.follow(submission_id)
        if wait
        else client.call("GET", f"/api/v1/submissions/{submission_id}")
    )
    show(client, body, as_json=as_json)


@click.command()
@click.argument("submission_id", type=int)
@server_option
@token_option
def cancel(submission_id: int, server, token) -> None:
    """Cancel a submission still waiting in the queue (it costs no quota)."""
    body = Client(server, token).call("POST", f"/api/v1/submissions/{submission_id}/cancel")
    click.echo(f"submission {body['id']} {body['status']}; it does not count against the quota")


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
@click.argument("codes", nargs=-1, required=True, metavar="JOIN_CODE")
@server_option
@token_option
def teams_join(codes: tuple[str, ...], server, token) -> None:
    """Join a team with the join code its members shared (the code names the team;
    the older form TEAM_ID JOIN_CODE still works)."""
    client = Client(server, token)
    if len(codes) == 1:
        body = client.call("POST", "/api/v1/teams/join", json={"join_code": codes[0]})
        click.echo(f"joined team {body['id']} {body['name']} ({body['challenge']})")
        return
    if len(codes) != 2 or not codes[0].isdigit():
        raise click.UsageError("give the join code (or TEAM_ID JOIN_CODE)")
    body = client.call("POST", f"/api/v1/teams/{codes[0]}/join", json={"join_code": codes[1]})
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


def _bundle_archive(bundle: Path, tmp: str) -> Path:
    if not bundle.is_dir():
        return bundle
    archive = Path(tmp) / "bundle.zip"
    zip_folder(bundle, archive)
    return archive


@click.command("push")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@server_option
@token_option
def push(bundle: Path, server, token) -> None:
    """Sponsors: upload a challenge bundle (folder or zip) to the server as a draft."""
    client = Client(server, token)
    with tempfile.TemporaryDirectory(prefix="jiebang-push-") as tmp:
        body = client.upload("/api/v1/challenges", "bundle", _bundle_archive(bundle, tmp), {})
    click.echo(f"uploaded {body['slug']} ({body['status']}); request a review when it is ready")


@click.command("update")
@click.argument("slug")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@server_option
@token_option
def update(slug: str, bundle: Path, server, token) -> None:
    """Sponsors: replace draft SLUG with a challenge bundle (folder or zip)."""
    client = Client(server, token)
    with tempfile.TemporaryDirectory(prefix="jiebang-update-") as tmp:
        body = client.upload(
            f"/api/v1/challenges/{slug}", "bundle", _bundle_archive(bundle, tmp), {}, method="PUT"
        )
    click.echo(f"updated {body['slug']} ({body['status']})")


@click.command("request-review")
@click.argument("slug")
@server_option
@token_option
def request_review(slug: str, server, token) -> None:
    """Sponsors: send draft SLUG to the administrators for review."""
    body = Client(server, token).call("POST", f"/api/v1/challenges/{slug}/review")
    click.echo(f"{body['slug']} is {body['status']}; an administrator reviews it next")


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
            path = thin(client, path, Path(tmp))
        body = client.upload(
            f"/api/v1/challenges/{challenge}/dry-runs", "file", path, {"kind": kind, "note": note}
        )
    click.echo(f"dry run {body['id']} {body['status']}")
    if wait:
        client.follow(body["id"])
        # The list shows the sponsor everything: both sides' metrics and both logs.
        runs = client.call("GET", f"/api/v1/challenges/{challenge}/dry-runs")["dry_runs"]
        show_json(next(r for r in runs if r["id"] == body["id"]))
