"""Small SVG bar charts for the Markdown stats report: no library, plain SVG 1.1 that any
browser, GitHub and GitLab render. Labels are XML-escaped (incident data is outside text)."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 40, 60


def _nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= value))


def bar_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    unit: str = "",
) -> str:
    """Grouped bars: one group per label, one bar per series (e.g. incidents and drills)."""
    colours = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a"]
    values = [v for vs in series.values() for v in vs if v is not None]
    top = _nice_max(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):  # gridlines and y labels
        v = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(v))}{escape(unit)}</text>"
        )
    for gi, label in enumerate(labels):
        x0 = LEFT + slot * gi + slot * 0.1
        for si, (name, vs) in enumerate(series.items()):
            v = vs[gi] if gi < len(vs) else None
            if v is None:
                continue
            h = plot_h * v / top
            x, y = x0 + bar_w * si, TOP + plot_h - h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours[si % len(colours)]}"><title>{escape(name)} {escape(label)}: '
                f"{escape(_fmt(v))}{escape(unit)}</title></rect>"
            )
        out.append(
            f'<text x="{LEFT + slot * gi + slot / 2:.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for si, name in enumerate(series):  # legend
        x = LEFT + si * 140
        y = HEIGHT - 18
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colours[si % 4]}"/>')
        out.append(f'<text x="{x + 18}" y="{y}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.1f}"
