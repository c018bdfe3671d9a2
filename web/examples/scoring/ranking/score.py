"""Jiebang scoring program: ranking and retrieval, NDCG@10 and MRR, mean over queries.

Reference: /reference/qrels.csv (query,doc,relevance), graded relevance >= 0, any doc not
listed counts 0. Predictions: /predictions/run.csv (query,doc,score), a higher score ranks
higher; ties go to the smaller doc id. The items of the split are query ids; every query of
the split needs at least one row. Writes /scores/scores.json, or /scores/error.txt and
exit 1 when the predictions are unusable. Runs on jiebang/scoring:3.11 (numpy).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

PREDICTIONS = Path(os.environ.get("JIEBANG_PREDICTIONS", "/predictions"))
REFERENCE = Path(os.environ.get("JIEBANG_REFERENCE", "/reference"))
SPLIT = Path(os.environ.get("JIEBANG_SPLIT", "/split"))
SCORES = Path(os.environ.get("JIEBANG_SCORES", "/scores"))
FILE = "run.csv"
QRELS = "qrels.csv"
MAX_BYTES = 64 * 1024 * 1024
SHOW = 5  # ids named in an error message
K = 10


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
    qrels = read_qrels()
    run = read_run(sides)
    scores = {}
    for side, queries in sides.items():
        ndcg = [ndcg_at_k(ranked(run[q]), qrels.get(q, {})) for q in queries]
        mrr = [reciprocal_rank(ranked(run[q]), qrels.get(q, {})) for q in queries]
        scores[side] = {"ndcg10": float(np.mean(ndcg)), "mrr": float(np.mean(mrr))}
    return scores


def ranked(scored: dict[str, float]) -> list[str]:
    return [doc for doc, _ in sorted(scored.items(), key=lambda pair: (-pair[1], pair[0]))]


def ndcg_at_k(docs: list[str], relevance: dict[str, float]) -> float:
    """Linear gains over log2(rank + 1); the ideal ranking takes every judged doc."""
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    gains = np.array([relevance.get(doc, 0.0) for doc in docs[:K]])
    ideal = np.sort(np.array(list(relevance.values()) or [0.0]))[::-1][:K]
    best = float(ideal @ discounts[: len(ideal)])
    # A query without any relevant doc scores 0, as in sklearn's ndcg_score.
    return float(gains @ discounts[: len(gains)]) / best if best > 0 else 0.0


def reciprocal_rank(docs: list[str], relevance: dict[str, float]) -> float:
    """1 / the rank of the first doc with relevance > 0 in the whole ranking; 0 if none."""
    for rank, doc in enumerate(docs, start=1):
        if relevance.get(doc, 0.0) > 0:
            return 1.0 / rank
    return 0.0


def read_qrels() -> dict[str, dict[str, float]]:
    try:
        rows = read_csv((REFERENCE / QRELS).read_bytes(), QRELS, ["query", "doc", "relevance"])
    except Unusable as error:  # the sponsor's file: a crash, never a message to the team
        raise RuntimeError(f"reference {error}") from None
    qrels: dict[str, dict[str, float]] = defaultdict(dict)
    for query, doc, relevance in rows:
        value = float(relevance)
        if not math.isfinite(value) or value < 0:
            raise RuntimeError(f"qrels.csv: relevance must be a number >= 0 (query {query})")
        qrels[query.strip()][doc.strip()] = value
    return qrels


def read_run(sides: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    rows = read_csv(read_prediction(FILE), FILE, ["query", "doc", "score"])
    wanted = sides["public"] + sides["private"]
    known = set(wanted)
    run: dict[str, dict[str, float]] = defaultdict(dict)
    extra = []
    for query, doc, text in rows:
        query, doc = query.strip(), doc.strip()
        if query not in known:
            extra.append(query)
            continue
        try:
            value = float(text)
        except ValueError:
            raise Unusable(
                f"{FILE}: score {text[:40]!r} (query {query[:60]}) is not a number."
            ) from None
        if not math.isfinite(value):
            raise Unusable(
                f"{FILE}: query {query[:60]}, doc {doc[:60]}: the score is "
                f"{text.strip()[:10]}; scores must be finite numbers."
            )
        if doc in run[query]:
            raise Unusable(f"{FILE}: query {query[:60]} lists doc {doc[:60]} more than once.")
        run[query][doc] = value
    if extra:
        raise Unusable(
            f"{FILE} has rows for queries that are not test items: {shown(sorted(set(extra)))}"
        )
    missing = [query for query in wanted if query not in run]
    if missing:
        raise Unusable(f"{FILE} has no row for {len(missing)} test queries: {shown(missing)}")
    return run


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
