"""A classical detector, no training: find paint that is much darker than the wall (dents)
or orange-brown (rust), and box each connected patch.

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
MIN_AREA = 20  # pixels; smaller patches are noise


def masks(rgb: np.ndarray) -> dict[int, np.ndarray]:
    """Pixels that look like each kind of damage, by category id (1 dent, 2 rust)."""
    smooth = ndimage.median_filter(rgb, size=(3, 3, 1))
    red, green, blue = smooth[..., 0], smooth[..., 1], smooth[..., 2]
    # Rust is orange-brown: red well above green, green above blue. Red paint has green ≈ blue.
    rust = (red - green > 25) & (green - blue > 12) & (red - blue > 50)
    # The wall's brightness per column follows the vertical ribs; a dent is far darker.
    brightness = smooth.mean(axis=2)
    wall = np.median(brightness, axis=0, keepdims=True)
    dent = (brightness < 0.78 * wall) & ~ndimage.binary_dilation(rust, iterations=2)
    return {1: dent, 2: rust}


def detect(rgb: np.ndarray) -> list[dict]:
    found = []
    for category, mask in masks(rgb).items():
        mask = ndimage.binary_opening(mask, iterations=1)
        mask = ndimage.binary_fill_holes(mask)
        labels, _count = ndimage.label(mask)
        for number, box in enumerate(ndimage.find_objects(labels), start=1):
            area = int((labels[box] == number).sum())
            if area < MIN_AREA:
                continue
            rows, cols = box
            found.append(
                {
                    "category_id": category,
                    "bbox": [
                        cols.start,
                        rows.start,
                        cols.stop - cols.start,
                        rows.stop - rows.start,
                    ],
                    "score": round(float(1 - np.exp(-area / 60)), 4),
                }
            )
    return found


detections = []
scenes = sorted(INPUT.glob("*.png"))
for path in scenes:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    detections += [{"image": path.stem, **found} for found in detect(rgb)]
(OUTPUT / "detections.json").write_text(json.dumps(detections))
print(f"{len(detections)} detections in {len(scenes)} scenes")
