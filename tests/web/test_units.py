"""Durations, memory and sizes: one way in both languages (issue 15: "120 s" beside
"60 秒" on one page)."""

import re

import pytest

from web.units import duration, filesize, megabytes

MEMORY = ["1,024 MB", "512.5 MB", "1.5 KB"]  # the same in both languages


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["45 s", "2 min", "120 s", "2 h", "1.25 s", *MEMORY]),
        ("zh", ["45 秒", "2 分钟", "120 秒", "2 小时", "1.25 秒", *MEMORY]),
    ],
)
def test_units_in_both_languages(app, lang, expected):
    with app.test_request_context(headers={"Accept-Language": lang}):
        got = [
            duration(45),
            duration(120),
            duration(120, exact=True),
            duration(7200),
            duration(1.25, 2, exact=True),
            megabytes(1024),
            megabytes(512.5, 1),
            filesize(1536),
        ]
    assert got == expected
    with app.test_request_context():
        assert filesize(1024**2) == "1 MB" and filesize(3 * 1024**3) == "3 GB"
        assert filesize(100) == "100 B" and duration(None) == "—" == megabytes(None)


HAND_WRITTEN = re.compile(r"(\}\}|\d) ?(s|MB|KB|秒)\s*<")


def test_no_template_writes_a_unit_by_hand():
    """Units come from the filters, never "}} s<" or "}} MB<" after a number."""
    from pathlib import Path

    import web

    folder = Path(web.__file__).parent / "templates"
    found = [
        f"{path.name}: {m.group(0)}"
        for path in sorted(folder.glob("*.html"))
        for m in HAND_WRITTEN.finditer(path.read_text("utf-8"))
    ]
    assert not found


def test_the_rules_page_shows_units_in_chinese(client, published):
    zh = client.get("/challenges/parity/rules", headers={"Accept-Language": "zh-CN"})
    text = zh.get_data(as_text=True)
    # The bundle's resources: 512 MB, a 30-second limit.
    assert "512 MB" in text and "30 秒" in text and "30 s<" not in text
