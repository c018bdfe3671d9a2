"""A broken submission: it writes its detections with Python's str() instead of JSON
(single quotes), so the scoring program cannot read them and says so."""

import os
from pathlib import Path

INPUT = Path(os.environ.get("JIEBANG_INPUT", "/input"))
OUTPUT = Path(os.environ.get("JIEBANG_OUTPUT", "/output"))

detections = [
    {"image": path.stem, "category_id": 1, "bbox": [0, 0, 16, 16], "score": 0.5}
    for path in sorted(INPUT.glob("*.png"))
]
(OUTPUT / "detections.json").write_text(str(detections))
print(f"wrote {len(detections)} detections (not as JSON)")
