"""One glossary (docs/glossary.md): the Chinese catalog never uses a rejected variant
(issue 15: "judge" was both 评审专家 and 评委)."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _rejected() -> dict[str, str]:
    """Each rejected variant and the term to use instead, read from the glossary's table."""
    rejected = {}
    for line in (ROOT / "docs" / "glossary.md").read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2] and not set(cells[2]) <= {"-"} and cells[0] != "English":
            for variant in re.split(r",\s*", cells[2]):
                rejected[variant] = cells[1]
    return rejected


def _translations():
    with open(CATALOG, "rb") as f:
        for message in read_po(f, locale="zh_Hans_CN"):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                if message.id and text:
                    yield message.id, text


def test_the_glossary_rejects_what_the_issue_found():
    rejected = _rejected()
    assert rejected["评委"].startswith("评审专家") and "出题方" in rejected and "目标" in rejected


def test_the_chinese_catalog_uses_no_rejected_variant():
    rejected = _rejected()
    found = [
        f"{msgid!r} -> {text!r}: {variant!r}, use {rejected[variant]!r}"
        for msgid, text in _translations()
        for variant in rejected
        if variant in text
    ]
    assert not found, "\n".join(found)


def test_the_glossary_terms_themselves():
    words = dict(_translations())
    assert words["judge"] == "评审专家"
    assert words["sponsor"] == "发榜方"
    assert words["Team"] == "团队"
