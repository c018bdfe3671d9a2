"""The example challenges beyond one table (web/examples/digit-images, container-damage):
their data scripts are deterministic and keep the answers out of the test inputs, and each
example submission, run on this host as a container would run it, scores as it claims —
the good one meets the targets, the weak one does not, the broken one is refused.

The digit-images predictions are scored by the built-in metric; container-damage by the
detection scoring program the bundle ships, run with the scorer's environment variables.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from challenges.bundle import open_bundle
from challenges.metrics import get_metric

EXAMPLES = Path(__file__).resolve().parents[2] / "web" / "examples"
TEMPLATE = EXAMPLES / "scoring" / "detection" / "score.py"
# What each submission's build context takes from the bundle besides its own folder
# (the Dockerfiles COPY them next to main.py).
BUILD_FILES = {
    ("digit-images", "good"): ["train/", "train-labels.csv"],
    ("digit-images", "weak"): ["train/", "train-labels.csv"],
    ("digit-images", "broken"): [],
    ("container-damage", "good"): [],
    ("container-damage", "weak"): [],
    ("container-damage", "broken"): [],
}


def make_bundle(example: str, out: Path) -> Path:
    """The example's bundle folder: its data made by its own script, as `jiebang demo` does."""
    subprocess.run(
        [sys.executable, str(EXAMPLES / example / "make_data.py"), str(out)],
        check=True,
        timeout=120,
    )
    for name in ("challenge.yaml", "README.md"):
        shutil.copy(EXAMPLES / example / name, out / name)
    return out


def tree_digest(folder: Path) -> str:
    """One hash over every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def spec(example: str) -> dict:
    return yaml.safe_load((EXAMPLES / example / "challenge.yaml").read_text("utf-8"))


def target(example: str, metric: str) -> float:
    return next(t["at_least"] for t in spec(example)["targets"] if t.get("metric") == metric)


def run_submission(example: str, name: str, data: Path, work: Path) -> Path:
    """Lay out the build context as its Dockerfile does (main.py plus the bundle files it
    copies) and run main.py with the container's environment; return the output folder."""
    app = work / f"{example}-{name}"
    shutil.copytree(EXAMPLES / example / "submissions" / name, app)
    for item in BUILD_FILES[(example, name)]:
        source = data / item
        if source.is_dir():
            shutil.copytree(source, app / item)
        else:
            shutil.copy(source, app / item)
    output = work / f"{example}-{name}-output"
    output.mkdir()
    env = {
        **os.environ,
        "JIEBANG_INPUT": str(data / spec(example)["data"]["test_inputs"]),
        "JIEBANG_OUTPUT": str(output),
    }
    subprocess.run(
        [sys.executable, str(app / "main.py")], env=env, check=True, timeout=60, cwd=work
    )
    return output


def assert_inputs_hold_no_answers(data: Path, example: str) -> None:
    """The test folder is exactly one PNG per item, and PNGs only."""
    items = pd.read_csv(data / "items.csv", dtype=str)["id"]
    files = sorted(p.name for p in (data / spec(example)["data"]["test_inputs"]).iterdir())
    assert files == sorted(f"{item}.png" for item in items)
    assert items.is_unique and len(items) >= 100
    for name in files[:20]:  # nor do the images carry text: image header and pixels only
        assert png_chunks(data / "test" / name) == ["IHDR", "IDAT", "IEND"]


def png_chunks(path: Path) -> list[str]:
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(raw):
        length = int.from_bytes(raw[at : at + 4], "big")
        kinds.append(raw[at + 4 : at + 8].decode("ascii"))
        at += 12 + length
    return kinds


# --- digit-images ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_images(tmp_path_factory) -> Path:
    return make_bundle("digit-images", tmp_path_factory.mktemp("digit-images"))


def test_digit_images_data_is_deterministic_and_keeps_labels_hidden(digit_images, tmp_path):
    again = make_bundle("digit-images", tmp_path / "again")
    assert tree_digest(again) == tree_digest(digit_images)
    assert_inputs_hold_no_answers(digit_images, "digit-images")
    labels = pd.read_csv(digit_images / "labels.csv", dtype=str)
    items = pd.read_csv(digit_images / "items.csv", dtype=str)
    assert list(labels["id"]) == list(items["id"])
    train = pd.read_csv(digit_images / "train-labels.csv", dtype=str)
    assert not set(train["id"]) & set(items["id"])
    assert sorted(p.stem for p in (digit_images / "train").iterdir()) == sorted(train["id"])
    sample = pd.read_csv(digit_images / "sample-labels.csv", dtype=str)
    assert len(sample) == 10 and set(sample["id"]) <= set(train["id"])
    assert sorted(p.stem for p in (digit_images / "sample").iterdir()) == sorted(sample["id"])


def test_digit_images_bundle_loads(digit_images):
    with open_bundle(digit_images) as bundle:
        assert bundle.spec.slug == "digit-images"
        assert bundle.spec.metric == "accuracy"


def digit_predictions(name: str, data: Path, work: Path) -> pd.DataFrame:
    output = run_submission("digit-images", name, data, work)
    assert sorted(p.name for p in output.iterdir()) == ["predictions.csv"]
    return pd.read_csv(output / "predictions.csv", dtype=str)


def accuracy(predictions: pd.DataFrame, data: Path) -> float:
    labels = pd.read_csv(data / "labels.csv", dtype=str)
    joined = labels.merge(predictions, on="id", how="left", validate="one_to_one")
    assert joined["prediction"].notna().all(), "every item needs a prediction"
    return get_metric("accuracy").compute(joined["label"], joined["prediction"])


@pytest.mark.parametrize(("name", "meets_target"), [("good", True), ("weak", False)])
def test_digit_images_submissions_score_as_they_claim(digit_images, tmp_path, name, meets_target):
    predictions = digit_predictions(name, digit_images, tmp_path)
    assert list(predictions.columns) == ["id", "prediction"]
    score = accuracy(predictions, digit_images)
    assert (score >= target("digit-images", "accuracy")) is meets_target, score
    if not meets_target:
        assert score > 0.2  # poor, yet a real model: better than guessing one of ten


def test_digit_images_broken_submission_misses_items(digit_images, tmp_path):
    predictions = digit_predictions("broken", digit_images, tmp_path)
    items = pd.read_csv(digit_images / "items.csv", dtype=str)["id"]
    assert 0 < len(predictions) < len(items)
    assert set(predictions["id"]) < set(items)
    with pytest.raises(AssertionError, match="every item needs a prediction"):
        accuracy(predictions, digit_images)


# --- container-damage -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def container_damage(tmp_path_factory) -> Path:
    assert TEMPLATE.is_file(), f"the detection scoring template is missing: {TEMPLATE}"
    return make_bundle("container-damage", tmp_path_factory.mktemp("container-damage"))


def test_container_damage_data_is_deterministic_and_keeps_boxes_hidden(container_damage, tmp_path):
    again = make_bundle("container-damage", tmp_path / "again")
    assert tree_digest(again) == tree_digest(container_damage)
    assert_inputs_hold_no_answers(container_damage, "container-damage")
    assert (container_damage / "scoring" / "score.py").read_bytes() == TEMPLATE.read_bytes()

    items = pd.read_csv(container_damage / "items.csv", dtype=str)["id"]
    reference = json.loads((container_damage / "reference" / "instances.json").read_text())
    assert [image["file_name"] for image in reference["images"]] == [f"{i}.png" for i in items]
    assert len({image["id"] for image in reference["images"]}) == len(items)
    assert {c["id"]: c["name"] for c in reference["categories"]} == {1: "dent", 2: "rust"}
    kinds = {a["category_id"] for a in reference["annotations"]}
    assert kinds == {1, 2} and len(reference["annotations"]) > len(items)
    for mark in reference["annotations"]:
        x, y, w, h = mark["bbox"]
        assert x >= 0 and y >= 0 and x + w <= 128 and y + h <= 128 and 0 < mark["area"] <= w * h

    train = json.loads((container_damage / "train-annotations.json").read_text())
    train_files = {image["file_name"] for image in train["images"]}
    assert train_files == {p.name for p in (container_damage / "train").iterdir()}
    assert not train_files & {f"{i}.png" for i in items}
    sample = json.loads((container_damage / "sample-reference" / "instances.json").read_text())
    assert {image["file_name"] for image in sample["images"]} == {
        p.name for p in (container_damage / "sample").iterdir()
    }
    assert len(sample["images"]) == 10 and {i["file_name"] for i in sample["images"]} <= train_files


def test_container_damage_bundle_loads(container_damage):
    with open_bundle(container_damage) as bundle:
        assert bundle.spec.slug == "container-damage"
        assert [m.name for m in bundle.spec.scoring.metrics] == ["map50", "map", "recall"]


def score(data: Path, predictions: Path, work: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the bundle's scoring program as the platform does: the first 30% of the items
    public, the rest private. Returns the process and its /scores folder."""
    split, scores = work / "split", work / "scores"
    split.mkdir()
    scores.mkdir()
    items = list(pd.read_csv(data / "items.csv", dtype=str)["id"])
    cut = int(len(items) * 0.3)
    (split / "public.txt").write_text("".join(f"{i}\n" for i in items[:cut]))
    (split / "private.txt").write_text("".join(f"{i}\n" for i in items[cut:]))
    env = {
        **os.environ,
        "JIEBANG_PREDICTIONS": str(predictions),
        "JIEBANG_REFERENCE": str(data / "reference"),
        "JIEBANG_SPLIT": str(split),
        "JIEBANG_SCORES": str(scores),
    }
    done = subprocess.run(
        [sys.executable, str(data / "scoring" / "score.py")],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, scores


@pytest.mark.parametrize(("name", "meets_targets"), [("good", True), ("weak", False)])
def test_container_damage_submissions_score_as_they_claim(
    container_damage, tmp_path, name, meets_targets
):
    output = run_submission("container-damage", name, container_damage, tmp_path)
    assert sorted(p.name for p in output.iterdir()) == ["detections.json"]
    done, scores = score(container_damage, output, tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((scores / "scores.json").read_text())
    map50, recall = target("container-damage", "map50"), target("container-damage", "recall")
    for side in ("public", "private"):
        assert set(result[side]) == {"map50", "map", "recall"}
        values = result[side]
        assert all(0 <= v <= 1 for v in values.values()), values
        if meets_targets:
            assert values["map50"] >= map50 and values["recall"] >= recall, values
        else:
            assert values["map50"] < map50 and values["recall"] < recall, values
            assert values["map50"] > 0  # poor boxes, yet some are right


def test_container_damage_broken_submission_is_refused_with_a_message(container_damage, tmp_path):
    output = run_submission("container-damage", "broken", container_damage, tmp_path)
    done, scores = score(container_damage, output, tmp_path)
    assert done.returncode != 0
    message = (scores / "error.txt").read_text("utf-8")
    assert message.strip() and len(message.encode()) <= 2048
    assert "detections.json" in message
    assert not (scores / "scores.json").exists()
