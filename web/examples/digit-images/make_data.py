"""Build the digit-images example's data: scikit-learn's bundled digits as PNG files.

Usage: ``python make_data.py OUT``. Writes into OUT

- ``train/<id>.png`` and ``train-labels.csv`` (id,label): the public download;
- ``test/<id>.png``: what containers see at /input (images only, no labels);
- ``labels.csv`` (id,label): the hidden answers, read by the scorer only;
- ``items.csv`` (id): the test items the public/private split is over;
- ``sample/`` and ``sample-labels.csv``: ten training images that ``jiebang check`` runs on.

Each image is the 8×8 scan (grey levels 0–16) scaled to 0–255 and enlarged 4× to 32×32,
so it looks like a small scan rather than a feature vector. The PNG files are written by
the few lines below rather than by Pillow: the demo runs this script with the platform's
own interpreter, which need not have Pillow, and the output stays byte-identical across
versions (the tests check that the same seed gives the same bytes).
"""

from __future__ import annotations

import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

SCALE = 4  # 8×8 → 32×32
SAMPLE_SIZE = 10


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of a 2-D uint8 array."""
    height, width = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))  # filter 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_images(folder: Path, ids: pd.Series, images: np.ndarray) -> None:
    folder.mkdir(parents=True)
    for item, image in zip(ids, images, strict=True):
        (folder / f"{item}.png").write_bytes(png_bytes(image))


def main(out: Path, seed: int = 2026) -> None:
    digits = load_digits()
    # 0–16 → 0–255, then each pixel becomes a SCALE×SCALE block.
    images = (digits.images * 255 / 16).round().astype(np.uint8)
    images = images.repeat(SCALE, axis=1).repeat(SCALE, axis=2)
    rng = np.random.default_rng(seed)
    # Shuffle first: scikit-learn's digits run 0, 1, 2, … in turn, so ids in the original
    # order would give the labels away.
    shuffled = rng.permutation(len(images))
    images, targets = images[shuffled], digits.target[shuffled]
    ids = pd.Series([f"d{i:04d}" for i in range(len(images))], name="id")
    cut = int(len(images) * 0.7)
    train_rows, test_rows = np.arange(cut), np.arange(cut, len(images))
    sample_rows = np.sort(rng.choice(train_rows, size=SAMPLE_SIZE, replace=False))

    out.mkdir(parents=True, exist_ok=True)
    for name in ("train", "test", "sample"):
        shutil.rmtree(out / name, ignore_errors=True)
    for name, rows, labels_file in (
        ("train", train_rows, "train-labels.csv"),
        ("test", test_rows, "labels.csv"),
        ("sample", sample_rows, "sample-labels.csv"),
    ):
        write_images(out / name, ids.iloc[rows], images[rows])
        labels = pd.DataFrame({"id": ids.iloc[rows], "label": targets[rows]})
        labels.to_csv(out / labels_file, index=False)
    ids.iloc[test_rows].to_frame().to_csv(out / "items.csv", index=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python make_data.py OUT_FOLDER")
    main(Path(sys.argv[1]))
