"""The `jiebang` client against a real server process and a real worker."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess

import pytest

from web import demo

from .conftest import JIEBANG

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SLUG = "handwritten-digits"


@pytest.fixture
def client_env(env, tmp_path, server):
    values = dict(env)
    values["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    values.pop("JIEBANG_TOKEN", None)
    values["JIEBANG_SERVER"] = server
    return values


def run(client_env, *args: str, input_text: str | None = None, ok: bool = True):
    done = subprocess.run(
        [*JIEBANG, *args],
        env=client_env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=300,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_a_team_works_from_the_terminal(client_env, cli, tmp_path):
    bundle = demo.prepare_bundle(tmp_path / "bundle", now=demo.utcnow())
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example Logistics")
    cli("challenges", "load", str(bundle), "--publish")
    cli("users", "create", "--email", "t@example.com", "--password", "password123")

    bad = run(client_env, "login", "--email", "t@example.com", "--password", "nope", ok=False)
    assert bad.returncode != 0 and "Wrong email or password" in bad.stderr
    run(client_env, "login", "--email", "t@example.com", input_text="password123\n")
    config = tmp_path / "config" / "jiebang" / "client.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text())["token"].startswith("jb_")

    made = run(client_env, "teams", "create", SLUG, "Terminal Team").stdout
    assert "join code" in made
    folder = tmp_path / "solution"
    folder.mkdir()
    (folder / "main.py").write_text(
        "import os, pandas as pd\n"
        "t = pd.read_csv('/input/test.csv')\n"
        "t.assign(prediction=t['px36'].gt(8).astype(int))[['id', 'prediction']]"
        ".to_csv(os.environ['JIEBANG_OUTPUT'] + '/predictions.csv', index=False)\n"
    )
    done = run(client_env, "submit", SLUG, str(folder), "--wait", "--json")
    assert "uploading" in done.stderr
    result = json.loads(done.stdout)  # --json: only the API's JSON on stdout
    assert result["status"] == "scored" and result["public_score"] is not None
    sub_id = result["id"]

    again = json.loads(run(client_env, "status", str(sub_id), "--json").stdout)
    words = run(client_env, "status", str(sub_id)).stdout  # without it: in words
    assert "scored" in words and f"{again['public_score']:.4f}" in words
    assert again["public_score"] == result["public_score"]
    table = run(client_env, "leaderboard", SLUG).stdout
    assert "Terminal Team" in table
    rows = list(
        csv.DictReader(io.StringIO(run(client_env, "leaderboard", SLUG, "--format", "csv").stdout))
    )
    assert rows[0]["team"] == "Terminal Team" and float(rows[0]["score"]) == result["public_score"]
    private = run(client_env, "leaderboard", SLUG, "--board", "private", ok=False)
    assert private.returncode != 0 and "not available" in private.stderr
    assert "selected" in run(client_env, "select", str(sub_id)).stdout
    assert "not selected" in run(client_env, "select", str(sub_id), "--undo").stdout

    run(client_env, "logout")
    assert not config.exists()
    after = run(client_env, "status", str(sub_id), ok=False)
    assert after.returncode != 0 and "log in first" in after.stderr


def test_a_sponsor_pushes_a_bundle(client_env, cli, tmp_path):
    bundle = demo.prepare_bundle(tmp_path / "bundle", now=demo.utcnow())
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example Logistics")
    cli(
        "users",
        "create",
        "--email",
        "s@example.com",
        "--password",
        "password123",
        "--role",
        "sponsor",
        "--org",
        "example-logistics",
    )
    env = dict(client_env, JIEBANG_TOKEN=cli("users", "token", "--email", "s@example.com"))
    assert stat.S_IMODE(os.stat(bundle).st_mode)
    pushed = run(env, "challenges", "push", str(bundle)).stdout
    assert f"uploaded {SLUG} (draft)" in pushed
    (bundle / "challenge.yaml").write_text("slug: x\n")
    broken = run(env, "challenges", "push", str(bundle), ok=False)
    assert broken.returncode != 0 and "required key is missing" in broken.stderr


def test_an_image_tag_is_uploaded_thin(client_env, cli, tmp_path, docker_host):
    import sandboxes

    bundle = demo.prepare_bundle(tmp_path / "bundle", now=demo.utcnow())
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example Logistics")
    cli("challenges", "load", str(bundle), "--publish")
    cli("users", "create", "--email", "i@example.com", "--password", "password123")
    # `jiebang submit TAG` exports the tag from the participant's own engine (DOCKER_HOST);
    # on this machine the image was built on Jiebang's, so that is the one to name.
    token = cli("users", "token", "--email", "i@example.com")
    env = dict(client_env, JIEBANG_TOKEN=token, DOCKER_HOST=docker_host)
    run(env, "teams", "create", SLUG, "Image Team")
    client = sandboxes.connect(docker_host)
    archives = demo.build_submission_archives(client, bundle, tmp_path, names=("good",))
    full_size = archives["good"].stat().st_size
    done = run(env, "submit", SLUG, demo.image_tag("good"), "--wait", "--json")
    assert "thin upload" in done.stderr and "base layers left out" in done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "scored" and result["size"] < full_size / 100
