"""Scoring and split benchmarks: ``.venv/bin/python -m benchmarks.run [--rows N] [--runs R]``.

For each case, one predictions file of N rows is parsed, validated and scored on its public
and private rows by :func:`evaluator.scoring.score_predictions`, and the plain way —
``pandas.read_csv``, a merge on ``id``, scikit-learn on each side — in the same run,
alternately, R times each. It prints the medians (ours also in CPU time, which other
processes disturb less) and their ratio, and checks that both give the same scores (to
1e-12). Then it times :func:`challenges.split.public_mask` against ``hmac.digest`` per id.
Timings are not asserted: these machines are shared and noisy.

Ids are numbers and classes small integers unless the case says "text": pandas reads numbers
much faster than text, so that is the plain way at its fastest. Data is generated
deterministically in a temp dir.
"""

from __future__ import annotations

import argparse
import hmac
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from challenges.metrics import get_metric
from challenges.split import public_mask
from evaluator.scoring import read_labels, score_predictions

SECRET = "benchmark-secret-" + "0" * 47
FRACTION = 0.3
TARGET_S = 0.25


@dataclass(frozen=True)
class Case:
    name: str  # shown in the table
    metric: str
    data: str  # which generated files


CASES = [
    Case("accuracy", "accuracy", "classes"),
    Case("f1_macro", "f1_macro", "classes"),
    Case("roc_auc", "roc_auc", "binary"),
    Case("log_loss", "log_loss", "binary"),
    Case("rmse", "rmse", "regression"),
    Case("roc_auc, rows shuffled", "roc_auc", "binary-shuffled"),
    Case("accuracy, text ids+labels", "accuracy", "classes-text"),
]

# scikit-learn on the merged columns, as a plain implementation would call it
PLAIN: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": skm.accuracy_score,
    "f1_macro": lambda t, p: skm.f1_score(t, p, average="macro", zero_division=0.0),
    "roc_auc": skm.roc_auc_score,
    "log_loss": lambda t, p: skm.log_loss(t, p, labels=[0, 1]),
    "rmse": skm.root_mean_squared_error,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jiebang-bench-") as tmp:
        started = time.perf_counter()
        files = _generate(Path(tmp), args.rows)
        print(
            f"{args.rows:,} rows, {args.runs} runs each, data made in "
            f"{time.perf_counter() - started:.1f} s; medians in seconds\n"
        )
        print(
            f"{'case':26} {'jiebang':>8} {'(cpu)':>7} {'plain':>7} {'ratio':>6}  target {TARGET_S}"
        )
        for case in CASES:
            ours, cpu, plain = _scoring(case, files, args.runs)
            ok = "met" if ours <= TARGET_S else "MISSED"
            print(f"{case.name:26} {ours:8.3f} {cpu:7.3f} {plain:7.3f} {plain / ours:5.1f}x  {ok}")
        ids = np.array([f"row-{i:07d}" for i in range(args.rows)], dtype=object)
        ours, cpu, plain = _split(ids, args.runs)
        print(
            f"{'public_mask':26} {ours:8.3f} {cpu:7.3f} {plain:7.3f} {plain / ours:5.1f}x  "
            f"(plain: hmac.digest per id)"
        )
    return 0


def _generate(folder: Path, n: int) -> dict[str, tuple[Path, Path]]:
    rng = np.random.default_rng(20240601)
    numbers = (10_000_000 + np.arange(n)).astype(str).astype(object)
    texts = np.array([f"row-{i:07d}" for i in range(n)], dtype=object)
    y_class = rng.integers(0, 5, n)
    guess = np.where(rng.random(n) < 0.7, y_class, rng.integers(0, 5, n))
    guess[rng.random(n) < 0.01] = 9  # a wrong answer that is no class at all
    names = np.array([f"class-{c}" for c in range(10)], dtype=object)
    y_binary = rng.integers(0, 2, n)
    p = np.round(np.clip(0.35 * y_binary + 0.65 * rng.random(n), 0, 1), 4)  # has ties
    y_number = np.round(rng.normal(size=n), 4)
    estimate = np.round(y_number + 0.3 * rng.normal(size=n), 4)
    shuffled = rng.permutation(n)

    def write(name: str, header: str, ids: np.ndarray, values: np.ndarray) -> Path:
        lines = map(",".join, zip(ids, values.astype(str), strict=True))
        path = folder / name
        path.write_text(header + "\n" + "\n".join(lines) + "\n")
        return path

    def pair(name: str, truth: np.ndarray, answer: np.ndarray, ids=numbers, rows=None):
        rows = slice(None) if rows is None else rows
        return (
            write(f"{name}-labels.csv", "id,label", ids, truth),
            write(f"{name}-predictions.csv", "id,prediction", ids[rows], answer[rows]),
        )

    return {
        "classes": pair("classes", y_class, guess),
        "classes-text": pair("classes-text", names[y_class], names[guess], ids=texts),
        "binary": pair("binary", y_binary, p),
        "binary-shuffled": pair("binary-shuffled", y_binary, p, rows=shuffled),
        "regression": pair("regression", y_number, estimate),
    }


def _scoring(case: Case, files: dict, runs: int) -> tuple[float, float, float]:
    labels_path, predictions = files[case.data]
    metric = get_metric(case.metric)
    labels = read_labels(labels_path, metric=metric)  # the worker keeps these per process
    public = np.random.default_rng(7).random(len(labels)) < FRACTION
    plain_labels = pd.read_csv(labels_path)

    def ours() -> tuple[float | None, float | None]:
        scores = score_predictions(predictions, labels, metric=metric, public=public)
        return scores.public, scores.private

    def plain() -> tuple[float, float]:
        found = pd.read_csv(predictions)
        merged = plain_labels.merge(found, on="id", how="left", validate="one_to_one")
        truth, guess = merged["label"].to_numpy(), merged["prediction"].to_numpy()
        score = PLAIN[case.metric]
        return score(truth[public], guess[public]), score(truth[~public], guess[~public])

    return _alternate(ours, plain, runs, case.name)


def _split(ids: np.ndarray, runs: int) -> tuple[float, float, float]:
    key = SECRET.encode()
    threshold = math.ceil(FRACTION * 2**64)

    def plain() -> np.ndarray:
        prefixes = (hmac.digest(key, i.encode(), "sha256")[:8] for i in ids)
        return np.array([int.from_bytes(d, "big") < threshold for d in prefixes])

    def ours() -> np.ndarray:
        return public_mask(ids, SECRET, FRACTION)

    return _alternate(ours, plain, runs, "public_mask")


def _alternate(ours: Callable, plain: Callable, runs: int, name: str) -> tuple[float, float, float]:
    """Run both `runs` times, alternately, check they agree every time, and return the
    medians: ours (wall clock), ours (CPU time of this process), plain (wall clock)."""
    walls, cpus, plains = [], [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        a = ours()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        wall = time.perf_counter()
        b = plain()
        plains.append(time.perf_counter() - wall)
        _check_equal(a, b, name)
    return statistics.median(walls), statistics.median(cpus), statistics.median(plains)


def _check_equal(a: object, b: object, name: str) -> None:
    if isinstance(a, np.ndarray):
        assert np.array_equal(a, b), f"{name}: results differ"
        return
    for x, y in zip(a, b, strict=True):  # (public, private)
        assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12), f"{name}: {x!r} != {y!r}"


if __name__ == "__main__":
    sys.exit(main())
