"""Line charts drawn on the server as inline SVG: no chart library, no script, no CDN.

Presentation attributes only (no style attribute), so the page's Content-Security-Policy holds."""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 360, 140, 34, 20, 8, 8


def line_chart(
    points: list[tuple[date, float]], target: float, deadline: date | None, projected: date | None
) -> str:
    """Percent (0–100) over days; the target as a dashed line, the deadline as a red mark, the
    projection from the last point to the target as a dotted line."""
    if not points:
        return ""
    start = points[0][0]
    end = max([points[-1][0], *(d for d in (deadline, projected) if d)])
    span = max((end - start).days, 1)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(day: date) -> float:
        return round(PAD_L + plot_w * (day - start).days / span, 1)

    def y(percent: float) -> float:
        return round(PAD_T + plot_h * (1 - min(max(percent, 0), 100) / 100), 1)

    parts = [
        f'<svg class="board-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="已认定占比趋势">',
        f'<line x1="{PAD_L}" y1="{y(0)}" x2="{WIDTH - PAD_R}" y2="{y(0)}" stroke="#8a94a6" stroke-width="1"/>',
        f'<line x1="{PAD_L}" y1="{y(0)}" x2="{PAD_L}" y2="{y(100)}" stroke="#8a94a6" stroke-width="1"/>',
    ]
    for label in (0, 50, 100):
        parts.append(
            f'<text x="{PAD_L - 4}" y="{y(label) + 4}" font-size="10" text-anchor="end" fill="#4a5568">{label}%</text>'
        )
    parts.append(
        f'<line x1="{PAD_L}" y1="{y(target)}" x2="{WIDTH - PAD_R}" y2="{y(target)}" stroke="#2f855a" '
        f'stroke-width="1" stroke-dasharray="4 3"><title>目标 {target:g}%</title></line>'
    )
    if deadline:
        parts.append(
            f'<line x1="{x(deadline)}" y1="{y(0)}" x2="{x(deadline)}" y2="{y(100)}" stroke="#c53030" '
            f'stroke-width="1"><title>截止日期 {deadline:%Y-%m-%d}</title></line>'
        )
    coords = " ".join(f"{x(d)},{y(p)}" for d, p in points)
    parts.append(f'<polyline points="{coords}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    last_day, last = points[-1]
    parts.append(
        f'<circle cx="{x(last_day)}" cy="{y(last)}" r="3" fill="#1f5fbf"><title>{escape(f"{last_day:%m-%d} {last:.1f}%")}</title></circle>'
    )
    if projected:
        parts.append(
            f'<line x1="{x(last_day)}" y1="{y(last)}" x2="{x(projected)}" y2="{y(target)}" stroke="#1f5fbf" '
            f'stroke-width="1" stroke-dasharray="2 3"><title>预计 {projected:%Y-%m-%d}</title></line>'
        )
    parts.append(
        f'<text x="{PAD_L}" y="{HEIGHT - 5}" font-size="10" fill="#4a5568">{start:%m-%d}</text>'
        f'<text x="{WIDTH - PAD_R}" y="{HEIGHT - 5}" font-size="10" text-anchor="end" fill="#4a5568">{end:%m-%d}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
