"""A broken submission: it forgets half of the test images."""

import os
from pathlib import Path

import pandas as pd

INPUT = Path(os.environ.get("JIEBANG_INPUT", "/input"))
OUTPUT = Path(os.environ.get("JIEBANG_OUTPUT", "/output"))

test_files = sorted(INPUT.glob("*.png"))
half = test_files[: len(test_files) // 2]
out = pd.DataFrame({"id": [path.stem for path in half], "prediction": 0})
out.to_csv(OUTPUT / "predictions.csv", index=False)
print(f"wrote {len(out)} of {len(test_files)} predictions")
