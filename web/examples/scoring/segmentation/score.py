"""Jiebang scoring program: semantic segmentation, mean IoU and pixel accuracy.

Reference: /reference/<item>.png (8-bit class index per pixel, 255 = ignore) and
/reference/classes.txt (one class name per line; class i is line i). Predictions:
/predictions/<item>.png, 8-bit grayscale or palette PNG of the same size. IoU is counted
over all pixels of a side (not per image) and averaged over the classes that occur in the
side's reference or predictions. Writes /scores/scores.json, or /scores/error.txt and exit 1
when the predictions are unusable. Runs on jiebang/scoring:3.11 (Pillow, numpy).
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

PREDICTIONS = Path(os.environ.get("JIEBANG_PREDICTIONS", "/predictions"))
REFERENCE = Path(os.environ.get("JIEBANG_REFERENCE", "/reference"))
SPLIT = Path(os.environ.get("JIEBANG_SPLIT", "/split"))
SCORES = Path(os.environ.get("JIEBANG_SCORES", "/scores"))
IGNORE = 255
MAX_BYTES = 32 * 1024 * 1024  # one PNG
MAX_PIXELS = 40_000_000  # about 8000 x 5000; larger is refused as a decompression bomb
SHOW = 5  # ids named in an error message

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


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
    lines = (REFERENCE / "classes.txt").read_text(encoding="utf-8").splitlines()
    classes = len([line for line in lines if line.strip()])
    if not 0 < classes < IGNORE:
        raise RuntimeError(f"classes.txt must name 1 to {IGNORE - 1} classes, not {classes}")
    sides = {side: read_split(side) for side in ("public", "private")}
    for item in sides["public"] + sides["private"]:
        if "/" in item or item.startswith("."):
            raise RuntimeError(f"item id {item!r} cannot be a file name")
    check_files(sides)
    scores = {}
    for side, items in sides.items():
        confusion = np.zeros((classes, classes + 1), dtype=np.int64)
        for item in items:
            truth = read_reference(item)
            guess = read_prediction(item, truth.shape)
            confusion += count(truth, guess, classes)
        scores[side] = summarize(confusion)
    return scores


def count(truth: np.ndarray, guess: np.ndarray, classes: int) -> np.ndarray:
    """Rows: reference class; columns: predicted class, the last one for any invalid value."""
    valid = truth != IGNORE
    if (truth[valid] >= classes).any():
        raise RuntimeError(f"a reference image has class values >= {classes} other than {IGNORE}")
    t = truth[valid].astype(np.int64)
    g = np.minimum(guess[valid].astype(np.int64), classes)  # >= classes: never right
    cells = np.bincount(t * (classes + 1) + g, minlength=classes * (classes + 1))
    return cells.reshape(classes, classes + 1)


def summarize(confusion: np.ndarray) -> dict[str, float]:
    classes = confusion.shape[0]
    hits = np.diag(confusion[:, :classes]).astype(float)
    union = confusion.sum(axis=1) + confusion[:, :classes].sum(axis=0) - hits
    total = confusion.sum()
    if total == 0:
        raise RuntimeError("a side of the split has no labelled pixel")
    present = union > 0
    return {
        "miou": float(np.mean(hits[present] / union[present])),
        "pixel_accuracy": float(hits.sum() / total),
    }


def read_split(side: str) -> list[str]:
    lines = (SPLIT / f"{side}.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def shown(values: list) -> str:
    names = ", ".join(str(v)[:60] for v in values[:SHOW])
    return names + (f" and {len(values) - SHOW} more" if len(values) > SHOW else "")


def check_files(sides: dict[str, list[str]]) -> None:
    wanted = sides["public"] + sides["private"]
    try:
        names = os.listdir(PREDICTIONS)
    except OSError as error:
        raise Unusable(f"The output folder cannot be listed ({error.strerror}).") from None
    present = {name[: -len(".png")] for name in names if name.endswith(".png")}
    missing = [item for item in wanted if item not in present]
    if missing:
        raise Unusable(f"No prediction for {len(missing)} test items: {shown(missing)}.png")
    known = set(wanted)
    extra = sorted(item for item in present if item not in known)
    if extra:
        raise Unusable(f"PNG files for ids that are not test items: {shown(extra)}")


def read_reference(item: str) -> np.ndarray:
    with Image.open(REFERENCE / f"{item}.png") as image:
        return np.asarray(image)


def read_prediction(item: str, shape: tuple[int, ...]) -> np.ndarray:
    """``<item>.png`` directly under /predictions, as a uint8 array of ``shape``."""
    name = f"{item}.png"
    try:
        fd = os.open(PREDICTIONS / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise Unusable(f"{name} cannot be read ({error.strerror}).") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise Unusable(f"{name} must be a regular file of at most {MAX_BYTES} bytes.")
        data = f.read(MAX_BYTES + 1)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "PNG":
                    raise Unusable(f"{name} is a {image.format} file, not a PNG.")
                if image.mode not in ("L", "P"):
                    raise Unusable(
                        f"{name} has mode {image.mode}: save class indices as an 8-bit "
                        "grayscale (L) or palette (P) PNG."
                    )
                if image.size != (shape[1], shape[0]):
                    raise Unusable(
                        f"{name} is {image.size[0]}x{image.size[1]} pixels; "
                        f"the test image is {shape[1]}x{shape[0]}."
                    )
                pixels = np.asarray(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unusable(f"{name} has too many pixels (at most {MAX_PIXELS}).") from None
    except (OSError, SyntaxError, ValueError) as error:  # what Pillow raises on broken files
        raise Unusable(f"{name} is not a readable PNG: {str(error)[:200]}") from None
    return pixels


if __name__ == "__main__":
    sys.exit(main())
