"""Jiebang scoring program: time-series forecasting, MAPE and sMAPE in percent (lower is better).

Reference: /reference/actuals.csv (id,step,value), where id is a series (the items of the
split). Predictions: /predictions/forecast.csv (id,step,value), one row for every (id, step)
of the actuals and no other. Each side averages over all points of its series. MAPE skips
points whose actual is 0 (it is undefined there); sMAPE counts a point where both actual and
forecast are 0 as 0. Writes /scores/scores.json, or /scores/error.txt and exit 1 when the
predictions are unusable. Runs on jiebang/scoring:3.11 (numpy).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import sys
from pathlib import Path

import numpy as np

PREDICTIONS = Path(os.environ.get("JIEBANG_PREDICTIONS", "/predictions"))
REFERENCE = Path(os.environ.get("JIEBANG_REFERENCE", "/reference"))
SPLIT = Path(os.environ.get("JIEBANG_SPLIT", "/split"))
SCORES = Path(os.environ.get("JIEBANG_SCORES", "/scores"))
FILE = "forecast.csv"
ACTUALS = "actuals.csv"
COLUMNS = ["id", "step", "value"]
MAX_BYTES = 64 * 1024 * 1024
SHOW = 5  # ids named in an error message

Point = tuple[str, str]  # (series id, step)


class Unusable(Exception):
    """The predictions cannot be scored; the message is for the team."""


def main() -> int:
    try:
        scores = score()
    except Unusable as error:
        message = str(error).encode()[:2000].decode(errors="ignore")
        (SCORES / "error.txt").write_text(message + "\n")
        return 1
    (SCORES / "scores.json").write_text(json.dumps(scores))
    return 0


def score() -> dict[str, dict[str, float]]:
    sides = {side: read_split(side) for side in ("public", "private")}
    try:
        actual = points(read_csv((REFERENCE / ACTUALS).read_bytes(), ACTUALS, COLUMNS), ACTUALS)
    except Unusable as error:  # the sponsor's file: a crash, never a message to the team
        raise RuntimeError(f"reference {error}") from None
    forecast = points(read_csv(read_prediction(FILE), FILE, COLUMNS), FILE)
    check_points(actual, forecast, sides)
    scores = {}
    for side, series in sides.items():
        wanted = set(series)
        keys = [key for key in actual if key[0] in wanted]
        a = np.array([actual[key] for key in keys])
        f = np.array([forecast[key] for key in keys])
        scores[side] = {"mape": mape(a, f), "smape": smape(a, f)}
    return scores


def mape(a: np.ndarray, f: np.ndarray) -> float:
    nonzero = a != 0
    if not nonzero.any():
        raise RuntimeError("every actual of a side is 0: MAPE is undefined there")
    return float(np.mean(np.abs(a[nonzero] - f[nonzero]) / np.abs(a[nonzero])) * 100)


def smape(a: np.ndarray, f: np.ndarray) -> float:
    denominator = np.abs(a) + np.abs(f)
    ratio = np.divide(2 * np.abs(a - f), denominator, out=np.zeros_like(a), where=denominator != 0)
    return float(np.mean(ratio) * 100)


def points(rows: list[list[str]], name: str) -> dict[Point, float]:
    values: dict[Point, float] = {}
    for series, step, text in rows:
        key = (series.strip(), step.strip())
        try:
            value = float(text)
        except ValueError:
            raise Unusable(
                f"{name}: value {text[:40]!r} (id {key[0][:60]}) is not a number."
            ) from None
        if not math.isfinite(value):
            raise Unusable(f"{name}: id {key[0][:60]}, step {key[1][:20]}: values must be finite.")
        if key in values:
            raise Unusable(f"{name}: id {key[0][:60]}, step {key[1][:20]} appears more than once.")
        values[key] = value
    return values


def check_points(actual: dict[Point, float], forecast: dict[Point, float], sides: dict) -> None:
    wanted = sides["public"] + sides["private"]
    known = set(wanted)
    extra = sorted({series for series, _ in forecast if series not in known})
    if extra:
        raise Unusable(f"{FILE} has rows for ids that are not test items: {shown(extra)}")
    present = {series for series, _ in forecast}
    missing = [series for series in wanted if series not in present]
    if missing:
        raise Unusable(f"{FILE} has no row for {len(missing)} test series: {shown(missing)}")
    gaps = [f"{s} step {t}" for s, t in actual if s in known and (s, t) not in forecast]
    if gaps:
        raise Unusable(f"{FILE} lacks {len(gaps)} points: {shown(gaps)}")
    steps = [f"{s} step {t}" for s, t in forecast if (s, t) not in actual]
    if steps:
        raise Unusable(f"{FILE} has points the test does not ask for: {shown(steps)}")


def read_split(side: str) -> list[str]:
    lines = (SPLIT / f"{side}.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def read_prediction(name: str) -> bytes:
    """A regular file directly under /predictions, never through a link, at most MAX_BYTES."""
    try:
        fd = os.open(PREDICTIONS / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise Unusable(f"{name} is missing: write it to /output/{name}.") from None
    except OSError as error:
        raise Unusable(f"{name} cannot be read ({error.strerror}).") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Unusable(f"{name} is not a regular file.")
        if info.st_size > MAX_BYTES:
            raise Unusable(f"{name} is {info.st_size} bytes; at most {MAX_BYTES} are accepted.")
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Unusable(f"{name} is over {MAX_BYTES} bytes.")
    return data


def read_csv(data: bytes, name: str, columns: list[str]) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unusable(f"{name} is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != columns:
            raise Unusable(f"{name} must start with the header line {','.join(columns)}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(columns):
                raise Unusable(f"{name} line {reader.line_num}: expected {len(columns)} fields.")
            rows.append(row)
    except csv.Error as error:
        raise Unusable(f"{name} line {reader.line_num} is not valid CSV: {error}") from None
    return rows


def shown(values: list) -> str:
    names = ", ".join(str(v)[:60] for v in values[:SHOW])
    return names + (f" and {len(values) - SHOW} more" if len(values) > SHOW else "")


if __name__ == "__main__":
    sys.exit(main())
