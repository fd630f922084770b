"""The dashboard's own SVG charts: the retention step curve and horizontal bars.

Like `core.charts`, no inline style (the CSP allows none): classes styled in app.css
("Outcomes dashboard" section), `role="img"` with a <title> and a <desc>, all text
escaped. The census line uses `core.charts.line_chart_svg`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .km import KaplanMeier

_ids = itertools.count(1)
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 16, 40


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _open(width: int, height: int, title: str, desc: str, extra: str) -> tuple[str, list[str]]:
    uid = f"outcomes-chart-{next(_ids)}"
    return uid, [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {extra}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" id="{uid}">',
        f'<title id="{uid}-title">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(desc)}</desc>',
    ]


def _day_ticks(last: int) -> list[int]:
    if last <= 0:
        return [0]
    raw = last / 6
    power = 10 ** math.floor(math.log10(raw))
    step = next(int(k * power) or 1 for k in (1, 2, 5, 10) if k * power >= raw)
    return list(range(0, last + 1, step))


def retention_svg(
    km: KaplanMeier, *, title: str, width: int = 640, height: int = 260
) -> SafeString:
    """The Kaplan–Meier curve as steps: x = days in program, y = share still in it (0–100%),
    with axes, ticks, a dashed line at 50% and a mark at each censoring."""
    if not km.steps:
        uid, parts = _open(
            width, 48, title, "No one admitted in this range.", "outcomes-km chart-empty"
        )
        parts.append(
            f'<text class="chart-empty-text" x="{width // 2}" y="24" text-anchor="middle" '
            'dominant-baseline="middle">No one admitted in this range</text></svg>'
        )
        return mark_safe("".join(parts))  # noqa: S308  (escaped)
    last = max(km.steps[-1].time, 1)
    left, right, top, bottom = _LEFT, width - _RIGHT, _TOP, height - _BOTTOM

    def x(day: float) -> float:
        return left + day / last * (right - left)

    def y(share: float) -> float:
        return bottom - share * (bottom - top)

    median = "not reached" if km.median is None else f"{km.median} days"
    desc = (
        f"{km.n} admitted, {km.events} discharged without completing, {km.censored} "
        f"censored. Median time in program: {median}. "
        + " ".join(
            f"At {d} days: {'not known' if v is None else f'{v * 100:.0f}%'}."
            for d, v in ((d, km.survival_at(d)) for d in (30, 60, 90))
        )
    )
    uid, parts = _open(width, height, title, desc, "outcomes-km")
    for pct in (0, 25, 50, 75, 100):
        yy = _n(y(pct / 100))
        css = "chart-threshold" if pct == 50 else "chart-gridline"
        parts.append(f'<line class="{css}" x1="{left}" x2="{right}" y1="{yy}" y2="{yy}"/>')
        parts.append(
            f'<text class="chart-tick" x="{left - 6}" y="{yy}" text-anchor="end" '
            f'dominant-baseline="middle">{pct}%</text>'
        )
    parts.append(f'<line class="chart-axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(f'<line class="chart-axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>')
    for day in _day_ticks(last):
        xx = _n(x(day))
        parts.append(
            f'<line class="chart-tick-mark" x1="{xx}" x2="{xx}" y1="{bottom}" y2="{bottom + 4}"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{xx}" y="{bottom + 16}" text-anchor="middle">{day}</text>'
        )
    parts.append(
        f'<text class="chart-axis-label" x="{_n((left + right) / 2)}" y="{height - 4}" '
        'text-anchor="middle">Days in program</text>'
    )
    # The step path: flat at S until the next time, then down.
    points = [f"M{_n(x(0))},{_n(y(1.0))}"]
    survival = 1.0
    for step in km.steps:
        points.append(f"H{_n(x(step.time))}")
        if step.survival != survival:
            survival = step.survival
            points.append(f"V{_n(y(survival))}")
    parts.append(f'<path class="outcomes-km-line" fill="none" d="{"".join(points)}"/>')
    for step in km.steps:
        if step.censored:
            xx = _n(x(step.time))
            parts.append(
                f'<path class="outcomes-km-censor" d="M{xx},{_n(y(step.survival) - 4)}v8">'
                f"<title>Day {step.time}: {step.censored} censored, "
                f"{step.survival * 100:.0f}% still in program</title></path>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (escaped)


def bars_svg(
    items: Sequence[tuple[str, float, str]],
    *,
    title: str,
    maximum: float | None = None,
    width: int = 640,
) -> SafeString:
    """Horizontal bars: (label, value, text shown at the bar's end). `maximum` fixes the
    scale (1.0 for shares), else the largest value."""
    label_width, row = 270, 24
    height = max(len(items), 1) * row + 8
    top = max([maximum or 0.0, *(v for _l, v, _t in items)]) or 1.0
    desc = "; ".join(f"{label}: {text}" for label, _v, text in items) or "Nothing to show."
    uid, parts = _open(width, height, title, desc, "outcomes-bars")
    span = width - label_width - 70
    for i, (label, value, text) in enumerate(items):
        y = 4 + i * row
        bar = max(value / top * span, 0)
        parts.append(
            f'<text class="outcomes-bar-label" x="{label_width - 8}" y="{y + 12}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(label)}</text>'
        )
        at = f'x="{label_width}" y="{y + 3}" height="18"'
        parts.append(f'<rect class="outcomes-bar-track" {at} width="{span}"/>')
        parts.append(
            f'<rect class="outcomes-bar" {at} width="{_n(bar)}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(
            f'<text class="outcomes-bar-value" x="{_n(label_width + bar + 6)}" y="{y + 12}" '
            f'dominant-baseline="middle">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (escaped)
