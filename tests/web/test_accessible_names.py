"""A button's accessible name holds its visible words, in both languages (axe's
label-content-name-mismatch, which a speech-input user meets: they say what they see).

Read from the templates and the Chinese catalog, so a translation that drops the
visible word fails here, before the browser's axe run."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
LABELLED = re.compile(
    r"""aria-label="\{\{ _\('([^']+)'[^}]*\}\}"[^>]*>\s*\{\{ _\('([^']+)'\) \}\}"""
)


def _catalog() -> dict[str, str]:
    with open(WEB / "translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if isinstance(m.id, str) and m.id}


def test_labels_hold_the_visible_words_in_english_and_chinese():
    zh = _catalog()
    pairs = [
        (path.name, label, visible)
        for path in sorted((WEB / "templates").glob("*.html"))
        for label, visible in LABELLED.findall(path.read_text("utf-8"))
    ]
    assert pairs  # the pattern still finds the labelled buttons
    wrong = [
        (name, label, visible)
        for name, label, visible in pairs
        if visible.lower() not in label.lower() or zh.get(visible, "") not in zh.get(label, "")
    ]
    assert wrong == []
