"""The client's commands against a real server on a port: results in words, cancel,
joining by code alone, a sponsor's draft updated and sent for review; and the client
package importing nothing of the server's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from challenges.models import Challenge
from evaluator.models import Submission
from tests.conftest import write_bundle
from web.client import cancel, request_review, status, submit, teams, update

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def run(live, tmp_path, redis_conn):
    def invoke(command, args, user_token: str):
        env = {
            "JIEBANG_SERVER": live,
            "JIEBANG_TOKEN": user_token,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        return CliRunner().invoke(command, args, env=env)

    return invoke


def _token(token_for, user, scope="submit") -> str:
    return token_for(user, scope=scope)["Authorization"].split()[1]


@pytest.fixture
def scored(world, session, published, token_for):
    alice = world.user("alice@example.com")
    mine = world.team(published, alice, name="Sharp Eyes")
    other = world.team(published, world.user("bob@example.com"), name="Baseline")
    world.scored(other, public=0.99, private=0.9)
    sub = world.scored(mine, public=0.912345, private=0.8, runtime=75.0)
    session.commit()
    return sub, _token(token_for, alice)


def test_status_says_the_result_in_words(run, scored):
    sub, token = scored
    result = run(status, [str(sub.id)], token)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"submission {sub.id} (parity): scored" in out
    assert "public score (f1_macro): 0.9123" in out
    assert "rank on the public board: 2 of 2" in out
    assert "✔ met      f1_macro ≥ 0.9  (0.9123)" in out
    assert "✘ not met  run time ≤ 60 s  (75.0 s)" in out
    assert not out.lstrip().startswith("{")


def test_status_json_prints_the_api_answer(run, scored):
    sub, token = scored
    result = run(status, [str(sub.id), "--json"], token)
    assert result.exit_code == 0
    assert json.loads(result.output)["public_score"] == pytest.approx(0.912345)


def test_a_failure_is_told_in_plain_words_and_exits_1(run, world, session, published, token_for):
    alice = world.user("alice@example.com")
    team = world.team(published, alice)
    sub = world.failed(team, "run.timeout", failure="timeout", limit_s=30)
    session.commit()
    result = run(status, [str(sub.id)], _token(token_for, alice))
    assert result.exit_code == 1
    assert "why (timeout): The run took longer than the 30 s time limit" in result.output


def test_cancel_a_queued_submission(run, world, session, published, token_for):
    alice = world.user("alice@example.com")
    team = world.team(published, alice)
    sub = world._submission(team, status="queued")
    session.commit()
    token = _token(token_for, alice)
    shown = run(status, [str(sub.id)], token)
    assert "next in the queue" in shown.output
    result = run(cancel, [str(sub.id)], token)
    assert result.exit_code == 0 and "cancelled" in result.output
    session.expire_all()
    assert session.get(Submission, sub.id).status == "cancelled"
    again = run(cancel, [str(sub.id)], token)
    assert again.exit_code != 0 and "already finished" in again.output


def test_join_a_team_by_its_code_alone(run, world, session, published, token_for):
    team = world.team(published, world.user("alice@example.com"), name="Sharp Eyes")
    bob = world.user("bob@example.com")
    session.commit()
    token = _token(token_for, bob)
    wrong = run(teams, ["join", "not-a-code"], token)
    assert wrong.exit_code != 0 and "join code is not right" in wrong.output
    result = run(teams, ["join", team.join_code], token)
    assert result.exit_code == 0, result.output
    assert f"joined team {team.id} Sharp Eyes (parity)" in result.output


def test_a_sponsor_updates_a_draft_then_requests_review(run, world, session, token_for, tmp_path):
    item = world.challenge(publish=False)
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    session.commit()
    token = _token(token_for, sponsor, scope="manage")
    bundle = write_bundle(
        tmp_path / "v2", overrides={"title": {"en": "Parity, second draft", "zh": "奇偶二稿"}}
    )
    result = run(update, ["parity", str(bundle)], token)
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Challenge, item.id).title_en == "Parity, second draft"
    other = write_bundle(tmp_path / "v3", overrides={"slug": "elsewhere"})
    refused = run(update, ["parity", str(other)], token)
    assert refused.exit_code != 0 and "a draft keeps its slug" in refused.output
    result = run(request_review, ["parity"], token)
    assert result.exit_code == 0 and "parity is in_review" in result.output
    late = run(update, ["parity", str(bundle)], token)
    assert late.exit_code != 0 and "Only a draft" in late.output


BLOCKER = """
import sys
SERVER = ("flask", "sqlalchemy", "rq", "docker", "redis", "pydantic", "jiebang", "web",
          "challenges", "evaluator", "leaderboards", "sandboxes")
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in SERVER:
            raise ImportError(f"the client imported {name}")
        return None
sys.meta_path.insert(0, Block())
from click.testing import CliRunner
from jiebang_client.main import main
for args in (["--help"], ["submit", "--help"], ["challenges", "update", "--help"],
             ["teams", "join", "--help"], ["cancel", "--help"], ["status", "--help"]):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
print("ok")
"""


def test_the_client_package_imports_nothing_of_the_server(tmp_path):
    """Run from the client folder alone (what `pip install ./client` installs), with every
    server package refused at import."""
    client = ROOT / "client"
    assert (client / "pyproject.toml").is_file()
    assert (client / "jiebang_client" / "main.py").is_file()  # the link to the package
    env = {**os.environ, "PYTHONPATH": str(client)}
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


PERFECT = """
import csv, os
rows = list(csv.DictReader(open(os.path.join(os.environ["JIEBANG_INPUT"], "test.csv"))))
with open(os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv"), "w") as out:
    out.write("id,prediction\\n" + "".join(f"{r['id']},{int(r['x']) % 2}\\n" for r in rows))
"""


def _worker(settings, stop: threading.Event) -> None:
    """Evaluate what comes in with the real job, as a worker would."""
    from sqlalchemy import select

    from evaluator.context import open_context
    from evaluator.jobs import run_evaluation

    ctx = open_context(settings)
    while not stop.is_set():
        with ctx.sessions() as session:
            queued = session.scalars(select(Submission.id).where(Submission.status == "queued"))
            ids = list(queued)
        for sub_id in ids:
            run_evaluation(ctx, sub_id)
        time.sleep(0.2)
    ctx.close()


@pytest.mark.docker
def test_submit_wait_prints_the_result_in_words(
    run, world, session, published, token_for, settings, tmp_path
):
    alice = world.user("alice@example.com")
    world.team(published, alice, name="Sharp Eyes")
    session.commit()
    folder = tmp_path / "solution"
    folder.mkdir()
    (folder / "main.py").write_text(PERFECT)
    stop = threading.Event()
    worker = threading.Thread(target=_worker, args=(settings, stop), daemon=True)
    worker.start()
    try:
        result = run(submit, ["parity", str(folder), "--wait"], _token(token_for, alice))
    finally:
        stop.set()
        worker.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert "(parity): scored" in result.output
    assert "public score (f1_macro): 1.0000" in result.output
    assert "rank on the public board: 1 of 1" in result.output
    assert "✔ met      f1_macro ≥ 0.9  (1.0000)" in result.output
