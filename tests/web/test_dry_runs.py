"""Dry runs on the pages, over the API and from the `jiebang challenges dry-run` CLI."""

from __future__ import annotations

import io
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from challenges import service
from evaluator.context import open_context
from evaluator.jobs import run_evaluation
from evaluator.models import Submission
from tests.evaluator.scorer_world import participant, write_bundle
from web.client import dry_run


@pytest.fixture
def people(world, session):
    acme = world.org("acme")
    found = {
        "sponsor": world.user("s@example.com", "sponsor", org=acme),
        "admin": world.user("a@example.com", "admin"),
        "participant": world.user("p@example.com"),
    }
    session.commit()
    return found


def _login(client, email: str) -> None:
    client.post("/login", data={"email": email, "password": "password123"})


def _scored(session, sub_id: int) -> Submission:
    """As the worker leaves a dry run that its scorer scored (the worker's own path:
    tests/evaluator/test_dryrun_e2e.py)."""
    sub = session.get(Submission, sub_id)
    sub.status = "scored"
    metric = sub.challenge.metric
    sub.public_metrics, sub.private_metrics = {metric: 0.75}, {metric: 0.625}
    sub.public_score, sub.private_score = 0.75, 0.625
    sub.runtime_s = 1.5
    sub.log_excerpt = "RUNLOG-marker"
    sub.scorer_log = "SCORERLOG-marker"
    session.commit()
    return sub


def test_the_sponsor_dry_runs_a_draft_from_the_dashboard(
    client, world, session, people, make_bundle_zip
):
    draft = world.challenge(publish=False)
    session.commit()
    _login(client, "s@example.com")
    page = client.get("/sponsor/challenges/parity").get_data(as_text=True)
    assert 'id="dry-run-h"' in page and "No dry run yet." in page
    sent = client.post(
        "/sponsor/challenges/parity/dry-runs",
        data={"kind": "bundle", "file": (make_bundle_zip(), "ref.zip"), "note": "reference"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    sub = session.scalars(select(Submission).where(Submission.challenge_id == draft.id)).one()
    assert sub.dry_run and sub.team_id is None and sub.note == "reference"
    again = client.post(
        "/sponsor/challenges/parity/dry-runs",
        data={"kind": "bundle", "file": (make_bundle_zip(), "ref.zip")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "still waiting or running" in again.get_data(as_text=True)
    _scored(session, sub.id)
    page = client.get("/sponsor/challenges/parity").get_data(as_text=True)
    # Both sides' metric, the run time and both logs: the sponsor sees everything.
    for seen in ("0.7500", "0.6250", "1.50 s", "RUNLOG-marker", "SCORERLOG-marker"):
        assert seen in page, seen
    assert "<strong>0</strong> submissions" in page  # not counted as participation
    own = client.get(f"/submissions/{sub.id}").get_data(as_text=True)
    assert "None: a dry run of the sponsor" in own and "My team" not in own
    # The administrator sees the latest dry run next to "Approve and publish".
    client.post("/logout")
    _login(client, "a@example.com")
    admin = client.get("/admin").get_data(as_text=True)
    assert "Latest dry run:" in admin and f"#dry-run-{sub.id}" in admin
    assert "0.7500 / 0.6250" in admin


def test_the_admin_is_told_when_nobody_dry_ran_a_draft(client, world, session, people):
    world.challenge(publish=False)
    session.commit()
    _login(client, "a@example.com")
    assert "No dry run yet: nobody has run" in client.get("/admin").get_data(as_text=True)


def test_the_api_takes_and_lists_dry_runs(client, world, session, people, token_for):
    world.challenge(publish=False)
    session.commit()
    sponsor = token_for(people["sponsor"])
    url = "/api/v1/challenges/parity/dry-runs"
    made = client.post(
        url,
        data={"kind": "bundle", "file": (io.BytesIO(participant(right=1.0)), "ref.zip")},
        headers=sponsor,
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.get_json()
    run_id = made.get_json()["id"]
    busy = client.post(
        url,
        data={"kind": "bundle", "file": (io.BytesIO(participant()), "ref.zip")},
        headers=sponsor,
        content_type="multipart/form-data",
    )
    assert busy.status_code == 409 and busy.get_json()["error"]["field"] == "dry_run"
    _scored(session, run_id)
    listed = client.get(url, headers=sponsor).get_json()
    assert listed["challenge"] == "parity"
    [view] = listed["dry_runs"]
    assert view["id"] == run_id and view["team"] is None and view["status"] == "scored"
    assert view["private_metrics"] == {"f1_macro": 0.625}  # the private side too
    assert view["log"] == "RUNLOG-marker" and view["scorer_log"] == "SCORERLOG-marker"
    # The submission route shows the sponsor its dry run; nobody else learns of it.
    assert client.get(f"/api/v1/submissions/{run_id}", headers=sponsor).status_code == 200
    other = token_for(people["participant"])
    assert client.get(f"/api/v1/submissions/{run_id}", headers=other).status_code == 404
    assert client.get(url, headers=other).status_code == 404


@pytest.fixture
def live(app):
    """The app on a real port, for the CLI's HTTP client."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _worker(settings, stop: threading.Event) -> None:
    """Evaluate the dry runs that come in, as a worker would (the real job)."""
    ctx = open_context(settings)
    done: set[int] = set()
    while not stop.is_set():
        with ctx.sessions() as session:
            queued = session.scalars(
                select(Submission.id).where(Submission.dry_run, Submission.status == "queued")
            ).all()
        for sub_id in set(queued) - done:
            run_evaluation(ctx, sub_id)
            done.add(sub_id)
        time.sleep(0.2)


def test_the_cli_dry_runs_a_scoring_program_draft_and_waits(
    world, session, people, token_for, live, settings, tmp_path
):
    world.org("acme")
    root = write_bundle(tmp_path / "scored", slug="scored-dry")
    from challenges.bundle import open_bundle

    with open_bundle(root) as bundle:
        service.create_from_bundle(session, bundle=bundle, blobs=world.blobs)
    session.commit()
    solution = tmp_path / "reference.zip"
    solution.write_bytes(participant(right=1.0))
    env = {
        "JIEBANG_SERVER": live,
        "JIEBANG_TOKEN": token_for(people["sponsor"])["Authorization"].split()[1],
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    stop = threading.Event()
    worker = threading.Thread(target=_worker, args=(settings, stop), daemon=True)
    worker.start()
    try:
        result = CliRunner().invoke(
            dry_run, ["scored-dry", str(solution), "--wait"], env=env, catch_exceptions=False
        )
    finally:
        stop.set()
        worker.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert "dry run " in result.output and '"status": "scored"' in result.output
    assert '"private_metrics": {\n    "acc": 1.0' in result.output
    # A participant's token is refused with the server's words, and the exit code says so.
    env["JIEBANG_TOKEN"] = token_for(people["participant"])["Authorization"].split()[1]
    refused = CliRunner().invoke(dry_run, ["scored-dry", str(solution)], env=env)
    assert refused.exit_code != 0 and "No challenge scored-dry" in refused.output
