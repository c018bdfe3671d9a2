"""`jiebang check` and its kit: the kit route on a real app (what is public, what never is),
and the check itself on Jiebang's real Docker engine with a kit fetched from that route."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from challenges import service
from challenges.bundle import open_bundle
from evaluator.messages import english
from tests.conftest import write_bundle
from web.check import check

EXAMPLES = Path(__file__).resolve().parents[2] / "web" / "examples"
SAMPLE = "id,x\n" + "".join(f"s{i},{i}\n" for i in range(6))
SAMPLE_LABELS = "id,label\n" + "".join(f"s{i},{i % 2}\n" for i in range(6))
SOLVER = """\
import csv, os
src = os.path.join(os.environ["JIEBANG_INPUT"], "test.csv")
dst = os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv")
with open(src) as f, open(dst, "w") as out:
    out.write("{header}\\n")
    for row in csv.DictReader(f):
        out.write(f"{{row['id']}},{{int(row['x']) % 2}}\\n")
print("solved")
"""
ONE_ROW = """\
import os
with open(os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv"), "w") as out:
    out.write("id,prediction\\ns0,0\\n")
"""


def load(session, blobs, root: Path, *, publish: bool = True):
    with open_bundle(root) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    if publish:
        service.publish(session, item)
    session.commit()
    return item


def parity(world, session, blobs, tmp_path: Path, *, labels: bool = True, publish=True):
    """The conftest's parity challenge with a sample of six rows (and their labels)."""
    world.org()
    data = {
        "train": ["train.csv"],
        "test_inputs": "test.csv",
        "test_labels": "labels.csv",
        "public_fraction": 0.5,
        "sample_inputs": "sample.csv",
    }
    if labels:
        data["sample_labels"] = "sample-labels.csv"
    root = write_bundle(
        tmp_path / "parity",
        overrides={
            "data": data,
            "opens_at": "2020-01-01T00:00:00+08:00",
            "closes_at": "2099-01-01T00:00:00+08:00",
        },
    )
    (root / "sample.csv").write_text(SAMPLE)
    (root / "sample-labels.csv").write_text(SAMPLE_LABELS)
    return load(session, blobs, root, publish=publish), root


def members(kit: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(kit)) as tar:
        return {m.name: tar.extractfile(m).read() if m.isfile() else None for m in tar}


def fetch(client, slug: str, tmp_path: Path, **kwargs) -> Path:
    response = client.get(f"/api/v1/challenges/{slug}/check-kit", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-tar"
    path = tmp_path / f"{slug}-kit.tar"
    path.write_bytes(response.get_data())
    return path


# --- the kit route ---------------------------------------------------------------------------


def test_kit_holds_the_sample_and_its_labels_never_the_hidden_files(
    client, world, session, blobs, tmp_path
):
    item, root = parity(world, session, blobs, tmp_path)
    kit = fetch(client, item.slug, tmp_path).read_bytes()
    found = members(kit)
    assert found["sample/test.csv"] == SAMPLE.encode()
    assert found["reference/sample-labels.csv"] == SAMPLE_LABELS.encode()
    assert not any(name.startswith("scoring") for name in found)
    info = json.loads(found["kit.json"])
    assert info["slug"] == "parity" and info["metric"] == "f1_macro"
    assert info["resources"]["run"] == {"cpus": 1.0, "memory_mb": 512, "time_limit_s": 30.0}
    assert info["resources"]["scorer"] is None and info["scoring_image"] is None
    assert info["classes"] == ["0", "1"] and info["reference"] is True
    assert info["metrics"][0]["name"] == "f1_macro"
    for hidden in ("labels.csv", "test.csv"):
        assert (root / hidden).read_bytes() not in kit
    assert item.split_secret.encode() not in kit


def test_kit_has_no_reference_without_sample_labels(client, world, session, blobs, tmp_path):
    item, _ = parity(world, session, blobs, tmp_path, labels=False)
    found = members(fetch(client, item.slug, tmp_path).read_bytes())
    assert set(found) == {"kit.json", "sample", "sample/test.csv"}
    assert json.loads(found["kit.json"])["reference"] is False


def test_no_sample_no_kit(client, published):
    response = client.get(f"/api/v1/challenges/{published.slug}/check-kit")
    assert response.status_code == 404
    assert "ships no sample inputs" in response.get_json()["error"]["message"]


def test_a_draft_kit_is_hidden_but_from_its_sponsor(
    client, world, session, blobs, tmp_path, token_for
):
    item, _ = parity(world, session, blobs, tmp_path, publish=False)
    assert client.get(f"/api/v1/challenges/{item.slug}/check-kit").status_code == 404
    outsider = token_for(world.user("p@example.com"), scope="read")
    response = client.get(f"/api/v1/challenges/{item.slug}/check-kit", headers=outsider)
    assert response.status_code == 404
    sponsor = token_for(world.user("s@example.com", "sponsor", org=world.org()), scope="read")
    fetch(client, item.slug, tmp_path, headers=sponsor)


@pytest.fixture(scope="module")
def damage_bundle(tmp_path_factory) -> Path:
    """web/examples/container-damage as `jiebang demo` makes it."""
    out = tmp_path_factory.mktemp("container-damage")
    script = EXAMPLES / "container-damage" / "make_data.py"
    subprocess.run([sys.executable, str(script), str(out)], check=True, timeout=120)
    for name in ("challenge.yaml", "README.md"):
        shutil.copy(EXAMPLES / "container-damage" / name, out / name)
    return out


@pytest.fixture
def damage_kit(client, world, session, blobs, tmp_path, damage_bundle) -> Path:
    world.org("example-logistics")
    item = load(session, blobs, damage_bundle)
    return fetch(client, item.slug, tmp_path)


def test_a_scoring_program_kit_carries_the_program_not_the_hidden_reference(
    damage_kit, damage_bundle
):
    kit = damage_kit.read_bytes()
    found = members(kit)
    sample = sorted(p.name for p in (damage_bundle / "sample").iterdir())
    assert (
        sorted(
            n.removeprefix("sample/") for n in found if n.startswith("sample/") and n != "sample"
        )
        == sample
    )
    assert found["scoring/score.py"] == (damage_bundle / "scoring" / "score.py").read_bytes()
    assert (
        found["reference/instances.json"]
        == (damage_bundle / "sample-reference" / "instances.json").read_bytes()
    )
    assert (damage_bundle / "reference" / "instances.json").read_bytes() not in kit
    info = json.loads(found["kit.json"])
    assert info["scoring_program"] and info["scoring_image"] == "jiebang/scoring:3.11"
    assert info["resources"]["scorer"] == {"cpus": 1.0, "memory_mb": 1024, "time_limit_s": 120.0}
    assert [m["name"] for m in info["metrics"]] == ["map50", "map", "recall"]


def test_a_train_folder_downloads_as_a_tar(client, damage_kit, damage_bundle):
    response = client.get("/challenges/container-damage/data/train.tar")
    assert response.status_code == 200 and response.mimetype == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(response.get_data())) as tar:
        names = {m.name for m in tar if m.isfile()}
    assert names == {p.name for p in (damage_bundle / "train").iterdir()}
    assert client.get("/challenges/container-damage/data/test.tar").status_code == 404
    assert client.get("/challenges/container-damage/data/reference.tar").status_code == 404


# --- jiebang check ---------------------------------------------------------------------------


def bundle(tmp_path: Path, name: str, main: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "main.py").write_text(main)
    return folder


def run_check(slug: str, target: Path, kit: Path, docker_host: str, *extra: str):
    args = [slug, str(target), "--kit", str(kit), "--docker-host", docker_host, *extra]
    return CliRunner().invoke(check, args, catch_exceptions=False)


def test_check_scores_a_good_bundle_on_the_sample(
    client, world, session, blobs, tmp_path, docker_host
):
    item, _ = parity(world, session, blobs, tmp_path)
    kit = fetch(client, item.slug, tmp_path)
    good = bundle(tmp_path, "good", SOLVER.format(header="id,prediction"))
    keep = tmp_path / "kept"
    result = run_check("parity", good, kit, docker_host, "--keep", str(keep))
    assert result.exit_code == 0, result.output
    assert "passed" in result.stdout
    assert "f1_macro (Macro F1): public 1.0000  private 1.0000" in result.stdout
    assert (keep / "output" / "predictions.csv").read_text().startswith("id,prediction\n")
    assert "solved" in (keep / "run-log.txt").read_text()


def test_check_fails_a_broken_bundle_with_the_platforms_words(
    client, world, session, blobs, tmp_path, docker_host
):
    item, _ = parity(world, session, blobs, tmp_path)
    kit = fetch(client, item.slug, tmp_path)
    broken = bundle(tmp_path, "broken", SOLVER.format(header="id,label"))
    result = run_check("parity", broken, kit, docker_host)
    assert result.exit_code == 1
    words = english(
        "output.header",
        {"file": "predictions.csv", "expected": "id,prediction", "found": "id,label"},
    )
    assert f"check failed: {words}" in result.stderr
    crash = bundle(tmp_path, "crash", "raise SystemExit(3)\n")
    result = run_check("parity", crash, kit, docker_host)
    assert result.exit_code == 1
    assert english("run.crash", {"exit_code": 3}) in result.stderr


def test_check_without_sample_labels_matches_the_sample_ids(
    client, world, session, blobs, tmp_path, docker_host
):
    item, _ = parity(world, session, blobs, tmp_path, labels=False)
    kit = fetch(client, item.slug, tmp_path)
    good = bundle(tmp_path, "good", SOLVER.format(header="id,prediction"))
    result = run_check("parity", good, kit, docker_host)
    assert result.exit_code == 0, result.output
    assert "not scored: the sponsor ships no sample labels" in result.stdout
    short = bundle(tmp_path, "short", ONE_ROW)
    result = run_check("parity", short, kit, docker_host)
    assert result.exit_code == 1
    assert "5 test ids are missing" in result.stderr


def test_check_runs_the_scoring_program(damage_kit, tmp_path, docker_host):
    submissions = EXAMPLES / "container-damage" / "submissions"
    result = run_check("container-damage", submissions / "good", damage_kit, docker_host)
    assert result.exit_code == 0, result.output
    assert "scored with jiebang/scoring:3.11" in result.stdout
    for name in ("map50", "map", "recall"):
        assert f"  {name} (" in result.stdout
    result = run_check("container-damage", submissions / "broken", damage_kit, docker_host)
    assert result.exit_code == 1
    assert "The scoring program could not use your output:" in result.stderr


def test_check_refuses_a_kit_of_another_challenge(client, world, session, blobs, tmp_path):
    item, _ = parity(world, session, blobs, tmp_path)
    kit = fetch(client, item.slug, tmp_path)
    result = CliRunner().invoke(check, ["other", str(tmp_path), "--kit", str(kit)])
    assert result.exit_code == 1
    assert "the kit is for parity, not other" in result.output


def test_check_runs_under_gvisor_too(client, world, session, blobs, tmp_path, docker_host):
    item, _ = parity(world, session, blobs, tmp_path)
    kit = fetch(client, item.slug, tmp_path)
    good = bundle(tmp_path, "good", SOLVER.format(header="id,prediction"))
    result = run_check("parity", good, kit, docker_host, "--runtime", "runsc")
    assert result.exit_code == 0, result.output
    assert "public 1.0000  private 1.0000" in result.stdout


def test_check_is_a_jiebang_command_that_explains_itself():
    from web.cli import cli

    result = CliRunner().invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    for words in ("public sample", "--kit", "--docker-host", "--runtime", "--keep", "uid 10001"):
        assert words in result.output
