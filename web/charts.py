"""Charts as inline SVG, drawn on the server: no script, no external library or CDN.

Each chart scales to its container (``viewBox``), names itself for screen readers
(``<title>`` and ``<desc>``), and is styled by classes from ``style.css``.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 54, 34


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
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _ticks(low: float, high: float, *, integers: bool = False) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) inside [low, high]."""
    raw = (high - low) / 4
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integers:
        step = max(1, round(step))
    first = math.ceil(low / step) * step
    count = int((high - first) / step + 1e-9) + 1
    return [first + i * step for i in range(count)]


def _frame(title: str, desc: str, body: list[str], legend: list[tuple[str, str]]) -> Markup:
    ident = f"chart-{uuid.uuid4().hex[:8]}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
        f'<text class="heading" x="8" y="18" aria-hidden="true">{escape(title)}</text>',
    ]
    x = LEFT
    for label, css in legend:
        parts.append(f'<line class="{css}" x1="{x}" y1="36" x2="{x + 18}" y2="36"/>')
        parts.append(f'<text class="legend" x="{x + 24}" y="40">{escape(label)}</text>')
        wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in label)
        x += 40 + 7 * wide
    parts += body
    parts.append("</svg>")
    return Markup("".join(parts))


def _y_axis(
    low: float, high: float, scale: Callable[[float], float], *, integers: bool = False
) -> list[str]:
    out = []
    for value in _ticks(low, high, integers=integers):
        y = scale(value)
        out.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">')
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
        return _frame(title, desc, [_empty(empty)], [])
    low, high = _span(values + ([threshold] if threshold is not None else []))
    start, end = min(times), max(times)
    width = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(t: dt.datetime) -> float:
        if start == end:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (t - start).total_seconds() / width

    def sy(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    body = _y_axis(low, high, sy)
    for t in sorted({start, end, start + (end - start) / 2}):
        body.append(
            f'<text class="tick" x="{sx(t):.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
            f"{escape(time_label(t))}</text>"
        )
    if threshold is not None:
        y = sy(threshold)
        body.append(
            f'<line class="target" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        body.append(f'<text class="tick" x="{WIDTH - RIGHT}" y="{y - 4:.1f}" text-anchor="end">')
        body.append(f"{escape(threshold_label)}</text>")
    for s in series:
        body += _line(s, sx, sy, right=WIDTH - RIGHT)
    return _frame(title, desc, body, [(s.label, s.css) for s in series])


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


def _empty(text: str) -> str:
    return (
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{escape(text)}</text>"
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
        return _frame(title, desc, [_empty(empty)], [])
    top = max(v for _, v in bars)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sy(v: float) -> float:
        return TOP + plot_h * (1 - v / (top * 1.1))

    body = _y_axis(0, top * 1.1, sy, integers=all(float(v).is_integer() for _, v in bars))
    slot = plot_w / len(bars)
    every = max(1, round(len(bars) / 8))
    for i, (label, value) in enumerate(bars):
        x, y = LEFT + i * slot + slot * 0.12, sy(value)
        body.append(
            f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" '
            f'height="{TOP + plot_h - y:.1f}"><title>{escape(label)}: {_fmt(value)}</title></rect>'
        )
        if len(bars) <= 16 and value:
            body.append(
                f'<text class="value" x="{x + slot * 0.38:.1f}" y="{y - 4:.1f}" '
                f'text-anchor="middle">{_fmt(value)}</text>'
            )
        if i % every == 0:
            body.append(
                f'<text class="tick" x="{LEFT + (i + 0.5) * slot:.1f}" y="{HEIGHT - 12}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    if marker is not None:
        x = LEFT + marker[0] * slot
        body.append(
            f'<line class="target" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}"/>'
        )
        anchor, dx = ("end", -4) if x > WIDTH - 80 else ("start", 4)
        body.append(
            f'<text class="tick" x="{x + dx:.1f}" y="{TOP + 10}" text-anchor="{anchor}">'
            f"{escape(marker[1])}</text>"
        )
    return _frame(title, desc, body, [])


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
    bars = [(f"{_fmt(low + i * step)}", float(c)) for i, c in enumerate(counts)]
    return bars, low, high
