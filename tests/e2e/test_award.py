"""A whole challenge from draft to award, with real processes, workers and containers.

The sponsor's draft is loaded by the operator's CLI, sent for review and approved
over the API; a judge is assigned; two teams submit code bundles that a real
worker runs in Docker; one team selects its final submission; the challenge
closes by itself at its deadline (the worker's ticker) and its private board is
frozen; the judge re-runs the provisional winner, sees it reproduce, approves;
the prize is awarded and published; the audit log verifies.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from web import demo

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SLUG = "handwritten-digits"
GOOD = (demo.example_dir() / "submissions" / "good" / "main.py").read_text()


def _bundle(main: str, train: bytes | None = None) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", main)
        if train is not None:
            z.writestr("train.csv", train)
    data.seek(0)
    return data


def test_draft_to_award(api, cli, tmp_path):
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example Logistics")
    people = {
        "admin": ("admin", []),
        "sponsor": ("sponsor", ["--org", "example-logistics"]),
        "judge": ("judge", []),
        "alice": ("participant", []),
        "bob": ("participant", []),
    }
    tokens = {}
    for name, (role, extra) in people.items():
        email = f"{name}@example.com"
        cli(
            "users", "create", "--email", email, "--password", "password123", "--role", role, *extra
        )
        tokens[name] = cli("users", "token", "--email", email)
    # The clock starts now: time enough to submit and score, then it closes by itself.
    window = dt.timedelta(seconds=45)
    start = demo.utcnow()  # one instant: making the bundle's data takes a while
    bundle = demo.prepare_bundle(tmp_path / "bundle", now=start, closes_in=window)
    closes_at = start + window
    assert "(draft)" in cli("challenges", "load", str(bundle))
    assert api.get(f"/api/v1/challenges/{SLUG}").status_code == 404  # drafts are not public

    review = api.post(f"/api/v1/challenges/{SLUG}/review", tokens["sponsor"])
    assert review.json()["status"] == "in_review"
    assert (
        api.post(f"/api/v1/challenges/{SLUG}/approve", tokens["admin"]).json()["status"] == "open"
    )
    assign = api.post(
        f"/api/v1/challenges/{SLUG}/judges", tokens["admin"], json={"email": "judge@example.com"}
    )
    assert assign.status_code == 201

    for name in ("alice", "bob"):
        made = api.post(f"/api/v1/challenges/{SLUG}/teams", tokens[name], json={"name": f"{name}s"})
        assert made.status_code == 201
    train = (bundle / "train.csv").read_bytes()
    good = api.upload(
        SLUG, tokens["alice"], _bundle(GOOD.replace("/app/", "/code/"), train), "bundle"
    )
    zeros = (
        "import os, pandas as pd\n"
        "t = pd.read_csv('/input/test.csv')\n"
        "t.assign(prediction=0)[['id', 'prediction']].to_csv("
        "os.environ['JIEBANG_OUTPUT'] + '/predictions.csv', index=False)\n"
    )
    weak = api.upload(SLUG, tokens["bob"], _bundle(zeros), "bundle")
    assert api.wait(good, tokens["alice"])["status"] == "scored"
    assert api.wait(weak, tokens["bob"])["status"] == "scored"
    selected = api.post(f"/api/v1/submissions/{good}/select", tokens["alice"])
    assert selected.json()["selected"] is True
    private = f"/api/v1/challenges/{SLUG}/leaderboard?board=private"
    assert api.get(private, tokens["judge"]).status_code == 403  # not before close

    def judging():
        status = api.get(f"/api/v1/challenges/{SLUG}").json()["status"]
        return status if status == "judging" else None

    api.wait_for(judging, timeout=window.total_seconds() + 60)
    assert demo.utcnow() >= closes_at
    refused = api.post(
        f"/api/v1/challenges/{SLUG}/submissions",
        tokens["bob"],
        files={"file": ("b.zip", _bundle(zeros))},
        data={"kind": "bundle"},
    )
    assert refused.status_code == 403 and "closed" in refused.json()["error"]["message"]
    assert api.get(private, tokens["alice"]).status_code == 403
    board = api.get(private, tokens["judge"]).json()["entries"]
    assert [e["team"] for e in board] == ["alices", "bobs"]
    assert board[0]["meets_targets"] is True and board[1]["meets_targets"] is False

    state = api.get(f"/api/v1/challenges/{SLUG}/judging", tokens["judge"]).json()
    assert state["provisional_winner"]["submission_id"] == good
    rerun = api.post(f"/api/v1/challenges/{SLUG}/reruns", tokens["judge"]).json()["id"]
    assert api.wait(rerun, tokens["judge"])["status"] == "scored"
    state = api.get(f"/api/v1/challenges/{SLUG}/judging", tokens["judge"]).json()
    assert state["reproduces"] is True
    verdict = api.post(
        f"/api/v1/challenges/{SLUG}/verdicts", tokens["judge"], json={"decision": "approve"}
    )
    assert verdict.status_code == 201 and verdict.json()["status"] == "awarded"

    award = api.get(f"/api/v1/challenges/{SLUG}/award").json()
    assert (award["status"], award["team"], award["amount"], award["currency"]) == (
        "awarded",
        "alices",
        "100000.00",
        "CNY",
    )
    assert api.get("/api/v1/winners").json()["winners"][0]["challenge"] == SLUG
    assert api.get(private).status_code == 200  # public once decided
    assert cli("audit", "verify").startswith("audit log intact")
