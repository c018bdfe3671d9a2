"""A weak but valid detector: every patch whose colour differs from the wall becomes one
loose box, always called a dent. It never tells rust from dents and its boxes are generous,
so it finds the damage but scores well below the targets.

Reads every scene in /input and writes /output/detections.json.
"""

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

INPUT = Path(os.environ.get("JIEBANG_INPUT", "/input"))
OUTPUT = Path(os.environ.get("JIEBANG_OUTPUT", "/output"))
MARGIN = 2  # pixels added around each patch, "to be safe"


def detect(rgb: np.ndarray) -> list[dict]:
    smooth = ndimage.median_filter(rgb, size=(3, 3, 1))
    wall = np.median(smooth, axis=0, keepdims=True)
    odd = np.linalg.norm(smooth - wall, axis=2) > 40
    labels, _count = ndimage.label(ndimage.binary_opening(odd))
    found = []
    for rows, cols in ndimage.find_objects(labels):
        x, y = max(cols.start - MARGIN, 0), max(rows.start - MARGIN, 0)
        w = min(cols.stop + MARGIN, rgb.shape[1]) - x
        h = min(rows.stop + MARGIN, rgb.shape[0]) - y
        found.append({"category_id": 1, "bbox": [x, y, w, h], "score": 0.5})
    return found


detections = []
scenes = sorted(INPUT.glob("*.png"))
for path in scenes:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    detections += [{"image": path.stem, **found} for found in detect(rgb)]
(OUTPUT / "detections.json").write_text(json.dumps(detections))
print(f"{len(detections)} detections in {len(scenes)} scenes")
