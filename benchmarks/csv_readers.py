"""CSV readers: the hand-written parser against pyarrow, ``python -m benchmarks.csv_readers``.

    PYTHONPATH=DIR .venv/bin/python -m benchmarks.csv_readers [--rows N] [--runs R] [--quick]

where DIR holds pyarrow (and, for the read-only column, polars), e.g. from
``.venv/bin/pip install --target DIR pyarrow polars``: neither is a dependency of the project,
and installing pyarrow into the project's environment would change pandas' default string
storage under everyone's tests.

For each case one predictions file is scored on its public and private rows twice, in turn,
R times each: by :func:`evaluator.scoring.score_predictions` (read, parse, validate, match
the ids to the labels', score) and by :func:`benchmarks.csv_arrow.score` (the same with
``pyarrow.csv`` and ``pyarrow.compute``). Both must give the same scores (to 1e-12) or the
same refusal (code and parameters, so the same message in every language) every run; the
table says whether they did. ``polars`` is ``polars.read_csv`` of the same file with the same
column types and no checks at all: a floor for a reader, not a path. ``memory`` is the growth
of the peak resident size during one scoring, in a fresh process per path and case.
Afterwards the small refusals of the test suite go through both paths. Timings are not
asserted; each row shows the load average when it was measured. It fails only when the two
paths give different scores: a differing refusal is a finding, printed, not a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.csv_cases import CASES, SMALL, Case, generate, small_files
from challenges.metrics import get_metric
from evaluator.scoring import PredictionError, read_labels, score_predictions

FRACTION = 0.3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.csv_readers")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200,000 rows, 3 runs")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory column")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.runs = 200_000, 3
    try:
        import pyarrow
    except ImportError:  # not a dependency: `python -m benchmarks` goes on without it
        print("skipped: pyarrow is not importable (see `python -m benchmarks.csv_readers -h`)")
        return 0
    _production_strings()
    with tempfile.TemporaryDirectory(prefix="jiebang-csv-") as tmp:
        started = time.perf_counter()
        files = generate(Path(tmp), args.rows)
        print(
            f"{args.rows:,} rows, {args.runs} runs each, data made in "
            f"{time.perf_counter() - started:.1f} s; pyarrow {pyarrow.__version__}, "
            f"{_polars_version()}; medians in seconds, memory in MiB\n"
        )
        print(
            f"{'case':30} {'ours':>7} {'arrow':>7} {'ratio':>6} {'cpu ours':>8} {'arrow':>6} "
            f"{'polars':>7} "
            f"{'mem ours':>8} {'arrow':>6}  {'load':>4}  outcome"
        )
        differ = 0
        for case in CASES:
            row = _case(case, files, args.runs, not args.no_memory)
            differ += "DIFFER" in row and "'scored'" in row  # one accepted, or other scores
            print(row, flush=True)
        differ += _small(Path(tmp))
    return 1 if differ else 0


def _production_strings() -> None:
    """pandas 3 stores str columns with pyarrow when it can import it; production has no
    pyarrow, so ours is measured with the storage it has there."""
    pd.set_option("mode.string_storage", "python")


def _polars_version() -> str:
    try:
        import polars
    except ImportError:
        return "no polars"
    return f"polars {polars.__version__}"


def _paths(case: Case, files: dict) -> tuple[Path, Path]:
    return files[case.labels], files[case.predictions]


def _scorers(case: Case, files: dict) -> tuple[Callable, Callable]:
    from benchmarks import csv_arrow

    labels_path, predictions = _paths(case, files)
    metric = get_metric(case.metric)
    labels = read_labels(labels_path, metric=metric)  # the worker keeps these per process
    arrow_ids = csv_arrow.label_ids(labels)  # and would keep these
    public = np.random.default_rng(7).random(len(labels)) < FRACTION

    def ours() -> object:
        return _outcome(
            lambda: score_predictions(predictions, labels, metric=metric, public=public)
        )

    def arrow() -> object:
        return _outcome(
            lambda: csv_arrow.score(predictions, labels, arrow_ids, metric=metric, public=public)
        )

    return ours, arrow


def _outcome(run: Callable) -> object:
    try:
        scores = run()
    except PredictionError as exc:
        return ("refused", exc.code, exc.message_code, exc.params)
    except Exception as exc:  # a bug in that path: the worker would record an internal error
        return ("crashed", type(exc).__name__, str(exc)[:60], {})
    return ("scored", scores.public, scores.private)


def _same(a: object, b: object) -> str:
    """ "same"; "equivalent" for the same refusal echoing the refused value written otherwise
    ("NaN" / "nan"); or "" when they differ."""
    if a[0] != b[0] or a[0] != "scored":
        if a == b:
            return "same"
        unechoed = [(*x[:3], {k: v for k, v in x[3].items() if k != "value"}) for x in (a, b)]
        return "equivalent" if a[0] == "refused" and unechoed[0] == unechoed[1] else ""
    return (
        "same"
        if all(
            (x is None and y is None) or math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
            for x, y in zip(a[1:], b[1:], strict=True)
        )
        else ""
    )


def _case(case: Case, files: dict, runs: int, memory: bool) -> str:
    ours, arrow = _scorers(case, files)
    ours_s, arrow_s, ours_cpu, arrow_cpu, loads, verdicts = [], [], [], [], [], set()
    for _ in range(runs):
        for run, times, cpus in ((ours, ours_s, ours_cpu), (arrow, arrow_s, arrow_cpu)):
            started, cpu = time.perf_counter(), time.process_time()
            result = run()
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            if run is ours:
                expected = result
            else:
                verdicts.add(_same(expected, result))
        loads.append(os.getloadavg()[0])
    polars = _polars(case, files, runs)
    a, b = statistics.median(ours_s), statistics.median(arrow_s)
    cpu = statistics.median(ours_cpu), statistics.median(arrow_cpu)
    mem = (_peak(case, files, "ours"), _peak(case, files, "arrow")) if memory else ("-", "-")
    outcome = "scored" if expected[0] == "scored" else expected[1]
    verdict = max(verdicts, key=["same", "equivalent", ""].index) or (
        f"DIFFER: {expected!r:.80} / {result!r:.80}"
    )
    return (
        f"{case.name:30} {a:7.3f} {b:7.3f} {b / a:5.2f}x {cpu[0]:7.3f} {cpu[1]:7.3f} "
        f"{polars:>7} {mem[0]:>8} {mem[1]:>6}  "
        f"{statistics.median(loads):4.1f}  {outcome}: {verdict}"
    )


def _polars(case: Case, files: dict, runs: int) -> str:
    try:
        import polars as pl
    except ImportError:
        return "-"
    _, path = _paths(case, files)
    header = path.read_bytes()[:4096].split(b"\n", 1)[0].decode("utf-8-sig").strip().split(",")
    numeric = case.metric != "accuracy"
    schema = {c: pl.Float64 if numeric and c != "id" else pl.String for c in header}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.suppress(Exception):  # a refusal is a result here too
            pl.read_csv(path, schema_overrides=schema, encoding="utf8")
        times.append(time.perf_counter() - started)
    return f"{statistics.median(times):.3f}"


def _peak(case: Case, files: dict, which: str) -> str:
    """MiB the peak resident size grows by while scoring once, in a fresh process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        grown = pool.apply(_peak_child, (case, files, which, sys.path))
    return "-" if grown is None else f"{grown:.0f}"


def _peak_child(case: Case, files: dict, which: str, path: list[str]) -> float | None:
    sys.path[:] = path
    _production_strings()
    ours, arrow = _scorers(case, files)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current size
    except OSError:
        return None
    before = _status("VmRSS")
    (ours if which == "ours" else arrow)()
    return (_status("VmHWM") - before) / 1024


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def _small(folder: Path) -> int:
    """The test suite's refusals and oddities, small: each through both paths."""
    differ, shown_all = 0, []
    print(f"\nsmall files from the tests ({len(SMALL)}), each through both paths:")
    for case, files in small_files(folder / "small"):
        ours, arrow = _scorers(case, files)
        a, b = ours(), arrow()
        shown = _same(a, b)
        differ += not shown and "scored" in (a[0], b[0])
        crashed = "CRASH " if a[0] == "crashed" else ""
        outcome = "scored" if a[0] == "scored" else f"{crashed}{a[1]}"
        line = a[3].get("line", "") if a[0] != "scored" else ""
        if not shown:
            shown = f"DIFFER: arrow {b[:3] if b[0] != 'scored' else b}"
            shown += f" line {b[3].get('line')}" if b[0] != "scored" else ""
        print(f"  {case.name:44} {outcome:14} {line!s:>4}  {shown}")
        shown_all.append(shown)
    print(
        f"{shown_all.count('same')} of {len(SMALL)} the same, "
        f"{shown_all.count('equivalent')} equivalent"
    )
    return differ


if __name__ == "__main__":
    sys.exit(main())
