"""A broken submission: it forgets half of the test rows."""

import os

import pandas as pd

test = pd.read_csv(os.path.join(os.environ["JIEBANG_INPUT"], "test.csv"))
half = test.iloc[: len(test) // 2]
out = pd.DataFrame({"id": half["id"], "prediction": 0})
out.to_csv(os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv"), index=False)
print(f"wrote {len(out)} of {len(test)} rows")
