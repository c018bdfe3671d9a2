"""Build the example challenge's data from scikit-learn's bundled digits data set.

Writes train.csv (features and label: the public download), test.csv (features
only: what containers see at /input/test.csv) and labels.csv (id,label: read by
the scorer only) into the folder given as the first argument.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits


def main(out: Path, seed: int = 2026) -> None:
    digits = load_digits()
    features = pd.DataFrame(
        digits.data.astype(int), columns=[f"px{i}" for i in range(digits.data.shape[1])]
    )
    ids = pd.Series([f"d{i:04d}" for i in range(len(features))], name="id")
    order = np.random.default_rng(seed).permutation(len(features))
    cut = int(len(order) * 0.7)
    train_rows, test_rows = order[:cut], order[cut:]
    out.mkdir(parents=True, exist_ok=True)
    train = pd.concat([ids, features], axis=1).iloc[train_rows]
    train.assign(label=digits.target[train_rows]).to_csv(out / "train.csv", index=False)
    pd.concat([ids, features], axis=1).iloc[test_rows].to_csv(out / "test.csv", index=False)
    labels = pd.DataFrame({"id": ids.iloc[test_rows], "label": digits.target[test_rows]})
    labels.to_csv(out / "labels.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
