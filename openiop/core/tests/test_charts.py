"""SVG charts: structure, accessibility, escaping, clamping and the edge cases."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from openiop.core.charts import line_chart_svg, sparkline_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"

PHQ9_BANDS = [
    (0, 4, "Minimal", "ok"),
    (5, 9, "Mild", "mild"),
    (10, 14, "Moderate", "moderate"),
    (15, 19, "Moderately severe", "moderate"),
    (20, 27, "Severe", "severe"),
]
POINTS = [
    (dt.date(2026, 9, 1), 22),
    (dt.date(2026, 10, 1), 15),
    (dt.date(2026, 11, 12), 14),
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  (our own output, parsed to check it)


def chart(points=POINTS, **kwargs) -> ET.Element:
    kwargs = {"y_min": 0, "y_max": 27, "title": "PHQ-9 total", **kwargs}
    return parse(line_chart_svg(points, **kwargs))


def circles(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//svg:circle", NS)


def classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def tooltip(el: ET.Element) -> str:
    title = el.find("svg:title", NS)
    assert title is not None
    return title.text or ""


def all_text(root: ET.Element) -> str:
    return "".join(root.itertext())


# --- Structure and accessibility ------------------------------------------------------


def test_returns_safe_string_that_parses_as_svg():
    svg = line_chart_svg(POINTS, y_min=0, y_max=27, title="PHQ-9 total")
    assert isinstance(svg, SafeString)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 640 220"
    assert (root.get("width"), root.get("height")) == ("640", "220")


def test_is_an_image_labelled_by_its_title_and_desc():
    root = chart()
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"svg:title[@id='{title_id}']", NS)
    desc = root.find(f"svg:desc[@id='{desc_id}']", NS)
    assert title is not None and title.text == "PHQ-9 total"
    assert desc is not None
    assert desc.text == ("PHQ-9 total: 3 scores. First 22 on 1 Sep 2026; latest 14 on 12 Nov 2026.")


def test_desc_names_the_band_of_first_and_latest_values():
    root = chart(bands=PHQ9_BANDS)
    desc = root.find("svg:desc", NS)
    assert desc is not None
    assert desc.text == (
        "PHQ-9 total: 3 scores. First 22 on 1 Sep 2026 (Severe); "
        "latest 14 on 12 Nov 2026 (Moderate)."
    )


def test_two_charts_on_one_page_have_different_ids():
    first, second = chart(), chart()
    assert first.get("id") != second.get("id")
    assert first.get("aria-labelledby") != second.get("aria-labelledby")


def test_each_point_is_a_circle_with_a_dated_tooltip():
    root = chart()
    points = circles(root)
    assert [tooltip(c) for c in points] == [
        "1 Sep 2026: 22",
        "1 Oct 2026: 15",
        "12 Nov 2026: 14",
    ]
    assert all("chart-point" in classes(c) for c in points)


def test_line_joins_the_points_left_to_right():
    root = chart()
    line = root.find(".//svg:polyline", NS)
    assert line is not None
    assert line.get("fill") == "none"
    xs = [float(pair.split(",")[0]) for pair in (line.get("points") or "").split()]
    assert xs == sorted(xs) and len(xs) == 3
    assert xs == [float(c.get("cx", "")) for c in circles(root)]


def test_higher_values_are_drawn_higher():
    root = chart()
    ys = [float(c.get("cy", "")) for c in circles(root)]
    assert ys[0] < ys[1] < ys[2]  # 22 above 15 above 14 (SVG y grows downwards)


def test_no_inline_styles_anywhere():
    svg = line_chart_svg(
        POINTS,
        y_min=0,
        y_max=27,
        title="PHQ-9",
        bands=PHQ9_BANDS,
        thresholds=[(10, "Cut-off")],
        y_label="Score",
    )
    assert "style=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg
    assert "style=" not in sparkline_svg([1, 2], y_min=0, y_max=5, label="x")


def test_bands_are_shaded_by_tone_and_labelled():
    root = chart(bands=PHQ9_BANDS)
    rects = root.findall(".//svg:rect", NS)
    assert [sorted(classes(r)) for r in rects] == [
        ["chart-band", "chart-band-ok"],
        ["chart-band", "chart-band-mild"],
        ["chart-band", "chart-band-moderate"],
        ["chart-band", "chart-band-moderate"],
        ["chart-band", "chart-band-severe"],
    ]
    assert tooltip(rects[0]) == "Minimal: 0-4"
    labels = [t.text for t in root.iter(f"{SVG}text") if "chart-band-label" in classes(t)]
    assert labels == ["Minimal", "Mild", "Moderate", "Moderately severe", "Severe"]


def test_band_labels_sit_right_of_the_plot_and_long_ones_are_shortened():
    long_label = "A very long band label indeed"
    root = chart(bands=[(0, 13, "Low", "ok"), (14, 27, long_label, "severe")])
    rect = root.find(".//svg:rect", NS)
    assert rect is not None
    plot_right = float(rect.get("x", "")) + float(rect.get("width", ""))
    labels = [t for t in root.iter(f"{SVG}text") if "chart-band-label" in classes(t)]
    assert all(float(t.get("x", "")) > plot_right for t in labels)
    assert all(float(c.get("cx", "")) < plot_right for c in circles(root))
    assert labels[1].text == long_label[:18] + "\u2026"
    assert tooltip(root.findall(".//svg:rect", NS)[1]) == f"{long_label}: 14-27"


def test_whole_number_bands_meet_without_a_gap():
    rects = chart(bands=PHQ9_BANDS).findall(".//svg:rect", NS)
    for lower, upper in itertools.pairwise(rects):
        # upper band's bottom edge == lower band's top edge
        upper_bottom = float(upper.get("y", "")) + float(upper.get("height", ""))
        assert upper_bottom == pytest.approx(float(lower.get("y", "")), abs=0.11)


def test_band_outside_the_range_is_not_drawn():
    root = chart(bands=[(30, 40, "Off the chart", "severe"), (0, 27, "All", "ok")])
    assert len(root.findall(".//svg:rect", NS)) == 1


def test_unknown_tone_is_refused():
    with pytest.raises(ValueError, match="tone “red”"):
        chart(bands=[(0, 5, "Low", "red")])


def test_y_ticks_are_round_numbers_within_the_range():
    root = chart()
    ticks = [
        t.text
        for t in root.findall(".//svg:g[@class='chart-y-axis']/svg:text", NS)
        if "chart-tick" in classes(t)
    ]
    assert ticks == ["0", "5", "10", "15", "20", "25"]


def test_x_ticks_are_dates_from_first_to_last():
    root = chart()
    ticks = [t.text for t in root.findall(".//svg:g[@class='chart-x-axis']/svg:text", NS)]
    assert ticks[0] == "1 Sep" and ticks[-1] == "12 Nov"
    assert 2 <= len(ticks) <= 6


def test_x_ticks_carry_the_year_when_the_range_crosses_one():
    root = chart([(dt.date(2026, 12, 1), 5), (dt.date(2027, 2, 1), 6)])
    ticks = [t.text for t in root.findall(".//svg:g[@class='chart-x-axis']/svg:text", NS)]
    assert ticks[0] == "1 Dec 2026" and ticks[-1] == "1 Feb 2027"


def test_y_label_and_thresholds_are_drawn():
    root = chart(y_label="Score", thresholds=[(10, "Cut-off"), (99, "Out of range")])
    text = all_text(root)
    assert "Score" in text
    assert "Cut-off" in text
    assert "Out of range" not in text
    lines = [el for el in root.iter(f"{SVG}line") if "chart-threshold" in classes(el)]
    assert len(lines) == 1
    assert tooltip(lines[0]) == "Cut-off: 10"


# --- Escaping -------------------------------------------------------------------------


def test_all_text_is_escaped():
    evil = '<script>alert("x")</script>&'
    svg = line_chart_svg(
        POINTS,
        y_min=0,
        y_max=27,
        title=evil,
        y_label=evil,
        bands=[(0, 27, evil, "ok")],
        thresholds=[(10, evil)],
    )
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed XML
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == evil  # type: ignore[union-attr]
    assert not list(root.iter(f"{SVG}script"))
    spark = sparkline_svg([1, 2], y_min=0, y_max=5, label=evil)
    assert "<script>" not in spark
    assert evil in all_text(parse(spark))


# --- Edge cases -----------------------------------------------------------------------


def test_unsorted_input_is_drawn_in_date_order():
    root = chart(list(reversed(POINTS)))
    assert [tooltip(c) for c in circles(root)] == [
        "1 Sep 2026: 22",
        "1 Oct 2026: 15",
        "12 Nov 2026: 14",
    ]


def test_a_single_point_is_centred_with_no_line():
    root = chart([(dt.date(2026, 11, 12), 14)])
    (point,) = circles(root)
    assert float(point.get("cx", "")) == pytest.approx((44 + 640 - 16) / 2)
    assert root.find(".//svg:polyline", NS) is None
    desc = root.find("svg:desc", NS)
    assert desc is not None and desc.text == "PHQ-9 total: one score, 14 on 12 Nov 2026."
    ticks = [t.text for t in root.findall(".//svg:g[@class='chart-x-axis']/svg:text", NS)]
    assert ticks == ["12 Nov 2026"]


def test_all_points_on_one_day_share_an_x():
    day = dt.date(2026, 11, 12)
    root = chart([(day, 3), (day, 9), (day, 6)])
    xs = {c.get("cx") for c in circles(root)}
    assert len(xs) == 1
    # Same-day points keep the order given.
    assert [tooltip(c) for c in circles(root)] == [
        "12 Nov 2026: 3",
        "12 Nov 2026: 9",
        "12 Nov 2026: 6",
    ]


def test_values_outside_the_range_are_clamped_but_the_tooltip_is_true():
    root = chart([(dt.date(2026, 11, 1), -5), (dt.date(2026, 11, 12), 40)])
    low, high = circles(root)
    bottom, top = 220 - 28, 22
    assert float(low.get("cy", "")) == pytest.approx(bottom)
    assert float(high.get("cy", "")) == pytest.approx(top)
    assert tooltip(high) == "12 Nov 2026: 40 (outside the chart's range)"
    assert "chart-point-clamped" in classes(high) and "chart-point-clamped" in classes(low)


def test_fractional_values_are_shown_briefly():
    root = chart([(dt.date(2026, 11, 12), 2.5), (dt.date(2026, 11, 13), 1 / 3)])
    assert [tooltip(c) for c in circles(root)] == ["12 Nov 2026: 2.5", "13 Nov 2026: 0.33"]
    root = chart([(dt.date(2026, 11, 12), -0.001), (dt.date(2026, 11, 13), 4.999)])
    assert [tooltip(c).split(":")[1] for c in circles(root)] == [
        " 0 (outside the chart's range)",
        " 5",
    ]


def test_empty_data_says_no_scores_yet():
    svg = line_chart_svg([], y_min=0, y_max=27, title="PHQ-9 total")
    root = parse(svg)
    assert "No scores yet" in all_text(root)
    assert root.get("role") == "img"
    assert root.find(f"svg:title[@id='{root.get('aria-labelledby')}']", NS) is not None
    assert not circles(root)
    assert int(root.get("height", "0")) < 220


@pytest.mark.parametrize(("y_min", "y_max"), [(0, 0), (5, 1), (0, float("nan"))])
def test_an_empty_range_is_refused(y_min, y_max):
    with pytest.raises(ValueError, match="y_min < y_max"):
        line_chart_svg(POINTS, y_min=y_min, y_max=y_max, title="x")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "12", None])
def test_a_value_that_is_not_a_number_is_refused(value):
    with pytest.raises(ValueError, match="finite number"):
        line_chart_svg([(dt.date(2026, 1, 1), value)], y_min=0, y_max=27, title="x")


@given(
    st.lists(
        st.tuples(
            st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
            st.floats(-100, 100, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_every_point_is_drawn_inside_the_plot(points):
    root = chart(points, y_min=0, y_max=27, bands=PHQ9_BANDS)
    drawn = circles(root)
    assert len(drawn) == len(points)
    for c in drawn:
        assert 44 <= float(c.get("cx", "")) <= 640 - 16
        assert 22 <= float(c.get("cy", "")) <= 220 - 28
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}: -?[\d.]+( \(.*\))?", tooltip(c))


# --- Sparkline ------------------------------------------------------------------------


def test_sparkline_draws_a_line_and_marks_the_latest_value():
    svg = sparkline_svg([18, 12, 9], y_min=0, y_max=27, label="PHQ-9")
    assert isinstance(svg, SafeString)
    root = parse(svg)
    assert root.get("role") == "img"
    assert (root.get("width"), root.get("height")) == ("120", "28")
    title = root.find(f"svg:title[@id='{root.get('aria-labelledby')}']", NS)
    assert title is not None and title.text == "PHQ-9: latest 9, first 18 (3 scores)"
    line = root.find("svg:polyline", NS)
    assert line is not None and len((line.get("points") or "").split()) == 3
    (latest,) = circles(root)
    assert "chart-point-latest" in classes(latest)


def test_sparkline_single_value_and_clamping():
    root = parse(sparkline_svg([50], y_min=0, y_max=10, label="Craving", width=60, height=20))
    assert root.find("svg:polyline", NS) is None
    (point,) = circles(root)
    assert float(point.get("cx", "")) == 30
    assert 0 <= float(point.get("cy", "")) <= 20
    assert root.find("svg:title", NS).text == "Craving: one score, 50"  # type: ignore[union-attr]


def test_sparkline_empty():
    root = parse(sparkline_svg([], y_min=0, y_max=10, label="Craving"))
    assert "No scores yet" in all_text(root)
    assert (root.get("width"), root.get("height")) == ("120", "28")
    assert not circles(root)
