"""The inline SVG charts: valid XML, labelled for screen readers, no script."""

import datetime as dt
import xml.etree.ElementTree as ET

from web import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:
    return ET.fromstring(
        str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


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
