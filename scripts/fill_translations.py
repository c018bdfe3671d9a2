"""Fill msgstr entries of the Chinese catalog from a Python dict file, then compile.

.venv/bin/python scripts/fill_translations.py NEW.py   # NEW.py defines ZH = {msgid: msgstr}
"""

import runpy
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "web/translations/zh/LC_MESSAGES/messages.po"


def main(source: str) -> None:
    table = runpy.run_path(source)["ZH"]
    with open(PO, "rb") as f:
        catalog = read_po(f, locale="zh")
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:  # keyed by the singular; Chinese has one form
            singular = message.id[0]
            if singular in table:
                message.string = (table[singular],)
        elif message.id in table:
            message.string = table[message.id]
    with open(PO, "wb") as f:
        write_po(f, catalog, width=100, omit_header=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(PO.parents[2])],
        check=True,
    )
    if missing:
        sys.exit(f"untranslated: {missing}")


if __name__ == "__main__":
    main(sys.argv[1])
