"""Leftovers of a killed worker are reaped; runs of live workers are left alone."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import time
from pathlib import Path

import docker
import pytest
from click.testing import CliRunner

import sandboxes
from sandboxes import owner, scratch
from sandboxes.cli import sandbox

pytestmark = pytest.mark.docker

DEAD = "999999999-1"  # above any pid_max: never a live process


def _labelled(client, image, token, *, owner_token, host=None, deadline_in=3600.0):
    labels = {
        "jiebang.sandbox": "1",
        "jiebang.sandbox.owner": owner_token,
        "jiebang.sandbox.host": host or owner.host(),
        "jiebang.sandbox.deadline": str(int(time.time() + deadline_in)),
        "jiebang.test.run": token,
    }
    return client.containers.create(image, command=["true"], labels=labels)


def _exists(client, container) -> bool:
    try:
        client.containers.get(container.id)
    except docker.errors.NotFound:
        return False
    return True


def test_reap_removes_only_leftovers(client, base_image):
    token = secrets.token_hex(6)
    dead = _labelled(client, base_image, token, owner_token=DEAD)
    overdue = _labelled(client, base_image, token, owner_token=owner.token(), deadline_in=-1)
    live = _labelled(client, base_image, token, owner_token=owner.token())
    elsewhere = _labelled(client, base_image, token, owner_token=DEAD, host="other-host")
    try:
        assert sandboxes.reap(client) >= 2
        assert not _exists(client, dead) and not _exists(client, overdue)
        assert _exists(client, live) and _exists(client, elsewhere)
    finally:
        for container in (dead, overdue, live, elsewhere):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def test_reap_unmounts_and_deletes_dead_scratch_dirs(client, tmp_path):
    root = tmp_path / "scratch"
    live = scratch.create(root, output_mb=1)
    left = root / f"{owner.RUN_PREFIX}{DEAD}-abcdef"
    (left / "output").mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(left / "output")], check=True
    )
    (left / "output" / "predictions.csv").write_text("id,prediction\n")
    unrelated = root / "keep-me"
    unrelated.mkdir()
    try:
        assert sandboxes.reap(client, scratch_root=root) >= 1
        assert not left.exists()
        assert live.output.is_dir() and os.path.ismount(live.output)
        assert unrelated.is_dir()
    finally:
        scratch.destroy(live)
        if os.path.ismount(left / "output"):
            subprocess.run(["umount", str(left / "output")], check=False)
    assert not live.root.exists()


def test_reap_unmounts_runs_nested_in_a_dead_jobs_directory(client, tmp_path):
    root = tmp_path / "scratch"
    job = root / f"{owner.RUN_PREFIX}{DEAD}-abcdef"
    run_output = job / f"{owner.RUN_PREFIX}{DEAD}-123456" / "output"
    run_output.mkdir(parents=True)
    (job / "code").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(run_output)], check=True)
    try:
        assert sandboxes.reap(client, scratch_root=root) >= 1
        assert not job.exists()
    finally:
        if os.path.ismount(run_output):
            subprocess.run(["umount", str(run_output)], check=False)


def test_a_jobs_scratch_dir_is_removed_with_what_is_mounted_in_it(tmp_path):
    job = sandboxes.new_scratch_dir(tmp_path / "scratch")
    assert owner.is_leftover_run(job.name) is False  # ours, alive
    run = scratch.create(job, output_mb=1)
    assert os.path.ismount(run.output)
    sandboxes.remove_scratch_dir(job)
    assert not job.exists() and not os.path.ismount(run.output)


def test_cli_reap_and_build_base(client, base_image, tmp_path):
    runner = CliRunner()
    reaped = runner.invoke(sandbox, ["reap", "--scratch-root", str(tmp_path)])
    assert reaped.exit_code == 0, reaped.output
    assert reaped.output.startswith("removed ")
    # The image exists, so this only reports it instead of rebuilding.
    built = runner.invoke(sandbox, ["build-base"])
    assert built.exit_code == 0, built.output
    assert built.output.split() == [sandboxes.BASE_IMAGE, base_image]


def test_reap_removes_dead_runs_cgroups(client):
    hierarchy = Path("/sys/fs/cgroup/memory/jiebang")
    dead = hierarchy / f"{owner.RUN_PREFIX}{DEAD}-abcdef"
    live = hierarchy / owner.run_name()
    dead.mkdir(parents=True, exist_ok=True)
    live.mkdir()
    try:
        sandboxes.reap(client)
        assert not dead.exists()
        assert live.is_dir()
    finally:
        for path in (dead, live):
            if path.exists():
                path.rmdir()
