"""Server-rendered SVG charts for scores over time: no JavaScript, no inline styles.

The Content-Security-Policy (core/middleware.py) allows styles only from our own
stylesheet, so every element carries a `class` styled in static/openiop/app.css
("Charts" section). A few presentation attributes (`fill="none"` on the line) keep the
chart readable if the stylesheet fails to load.

    line_chart_svg([(date(2026, 11, 12), 14), ...], y_min=0, y_max=27,
                   bands=[(0, 4, "Minimal", "ok"), (5, 9, "Mild", "mild"), ...],
                   title="PHQ-9 total")

Charts are images to assistive technology (`role="img"`), named by their `<title>` and
described by a `<desc>` that gives the first and latest values in words. Every point
has its own `<title>`, shown as a tooltip ("12 Nov 2026: 14"). Values outside
[y_min, y_max] are drawn at the edge and the tooltip still shows the real value.
All text is escaped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import dateformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

TONES: tuple[str, ...] = ("ok", "mild", "moderate", "severe")

# (low, high, label, tone): a shaded horizontal band, for example a severity range.
Band = tuple[float, float, str, str]

# Plot margins inside the SVG, in user units: room for y ticks on the left, the y label
# on top, and date ticks below.
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 16, 22, 28
_X_PAD = 8
# Band labels: about 6 user units per character at the 10px label size, at most 130.
_CHAR_WIDTH, _BAND_LABEL_MAX = 6, 130
_POINT_RADIUS = 3.5
_EMPTY_TEXT = "No scores yet"

# Unique ids for <title>/<desc> when several charts share a page.
_ids = itertools.count(1)


def _num(value: float) -> str:
    """A coordinate: one decimal, no trailing '.0'."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _value(value: float) -> str:
    """A score as people read it: 14, 2.5, 0.33."""
    rounded = round(float(value), 2) + 0.0  # adding 0.0 turns -0.0 into 0.0
    if rounded.is_integer():
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0").rstrip(".")


def _day(date: dt.date) -> str:
    # Month names in the active language (the portal's Spanish; English elsewhere).
    return dateformat.format(date, "j M Y")


def _check_range(y_min: float, y_max: float) -> None:
    if not (math.isfinite(y_min) and math.isfinite(y_max)) or y_max <= y_min:
        raise ValueError(f"The chart range needs y_min < y_max (got {y_min} and {y_max}).")


def _check_value(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"A chart value must be a finite number (got {value!r}).")
    return float(value)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _y_ticks(y_min: float, y_max: float, most: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) within the range."""
    raw = (y_max - y_min) / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(y_min / step - 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= y_max + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _x_ticks(first: dt.date, last: dt.date, most: int) -> list[dt.date]:
    """Up to `most` dates spread evenly from first to last, both included."""
    span = (last - first).days
    if span == 0:
        return [first]
    count = max(2, min(most, span + 1))
    days = sorted({round(i * span / (count - 1)) for i in range(count)})
    return [first + dt.timedelta(days=d) for d in days]


def _svg_open(width: int, height: int, uid: str, labelled_by: str, extra_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {extra_class}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{labelled_by}" id="{uid}">'
    )


def _empty_svg(title: str, width: int, height: int, extra_class: str) -> SafeString:
    uid = f"chart-{next(_ids)}"
    return mark_safe(  # noqa: S308  (every piece of text below is escaped)
        _svg_open(width, height, uid, f"{uid}-title", f"{extra_class} chart-empty")
        + f'<title id="{uid}-title">{escape(title)}: {_EMPTY_TEXT.lower()}</title>'
        + f'<text class="chart-empty-text" x="{_num(width / 2)}" y="{_num(height / 2)}" '
        + f'text-anchor="middle" dominant-baseline="middle">{_EMPTY_TEXT}</text>'
        + "</svg>"
    )


@dataclass(frozen=True)
class _Frame:
    """Where the plot sits in the SVG, and how dates and values map onto it."""

    left: float
    right: float
    top: float
    bottom: float
    first_day: dt.date
    span_days: int
    y_min: float
    y_max: float

    def x(self, date: dt.date) -> float:
        # Points stay a little inside the plot so the first and last are not cut in half.
        inner_left, inner_right = self.left + _X_PAD, self.right - _X_PAD
        if self.span_days == 0:
            return (inner_left + inner_right) / 2
        return inner_left + (date - self.first_day).days / self.span_days * (
            inner_right - inner_left
        )

    def y(self, value: float) -> float:
        value = _clamp(value, self.y_min, self.y_max)
        share = (value - self.y_min) / (self.y_max - self.y_min)
        return self.bottom - share * (self.bottom - self.top)


def line_chart_svg(
    points: Sequence[tuple[dt.date, float]],
    *,
    y_min: float,
    y_max: float,
    bands: Sequence[Band] = (),
    title: str,
    width: int = 640,
    height: int = 220,
    y_label: str = "",
    thresholds: Sequence[tuple[float, str]] = (),
) -> SafeString:
    """A dated line chart with shaded severity bands, thresholds and a tooltip per point.

    `bands` are (low, high, label, tone) with tone one of "ok", "mild", "moderate",
    "severe"; `thresholds` are (value, label) drawn as dashed lines. Points may come in
    any order. No points gives a small chart saying "No scores yet".
    Raises ValueError for an empty range, an unknown tone, a chart too small to draw,
    or a value that is not a number.
    """
    _check_range(y_min, y_max)
    for _low, _high, _label, tone in bands:
        if tone not in TONES:
            raise ValueError(f"Band tone “{tone}” is not one of {', '.join(TONES)}.")
    checked_thresholds = [(_check_value(value), label) for value, label in thresholds]
    if not points:
        return _empty_svg(title, width, 48, "chart-line-chart")
    # Sorted by date; points on the same day keep the order they were given in.
    data = sorted(((d, _check_value(v)) for d, v in points), key=lambda p: p[0])
    # Band labels sit in a gutter right of the plot, so they never hide a point.
    longest = max((len(label) for _low, _high, label, _tone in bands), default=0)
    right_margin = min(_BAND_LABEL_MAX, _RIGHT + longest * _CHAR_WIDTH) if longest else _RIGHT
    if width - right_margin - _LEFT < 40 or height - _BOTTOM - _TOP < 20:
        raise ValueError(f"A {width}x{height} chart is too small to draw.")
    frame = _Frame(
        left=_LEFT,
        right=width - right_margin,
        top=_TOP,
        bottom=height - _BOTTOM,
        first_day=data[0][0],
        span_days=(data[-1][0] - data[0][0]).days,
        y_min=y_min,
        y_max=y_max,
    )
    uid = f"chart-{next(_ids)}"
    parts = [
        _svg_open(width, height, uid, f"{uid}-title {uid}-desc", "chart-line-chart"),
        f'<title id="{uid}-title">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(_describe(title, data, bands))}</desc>',
        *_bands_svg(frame, bands),
        *_y_axis_svg(frame, y_label),
        *_x_axis_svg(frame, data[-1][0]),
        *_thresholds_svg(frame, checked_thresholds),
        *_series_svg(frame, data),
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308  (every piece of text is escaped)


def _bands_svg(frame: _Frame, bands: Sequence[Band]) -> list[str]:
    out = ['<g class="chart-bands">']
    for (low, high, label, tone), (edge_low, edge_high) in zip(
        bands, _band_edges(bands), strict=True
    ):
        lo = _clamp(edge_low, frame.y_min, frame.y_max)
        hi = _clamp(edge_high, frame.y_min, frame.y_max)
        if hi <= lo:
            continue
        y_top, y_bottom = frame.y(hi), frame.y(lo)
        out.append(
            f'<rect class="chart-band chart-band-{tone}" x="{_num(frame.left)}" '
            f'y="{_num(y_top)}" width="{_num(frame.right - frame.left)}" '
            f'height="{_num(y_bottom - y_top)}">'
            f"<title>{escape(label)}: {_value(low)}-{_value(high)}</title></rect>"
        )
        if label and y_bottom - y_top >= 11:
            room = (_BAND_LABEL_MAX - _RIGHT) // _CHAR_WIDTH
            shown = label if len(label) <= room else label[: room - 1] + "\u2026"
            out.append(
                f'<text class="chart-band-label" x="{_num(frame.right + 6)}" '
                f'y="{_num((y_top + y_bottom) / 2)}" text-anchor="start" '
                f'dominant-baseline="middle">{escape(shown)}</text>'
            )
    out.append("</g>")
    return out


def _y_axis_svg(frame: _Frame, y_label: str) -> list[str]:
    left, right = _num(frame.left), _num(frame.right)
    out = ['<g class="chart-y-axis">']
    for tick in _y_ticks(frame.y_min, frame.y_max):
        y = _num(frame.y(tick))
        out.append(
            f'<line class="chart-gridline" x1="{left}" x2="{right}" y1="{y}" y2="{y}"/>'
            f'<text class="chart-tick" x="{_num(frame.left - 6)}" y="{y}" '
            f'text-anchor="end" dominant-baseline="middle">{_value(tick)}</text>'
        )
    if y_label:
        out.append(
            f'<text class="chart-axis-label" x="{_num(frame.left - 6)}" '
            f'y="{_num(frame.top - 8)}" text-anchor="start">{escape(y_label)}</text>'
        )
    out.append("</g>")
    return out


def _x_axis_svg(frame: _Frame, last_day: dt.date) -> list[str]:
    bottom = frame.bottom
    out = [
        '<g class="chart-x-axis">',
        f'<line class="chart-axis" x1="{_num(frame.left)}" x2="{_num(frame.right)}" '
        f'y1="{_num(bottom)}" y2="{_num(bottom)}"/>',
    ]
    # Day and month when the chart stays within one year; the full date otherwise.
    short = frame.span_days > 0 and frame.first_day.year == last_day.year
    most = max(2, int(frame.right - frame.left) // 90)
    for day in _x_ticks(frame.first_day, last_day, most=most):
        x = _num(frame.x(day))
        text = dateformat.format(day, "j M") if short else _day(day)
        out.append(
            f'<line class="chart-tick-mark" x1="{x}" x2="{x}" y1="{_num(bottom)}" '
            f'y2="{_num(bottom + 4)}"/>'
            f'<text class="chart-tick" x="{x}" y="{_num(bottom + 16)}" '
            f'text-anchor="middle">{text}</text>'
        )
    out.append("</g>")
    return out


def _thresholds_svg(frame: _Frame, thresholds: Sequence[tuple[float, str]]) -> list[str]:
    shown = [(v, label) for v, label in thresholds if frame.y_min <= v <= frame.y_max]
    if not shown:
        return []
    out = ['<g class="chart-thresholds">']
    for value, label in shown:
        y = frame.y(value)
        out.append(
            f'<line class="chart-threshold" x1="{_num(frame.left)}" x2="{_num(frame.right)}" '
            f'y1="{_num(y)}" y2="{_num(y)}"><title>{escape(label)}: {_value(value)}</title>'
            f'</line><text class="chart-threshold-label" x="{_num(frame.left + 4)}" '
            f'y="{_num(y - 3)}">{escape(label)}</text>'
        )
    out.append("</g>")
    return out


def _series_svg(frame: _Frame, data: list[tuple[dt.date, float]]) -> list[str]:
    coords = [(frame.x(day), frame.y(value)) for day, value in data]
    out = []
    if len(coords) > 1:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        out.append(f'<polyline class="chart-line" fill="none" points="{path}"/>')
    out.append('<g class="chart-points">')
    for (day, value), (x, y) in zip(data, coords, strict=True):
        outside = not frame.y_min <= value <= frame.y_max
        css = "chart-point chart-point-clamped" if outside else "chart-point"
        note = " (outside the chart's range)" if outside else ""
        out.append(
            f'<circle class="{css}" cx="{_num(x)}" cy="{_num(y)}" r="{_POINT_RADIUS}">'
            f"<title>{_day(day)}: {_value(value)}{note}</title></circle>"
        )
    out.append("</g>")
    return out


def _band_edges(bands: Sequence[Band]) -> list[tuple[float, float]]:
    """Where each band is drawn: its own edges, except that bands of whole-number scores
    (0-4, 5-9) meet halfway (at 4.5) instead of leaving a white stripe between them."""
    edges = [(min(low, high), max(low, high)) for low, high, _label, _tone in bands]
    drawn = list(edges)
    order = sorted(range(len(edges)), key=lambda i: edges[i])
    for below, above in itertools.pairwise(order):
        gap = edges[above][0] - edges[below][1]
        if 0 < gap <= 1:
            middle = (edges[above][0] + edges[below][1]) / 2
            drawn[below] = (drawn[below][0], middle)
            drawn[above] = (middle, drawn[above][1])
    return drawn


def _band_of(value: float, bands: Sequence[Band]) -> str:
    for low, high, label, _tone in bands:
        if min(low, high) <= value <= max(low, high):
            return label
    return ""


def _describe(
    title: str,
    data: list[tuple[dt.date, float]],
    bands: Sequence[Band],
) -> str:
    """The chart in a sentence: how many scores, the first and the latest."""

    def said(value: float, day: dt.date) -> str:
        band = _band_of(value, bands)
        return f"{_value(value)} on {_day(day)}" + (f" ({band})" if band else "")

    (first_day, first), (last_day, latest) = data[0], data[-1]
    if len(data) == 1:
        return f"{title}: one score, {said(first, first_day)}."
    return (
        f"{title}: {len(data)} scores. First {said(first, first_day)}; "
        f"latest {said(latest, last_day)}."
    )


def sparkline_svg(
    values: Sequence[float],
    *,
    y_min: float,
    y_max: float,
    width: int = 120,
    height: int = 28,
    label: str,
) -> SafeString:
    """A small trend line (oldest value first) with the latest value marked.

    For tables and lists. `label` names it for assistive technology; the title also
    gives the latest and first values. No values gives "No scores yet".
    """
    _check_range(y_min, y_max)
    if not values:
        return _empty_svg(label, width, height, "sparkline")
    data = [_check_value(v) for v in values]
    uid = f"chart-{next(_ids)}"
    pad = _POINT_RADIUS + 1
    left, right, top, bottom = pad, width - pad, pad, height - pad

    def x_of(i: int) -> float:
        if len(data) == 1:
            return width / 2
        return left + i / (len(data) - 1) * (right - left)

    def y_of(value: float) -> float:
        value = _clamp(value, y_min, y_max)
        return bottom - (value - y_min) / (y_max - y_min) * (bottom - top)

    latest = data[-1]
    if len(data) == 1:
        summary = f"{label}: one score, {_value(latest)}"
    else:
        summary = f"{label}: latest {_value(latest)}, first {_value(data[0])} ({len(data)} scores)"
    parts = [
        _svg_open(width, height, uid, f"{uid}-title", "sparkline"),
        f'<title id="{uid}-title">{escape(summary)}</title>',
    ]
    coords = [(x_of(i), y_of(v)) for i, v in enumerate(data)]
    if len(coords) > 1:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        parts.append(f'<polyline class="chart-line" fill="none" points="{path}"/>')
    x, y = coords[-1]
    parts.append(
        f'<circle class="chart-point chart-point-latest" cx="{_num(x)}" cy="{_num(y)}" '
        f'r="{_POINT_RADIUS - 1}"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every piece of text above is escaped)
