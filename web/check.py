"""``jiebang check``: run a submission on your own machine, as the platform would, on a
challenge's public sample, before a quota slot is spent. Nothing is counted on the server;
with --kit no server is needed at all."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import click
import requests

from web.client import CHUNK, Client, prepare_upload, server_option, token_option

BUILD_BASE = (
    "the base image {image} is not on the Docker engine at {host}; code bundles run on it. "
    "Build it there (as root, with debootstrap): jiebang sandbox build-base --docker-host {host}"
)


@click.command("check")
@click.argument("challenge")
@click.argument("target")
@click.option(
    "--kit",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A check kit already downloaded (GET /api/v1/challenges/SLUG/check-kit); "
    "no server is asked.",
)
@server_option
@token_option
@click.option(
    "--docker-host",
    envvar="DOCKER_HOST",
    default=None,
    help="The Docker engine to run on (default: DOCKER_HOST, else the local engine).",
)
@click.option(
    "--runtime",
    type=click.Choice(["runc", "runsc"]),
    default="runc",
    show_default=True,
    help="Container runtime; runsc (gVisor) where the challenge runs under it.",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep what the run wrote (DIR/output, DIR/run-log.txt) and the scorer's answer "
    "(DIR/scores, DIR/scorer-log.txt) here.",
)
def check(challenge, target, kit, server, token, docker_host, runtime, keep) -> None:
    """Test TARGET on CHALLENGE's public sample before it counts.

    TARGET is what `jiebang submit` takes: an image archive, a local image tag, or a code
    bundle (a folder with main.py, or its zip). It runs with the worker's hardened flags
    (no network, read-only root, uid 10001, the challenge's limits) with the sample at
    /input; its output is checked against the contract and, where the sponsor ships
    sample labels, scored on the sample. Code bundles need the base image
    jiebang/python:3.11 on the engine. Exit 0 when it ran, kept to the contract (and
    scored); 1 with the platform's own words otherwise.
    """
    import sandboxes
    from evaluator import inputs
    from evaluator.check import run_check
    from evaluator.kit import KitError, unpack
    from evaluator.outcome import rejected

    workdir = Path(tempfile.mkdtemp(prefix="jiebang-check-"))
    try:
        kit_file = kit or _download(Client(server, token), challenge, workdir / "kit.tar")
        try:
            unpacked = unpack(kit_file, workdir / "kit")
        except KitError as exc:
            raise click.ClickException(str(exc)) from None
        if unpacked.info["slug"] != challenge:
            raise click.ClickException(f"the kit is for {unpacked.info['slug']}, not {challenge}")
        client = sandboxes.connect(docker_host) if docker_host else _local_engine()
        path, kind = prepare_upload(target, workdir)
        scratch = sandboxes.new_scratch_dir(workdir / "scratch")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        try:
            try:
                image_id, command, code_dir = _runnable(client, path, kind, scratch)
            except (sandboxes.ArchiveError, sandboxes.CodeBundleError) as exc:
                _fail(rejected(exc).message)
            except inputs.MissingBaseImage:
                host = docker_host or os.environ.get("DOCKER_HOST") or "the local engine"
                raise click.ClickException(
                    BUILD_BASE.format(image=sandboxes.BASE_IMAGE, host=host)
                ) from None
            checked = run_check(
                client,
                unpacked,
                image_id=image_id,
                command=command,
                code_dir=code_dir,
                runtime=runtime,
                scratch=scratch,
                keep=keep,
            )
        finally:
            sandboxes.remove_scratch_dir(scratch)
    finally:
        _remove(workdir)
    _report(checked, unpacked)


def _local_engine():
    import docker

    try:
        return docker.from_env(version="auto")
    except docker.errors.DockerException as exc:
        raise click.ClickException(f"cannot reach Docker ({exc}); give --docker-host") from None


def _runnable(client, path: Path, kind: str, scratch: Path):
    """(image id, command, code folder), vetted and prepared as the worker does."""
    import sandboxes
    from evaluator import inputs

    if kind == "image":
        return inputs.ensure_image(client, path, None), None, None
    sandboxes.check_bundle(path)  # what the server checks when it accepts an upload
    image_id = inputs.base_image(client)
    code_dir = sandboxes.extract_bundle(path, scratch / "code")
    return image_id, ["python", "/code/main.py"], code_dir


def _download(client: Client, challenge: str, dest: Path) -> Path:
    """The challenge's check kit, streamed to ``dest``."""
    url = f"{client.server}/api/v1/challenges/{challenge}/check-kit"
    try:
        response = requests.get(
            url, headers=client.headers(required=False), stream=True, timeout=60
        )
    except requests.ConnectionError:
        raise click.ClickException(f"cannot reach {client.server}") from None
    with response:
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status_code}"
            raise click.ClickException(message)
        with open(dest, "wb") as out:
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
    return dest


def _report(checked, kit) -> None:
    outcome = checked.outcome
    if outcome.runtime_s is not None:
        memory = outcome.peak_memory_mb
        peak = f", peak memory {memory:.0f} MB" if memory is not None else ""
        click.echo(f"ran in {outcome.runtime_s:.2f} s{peak} (exit code {outcome.exit_code})")
    if checked.scorer_image:
        click.echo(f"scored with {checked.scorer_image}")
    if outcome.status.value != "scored":
        if outcome.log:
            click.echo("--- the run's log (end) ---\n" + outcome.log[-4000:], err=True)
        if outcome.scorer_log:
            click.echo("--- the scorer's log (end) ---\n" + outcome.scorer_log[-4000:], err=True)
        _fail(outcome.message)
    click.echo("passed: the output keeps to the challenge's contract")
    if outcome.public_metrics is None and outcome.private_metrics is None:
        click.echo("not scored: the sponsor ships no sample labels")
        return
    click.echo("scores on the sample (its own split, not the board's):")
    for m in kit.info["metrics"]:
        values = [
            (side, (metrics or {}).get(m["name"]))
            for side, metrics in (
                ("public", outcome.public_metrics),
                ("private", outcome.private_metrics),
            )
        ]
        shown = "  ".join(f"{side} {v:.4f}" for side, v in values if v is not None)
        click.echo(f"  {m['name']} ({m['title']['en']}): {shown or 'no rows'}")


def _fail(message: str) -> None:
    click.echo(f"check failed: {message}", err=True)
    sys.exit(1)


def _remove(path: Path) -> None:
    """Delete the work folder; the kit's folders are read-only, so open them first."""
    for folder, dirs, _files in os.walk(path):
        for name in dirs:
            full = Path(folder, name)
            if not full.is_symlink():
                full.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)
