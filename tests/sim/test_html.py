"""The HTML page of the traffic report: parses, draws what the figures say, escapes the data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from lxml.html import HtmlElement

from smetsnet.errors import ConfigurationError
from smetsnet.sim.html import CATEGORY_COLOURS, render_html, write_html

SVG = "{http://www.w3.org/2000/svg}"


def _sample() -> dict[str, Any]:
    return {
        "premises": 1_234_567,
        "days": 2,
        "seed": 7,
        "start": "2026-01-05",
        "wall_s": 12.345,
        "messages_total": 98_765_432,
        "messages_per_meter_per_month": 28.4321,
        "share_by_category": {"readings": 0.62, "security": 0.03, "alerts": 0.35},
        "traffic_by_day": {
            "2026-01-05": {"readings": 1200, "alerts": 30, "security": 10},
            "2026-01-06": {"readings": 600, "alerts": 15, "<script>alert(1)</script>": 5},
        },
        "consumption_by_half_hour": {
            "electricity_wh": [1000.0 * i for i in range(48)],
            "gas_litres": [float((i * 7) % 13) for i in range(48)],
        },
        "latency_ms": {
            "transform": {"p50": 1.5, "p99": 3.0, "count": 4},
            "on-demand": {"p50": 812.0, "p99": 2400.0, "count": 120},
        },
        "alerts_by_code": {f"0x8F{i:02X}": 3 * i for i in range(25)},
        "alert_names": {"0x8F18": "Supply Outage Restored", "0x8F17": "<b>bold</b>"},
        "failures": {"E21": 3, "E4": 12_345},
        "messages_with_signature": 100,
        "signatures_verified": 100,
        "messages_with_mac": 500,
        "macs_verified": 498,
        "operations": {
            "changes_of_supplier": 2,
            "firmware": {"targeted": 10, "activated": 9, "failed": 1, "halted": False},
            "top_ups": 40_000,
        },
    }


def _parse(text: str) -> HtmlElement:
    root: HtmlElement = lxml.html.document_fromstring(text)
    return root


def _svgs(root: HtmlElement) -> list[HtmlElement]:
    # lxml.html keeps inline SVG elements under their plain names.
    return [e for e in root.iter() if isinstance(e.tag, str) and e.tag.removeprefix(SVG) == "svg"]


def _section(root: HtmlElement, title: str) -> HtmlElement:
    for section in root.iter("section"):
        if section.findtext("h2", "").startswith(title):
            return section
    raise AssertionError(f"no section {title!r}")


def _attr(element: HtmlElement, name: str) -> str:
    value = element.get(name)
    assert value is not None, f"<{element.tag!r}> has no {name}"
    return value


def _float(element: HtmlElement, name: str) -> float:
    return float(_attr(element, name))


def _segments(root: HtmlElement) -> list[HtmlElement]:
    return list(root.xpath('//rect[@class="seg"]'))


def test_full_report_parses_with_one_svg_per_chart() -> None:
    text = render_html(_sample())
    root = _parse(text)
    assert text.startswith("<!DOCTYPE html>")
    assert root.findtext(".//title") == "smetsnet simulation report"
    svgs = _svgs(root)
    assert len(svgs) == 3  # traffic, consumption, alerts
    titles = [s.findtext("title") for s in svgs]
    assert titles == ["Messages per category per day", "Consumption by half-hour", "Alerts by code"]
    assert [h.text for h in root.iter("h2")] == [
        "Headline figures",
        "Traffic per day",
        "Share by category",
        "Consumption by half-hour (fleet total, mean over days)",
        "Alerts by code",
        "Latency",
        "Failures",
        "Operations",
    ]


def test_page_needs_nothing_from_outside() -> None:
    root = _parse(render_html(_sample()))
    assert root.xpath("//script | //link | //img | //iframe | //*[@src] | //*[@href]") == []
    assert len(root.xpath("//style")) == 1


def test_day_labels_categories_and_numbers_appear() -> None:
    root = _parse(render_html(_sample()))
    traffic = _section(root, "Traffic per day")
    svg_text = [t.text for t in traffic.iter("text")]
    assert "2026-01-05" in svg_text and "2026-01-06" in svg_text
    assert "messages per day" in svg_text
    assert "1,250" in svg_text  # y-axis tick, thousands separator
    legend = traffic.find_class("legend")[0].text_content()
    for category in ("readings", "alerts", "security"):
        assert category in legend
    page = root.text_content()
    for figure in ("1,234,567", "98,765,432", "28.4", "12,345", "40,000", "2,400"):
        assert figure in page
    assert "all verified" in page and "2 not verified" in page


def test_text_from_the_data_is_escaped() -> None:
    text = render_html(_sample())
    assert "<script>" not in text and "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    root = _parse(text)
    assert root.xpath("//script") == [] and root.xpath("//b[text()='bold']") == []
    # The escaped name still reads as itself, in the legend and on its bar segment.
    assert "<script>alert(1)</script>" in _section(root, "Traffic per day").text_content()
    assert "0x8F17 <b>bold</b>" in _section(root, "Alerts by code").text_content()


def test_stacked_bar_heights_are_proportional() -> None:
    report = {
        "traffic_by_day": {
            "2026-01-05": {"readings": 750, "alerts": 250},
            "2026-01-06": {"readings": 200, "alerts": 50},
        }
    }
    segments = _segments(_parse(render_html(report)))
    heights: dict[tuple[str, str], float] = {
        (_attr(r, "data-day"), _attr(r, "data-category")): _float(r, "height") for r in segments
    }
    first = heights["2026-01-05", "readings"] + heights["2026-01-05", "alerts"]
    second = heights["2026-01-06", "readings"] + heights["2026-01-06", "alerts"]
    assert first / second == pytest.approx(4.0, rel=1e-3)
    assert heights["2026-01-05", "readings"] / heights["2026-01-05", "alerts"] == pytest.approx(3.0)
    # Segments of one bar stack: each starts where the one below it ends.
    by_day = [r for r in segments if r.get("data-day") == "2026-01-05"]
    lower, upper = by_day
    top_of_lower = _float(lower, "y")
    assert _float(upper, "y") + _float(upper, "height") == pytest.approx(top_of_lower, abs=0.01)


def test_each_category_keeps_its_colour() -> None:
    root = _parse(render_html(_sample()))
    for rect in _segments(root):
        category = _attr(rect, "data-category")
        if category in CATEGORY_COLOURS:
            assert rect.get("fill") == CATEGORY_COLOURS[category]
    # A category we do not know still gets the same colour in every report.
    name = "<script>alert(1)</script>"
    fills = {r.get("fill") for r in _segments(root) if r.get("data-category") == name}
    again = _parse(render_html({"traffic_by_day": {"2026-02-01": {name: 1}}}))
    assert fills == {r.get("fill") for r in _segments(again)}


def test_one_day_and_very_large_numbers() -> None:
    huge = 7_654_321_987_654
    root = _parse(render_html({"traffic_by_day": {"2026-01-05": {"readings": huge}}}))
    (rect,) = _segments(root)
    height = _float(rect, "height")
    assert 0 < height <= 260  # fits the plot
    labels = [t.text for t in root.iter("text")]
    assert "2026-01-05" in labels
    assert "8,000,000,000,000" in labels  # top tick
    assert f"{huge:,}" in rect.findtext("title", "")


def test_zero_values_draw_nothing_but_do_not_break() -> None:
    report = {
        "traffic_by_day": {"2026-01-05": {"readings": 0}, "2026-01-06": {"readings": 10}},
        "consumption_by_half_hour": {"electricity_wh": [0.0] * 48},
        "alerts_by_code": {"0x8F1C": 0},
        "share_by_category": {"readings": 0.0},
    }
    root = _parse(render_html(report))
    assert len(_svgs(root)) == 3
    (rect,) = _segments(root)
    assert rect.get("data-day") == "2026-01-06"
    for element in root.xpath("//rect | //polyline | //line | //text"):
        for name in ("x", "y", "height", "width"):
            value = element.get(name)
            assert value is None or math.isfinite(float(value))


def test_empty_sections_say_no_data() -> None:
    report = {
        "traffic_by_day": {},
        "share_by_category": {},
        "consumption_by_half_hour": {"electricity_wh": [], "gas_litres": [None] * 48},
        "alerts_by_code": {},
        "latency_ms": {},
        "operations": {},
        "failures": {},
    }
    root = _parse(render_html(report))
    assert _svgs(root) == []
    for title in ("Traffic", "Share", "Consumption", "Alerts", "Latency", "Operations"):
        assert _section(root, title).find_class("nodata")
    assert "No failures" in _section(root, "Failures").text_content()


def test_missing_sections_are_left_out() -> None:
    root = _parse(render_html({}))
    assert [h.text for h in root.iter("h2")] == []
    assert root.findtext(".//h1") == "smetsnet simulation report"
    partial = _parse(render_html({"messages_total": 5, "failures": {"E21": 1}}))
    assert [h.text for h in partial.iter("h2")] == ["Headline figures", "Failures"]


def test_consumption_chart_has_a_day_axis_and_series_on_their_own_scales() -> None:
    root = _parse(render_html(_sample()))
    chart = _section(root, "Consumption")
    labels = [t.text for t in chart.iter("text")]
    for tick in ("00:00", "12:00", "22:00", "23:30"):
        assert tick in labels
    assert "Electricity (Wh)" in labels and "Gas (l)" in labels
    lines = {_attr(p, "data-series"): _attr(p, "points") for p in chart.iter("polyline")}
    assert set(lines) == {"electricity_wh", "gas_litres"}
    for points in lines.values():
        ys = [float(pair.split(",")[1]) for pair in points.split()]
        assert len(ys) == 48
        assert min(ys) >= 20 and max(ys) == pytest.approx(280)
    # Electricity peaks at 47,000 on a 0..50,000 axis; gas at 12 on a 0..12.5 axis.
    electricity = [float(p.split(",")[1]) for p in lines["electricity_wh"].split()]
    assert 280 - min(electricity) == pytest.approx(260 * 47 / 50, abs=0.01)
    assert "peak 47,000 at 23:30" in chart.text_content()


def test_missing_half_hours_break_the_line() -> None:
    values: list[float | None] = [1.0] * 48
    values[10] = None
    values[11] = float("nan")
    root = _parse(render_html({"consumption_by_half_hour": {"gas_litres": values}}))
    runs = [_attr(p, "points").split() for p in root.iter("polyline")]
    assert [len(run) for run in runs] == [10, 36]


def test_alerts_top_twenty_sorted_with_names() -> None:
    root = _parse(render_html(_sample()))
    chart = _section(root, "Alerts by code")
    bars = chart.xpath('.//rect[@class="alert"]')
    assert len(bars) == 20
    titles = [b.findtext("title") for b in bars]
    assert titles[0] == "0x8F18 Supply Outage Restored: 72"
    assert titles[-1] == "0x8F05: 15"
    widths = [_float(b, "width") for b in bars]
    assert widths == sorted(widths, reverse=True)
    assert widths[0] / widths[-1] == pytest.approx(72 / 15)
    assert "Top 20 of 25 codes" in chart.text_content()


def test_tables_latency_failures_operations() -> None:
    root = _parse(render_html(_sample()))
    latency = [[c.text_content() for c in row] for row in _section(root, "Latency").iter("tr")]
    assert latency == [
        ["Class", "p50 (ms)", "p99 (ms)", "Count"],
        ["on-demand", "812", "2,400", "120"],
        ["transform", "1.50", "3", "4"],
    ]
    failures = [[c.text_content() for c in r] for r in _section(root, "Failures").iter("tr")]
    assert failures[1:] == [["E4", "12,345"], ["E21", "3"]]
    operations = _section(root, "Operations")
    terms = [dt.text for dt in operations.iter("dt")]
    assert terms[:2] == ["Changes of supplier", "Firmware"]
    assert "Halted" in terms and "Top ups" in terms
    assert [dd.text for dd in operations.iter("dd") if dd.text == "no"] == ["no"]


def test_unverified_signatures_are_flagged() -> None:
    report = {"messages_with_signature": 10, "signatures_verified": 7, "messages_with_mac": 0}
    root = _parse(render_html(report))
    figures = _section(root, "Headline")
    assert [w.text for w in figures.find_class("warn")] == ["3 not verified"]
    assert "none carried" in figures.text_content()


def test_write_html(tmp_path: Path) -> None:
    report = _sample()
    report["alert_names"] = {"0x8F18": "Coupure rétablie ⚡"}
    path = write_html(report, tmp_path / "report.html")
    assert path == tmp_path / "report.html"
    assert "Coupure rétablie ⚡" in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"missing/report\.html"):
        write_html(report, tmp_path / "missing" / "report.html")
