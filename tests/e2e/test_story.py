"""The whole story with real processes: CLI, web server, RQ worker, Docker.

A sponsor's bundle is loaded with the CLI; two teams form over the API; one
uploads a real `docker save` archive of the example SVM, another a broken image
and a code bundle; a real `jiebang worker` process runs them in Docker; the API
leaderboard shows exactly the scores scikit-learn computes on the public rows.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score
from sklearn.svm import SVC

import sandboxes
from challenges.split import public_mask
from web import demo

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SLUG = "handwritten-digits"


def _team(api, token, name) -> None:
    response = api.post("/api/v1/challenges/handwritten-digits/teams", token, json={"name": name})
    assert response.status_code == 201, response.text


def _expected_public_f1(bundle: Path, secret: str, fraction: float) -> float:
    """Independently: train the same model here, score the public rows with scikit-learn."""
    train = pd.read_csv(bundle / "train.csv")
    test = pd.read_csv(bundle / "test.csv")
    labels = pd.read_csv(bundle / "labels.csv", dtype={"id": str})
    features = [c for c in train.columns if c.startswith("px")]
    predicted = SVC(gamma=0.001, C=10).fit(train[features], train["label"]).predict(test[features])
    truth = labels.set_index("id").loc[test["id"], "label"].to_numpy()
    public = public_mask(test["id"].to_numpy(), secret, fraction)
    return f1_score(truth[public], predicted[public], average="macro")


def test_a_whole_challenge_from_bundle_to_leaderboard(
    api, cli, tmp_path, session, docker_host, settings
):
    bundle = demo.prepare_bundle(tmp_path / "bundle", now=demo.utcnow())
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example Logistics")
    assert "handwritten-digits (open)" in cli("challenges", "load", str(bundle), "--publish")
    tokens = {}
    for name in ("svm", "broken"):
        cli("users", "create", "--email", f"{name}@example.com", "--password", "password123")
        tokens[name] = cli("users", "token", "--email", f"{name}@example.com")
        _team(api, tokens[name], f"team {name}")

    client = sandboxes.connect(docker_host)
    archives = demo.build_submission_archives(client, bundle, tmp_path, names=("good", "broken"))
    good = api.upload(SLUG, tokens["svm"], archives["good"], "image")
    broken = api.upload(SLUG, tokens["broken"], archives["broken"], "image")
    zeros = io.BytesIO()
    with zipfile.ZipFile(zeros, "w") as z:
        z.writestr(
            "main.py",
            "import os, pandas as pd\n"
            "t = pd.read_csv('/input/test.csv')\n"
            "t.assign(prediction=0)[['id', 'prediction']].to_csv("
            "os.environ['JIEBANG_OUTPUT'] + '/predictions.csv', index=False)\n",
        )
    zeros.seek(0)
    baseline = api.upload(SLUG, tokens["broken"], zeros, "bundle")

    good_result = api.wait(good, tokens["svm"])
    broken_result = api.wait(broken, tokens["broken"])
    baseline_result = api.wait(baseline, tokens["broken"])
    assert good_result["status"] == "scored", good_result
    assert broken_result["status"] == "failed"
    assert broken_result["failure"] == "bad_output"
    assert "missing" in broken_result["message"]
    assert baseline_result["status"] == "scored", baseline_result
    assert good_result["private_score"] is None  # hidden while the challenge is open

    from challenges.service import get_challenge

    challenge = get_challenge(session, "handwritten-digits")
    expected = _expected_public_f1(bundle, challenge.split_secret, challenge.public_fraction)
    board = api.get(f"/api/v1/challenges/{SLUG}/leaderboard").json()
    entries = board["entries"]
    assert [e["team"] for e in entries] == ["team svm", "team broken"]
    assert entries[0]["score"] == pytest.approx(expected, abs=1e-12)
    assert entries[0]["meets_targets"] is True
    assert entries[1]["submission_id"] == baseline and entries[1]["meets_targets"] is False
    assert np.isclose(good_result["public_score"], expected)
    assert cli("audit", "verify").startswith("audit log intact")
    for sub in (good, broken, baseline):
        labels = [f"jiebang.namespace={settings.namespace}", f"jiebang.submission={sub}"]
        assert client.containers.list(all=True, filters={"label": labels}) == []
