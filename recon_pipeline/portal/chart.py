"""Line charts as inline SVG, drawn on the server.

No JavaScript and no CDN: the portal's Content-Security-Policy allows neither, and a chart
of a few dozen pay cycles is a handful of points. Values may be Decimals; they are only
turned into pixel coordinates here.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 44, 16, 34
COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#555555")


def _nice_step(span: Decimal) -> Decimal:
    """A round gridline step (1, 2 or 5 times a power of ten) giving about five intervals."""
    raw = span / 5
    power = Decimal(10) ** math.floor(math.log10(raw))
    return next(m * power for m in (Decimal(1), Decimal(2), Decimal(5), Decimal(10))
                if m * power >= raw)


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[Decimal | int | None]],
               fmt: Callable[[Decimal], str] = lambda v: f"{v:,.2f}", top: Decimal | None = None) -> Markup:
    """An SVG line chart: one line per series, the x axis the labels (pay cycles), the y axis
    from 0 (or the lowest value, when negative) to the highest, with a few gridlines."""
    values = [Decimal(v) for vs in series.values() for v in vs if v is not None]
    low = min([Decimal(0), *values])
    high = max([Decimal(0), *values, *([Decimal(top)] if top is not None else [])])
    if high == low:
        high = low + 1
    step = _nice_step(high - low)
    low, high = (low / step).to_integral_value(ROUND_FLOOR) * step, (high / step).to_integral_value(ROUND_CEILING) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(labels)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: Decimal) -> float:
        return TOP + plot_h * float((high - Decimal(v)) / (high - low))

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for k in range(int((high - low) / step) + 1):
        v = low + step * k
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#555">{escape(fmt(v))}</text>')
    step = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            anchor = "end" if i == n - 1 and n > 1 else "middle"
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}" font-size="11" '
                         f'fill="#555">{escape(label)}</text>')
    for s, (name, vs) in enumerate(series.items()):
        colour = COLOURS[s % len(COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (px, py), v in zip(points, [v for v in vs if v is not None]):
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)}: {escape(fmt(Decimal(v)))}</title></circle>')
        if len(series) > 1:
            parts.append(f'<rect x="{LEFT + 10 + 110 * s}" y="{TOP}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{LEFT + 24 + 110 * s}" y="{TOP + 9}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
