"""The consortia example's data: the digits example's (train.csv, test.csv, labels.csv),
made by its own script into the folder given as the first argument."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

DIGITS = Path(__file__).resolve().parents[1] / "digits" / "make_data.py"


def main(out: Path) -> None:
    runpy.run_path(str(DIGITS))["main"](out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
