"""Charts drawn on the server as inline SVG (no JavaScript, nothing from the internet).

Every label is escaped; colours are presentation attributes (the console's CSP forbids inline
styles). Each chart has a ``<title>`` and an ``aria-label``, and the page shows the same numbers
in a table for screen readers and for people who would rather read.
"""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

PALETTE = (
    "#1f6feb",
    "#d97706",
    "#16a34a",
    "#9333ea",
    "#dc2626",
    "#0891b2",
    "#4b5563",
    "#c026d3",
    "#65a30d",
    "#ea580c",
    "#0f766e",
    "#7c3aed",
)
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 48


def _nice_max(value: float) -> float:
    """A top for the axis whose quarters are round numbers (counts get whole-number ticks)."""
    if value <= 0:
        return 4.0
    for step in (4, 8, 12, 20, 40, 60, 100, 200, 400, 600, 1000, 2000, 4000, 10000, 20000, 40000):
        if value <= step:
            return float(step)
    return float(value)


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    names: dict[str, str] | None = None,
    percent: bool = False,
) -> Markup:
    """Bars per label, stacked by series (a single series is a plain bar chart)."""
    names = names or {}
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = 1.0 if percent else _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar = max(4.0, slot * 0.7)
    height = HEIGHT + 24 * ((len(series) + 3) // 4)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        text = (
            f"{value * 100:.0f}%"
            if percent
            else (f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}")
        )
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="18" fill="#333">{text}</text>'
        )
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar) / 2
        y = TOP + plot_h
        for n, (key, values) in enumerate(series.items()):
            value = float(values[i] or 0)
            if value <= 0:
                continue
            h = plot_h * min(value / top, 1.0)
            y -= h
            shown = f"{value * 100:.0f}%" if percent else f"{value:g}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[n % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(names.get(key, key))}: {shown}</title></rect>"
            )
        if len(labels) <= 8 or (len(labels) - 1 - i) % (2 if len(labels) <= 16 else 4) == 0:
            parts.append(
                f'<text x="{LEFT + slot * i + slot / 2:.1f}" y="{TOP + plot_h + 20}" text-anchor="middle" '
                f'font-size="17" fill="#333">{escape(label)}</text>'
            )
    if len(series) > 1:
        for n, key in enumerate(series):
            lx = LEFT + (n % 4) * 165
            ly = HEIGHT + 24 * (n // 4) - 4
            parts.append(
                f'<rect x="{lx}" y="{ly - 12}" width="14" height="14" fill="{PALETTE[n % len(PALETTE)]}"/>'
            )
            parts.append(
                f'<text x="{lx + 20}" y="{ly}" font-size="18" fill="#222">'
                f"{escape(names.get(key, key))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_bars(title: str, labels: Sequence[str], values: Sequence[float | None]) -> Markup:
    """Share per day (0-1); days without data are left empty."""
    return stacked_bars(title, labels, {title: [v or 0.0 for v in values]}, percent=True)
