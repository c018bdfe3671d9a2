"""A weak but valid model: each image shrunk to 2×2 average brightness, then the class
whose mean 2×2 picture is nearest. Four numbers cannot tell ten digits apart well."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

HERE = Path(__file__).parent
INPUT = Path(os.environ.get("JIEBANG_INPUT", "/input"))
OUTPUT = Path(os.environ.get("JIEBANG_OUTPUT", "/output"))


def features(path: Path) -> np.ndarray:
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    half_h, half_w = pixels.shape[0] // 2, pixels.shape[1] // 2
    return pixels.reshape(2, half_h, 2, half_w).mean(axis=(1, 3)).ravel()


train = pd.read_csv(HERE / "train-labels.csv", dtype={"id": str})
x_train = np.stack([features(HERE / "train" / f"{item}.png") for item in train["id"]])
classes = np.unique(train["label"])
means = np.stack([x_train[train["label"].to_numpy() == c].mean(axis=0) for c in classes])

test_files = sorted(INPUT.glob("*.png"))
x_test = np.stack([features(path) for path in test_files])
distances = ((x_test[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
out = pd.DataFrame(
    {"id": [path.stem for path in test_files], "prediction": classes[distances.argmin(axis=1)]}
)
out.to_csv(OUTPUT / "predictions.csv", index=False)
print(f"predicted {len(out)} images from {len(classes)} class means")
