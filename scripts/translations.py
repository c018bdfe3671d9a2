"""Refresh the message catalogs: extract, update, compile.

.venv/bin/python scripts/translations.py
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BABEL = [sys.executable, "-m", "babel.messages.frontend"]
KEYWORDS = ["_l", "lazy_gettext"] + [
    f"{name}:2"
    for name in ("Invalid", "Forbidden", "NotFound", "Conflict", "TooMany", "ServiceError")
]
POT = "web/translations/messages.pot"


def main() -> None:
    keys = [arg for k in KEYWORDS for arg in ("-k", k)]
    packages = ["web", "jiebang", "challenges", "evaluator", "leaderboards", "sandboxes"]
    run = lambda *args: subprocess.run([*BABEL, *args], cwd=ROOT, check=True)  # noqa: E731
    run("extract", "-F", "babel.cfg", "--no-location", "--omit-header", *keys, "-o", POT, *packages)
    run("update", "-i", POT, "-d", "web/translations", "--no-fuzzy-matching")
    run("compile", "-d", "web/translations", "--statistics")


if __name__ == "__main__":
    main()
