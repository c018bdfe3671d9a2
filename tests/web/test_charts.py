"""The inline SVG charts: valid XML, labelled for screen readers, no script."""

import datetime as dt
import xml.etree.ElementTree as ET

from web import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup, which: int = 0) -> ET.Element:
    """One of the chart's drawings: 0 for a desktop, 1 for a phone."""
    drawings = [part + "</svg>" for part in str(markup).split("</svg>") if part]
    assert len(drawings) == 2, "a chart is drawn for a desktop and for a phone"
    return ET.fromstring(
        drawings[which].replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def _width(text: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def test_score_chart_has_lines_points_and_target():
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    team = charts.Series("Ours <b>", [(t0, 0.5), (t0 + dt.timedelta(days=1), 0.7)], "team")
    top = charts.Series("Top", [(t0, 0.6), (t0 + dt.timedelta(days=2), 0.9)], "top", step=True)
    svg = _parse(
        charts.score_chart(
            [top, team], title="Progress", desc="Two lines", empty="none", threshold=0.8
        )
    )
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Progress"
    assert len(svg.findall(f"{SVG}circle")) == 2
    assert svg.find(f"{SVG}path[@class='top']").get("d").count("H") == 2
    assert svg.find(f"{SVG}line[@class='target']") is not None
    assert "Ours <b>" in [t.text for t in svg.iter(f"{SVG}text")]  # escaped, not markup
    assert "script" not in str(ET.tostring(svg))


def test_empty_charts_say_so():
    svg = _parse(charts.score_chart([], title="T", desc="D", empty="No scores yet."))
    assert "No scores yet." in [t.text for t in svg.iter(f"{SVG}text")]
    bars = _parse(charts.bar_chart([("a", 0)], title="T", desc="D", empty="Nothing"))
    assert "Nothing" in [t.text for t in bars.iter(f"{SVG}text")]


def test_bars_and_histogram():
    bars, low, high = charts.histogram([0.1, 0.15, 0.9, 0.9, 0.5], bins=4)
    assert [v for _, v in bars] == [2.0, 0.0, 1.0, 2.0] and (low, high) == (0.1, 0.9)
    svg = _parse(charts.bar_chart(bars, title="H", desc="D", empty="", marker=(2.0, "target")))
    assert len(svg.findall(f"{SVG}rect")) == 4
    y_ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert y_ticks == ["0", "1", "2"]  # counts get whole-number ticks
    single, low, high = charts.histogram([0.3, 0.3])
    assert sum(v for _, v in single) == 2 and low < 0.3 < high


def test_the_phone_drawing_is_narrow_and_keeps_its_text_inside():
    """Issue 16: on a 360-px phone the desktop drawing (560 units) shrinks its 12-unit
    text to 7 px; the phone's (300 units) keeps it at 12 px, wrapping what would not fit."""
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    team = charts.Series(
        "你的团队 Your team", [(t0, 0.5), (t0 + dt.timedelta(days=1), 0.7)], "team"
    )
    top = charts.Series("榜首 Top of the board", [(t0, 0.6)], "top", step=True)
    title = "Your team's public scores against the top of the board over time"
    markup = charts.score_chart([top, team], title=title, desc="D", empty="-", threshold=0.8)
    wide, narrow = _parse(markup, 0), _parse(markup, 1)
    assert "wide" in wide.get("class") and "narrow" in narrow.get("class")
    assert narrow.get("viewBox") == "0 0 300 300"
    assert len(narrow.findall(f"{SVG}circle")) == 2  # the same data
    heading = [t for t in narrow.iter(f"{SVG}text") if t.get("class") == "heading"]
    assert len(heading) > 1 and " ".join(t.text for t in heading) == title
    for text in narrow.iter(f"{SVG}text"):
        x, size = float(text.get("x")), 14 if text.get("class") == "heading" else 12
        span = _width(text.text or "", size)
        left = {"end": x - span, "middle": x - span / 2}.get(text.get("text-anchor"), x)
        assert left >= 0 and left + span <= 300, f"{text.text!r} is cut off"
    bars = [(f"0.{i}", float(i)) for i in range(1, 11)]
    narrow_bars = _parse(charts.bar_chart(bars, title="H", desc="D", empty=""), 1)
    labels = [t for t in narrow_bars.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert len([t for t in labels if t.get("text-anchor") == "middle"]) <= 5
