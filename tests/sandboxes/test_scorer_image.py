"""The scorer image jiebang/scoring:3.11: built from the base and the cached wheels, labelled
with its recipe, and able to run the scoring templates as the platform runs a scorer (uid
10001, no network, read-only root, the five mounts) under runc and gVisor.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import docker
import jiwer
import pytest

from sandboxes.base import BASE_IMAGE
from sandboxes.recipe import RECIPE_LABEL, image_recipe
from sandboxes.scorer_image import (
    SCORER_IMAGE,
    SITE_DIR,
    build_scorer_image,
    download_wheels,
    scorer_recipe,
)

pytestmark = pytest.mark.docker

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "examples" / "scoring"
SPEECH = {
    "a1": ("the red container is open", "the red container is opened"),
    "a2": ("trucks wait at the gate", "trucks wait at gate"),
    "a3": ("今天天气很好", "今天天汽很好"),
    "a4": ("scan every box", "scan every box"),
}


@pytest.fixture(scope="session")
def scorer_image(client: docker.DockerClient, base_image: str) -> str:
    """The scorer image's id: reused when its recipe matches, else built (seconds)."""
    _, recipe = image_recipe(client, SCORER_IMAGE)
    if recipe != scorer_recipe(client.images.get(BASE_IMAGE).id):
        download_wheels()  # nothing to do once scripts/setup.sh has filled the cache
    return build_scorer_image(client)


def test_scorer_image_config_and_recipe(client, scorer_image):
    image = client.images.get(scorer_image)
    config = image.attrs["Config"]
    assert config["User"] == "10001" and config["WorkingDir"] == "/tmp"
    base_id = client.images.get(BASE_IMAGE).id
    assert config["Labels"][RECIPE_LABEL] == scorer_recipe(base_id)
    assert image.id == client.images.get(SCORER_IMAGE).id
    assert build_scorer_image(client) == scorer_image  # up to date: not rebuilt
    # One layer on top of the base's.
    base_layers = client.images.get(base_id).attrs["RootFS"]["Layers"]
    assert image.attrs["RootFS"]["Layers"][:-1] == base_layers


def test_a_tag_without_the_recipe_is_rebuilt(client, scorer_image, nonce):
    """A fresh build under a test tag; an image there without the recipe label is replaced."""
    tag = f"jiebang-test-{nonce}:scoring"
    repository, version = tag.split(":")
    client.images.get(BASE_IMAGE).tag(repository, version)  # stands in for an old scorer image
    try:
        built = build_scorer_image(client, tag=tag)
        assert built != client.images.get(BASE_IMAGE).id
        assert client.images.get(tag).id == built
        assert client.images.get(tag).labels[RECIPE_LABEL] == scorer_recipe(
            client.images.get(BASE_IMAGE).id
        )
        assert build_scorer_image(client, tag=tag) == built
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag, force=True)


def test_libraries_are_root_owned_and_numpy_is_debians(client, scorer_image, nonce):
    code = (
        "import os, numpy, PIL, sacrebleu\n"
        f"site = {str(SITE_DIR)!r}\n"
        "bad = [os.path.join(d, n) for d, dirs, files in os.walk(site) for n in dirs + files\n"
        "       if os.lstat(os.path.join(d, n)).st_uid != 0\n"
        "       or os.lstat(os.path.join(d, n)).st_mode & 0o022]\n"
        "print(len(bad), numpy.__version__, numpy.__file__, PIL.__file__,\n"
        "      os.path.exists(os.path.join(site, 'numpy')))\n"
    )
    log = client.containers.run(
        scorer_image,
        ["python", "-c", code],
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": "size=16m"},
        labels={"jiebang.test.nonce": nonce},
        remove=True,
    ).decode()
    bad, version, numpy_file, pil_file, shipped_numpy = log.split()
    assert bad == "0"
    assert version.startswith("1.24.") and numpy_file.startswith("/usr/lib/python3/")
    assert pil_file.startswith(str(SITE_DIR)) and shipped_numpy == "False"


class Folders:
    """A scorer's five mounts on the host, readable by uid 10001; /scores writable."""

    def __init__(self, root: Path, template: str) -> None:
        self.scoring = root / "scoring"
        self.predictions, self.reference = root / "predictions", root / "reference"
        self.split, self.scores = root / "split", root / "scores"
        for folder in (self.scoring, self.predictions, self.reference, self.split, self.scores):
            folder.mkdir()
        (self.scoring / "score.py").write_bytes((TEMPLATES / template / "score.py").read_bytes())

    def open_up(self) -> None:
        for folder in (self.scoring, self.predictions, self.reference, self.split):
            folder.chmod(0o755)
            for path in folder.iterdir():
                path.chmod(0o644)
        self.scores.chmod(0o777)

    def host_scores(self) -> dict:
        """The same program on the host's Python, with the host's libraries."""
        out = self.scores.parent / "host-scores"
        out.mkdir()
        env = {
            **os.environ,
            "JIEBANG_PREDICTIONS": str(self.predictions),
            "JIEBANG_REFERENCE": str(self.reference),
            "JIEBANG_SPLIT": str(self.split),
            "JIEBANG_SCORES": str(out),
        }
        done = subprocess.run(
            [sys.executable, str(self.scoring / "score.py")],
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads((out / "scores.json").read_text())


def run_scorer(client, image: str, folders: Folders, runtime: str, nonce: str) -> tuple[int, str]:
    folders.open_up()
    binds = {
        str(folders.scoring): {"bind": "/scoring", "mode": "ro"},
        str(folders.predictions): {"bind": "/predictions", "mode": "ro"},
        str(folders.reference): {"bind": "/reference", "mode": "ro"},
        str(folders.split): {"bind": "/split", "mode": "ro"},
        str(folders.scores): {"bind": "/scores", "mode": "rw"},
    }
    container = client.containers.create(
        image,
        ["python", "/scoring/score.py"],
        user="10001:10001",
        network_mode="none",
        read_only=True,
        runtime=runtime,
        volumes=binds,
        tmpfs={"/tmp": "rw,nosuid,nodev,size=64m,mode=1777"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        environment={
            "JIEBANG_PREDICTIONS": "/predictions",
            "JIEBANG_REFERENCE": "/reference",
            "JIEBANG_SPLIT": "/split",
            "JIEBANG_SCORES": "/scores",
        },
        mem_limit="1g",
        labels={"jiebang.test.nonce": nonce},
    )
    try:
        container.start()
        status = container.wait(timeout=120)
        return status["StatusCode"], container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def detection_data(folders: Folders) -> None:
    images = [{"id": n, "file_name": f"cam{n}.jpg", "width": 100, "height": 100} for n in (1, 2, 3)]
    boxes = {1: [10, 10, 30, 30], 2: [50, 40, 20, 35], 3: [5, 60, 40, 20]}
    annotations = [
        {
            "id": n,
            "image_id": n,
            "category_id": 1,
            "bbox": box,
            "area": box[2] * box[3],
            "iscrowd": 0,
        }
        for n, box in boxes.items()
    ]
    gt = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "dent"}]}
    (folders.reference / "instances.json").write_text(json.dumps(gt))
    detections = [
        {"image": "cam1", "category_id": 1, "bbox": [11, 10, 30, 29], "score": 0.9},
        {"image": "cam1", "category_id": 1, "bbox": [60, 60, 10, 10], "score": 0.8},
        {"image": "cam2", "category_id": 1, "bbox": [52, 45, 20, 30], "score": 0.7},
        {"image": "cam3", "category_id": 1, "bbox": [5, 60, 15, 20], "score": 0.6},
    ]
    (folders.predictions / "detections.json").write_text(json.dumps(detections))
    (folders.split / "public.txt").write_text("cam1\n")
    (folders.split / "private.txt").write_text("cam2\ncam3\n")


def speech_data(folders: Folders) -> None:
    def table(column: int) -> str:
        return "id,text\n" + "".join(f"{i},{texts[column]}\n" for i, texts in SPEECH.items())

    (folders.reference / "transcripts.csv").write_text(table(0), encoding="utf-8")
    (folders.predictions / "transcripts.csv").write_text(table(1), encoding="utf-8")
    (folders.split / "public.txt").write_text("a1\na3\n")
    (folders.split / "private.txt").write_text("a2\na4\n")


@pytest.mark.parametrize(
    ("template", "runtime"), [("detection", "runc"), ("speech", "runc"), ("speech", "runsc")]
)
def test_templates_score_in_the_scorer_image(
    client, scorer_image, nonce, tmp_path, template, runtime
):
    folders = Folders(tmp_path, template)
    {"detection": detection_data, "speech": speech_data}[template](folders)
    code, log = run_scorer(client, scorer_image, folders, runtime, nonce)
    assert code == 0, log
    scores = json.loads((folders.scores / "scores.json").read_text())
    host = folders.host_scores()
    for side in ("public", "private"):
        assert scores[side] == pytest.approx(host[side]), side
    if template == "speech":
        truth = [SPEECH[i][0] for i in ("a2", "a4")]
        guess = [SPEECH[i][1] for i in ("a2", "a4")]
        assert scores["private"]["wer"] == pytest.approx(jiwer.wer(truth, guess))
    else:
        assert scores["public"]["map50"] == pytest.approx(1.0)
        assert 0 < scores["private"]["map"] < scores["private"]["map50"] < 1


def test_unusable_predictions_leave_a_message_in_the_image(client, scorer_image, nonce, tmp_path):
    folders = Folders(tmp_path, "speech")
    speech_data(folders)
    (folders.split / "private.txt").write_text("a2\na4\na9\n")
    code, log = run_scorer(client, scorer_image, folders, "runc", nonce)
    assert code == 1, log
    assert "a9" in (folders.scores / "error.txt").read_text()
    assert not (folders.scores / "scores.json").exists()
