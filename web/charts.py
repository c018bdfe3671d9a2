"""Charts as inline SVG, drawn on the server: no script, no external library or CDN.

Each chart scales to its container (``viewBox``), names itself for screen readers
(``<title>`` and ``<desc>``), and is styled by classes from ``style.css``. It is drawn
twice, for a desktop's width and a phone's (``style.css`` shows one): scaled down to a
phone, the desktop drawing's 12-unit text would be 7 px.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Layout:
    """A drawing's size in SVG units; ``css`` names it for the stylesheet."""

    css: str
    width: int
    height: int
    left: int
    right: int
    bottom: int
    labels: int  # at most this many labels along the x axis


# A phone's chart box is about 310-350 px wide: 300 units keep 12-unit text at 12 px or more.
WIDE = Layout("wide", 560, 300, 52, 14, 34, 8)
NARROW = Layout("narrow", 300, 300, 44, 10, 34, 4)
LINE = 18  # the height of a line of the heading or the legend


def _text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn: a Chinese character is square, Latin half that."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.56 for ch in text)


def _wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width``, broken at spaces, or anywhere in Chinese."""
    lines, line = [], ""
    tokens = text.split(" ") if " " in text else list(text)
    glue = " " if " " in text else ""
    for token in tokens:
        candidate = f"{line}{glue}{token}" if line else token
        if line and _text_width(candidate, size) > width:
            lines.append(line)
            line = token
        else:
            line = candidate
    return [*lines, line] if line else lines


@dataclass(frozen=True)
class Series:
    """A line of (time, value) points; ``step`` draws a best-so-far staircase."""

    label: str
    points: Sequence[tuple[dt.datetime, float]]
    css: str
    step: bool = False


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _span(values: Sequence[float]) -> tuple[float, float]:
    """A range holding every value, widened to round ticks at both ends: the top gridline
    is at or above the highest point, the bottom one at or below the lowest (issue 10: a
    team's point was drawn above the top gridline)."""
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    pad = (high - low) * 0.04
    low, high = low - pad, high + pad
    step = _step(low, high)
    return math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step


def _step(low: float, high: float, *, integers: bool = False) -> float:
    """A round step (1, 2 or 5 times a power of ten) for about four ticks over [low, high]."""
    raw = (high - low) / 4
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return max(1, round(step)) if integers else step


def _ticks(low: float, high: float, *, integers: bool = False) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) inside [low, high]."""
    step = _step(low, high, integers=integers)
    first = math.ceil(low / step - 1e-9) * step
    count = int((high - first) / step + 1e-9) + 1
    return [first + i * step for i in range(count)]


def _x_labels(layout: Layout, ticks: Sequence[tuple[float, str]]) -> list[str]:
    """Labels along the x axis at (x, text): a text already shown is not repeated, each is
    kept inside the drawing (moved in from the edges), and one that would overlap the last
    one drawn is left out (issue 10: repeated and clipped labels)."""
    out, seen, last_end = [], set(), -math.inf
    for x, text in ticks:
        if text in seen:
            continue
        span = _text_width(text, 12) * 1.08  # err on the wide side: a font's digits vary
        left = min(max(x - span / 2, 2), layout.width - 2 - span)
        if left < last_end + 6:
            continue
        seen.add(text)
        last_end = left + span
        out.append(
            f'<text class="tick" x="{left:.1f}" y="{layout.height - 12}" '
            f'text-anchor="start">{escape(text)}</text>'
        )
    return out


Draw = Callable[[Layout, int], list[str]]


def _both(title: str, desc: str, draw: Draw, legend: list[tuple[str, str]]) -> Markup:
    """The chart for a desktop, then for a phone; ``draw(layout, top)`` draws the plot
    below ``top``, where the heading and the legend end."""
    return Markup(
        _frame(WIDE, title, desc, draw, legend) + _frame(NARROW, title, desc, draw, legend)
    )


def _frame(layout: Layout, title: str, desc: str, draw: Draw, legend: list[tuple[str, str]]) -> str:
    ident = f"chart-{uuid.uuid4().hex[:8]}"
    head = [
        f'<text class="heading" x="8" y="{LINE * (i + 1)}" aria-hidden="true">{escape(line)}</text>'
        for i, line in enumerate(_wrap(title, 14, layout.width - 16))
    ]
    y = LINE * len(head) + 22  # the legend's first baseline
    x = layout.left
    items = []
    for label, css in legend:
        span = 24 + _text_width(label, 12)
        if x > layout.left and x + span > layout.width - layout.right:
            x, y = layout.left, y + LINE
        items.append(
            f'<line class="{css}" x1="{x:.0f}" y1="{y - 4}" x2="{x + 18:.0f}" y2="{y - 4}"/>'
        )
        items.append(f'<text class="legend" x="{x + 24:.0f}" y="{y}">{escape(label)}</text>')
        x += span + 16
    top = y + 14
    parts = [
        f'<svg class="chart {layout.css}" viewBox="0 0 {layout.width} {layout.height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
        *head,
        *items,
        *draw(layout, top),
        "</svg>",
    ]
    return "".join(parts)


def _y_axis(
    layout: Layout,
    low: float,
    high: float,
    scale: Callable[[float], float],
    *,
    integers: bool = False,
) -> list[str]:
    out = []
    left, right = layout.left, layout.width - layout.right
    for value in _ticks(low, high, integers=integers):
        y = scale(value)
        out.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">')
        out.append(f"{_fmt(value)}</text>")
    return out


def score_chart(
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    empty: str,
    threshold: float | None = None,
    threshold_label: str = "",
    time_label: Callable[[dt.datetime], str] = lambda t: t.strftime("%m-%d"),
) -> Markup:
    """Scores over time: each series a line with dots, or a staircase; a dashed target."""
    times = [t for s in series for t, _ in s.points]
    values = [v for s in series for _, v in s.points]
    if not values:
        return _both(title, desc, lambda layout, top: [_empty(layout, empty)], [])
    low, high = _span(values + ([threshold] if threshold is not None else []))
    start, end = min(times), max(times)
    width = max((end - start).total_seconds(), 1.0)

    def draw(layout: Layout, top: int) -> list[str]:
        right = layout.width - layout.right
        plot_w, plot_h = right - layout.left, layout.height - top - layout.bottom

        def sx(t: dt.datetime) -> float:
            if start == end:
                return layout.left + plot_w / 2
            return layout.left + plot_w * (t - start).total_seconds() / width

        def sy(v: float) -> float:
            return top + plot_h * (1 - (v - low) / (high - low))

        body = _y_axis(layout, low, high, sy)
        count = max(2, min(layout.labels, 3))
        moments = sorted({start + (end - start) * i / (count - 1) for i in range(count)})
        body += _x_labels(layout, [(sx(t), time_label(t)) for t in moments])
        if threshold is not None:
            y = sy(threshold)
            body.append(
                f'<line class="target" x1="{layout.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>'
            )
            body.append(f'<text class="tick" x="{right}" y="{y - 4:.1f}" text-anchor="end">')
            body.append(f"{escape(threshold_label)}</text>")
        for s in series:
            body += _line(s, sx, sy, right=right)
        return body

    return _both(title, desc, draw, [(s.label, s.css) for s in series])


def _line(s: Series, sx, sy, *, right: float) -> list[str]:
    if not s.points:
        return []
    pts = sorted(s.points)
    if s.step:
        d = f"M{sx(pts[0][0]):.1f},{sy(pts[0][1]):.1f}"
        for t, v in pts[1:]:
            d += f" H{sx(t):.1f} V{sy(v):.1f}"
        d += f" H{right:.1f}"
        return [f'<path class="{s.css}" d="{d}"/>']
    d = " ".join(f"{'M' if i == 0 else 'L'}{sx(t):.1f},{sy(v):.1f}" for i, (t, v) in enumerate(pts))
    out = [f'<path class="{s.css}" d="{d}"/>']
    for t, v in pts:
        out.append(f'<circle class="{s.css}" cx="{sx(t):.1f}" cy="{sy(v):.1f}" r="3.5">')
        out.append(f"<title>{escape(_fmt(v))}</title></circle>")
    return out


def _empty(layout: Layout, text: str) -> str:
    return (
        f'<text class="empty" x="{layout.width / 2}" y="{layout.height / 2}" '
        f'text-anchor="middle">{escape(text)}</text>'
    )


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    desc: str,
    empty: str,
    css: str = "bar",
    marker: tuple[float, str] | None = None,
) -> Markup:
    """Labelled bars from zero; ``marker`` is (position in bar units, label), e.g. a
    target within a histogram's range."""
    if not bars or not any(v for _, v in bars):
        return _both(title, desc, lambda layout, top: [_empty(layout, empty)], [])
    peak = max(v for _, v in bars)
    integers = all(float(v).is_integer() for _, v in bars)

    def draw(layout: Layout, top: int) -> list[str]:
        right = layout.width - layout.right
        plot_w, plot_h = right - layout.left, layout.height - top - layout.bottom

        def sy(v: float) -> float:
            return top + plot_h * (1 - v / (peak * 1.1))

        body = _y_axis(layout, 0, peak * 1.1, sy, integers=integers)
        slot = plot_w / len(bars)
        every = max(1, round(len(bars) / layout.labels))
        for i, (label, value) in enumerate(bars):
            x, y = layout.left + i * slot + slot * 0.12, sy(value)
            body.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" '
                f'height="{top + plot_h - y:.1f}"><title>{escape(label)}: {_fmt(value)}</title>'
                "</rect>"
            )
            # A value over its bar where the bars are wide enough for it.
            if len(bars) <= 2 * layout.labels and value:
                body.append(
                    f'<text class="value" x="{x + slot * 0.38:.1f}" y="{y - 4:.1f}" '
                    f'text-anchor="middle">{_fmt(value)}</text>'
                )
        ticks = [
            (layout.left + (i + 0.5) * slot, label)
            for i, (label, _value) in enumerate(bars)
            if i % every == 0
        ]
        body += _x_labels(layout, ticks)
        if marker is not None:
            x = layout.left + marker[0] * slot
            body.append(
                f'<line class="target" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}"/>'
            )
            anchor, dx = ("end", -4) if x > layout.width - 80 else ("start", 4)
            body.append(
                f'<text class="tick" x="{x + dx:.1f}" y="{top + 10}" text-anchor="{anchor}">'
                f"{escape(marker[1])}</text>"
            )
        return body

    return _both(title, desc, draw, [])


def histogram(
    values: Sequence[float], *, bins: int = 10
) -> tuple[list[tuple[str, float]], float, float]:
    """Counts of ``values`` in ``bins`` equal ranges; returns (bars, low, high)."""
    low, high = min(values), max(values)
    if high - low < 1e-12:
        low, high = low - 0.5 * max(abs(low), 1e-3), high + 0.5 * max(abs(high), 1e-3)
    step = (high - low) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / step), bins - 1)] += 1
    edges = [low + i * step for i in range(bins)]
    # Enough digits that no two bins share a label (0.9001 to 0.9009 are not all "0.9").
    digits = next((d for d in range(3, 10) if len({f"{e:.{d}g}" for e in edges}) == bins), 10)
    labels = [_fmt(e) if digits == 3 else f"{e:.{digits}g}" for e in edges]
    bars = [(label, float(c)) for label, c in zip(labels, counts, strict=True)]
    return bars, low, high
