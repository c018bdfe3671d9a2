"""The scoring-program templates (web/examples/scoring/*/score.py) agree with the metric
libraries' own numbers on both sides of the split, and refuse unusable predictions with a
message in error.txt and exit 1, never a traceback.

Every test runs twice: on the host's Python (a subprocess with the scorer's environment
variables: quick to debug), and as the platform runs a scorer, in its sandbox on the
scorer image (``evaluator.scorer.run_scorer``: no network, read-only root, uid 10001, the
contract's read-only mounts).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import jiwer
import numpy as np
import pytest
import sacrebleu
import yaml
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from sklearn.metrics import mean_absolute_percentage_error, ndcg_score

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "examples" / "scoring"


class Work:
    """The folders a scorer sees, on the host, and how to run a template on them."""

    def __init__(self, root: Path, sandbox=None) -> None:
        self.root, self.sandbox = root, sandbox
        self.predictions, self.reference = root / "predictions", root / "reference"
        self.split, self.scores = root / "split", root / "scores"
        for folder in (self.predictions, self.reference, self.split, self.scores):
            folder.mkdir()

    def run(
        self, template: str | Path, public: list[str], private: list[str]
    ) -> subprocess.CompletedProcess:
        (self.split / "public.txt").write_text("".join(f"{i}\n" for i in public))
        (self.split / "private.txt").write_text("".join(f"{i}\n" for i in private))
        for old in self.scores.iterdir():
            old.unlink()
        script = template if isinstance(template, Path) else TEMPLATES / template / "score.py"
        if self.sandbox is not None:
            return self._in_sandbox(script)
        env = {
            **os.environ,
            "JIEBANG_PREDICTIONS": str(self.predictions),
            "JIEBANG_REFERENCE": str(self.reference),
            "JIEBANG_SPLIT": str(self.split),
            "JIEBANG_SCORES": str(self.scores),
        }
        return subprocess.run(
            [sys.executable, str(script)],
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def _in_sandbox(self, script: Path) -> subprocess.CompletedProcess:
        """The template as a worker runs it: its folder at /scoring, the folders read-only,
        /scores a capped tmpfs copied back here for the assertions."""
        from evaluator import scorer

        program = self.root / "program"
        shutil.rmtree(program, ignore_errors=True)
        shutil.copytree(script.parent, program)
        for folder in (self.predictions, self.reference, self.split, program):
            _readable(folder)
        client, image_id = self.sandbox

        def keep(result) -> None:
            for name in ("scores.json", "error.txt"):
                if (result.output_dir / name).is_file():
                    shutil.copyfile(result.output_dir / name, self.scores / name)
            kept.append(result)

        kept = []
        scratch = self.root / "scratch"
        scratch.mkdir(exist_ok=True)
        scorer.run_scorer(
            client,
            image_id=image_id,
            limits=scorer.limits_of({"time_limit_s": 120}, "runc"),
            scratch=scratch,
            program=program,
            predictions=self.predictions,
            reference=self.reference,
            split=self.split,
            names=[],
            labels={"jiebang.namespace": "test-templates"},
            seen=keep,
        )
        [result] = kept
        return subprocess.CompletedProcess([], result.exit_code, result.log, result.log)

    def scored(self, *args) -> dict[str, dict[str, float]]:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        assert not (self.scores / "error.txt").exists()
        return json.loads((self.scores / "scores.json").read_text())

    def refused(self, *args) -> str:
        done = self.run(*args)
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        assert not (self.scores / "scores.json").exists()
        message = (self.scores / "error.txt").read_text("utf-8")
        assert message.strip() and len(message.encode()) <= 2048
        return message


def _readable(folder: Path) -> None:
    """pytest makes its folders 0700; the sandbox's uid 10001 reads what it mounts."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture(scope="module")
def sandbox():
    """The engine and the scorer image (built once per machine: scripts/setup.sh)."""
    import sandboxes
    from jiebang.settings import load_settings
    from sandboxes.recipe import image_recipe
    from sandboxes.scorer_image import SCORER_IMAGE, build_scorer_image

    client = sandboxes.connect(load_settings().docker_host)
    image_id, _ = image_recipe(client, SCORER_IMAGE)
    yield client, image_id or build_scorer_image(client)
    client.close()


@pytest.fixture(params=["host", "sandbox"])
def work(request, tmp_path: Path) -> Work:
    boxed = request.getfixturevalue("sandbox") if request.param == "sandbox" else None
    return Work(tmp_path, boxed)


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def halves(items: list[str]) -> tuple[list[str], list[str]]:
    cut = len(items) * 2 // 5
    return items[:cut], items[cut:]


# --- detection ---------------------------------------------------------------------------


@pytest.fixture
def detection(work: Work) -> tuple[list[str], list[dict]]:
    """Ground truth for 12 images, two categories; predictions with jittered and false boxes."""
    rng = random.Random(7)
    images, annotations, detections = [], [], []
    items = [f"img{n:02d}" for n in range(12)]
    for number, item in enumerate(items, start=1):
        images.append(
            {"id": number * 10, "file_name": f"photos/{item}.jpg", "width": 200, "height": 200}
        )
        for _ in range(rng.randint(1, 3)):
            x, y, w, h = (
                rng.uniform(0, 120),
                rng.uniform(0, 120),
                rng.uniform(10, 70),
                rng.uniform(10, 70),
            )
            category = rng.choice([1, 2])
            annotations.append(
                {"id": len(annotations) + 1, "image_id": number * 10, "category_id": category,
                 "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}
            )  # fmt: skip
            if item != "img03":  # one image without any detection
                jitter = [x + rng.gauss(0, 4), y + rng.gauss(0, 4), w * rng.uniform(0.8, 1.2), h]
                detections.append(
                    {"image": item, "category_id": category, "bbox": jitter, "score": rng.random()}
                )
        false_box = {"image": item, "category_id": rng.choice([1, 2]), "bbox": [150, 150, 20, 20]}
        detections.append({**false_box, "score": rng.random()})
        if number % 2:  # confident false boxes push the true ones past AR@10's cut
            junk = [{"image": item, "category_id": c, "bbox": [0, 0, 5, 5]} for c in (1, 2)]
            detections += [{**box, "score": 0.99} for box in junk for _ in range(10)]
    gt = {"images": images, "annotations": annotations,
          "categories": [{"id": 1, "name": "dent"}, {"id": 2, "name": "rust"}]}  # fmt: skip
    (work.reference / "instances.json").write_text(json.dumps(gt))
    return items, detections


def coco_stats(instances: Path, detections: list[dict], items: list[str]) -> dict[str, float]:
    gt = COCO(str(instances))
    ids = {Path(image["file_name"]).stem: image["id"] for image in gt.dataset["images"]}
    wanted = {ids[i] for i in items}
    results = [
        {**{k: d[k] for k in ("category_id", "bbox", "score")}, "image_id": ids[d["image"]]}
        for d in detections
        if ids[d["image"]] in wanted
    ]
    run = COCOeval(gt, gt.loadRes(results), "bbox")
    run.params.imgIds = sorted(wanted)
    run.evaluate()
    run.accumulate()
    run.summarize()
    return {"map50": run.stats[1], "map": run.stats[0], "recall": run.stats[8]}


def test_detection_matches_cocoeval(work, detection):
    items, detections = detection
    (work.predictions / "detections.json").write_text(json.dumps(detections))
    public, private = halves(items)
    result = work.scored("detection", public, private)
    for side, side_items in (("public", public), ("private", private)):
        expected = coco_stats(work.reference / "instances.json", detections, side_items)
        assert result[side] == pytest.approx(expected), side
        assert 0 < result[side]["map"] < result[side]["map50"] < 1
    assert result["public"] != result["private"]


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"[{'image': 1}", "not valid JSON"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"image": "img00"}', "must be a JSON list"),
        (b"\xff\xfe[]", "not UTF-8"),
        (b'[{"image": "img00", "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]', "finite"),
        (
            b'[{"image": "img00", "category_id": 1, "bbox": [1, 2, 3, Infinity], "score": 1}]',
            "bbox",
        ),
        (b'[{"image": "img00", "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}]', "bbox"),
        (
            b'[{"image": "img00", "category_id": 9, "bbox": [1, 2, 3, 4], "score": 0.5}]',
            "category_id",
        ),
        (
            b'[{"image": "img00", "category_id": true, "bbox": [1, 2, 3, 4], "score": 0.5}]',
            "category_id",
        ),
        (b'[{"image": "img00", "bbox": [1, 2, 3, 4], "score": 0.5}]', "keys"),
        (b'[{"image": "ghost7", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]', "ghost7"),
    ],
)
def test_detection_refuses_bad_predictions(work, detection, content, expect):
    items, _ = detection
    (work.predictions / "detections.json").write_bytes(content)
    assert expect in work.refused("detection", *halves(items))


def test_detection_refuses_missing_huge_and_linked_files(work, detection):
    items, _ = detection
    assert "detections.json is missing" in work.refused("detection", *halves(items))
    huge = work.predictions / "detections.json"
    with huge.open("wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)  # sparse: refused by its size, never read
    assert "at most" in work.refused("detection", *halves(items))
    huge.unlink()
    # A link to the hidden labels must not be followed (nor quoted).
    huge.symlink_to(work.reference / "instances.json")
    message = work.refused("detection", *halves(items))
    assert "cannot be read" in message and "rust" not in message


# --- segmentation ------------------------------------------------------------------------


def save_png(path: Path, pixels: np.ndarray, mode: str = "L") -> None:
    Image.fromarray(pixels.astype(np.uint8)).convert(mode).save(path)


@pytest.fixture
def segmentation(work: Work) -> list[str]:
    rng = np.random.default_rng(3)
    (work.reference / "classes.txt").write_text("background\nroad\ncar\nperson\n")
    items = [f"frame{n}" for n in range(8)]
    for n, item in enumerate(items):
        truth = rng.integers(0, 3, size=(12 + n, 20))  # class 3 never occurs
        truth[rng.random(truth.shape) < 0.1] = 255
        guess = np.where(rng.random(truth.shape) < 0.7, truth, rng.integers(0, 3, truth.shape))
        guess[0, :3] = 9  # not a class: always wrong
        save_png(work.reference / f"{item}.png", truth)
        save_png(work.predictions / f"{item}.png", guess, "L" if n % 2 else "P")
    return items


def expected_segmentation(work: Work, items: list[str], classes: int) -> dict[str, float]:
    """Dataset-level IoU per class over the classes seen; accuracy over labelled pixels."""
    inter, union = np.zeros(classes), np.zeros(classes)
    right = labelled = 0
    for item in items:
        truth = np.asarray(Image.open(work.reference / f"{item}.png")).astype(int)
        guess = np.asarray(Image.open(work.predictions / f"{item}.png")).astype(int)
        scored = truth != 255
        for c in range(classes):
            t, g = (truth == c) & scored, (guess == c) & scored
            inter[c] += (t & g).sum()
            union[c] += (t | g).sum()
        right += ((truth == guess) & scored).sum()
        labelled += scored.sum()
    seen = union > 0
    return {"miou": float(np.mean(inter[seen] / union[seen])), "pixel_accuracy": right / labelled}


def test_segmentation_matches_a_direct_computation(work, segmentation):
    public, private = halves(segmentation)
    result = work.scored("segmentation", public, private)
    for side, items in (("public", public), ("private", private)):
        assert result[side] == pytest.approx(expected_segmentation(work, items, 4)), side
        assert 0.3 < result[side]["miou"] < result[side]["pixel_accuracy"] < 1


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width`` x ``height`` 8-bit gray pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


def test_segmentation_refuses_bad_predictions(work, segmentation):
    items = segmentation
    target = work.predictions / "frame2.png"
    target.rename(work.root / "frame2.png")
    assert "frame2.png" in work.refused("segmentation", *halves(items))
    save_png(target, np.zeros((15, 20)))  # frame2 is 14 x 20
    assert "20x15 pixels; the test image is 20x14" in work.refused("segmentation", *halves(items))
    save_png(target, np.zeros((14, 20)), "RGB")
    assert "mode RGB" in work.refused("segmentation", *halves(items))
    target.write_bytes(bomb_png(100_000, 100_000))
    assert "too many pixels" in work.refused("segmentation", *halves(items))
    target.write_bytes(bomb_png(7000, 7000))  # between the limit and twice it: only a warning
    assert "too many pixels" in work.refused("segmentation", *halves(items))
    target.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert "not a readable PNG" in work.refused("segmentation", *halves(items))
    shutil.copy(work.root / "frame2.png", target)
    save_png(work.predictions / "stray.png", np.zeros((14, 20)))
    assert "stray" in work.refused("segmentation", *halves(items))


# --- speech and text ---------------------------------------------------------------------

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "a port crane lifts the red container",
    "trucks wait at the gate for inspection",
    "今天 港口 天气 很好",
    "the ship leaves at noon on tuesday",
    "please check the seal on the door",
    "rust spreads along the lower rail",
    "two dents were found near the corner post",
    "the manifest lists forty boxes",
    "scan every container before loading",
]


def noisy(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    if rng.random() < 0.5:
        words[rng.randrange(len(words))] = "uh"
    if rng.random() < 0.4:
        del words[rng.randrange(len(words))]
    return " ".join(words)


@pytest.fixture
def texts() -> tuple[list[str], dict[str, str], dict[str, str]]:
    rng = random.Random(11)
    items = [f"utt{n}" for n in range(len(SENTENCES))]
    reference = dict(zip(items, SENTENCES, strict=True))
    hypothesis = {item: noisy(text, rng) for item, text in reference.items()}
    hypothesis["utt2"] = ""  # nothing recognised
    return items, reference, hypothesis


def test_speech_matches_jiwer(work, texts):
    items, reference, hypothesis = texts
    write_csv(work.reference / "transcripts.csv", ["id", "text"], list(reference.items()))
    write_csv(work.predictions / "transcripts.csv", ["id", "text"], list(hypothesis.items())[::-1])
    public, private = halves(items)
    result = work.scored("speech", public, private)
    for side, side_items in (("public", public), ("private", private)):
        truth, guess = [reference[i] for i in side_items], [hypothesis[i] for i in side_items]
        assert result[side] == pytest.approx(
            {"wer": jiwer.wer(truth, guess), "cer": jiwer.cer(truth, guess)}
        )
        assert result[side]["wer"] > 0


@pytest.mark.parametrize(
    ("rows", "header", "expect"),
    [
        (lambda r: r[:3] + r[4:], ["id", "text"], "utt3"),  # missing
        (lambda r: [*r, ("utt99", "x")], ["id", "text"], "utt99"),  # unknown
        (lambda r: [*r, r[0]], ["id", "text"], "more than once"),
        (lambda r: r, ["id", "transcript"], "header line id,text"),
        (lambda r: [*r[:-1], ("utt9", "a", "b")], ["id", "text"], "expected 2 fields"),
    ],
)
def test_speech_refuses_bad_transcripts(work, texts, rows, header, expect):
    items, reference, hypothesis = texts
    write_csv(work.reference / "transcripts.csv", ["id", "text"], list(reference.items()))
    write_csv(work.predictions / "transcripts.csv", header, rows(list(hypothesis.items())))
    message = work.refused("speech", *halves(items))
    assert expect in message
    assert "quick brown fox" not in message  # the hidden transcripts are never quoted


def test_speech_refuses_text_that_is_not_utf8(work, texts):
    items, reference, _ = texts
    write_csv(work.reference / "transcripts.csv", ["id", "text"], list(reference.items()))
    (work.predictions / "transcripts.csv").write_bytes(b"id,text\nutt0,\xff\xfe\n")
    assert "not UTF-8" in work.refused("speech", *halves(items))


def test_text_matches_sacrebleu(work, texts, tmp_path):
    items, reference, hypothesis = texts
    write_csv(work.reference / "references.csv", ["id", "text"], list(reference.items()))
    write_csv(work.predictions / "hypotheses.csv", ["id", "text"], list(hypothesis.items()))
    public, private = halves(items)
    # The default tokenizer, then Chinese from a config.json next to a copy of score.py.
    copy = tmp_path / "zh"
    copy.mkdir()
    shutil.copy(TEMPLATES / "text" / "score.py", copy / "score.py")
    (copy / "config.json").write_text('{"tokenize": "zh"}')
    for script, tokenize in (("text", "13a"), (copy / "score.py", "zh")):
        result = work.scored(script, public, private)
        for side, side_items in (("public", public), ("private", private)):
            truth, guess = [reference[i] for i in side_items], [hypothesis[i] for i in side_items]
            bleu = sacrebleu.corpus_bleu(guess, [truth], tokenize=tokenize).score
            chrf = sacrebleu.corpus_chrf(guess, [truth]).score
            assert result[side] == pytest.approx({"bleu": bleu, "chrf": chrf}), (tokenize, side)
            assert 0 < result[side]["bleu"] < 100


def test_text_refuses_a_missing_item(work, texts):
    items, reference, hypothesis = texts
    write_csv(work.reference / "references.csv", ["id", "text"], list(reference.items()))
    del hypothesis["utt7"]
    write_csv(work.predictions / "hypotheses.csv", ["id", "text"], list(hypothesis.items()))
    assert "1 test items: utt7" in work.refused("text", *halves(items))


# --- ranking -----------------------------------------------------------------------------


@pytest.fixture
def ranking(work: Work) -> tuple[list[str], dict, dict]:
    rng = random.Random(5)
    queries = [f"q{n}" for n in range(9)]
    qrels, run = {}, {}
    for query in queries:
        docs = [f"d{n}" for n in range(rng.randint(12, 18))]
        relevance = {doc: rng.choice([0, 0, 0, 1, 2, 3]) for doc in docs}
        if query == "q4":
            relevance = dict.fromkeys(docs, 0)  # no relevant document at all
        qrels[query] = relevance
        # Every judged doc is ranked, plus unjudged ones (relevance 0); distinct scores.
        ranked = [*docs, *(f"u{n}" for n in range(5))]
        run[query] = dict(zip(ranked, rng.sample(range(1000), len(ranked)), strict=True))
    rows = [(q, d, r) for q, rel in qrels.items() for d, r in rel.items()]
    write_csv(work.reference / "qrels.csv", ["query", "doc", "relevance"], rows)
    return queries, qrels, run


def write_run(work: Work, run: dict) -> None:
    rows = [(q, d, s / 7) for q, scores in run.items() for d, s in scores.items()]
    random.Random(1).shuffle(rows)
    write_csv(work.predictions / "run.csv", ["query", "doc", "score"], rows)


def test_ranking_matches_sklearn_ndcg(work, ranking):
    queries, qrels, run = ranking
    write_run(work, run)
    public, private = halves(queries)
    result = work.scored("ranking", public, private)
    for side, side_queries in (("public", public), ("private", private)):
        ndcg, rr = [], []
        for query in side_queries:
            docs = sorted(run[query])
            truth = [qrels[query].get(doc, 0) for doc in docs]
            ndcg.append(ndcg_score([truth], [[run[query][doc] for doc in docs]], k=10))
            order = sorted(docs, key=lambda doc: -run[query][doc])
            first = next(
                (n for n, doc in enumerate(order, 1) if qrels[query].get(doc, 0) > 0), None
            )
            rr.append(1 / first if first else 0.0)
        assert result[side] == pytest.approx({"ndcg10": np.mean(ndcg), "mrr": np.mean(rr)}), side
        assert 0 < result[side]["ndcg10"] < 1


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (lambda run: run.pop("q6"), "1 test queries: q6"),
        (lambda run: run["q1"].update(d3=float("nan")), "finite"),
        (lambda run: run["q1"].update(d3=float("inf")), "finite"),
        (lambda run: run.update(q77={"d1": 1}), "q77"),
    ],
)
def test_ranking_refuses_bad_runs(work, ranking, change, expect):
    queries, _, run = ranking
    change(run)
    write_run(work, run)
    assert expect in work.refused("ranking", *halves(queries))


# --- forecasting -------------------------------------------------------------------------


@pytest.fixture
def forecasting(work: Work) -> tuple[list[str], dict, dict]:
    rng = np.random.default_rng(9)
    series = [f"store{n}" for n in range(10)]
    actual, forecast = {}, {}
    for s in series:
        level = rng.uniform(20, 200)
        for step in range(1, 8):
            value = level + rng.normal(0, 10)
            actual[(s, str(step))] = round(value, 3)
            forecast[(s, str(step))] = round(value * rng.uniform(0.8, 1.25), 3)
    return series, actual, forecast


def write_points(path: Path, points: dict) -> None:
    write_csv(path, ["id", "step", "value"], [(s, t, v) for (s, t), v in points.items()])


def smape(a: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(2 * np.abs(a - f) / (np.abs(a) + np.abs(f))) * 100)


def test_forecasting_matches_sklearn_mape(work, forecasting):
    series, actual, forecast = forecasting
    actual[("store7", "3")] = 0.0  # skipped by MAPE, counted by sMAPE
    write_points(work.reference / "actuals.csv", actual)
    write_points(work.predictions / "forecast.csv", forecast)
    public, private = halves(series)
    result = work.scored("forecasting", public, private)
    for side, side_series in (("public", public), ("private", private)):
        keys = [key for key in actual if key[0] in side_series]
        a, f = np.array([actual[k] for k in keys]), np.array([forecast[k] for k in keys])
        nonzero = a != 0
        mape = mean_absolute_percentage_error(a[nonzero], f[nonzero]) * 100
        assert result[side] == pytest.approx({"mape": mape, "smape": smape(a, f)}), side
    assert nonzero.sum() == len(keys) - 1  # the zero is on the private side


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (lambda f: [f.pop(k) for k in list(f) if k[0] == "store5"], "1 test series: store5"),
        (lambda f: f.pop(("store2", "4")), "store2 step 4"),
        (lambda f: f.update({("store2", "99"): 1.0}), "store2 step 99"),
        (lambda f: f.update({("store2", "4"): float("nan")}), "finite"),
        (lambda f: f.update({("mall", "1"): 1.0}), "mall"),
    ],
)
def test_forecasting_refuses_bad_forecasts(work, forecasting, change, expect):
    series, actual, forecast = forecasting
    change(forecast)
    write_points(work.reference / "actuals.csv", actual)
    write_points(work.predictions / "forecast.csv", forecast)
    message = work.refused("forecasting", *halves(series))
    assert expect in message
    assert str(actual[("store2", "4")]) not in message


def test_every_template_has_a_readme_with_its_metrics():
    names = {
        "detection": ["map50", "map", "recall"],
        "segmentation": ["miou", "pixel_accuracy"],
        "speech": ["cer", "wer"],
        "text": ["bleu", "chrf"],
        "ranking": ["ndcg10", "mrr"],
        "forecasting": ["smape", "mape"],
    }
    assert sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir()) == sorted(names)
    for template, metrics in names.items():
        readme = (TEMPLATES / template / "README.md").read_text("utf-8")
        assert "中文" in readme
        snippet = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
        declared = yaml.safe_load(io.StringIO(snippet))["scoring"]["metrics"]
        assert [m["name"] for m in declared] == metrics, template
        assert len((TEMPLATES / template / "score.py").read_text().splitlines()) <= 250
