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


# Issue 10: repeated and clipped x-axis labels, the team's point above the top gridline.


def _x_ticks(svg: ET.Element, height: int = 300) -> list[ET.Element]:
    return [
        t
        for t in svg.iter(f"{SVG}text")
        if t.get("class") == "tick" and float(t.get("y")) == height - 12
    ]


def _inside(svg: ET.Element, width: int) -> None:
    for text in _x_ticks(svg):
        x, span = float(text.get("x")), _width(text.text or "", 12)
        left = {"end": x - span, "middle": x - span / 2}.get(text.get("text-anchor"), x)
        assert left >= 0 and left + span <= width, f"{text.text!r} is cut off"


def test_time_labels_are_never_repeated_nor_clipped():
    """Three submissions within one day: the date label was drawn three times."""
    t0 = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    team = charts.Series("Team", [(t0, 0.5), (t0 + dt.timedelta(hours=2), 0.7)], "team")
    markup = charts.score_chart([team], title="T", desc="D", empty="-")
    for which, width in ((0, 560), (1, 300)):
        svg = _parse(markup, which)
        labels = [t.text for t in _x_ticks(svg)]
        assert labels and len(labels) == len(set(labels)), labels
        _inside(svg, width)


def test_bar_labels_are_unique_and_inside_at_every_width():
    bars, _low, _high = charts.histogram([0.9001, 0.9002, 0.9005, 0.9009], bins=10)
    assert len({label for label, _ in bars}) == 10  # not ten times "0.9"
    days = [(f"11-{d:02d}", float(d % 3)) for d in range(1, 31)]
    long = [(f"{1000 + i * 0.5:.1f}", 1.0) for i in range(7)]
    for data in (bars, days, long):
        markup = charts.bar_chart(data, title="H", desc="D", empty="")
        for which, width in ((0, 560), (1, 300)):
            svg = _parse(markup, which)
            labels = [t.text for t in _x_ticks(svg)]
            assert labels and len(labels) == len(set(labels)), labels
            _inside(svg, width)


def _grid_top(svg: ET.Element) -> float:
    return min(
        float(line.get("y1")) for line in svg.iter(f"{SVG}line") if line.get("class") == "grid"
    )


def _grid_bottom(svg: ET.Element) -> float:
    return max(
        float(line.get("y1")) for line in svg.iter(f"{SVG}line") if line.get("class") == "grid"
    )


def test_every_point_lies_between_the_top_and_bottom_gridlines():
    """0.97 was drawn above the top gridline (0.95): the range now ends on a round tick."""
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for values in ([0.81, 0.97], [0.5, 0.52, 0.58], [12.0, 130.0], [0.3]):
        points = [(t0 + dt.timedelta(days=i), v) for i, v in enumerate(values)]
        team = charts.Series("Team", points, "team")
        top = charts.Series("Top", points[:1], "top", step=True)
        for which in (0, 1):
            svg = _parse(charts.score_chart([top, team], title="T", desc="D", empty="-"), which)
            ys = [float(c.get("cy")) for c in svg.iter(f"{SVG}circle")]
            assert len(ys) == len(values)
            assert all(_grid_top(svg) - 0.05 <= y <= _grid_bottom(svg) + 0.05 for y in ys), (
                values,
                ys,
                _grid_top(svg),
            )
