"""Build the container-damage example's data: generated photos of container walls with
dents and rust patches, and COCO-style boxes for them.

Usage: ``python make_data.py OUT``. Writes into OUT

- ``train/<id>.png`` and ``train-annotations.json`` (COCO): the public download;
- ``test/<id>.png``: what containers see at /input (scenes only, no boxes);
- ``reference/instances.json`` (COCO): the hidden answers, read by the scoring program only;
- ``items.csv`` (id): the test scenes the public/private split is over;
- ``sample/`` and ``sample-reference/instances.json``: ten training scenes for ``jiebang check``;
- ``scoring/score.py``: the detection scoring program, copied from ../scoring/detection/.

A scene is a corrugated steel wall in one paint colour with camera noise, and 0–4 damage
marks (rectangles or ellipses) that do not overlap: a *dent* darkens the paint with a
shading gradient and keeps its hue; *rust* is orange-brown and speckled. The PNG files are
written by the few lines below rather than by Pillow: the demo runs this script with the
platform's own interpreter, which need not have Pillow, and the output stays byte-identical
across versions (the tests check that the same seed gives the same bytes).
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

SIZE = 128  # scenes are SIZE×SIZE RGB
N_TRAIN, N_TEST, N_SAMPLE = 300, 300, 10
CATEGORIES = [
    {"id": 1, "name": "dent", "name_zh": "凹陷"},
    {"id": 2, "name": "rust", "name_zh": "锈蚀"},
]
# Paint colours of container walls; none is orange or brown, so rust stands out by colour.
PAINTS = np.array(
    [[32, 78, 150], [30, 110, 70], [140, 140, 140], [215, 215, 205], [40, 50, 60], [120, 40, 45]],
    dtype=float,
)
RUST = np.array([165.0, 82.0, 32.0])
TEMPLATE = Path(__file__).resolve().parent.parent / "scoring" / "detection" / "score.py"


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of an (height, width, 3) uint8 array."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))  # filter 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, truecolour
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def _free(taken: list[tuple[int, int, int, int]], box: tuple[int, int, int, int]) -> bool:
    """True if `box` keeps a 3-pixel gap to every box already placed (so marks never touch)."""
    x, y, w, h = box
    return all(
        x + w + 3 <= tx or tx + tw + 3 <= x or y + h + 3 <= ty or ty + th + 3 <= y
        for tx, ty, tw, th in taken
    )


def scene(rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """One wall picture and its damage marks as COCO annotations (without ids)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    paint = PAINTS[rng.integers(len(PAINTS))] * rng.uniform(0.9, 1.1)
    # Corrugation: vertical ribs that brighten and shade the paint by up to ±8%.
    period, phase = rng.uniform(10, 16), rng.uniform(0, 2 * np.pi)
    ribs = 1 + 0.08 * np.sin(2 * np.pi * xx / period + phase)
    light = 1 + 0.1 * (yy / SIZE - 0.5) * rng.choice([-1, 1])  # uneven daylight
    image = paint[None, None, :] * (ribs * light)[:, :, None]

    marks: list[dict] = []
    taken: list[tuple[int, int, int, int]] = []
    for _ in range(rng.integers(0, 5)):
        for _attempt in range(20):
            w, h = (int(v) for v in rng.integers(8, 33, size=2))
            x, y = int(rng.integers(2, SIZE - w - 2)), int(rng.integers(2, SIZE - h - 2))
            if _free(taken, (x, y, w, h)):
                break
        else:
            continue  # no room left on this wall
        inside = (xx >= x) & (xx < x + w) & (yy >= y) & (yy < y + h)
        if rng.random() < 0.5:  # an ellipse in that box
            cx, cy = x + (w - 1) / 2, y + (h - 1) / 2
            inside = ((xx - cx) / (w / 2)) ** 2 + ((yy - cy) / (h / 2)) ** 2 <= 1
        category = int(rng.integers(1, 3))
        if category == 1:  # dent: the paint in shadow, darker towards one side
            across = (xx - x) / w if rng.random() < 0.5 else (yy - y) / h
            shade = rng.uniform(0.3, 0.4) + 0.2 * np.clip(across, 0, 1)
            image[inside] *= shade[inside][:, None]
        else:  # rust: orange-brown with coarse speckles
            speckle = rng.uniform(0.75, 1.15, size=(SIZE, SIZE))
            image[inside] = RUST * rng.uniform(0.85, 1.1) * speckle[inside][:, None]
        ys, xs = np.nonzero(inside)
        bx, by = int(xs.min()), int(ys.min())
        bw, bh = int(xs.max()) - bx + 1, int(ys.max()) - by + 1
        taken.append((x, y, w, h))
        marks.append(
            {
                "category_id": category,
                "bbox": [bx, by, bw, bh],
                "area": int(inside.sum()),
                "iscrowd": 0,
            }
        )
    image += rng.normal(0, 6, size=image.shape)  # camera noise
    return np.clip(image, 0, 255).round().astype(np.uint8), marks


def write_split(folder: Path, ids: list[str], rng: np.random.Generator) -> dict:
    """Write the scenes of `ids` as PNG files into `folder`; return their COCO document."""
    folder.mkdir(parents=True)
    images, annotations = [], []
    for number, item in enumerate(ids, start=1):
        pixels, marks = scene(rng)
        (folder / f"{item}.png").write_bytes(png_bytes(pixels))
        images.append({"id": number, "file_name": f"{item}.png", "width": SIZE, "height": SIZE})
        for mark in marks:
            annotations.append({"id": len(annotations) + 1, "image_id": number, **mark})
    return {"images": images, "annotations": annotations, "categories": CATEGORIES}


def subset(coco: dict, files: set[str]) -> dict:
    """The part of a COCO document about the images named in `files`."""
    images = [image for image in coco["images"] if image["file_name"] in files]
    keep = {image["id"] for image in images}
    annotations = [a for a in coco["annotations"] if a["image_id"] in keep]
    return {"images": images, "annotations": annotations, "categories": coco["categories"]}


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")


def main(out: Path, seed: int = 2026) -> None:
    if not TEMPLATE.is_file():
        sys.exit(f"the detection scoring template is missing: {TEMPLATE}")
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("train", "test", "sample", "reference", "sample-reference", "scoring"):
        shutil.rmtree(out / name, ignore_errors=True)

    train_ids = [f"t{i:04d}" for i in range(N_TRAIN)]
    test_ids = [f"c{i:04d}" for i in range(N_TEST)]
    train = write_split(out / "train", train_ids, rng)
    write_json(out / "train-annotations.json", train)
    write_json(out / "reference" / "instances.json", write_split(out / "test", test_ids, rng))
    pd.DataFrame({"id": test_ids}).to_csv(out / "items.csv", index=False)

    sample_ids = sorted(rng.choice(train_ids, size=N_SAMPLE, replace=False).tolist())
    (out / "sample").mkdir()
    for item in sample_ids:
        shutil.copy(out / "train" / f"{item}.png", out / "sample" / f"{item}.png")
    sample = subset(train, {f"{item}.png" for item in sample_ids})
    write_json(out / "sample-reference" / "instances.json", sample)

    (out / "scoring").mkdir()
    shutil.copy(TEMPLATE, out / "scoring" / "score.py")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python make_data.py OUT_FOLDER")
    main(Path(sys.argv[1]))
