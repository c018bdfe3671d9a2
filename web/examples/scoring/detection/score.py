"""Jiebang scoring program: object detection, COCO mAP@0.5, mAP@0.5:0.95 and AR@100.

Reference: /reference/instances.json (COCO ground truth; an image's item id is its
file_name without the extension). Predictions: /predictions/detections.json, a list of
{"image": "<item id>", "category_id": int, "bbox": [x, y, w, h], "score": float}.
Writes /scores/scores.json, or /scores/error.txt and exit 1 when the predictions are
unusable. Runs on jiebang/scoring:3.11 (pycocotools, numpy).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import stat
import sys
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

PREDICTIONS = Path(os.environ.get("JIEBANG_PREDICTIONS", "/predictions"))
REFERENCE = Path(os.environ.get("JIEBANG_REFERENCE", "/reference"))
SPLIT = Path(os.environ.get("JIEBANG_SPLIT", "/split"))
SCORES = Path(os.environ.get("JIEBANG_SCORES", "/scores"))
FILE = "detections.json"
MAX_BYTES = 64 * 1024 * 1024  # refused before parsing
SHOW = 5  # ids named in an error message
KEYS = {"image", "category_id", "bbox", "score"}


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
    gt = load_reference()
    image_ids = item_image_ids(gt)
    sides = {side: read_split(side) for side in ("public", "private")}
    for side, items in sides.items():
        unknown = [item for item in items if item not in image_ids]
        if unknown:  # the sponsor's data, not the team's: crash for the sponsor's log
            raise RuntimeError(f"{side} split items not in instances.json: {unknown[:SHOW]}")
    in_split = set(sides["public"]) | set(sides["private"])
    detections = load_detections(image_ids, in_split, set(gt.getCatIds()))
    return {
        side: evaluate(gt, detections, [image_ids[i] for i in items])
        for side, items in sides.items()
    }


def load_reference() -> COCO:
    gt = COCO()
    gt.dataset = json.loads((REFERENCE / "instances.json").read_text(encoding="utf-8"))
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    return gt


def item_image_ids(gt: COCO) -> dict[str, int]:
    ids: dict[str, int] = {}
    for image in gt.dataset["images"]:
        item = os.path.splitext(os.path.basename(image["file_name"]))[0]
        if item in ids:
            raise RuntimeError(f"two images in instances.json are item {item!r}")
        ids[item] = image["id"]
    return ids


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


def shown(values: list) -> str:
    names = ", ".join(str(v)[:60] for v in values[:SHOW])
    return names + (f" and {len(values) - SHOW} more" if len(values) > SHOW else "")


def load_detections(
    image_ids: dict[str, int], in_split: set[str], categories: set[int]
) -> list[dict]:
    raw = read_prediction(FILE)
    try:
        entries = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Unusable(f"{FILE} is not UTF-8 text.") from None
    except RecursionError:
        raise Unusable(f"{FILE} is nested too deeply: write a flat list of objects.") from None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise Unusable(f"{FILE} is not valid JSON: {str(error)[:200]}") from None
    if not isinstance(entries, list):
        raise Unusable(f"{FILE} must be a JSON list of detections, not a {type(entries).__name__}.")
    detections, unknown = [], []
    for n, entry in enumerate(entries):
        where = f"{FILE} entry {n}"
        if not isinstance(entry, dict) or not set(entry) >= KEYS:
            raise Unusable(f"{where} must be an object with the keys {sorted(KEYS)}.")
        image, category, bbox, confidence = (
            entry[k] for k in ("image", "category_id", "bbox", "score")
        )
        if not isinstance(image, str):
            raise Unusable(f"{where}: image must be the item id as a string.")
        if image not in in_split:
            unknown.append(image)
            continue
        if type(category) is not int or category not in categories:
            raise Unusable(f"{where}: category_id must be one of the challenge's category ids.")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(finite(v) for v in bbox):
            raise Unusable(f"{where}: bbox must be [x, y, width, height], four finite numbers.")
        if bbox[2] < 0 or bbox[3] < 0:
            raise Unusable(f"{where}: bbox width and height must not be negative.")
        if not finite(confidence):
            raise Unusable(f"{where}: score must be a finite number (not NaN or infinity).")
        detections.append(
            {
                "image_id": image_ids[image],
                "category_id": category,
                "bbox": [float(v) for v in bbox],
                "score": float(confidence),
            }
        )
    if unknown:
        raise Unusable(
            f"{FILE} names images that are not test items: {shown(sorted(set(unknown)))}"
        )
    return detections


def finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def evaluate(gt: COCO, detections: list[dict], img_ids: list[int]) -> dict[str, float]:
    wanted = set(img_ids)
    if not any(gt.imgToAnns[i] for i in wanted):
        raise RuntimeError("a side of the split has no ground-truth boxes; mAP is undefined")
    dt = COCO()
    # What COCO.loadRes does for boxes, which it cannot do for an empty list.
    anns = [
        dict(d, id=n + 1, area=d["bbox"][2] * d["bbox"][3], iscrowd=0)
        for n, d in enumerate(detections)
        if d["image_id"] in wanted
    ]
    dt.dataset = {
        "images": gt.dataset["images"],
        "categories": gt.dataset["categories"],
        "annotations": anns,
    }
    with contextlib.redirect_stdout(io.StringIO()):
        dt.createIndex()
        run = COCOeval(gt, dt, "bbox")
        run.params.imgIds = sorted(wanted)
        run.evaluate()
        run.accumulate()
        run.summarize()
    stats = np.asarray(run.stats, dtype=float)
    # COCOeval reports -1 where no ground truth counts (e.g. no box of any category).
    values = {"map50": stats[1], "map": stats[0], "recall": stats[8]}
    return {name: max(float(v), 0.0) for name, v in values.items()}


if __name__ == "__main__":
    sys.exit(main())
