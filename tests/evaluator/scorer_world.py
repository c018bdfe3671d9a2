"""A challenge scored by a program, for the scorer tests: folder inputs, a folder of hidden
labels, declared metrics, and a scorer that misbehaves on request.

Each test item ``i`` is a file ``/input/<i>.txt`` holding the answer's digit; its hidden
label is in ``/reference/truth.json``. A participant writes ``/output/answers.json`` ({id:
answer}) and, to drive the scorer, ``/output/mode.txt``. The scorer reports ``acc``
(higher is better) and ``err`` (lower is better).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import yaml

ITEMS = [f"item-{i:03d}" for i in range(30)]
TRUTH = {item: str(i % 10) for i, item in enumerate(ITEMS)}
CANARY = "JBSCORERCANARY-7d1e"  # in the hidden labels only

SCORER = r"""
import json, os, sys, time

P, R = os.environ["JIEBANG_PREDICTIONS"], os.environ["JIEBANG_REFERENCE"]
S, SPLIT = os.environ["JIEBANG_SCORES"], os.environ["JIEBANG_SPLIT"]
mode_file = os.path.join(P, "mode.txt")
mode = open(mode_file).read().strip() if os.path.isfile(mode_file) else "ok"
print("scorer mode", mode, "sees", sorted(os.listdir(P)))
truth = json.load(open(os.path.join(R, "truth.json")))
sides = {s: open(os.path.join(SPLIT, s + ".txt")).read().split() for s in ("public", "private")}


def write(obj):
    with open(os.path.join(S, "scores.json"), "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))


if mode == "crash":
    raise KeyError("boom")
if mode == "hang":
    time.sleep(3600)
if mode == "flood":
    for _ in range(200000):
        print("flood " * 20)
    with open(os.path.join(S, "big"), "w") as f:
        f.write("x" * (64 << 20))
if mode == "nan":
    write('{"public": {"acc": NaN, "err": 0.5}, "private": {"acc": 0.5, "err": 0.5}}')
    sys.exit(0)
if mode == "garbage":
    write("not json at all")
    sys.exit(0)
if mode == "nested":
    write("[" * 100000 + "]" * 100000)
    sys.exit(0)
if mode == "missing-metric":
    write({"public": {"acc": 1.0}, "private": {"acc": 1.0, "err": 0.0}})
    sys.exit(0)
if mode == "silent-exit":
    sys.exit(3)
try:
    answers = json.load(open(os.path.join(P, "answers.json")))
except (OSError, ValueError) as exc:
    with open(os.path.join(S, "error.txt"), "w") as f:
        f.write("answers.json is missing or not JSON: write {id: answer} to /output/answers.json")
    sys.exit(1)
scores = {}
for side, ids in sides.items():
    right = sum(str(answers.get(i)) == truth[i] for i in ids) / len(ids)
    scores[side] = {"acc": right, "err": 1 - right}
write(scores)
"""

PARTICIPANT = r"""
import json, os
case = json.load(open("/code/case.json"))
out = os.environ["JIEBANG_OUTPUT"]
seen = {p: os.path.exists(p) for p in ("/reference", "/split", "/scoring", "/predictions")}
print("PROBE", json.dumps(seen))
inputs = sorted(os.listdir(os.environ["JIEBANG_INPUT"]))
answers = {}
for name in inputs:
    item = name[: -len(".txt")]
    answer = open(os.path.join(os.environ["JIEBANG_INPUT"], name)).read().strip()
    answers[item] = answer if case.get("right", 1.0) > (int(item[-3:]) * 37 % 100) / 100 else "x"
with open(os.path.join(out, "answers.json"), "w") as f:
    json.dump(answers, f)
if case.get("mode"):
    with open(os.path.join(out, "mode.txt"), "w") as f:
        f.write(case["mode"])
if case.get("link"):
    os.symlink("/reference/truth.json", os.path.join(out, "truth.json"))
if case.get("no_answers"):
    os.unlink(os.path.join(out, "answers.json"))
"""


def write_bundle(root: Path, *, slug: str, runtime: str = "runc", time_limit_s: int = 20) -> Path:
    """The bundle folder of a scoring-program challenge."""
    (root / "test").mkdir(parents=True)
    for item, answer in TRUTH.items():
        (root / "test" / f"{item}.txt").write_text(answer + "\n")
    (root / "reference").mkdir()
    truth = {**TRUTH, "note": CANARY}
    (root / "reference" / "truth.json").write_text(json.dumps(truth))
    (root / "items.csv").write_text("id\n" + "".join(f"{i}\n" for i in ITEMS))
    (root / "scoring").mkdir()
    (root / "scoring" / "score.py").write_text(SCORER)
    (root / "README.md").write_text("# Scored by a program\n")
    spec = {
        "slug": slug,
        "title": {"en": "Scored", "zh": "程序评分"},
        "sponsor": "acme",
        "scenario": "manufacturing",
        "summary": {"en": "A scoring program.", "zh": "评分程序。"},
        "metric": "acc",
        "targets": [{"metric": "acc", "at_least": 0.9}, {"metric": "err", "at_most": 0.1}],
        "prize": {"amount": 1, "currency": "CNY"},
        "opens_at": "2020-01-01T00:00:00+00:00",
        "closes_at": "2099-01-01T00:00:00+00:00",
        "limits": {"daily_submissions": 1000, "running_submissions": 100},
        "resources": {
            "cpus": 1,
            "memory_mb": 384,
            "time_limit_s": time_limit_s,
            "runtime": runtime,
        },
        "data": {
            "test_inputs": "test/",
            "test_labels": "reference/",
            "items": "items.csv",
            "public_fraction": 0.4,
        },
        "scoring": {
            "program": "scoring/",
            "metrics": [
                {"name": "acc", "title": {"en": "Accuracy", "zh": "准确率"}},
                {
                    "name": "err",
                    "title": {"en": "Error", "zh": "错误率"},
                    "higher_is_better": False,
                },
            ],
            "resources": {"cpus": 1, "memory_mb": 256, "time_limit_s": 8},
        },
        "show_logs": True,
    }
    (root / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    return root


def participant(**case) -> bytes:
    """A code bundle (zip) that answers ``right`` of the items right and asks ``mode``."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("main.py", PARTICIPANT)
        archive.writestr("case.json", json.dumps(case))
    return data.getvalue()
