"""Jiebang scoring program: text generation or translation, corpus BLEU and chrF.

Reference: /reference/references.csv (id,text). Predictions: /predictions/hypotheses.csv
(id,text), one row per test item. Higher is better for both. BLEU's tokenizer is "13a"
unless /scoring/config.json (next to this file) says e.g. {"tokenize": "zh"}. Writes
/scores/scores.json, or /scores/error.txt and exit 1 when the predictions are unusable.
Runs on jiebang/scoring:3.11 (sacrebleu).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from pathlib import Path

import sacrebleu

PREDICTIONS = Path(os.environ.get("JIEBANG_PREDICTIONS", "/predictions"))
REFERENCE = Path(os.environ.get("JIEBANG_REFERENCE", "/reference"))
SPLIT = Path(os.environ.get("JIEBANG_SPLIT", "/split"))
SCORES = Path(os.environ.get("JIEBANG_SCORES", "/scores"))
FILE = "hypotheses.csv"
REFERENCES = "references.csv"
CONFIG = Path(__file__).resolve().parent / "config.json"
# sacrebleu's tokenizers that need nothing beyond the scorer image: the mecab and
# sentencepiece ones (ja-mecab, ko-mecab, spm, flores101, flores200) need downloads.
TOKENIZERS = ("13a", "zh", "intl", "char", "none")
COLUMNS = ["id", "text"]
MAX_BYTES = 64 * 1024 * 1024
SHOW = 5  # ids named in an error message


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
    tokenize = read_config().get("tokenize", "13a")
    if tokenize not in TOKENIZERS:
        raise RuntimeError(f"config.json: tokenize must be one of {TOKENIZERS}, not {tokenize!r}")
    sides = {side: read_split(side) for side in ("public", "private")}
    reference = by_id(read_reference(REFERENCES), REFERENCES)
    predicted = by_id(read_csv(read_prediction(FILE), FILE), FILE)
    check_ids(predicted, sides)
    scores = {}
    for side, items in sides.items():
        # Newlines inside a text would shift sacrebleu's line-based view; spaces keep words apart.
        truth = [" ".join(reference[item].split()) for item in items]
        guess = [" ".join(predicted[item].split()) for item in items]
        bleu = sacrebleu.corpus_bleu(guess, [truth], tokenize=tokenize)
        chrf = sacrebleu.corpus_chrf(guess, [truth])
        scores[side] = {"bleu": float(bleu.score), "chrf": float(chrf.score)}
    return scores


def read_config() -> dict:
    if not CONFIG.exists():
        return {}
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise RuntimeError('config.json must be a JSON object such as {"tokenize": "zh"}')
    return config


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


def read_reference(name: str) -> list[list[str]]:
    try:
        return read_csv((REFERENCE / name).read_bytes(), name)
    except Unusable as error:  # the sponsor's file: a crash, never a message to the team
        raise RuntimeError(f"reference {error}") from None


def read_csv(data: bytes, name: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unusable(f"{name} is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != COLUMNS:
            raise Unusable(f"{name} must start with the header line {','.join(COLUMNS)}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(COLUMNS):
                raise Unusable(f"{name} line {reader.line_num}: expected {len(COLUMNS)} fields.")
            rows.append(row)
    except csv.Error as error:
        raise Unusable(f"{name} line {reader.line_num} is not valid CSV: {error}") from None
    return rows


def by_id(rows: list[list[str]], name: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for item, text in rows:
        item = item.strip()
        if item in texts:
            raise Unusable(f"{name}: id {item[:60]} appears more than once.")
        texts[item] = text
    return texts


def shown(values: list) -> str:
    names = ", ".join(str(v)[:60] for v in values[:SHOW])
    return names + (f" and {len(values) - SHOW} more" if len(values) > SHOW else "")


def check_ids(predicted: dict, sides: dict[str, list[str]]) -> None:
    wanted = sides["public"] + sides["private"]
    missing = [item for item in wanted if item not in predicted]
    if missing:
        raise Unusable(f"{FILE} has no row for {len(missing)} test items: {shown(missing)}")
    known = set(wanted)
    extra = [item for item in predicted if item not in known]
    if extra:
        raise Unusable(f"{FILE} has rows for ids that are not test items: {shown(extra)}")


if __name__ == "__main__":
    sys.exit(main())
