"""The HTML page of a simulation's traffic report (issue 6): the figures of ``report.json`` as one
self-contained file.

The page must open offline from the ``--out`` folder, so it carries no JavaScript and fetches
nothing: the charts are inline SVG drawn here and the styling is one small ``<style>`` block.
Every text that comes from the report (category names, alert names, operation keys) is escaped.
A section whose key is missing from the report is left out; a section present but empty says
"no data".
"""

from __future__ import annotations

import html
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from smetsnet.errors import ConfigurationError

__all__ = ["render_html", "write_html"]

#: A fixed colour per traffic category, so one category looks the same in every report.
CATEGORY_COLOURS: Mapping[str, str] = {
    "readings": "#4e79a7",
    "alerts": "#e15759",
    "security": "#f28e2b",
    "install": "#76b7b2",
    "commissioning": "#59a14f",
    "tariffs": "#edc948",
    "firmware": "#b07aa1",
    "top-ups": "#ff9da7",
    "prepayment": "#9c755f",
    "configuration": "#bab0ac",
    "other": "#7f7f7f",
}
#: Colours for categories not named above, chosen by a stable hash of the name (not by order,
#: which would change from one run to the next).
_SPARE_COLOURS = ("#17becf", "#bcbd22", "#8c564b", "#9467bd", "#2ca02c", "#d62728", "#1f77b4")
_SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1")
_SERIES_LABELS: Mapping[str, str] = {"electricity_wh": "Electricity (Wh)", "gas_litres": "Gas (l)"}
_LATENCY_ORDER = ("on-demand", "scheduled", "future-dated", "non-device", "transform")
_TOP_ALERTS = 20

# Chart geometry (SVG user units; the page scales the SVG to its width).
_WIDTH = 900
# Margins wide enough for tick labels such as "250,000,000" beside the axis title.
_LEFT = 100
_RIGHT = 100
_TOP = 20
_PLOT_H = 260
_FONT = 11

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .8em;border-bottom:1px solid #eee}
th{text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.params dt,.ops dt{font-weight:600}.params{display:grid;grid-template-columns:max-content auto;
gap:.1em 1em}.params dd{margin:0}.ops dd{margin:0 0 .3em 1.2em}
.figures{display:flex;flex-wrap:wrap;gap:1em}.fig{border:1px solid #ddd;border-radius:6px;
padding:.6em 1em;min-width:12em}.fig b{display:block;font-size:1.5em}
.ok{color:#2a7d2a}.warn{color:#b3261e;font-weight:600}.nodata{color:#888;font-style:italic}
.bar{display:inline-block;height:.8em;background:#4e79a7;vertical-align:middle}
.legend span{display:inline-block;margin-right:1.2em}.sw{display:inline-block;width:.9em;
height:.9em;margin-right:.3em;vertical-align:middle}
svg{width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#333}
"""


def render_html(report: Mapping[str, Any]) -> str:
    """Return the report as a complete HTML5 document (UTF-8 text, no external resources)."""
    sections = [
        _header(report),
        _headline(report),
        _traffic_section(report),
        _share_section(report),
        _consumption_section(report),
        _alerts_section(report),
        _latency_section(report),
        _failures_section(report),
        _operations_section(report),
    ]
    body = "\n".join(part for part in sections if part)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>smetsnet simulation report</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_html(report: Mapping[str, Any], path: Path) -> Path:
    """Write :func:`render_html` of ``report`` to ``path`` as UTF-8 and return ``path``."""
    try:
        path.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write the HTML report to {path}: {exc}") from exc
    return path


# --- sections -------------------------------------------------------------------------------


def _header(report: Mapping[str, Any]) -> str:
    params = [
        ("Premises", _fmt(report.get("premises"))),
        ("Days", _fmt(report.get("days"))),
        ("Start", _esc(report.get("start", "–"))),
        ("Seed", _esc(report.get("seed", "–"))),
        ("Wall time", f"{_fmt(report.get('wall_s'))} s"),
    ]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in params)
    return f'<header><h1>smetsnet simulation report</h1>\n<dl class="params">{rows}</dl></header>'


def _headline(report: Mapping[str, Any]) -> str:
    figures = []
    if "messages_total" in report:
        figures.append(_figure("Messages", _fmt(report["messages_total"]), ""))
    if "messages_per_meter_per_month" in report:
        per_month = _fmt(report["messages_per_meter_per_month"])
        figures.append(_figure("Per meter per month", per_month, ""))
    for noun, carried, verified in (
        ("Signatures", "messages_with_signature", "signatures_verified"),
        ("MACs", "messages_with_mac", "macs_verified"),
    ):
        if carried in report:
            figures.append(_check_figure(noun, report.get(carried), report.get(verified)))
    if not figures:
        return ""
    return (
        f'<section><h2>Headline figures</h2><div class="figures">{"".join(figures)}</div></section>'
    )


def _figure(label: str, value: str, note: str) -> str:
    return f'<div class="fig">{_esc(label)}<b>{value}</b>{note}</div>'


def _check_figure(noun: str, carried: Any, verified: Any) -> str:
    """A count of protected messages with a plain statement of how many failed verification."""
    n_carried = int(_num(carried) or 0)
    n_verified = int(_num(verified) or 0)
    missing = max(n_carried - n_verified, 0)
    if n_carried == 0:
        note = '<span class="nodata">none carried</span>'
    elif missing == 0:
        note = '<span class="ok">all verified</span>'
    else:
        note = f'<span class="warn">{_fmt(missing)} not verified</span>'
    value = f"{_fmt(n_verified)} / {_fmt(n_carried)}"
    return _figure(f"{noun} verified", value, note)


def _traffic_section(report: Mapping[str, Any]) -> str | None:
    by_day = _mapping(report, "traffic_by_day")
    if by_day is None:
        return None
    days = sorted(str(day) for day in by_day)
    counts = {day: _counts(by_day.get(day)) for day in days}
    totals: dict[str, float] = {}
    for day_counts in counts.values():
        for category, value in day_counts.items():
            totals[category] = totals.get(category, 0.0) + value
    # Largest category at the bottom of each bar, where it is easiest to compare.
    categories = sorted(totals, key=lambda c: (-totals[c], c))
    if not days or not categories:
        return _section("Traffic per day", _no_data())
    legend = "".join(
        f'<span><i class="sw" style="background:{_colour(c)}"></i>{_esc(c)}</span>'
        for c in categories
    )
    chart = _stacked_bars(days, categories, counts)
    return _section("Traffic per day", f'<div class="legend">{legend}</div>{chart}')


def _share_section(report: Mapping[str, Any]) -> str | None:
    shares = _mapping(report, "share_by_category")
    if shares is None:
        return None
    rows = sorted(((str(k), _num(v) or 0.0) for k, v in shares.items()), key=lambda r: -r[1])
    if not rows:
        return _section("Share by category", _no_data())
    body = "".join(
        f'<tr><td><i class="sw" style="background:{_colour(name)}"></i>{_esc(name)}</td>'
        f'<td class="n">{share * 100:.1f} %</td><td style="width:50%">'
        f'<span class="bar" style="width:{min(max(share, 0.0), 1.0) * 100:.2f}%;'
        f'background:{_colour(name)}"></span></td></tr>'
        for name, share in rows
    )
    head = "<tr><th>Category</th><th>Share</th><th></th></tr>"
    return _section("Share by category", f"<table>{head}{body}</table>")


def _consumption_section(report: Mapping[str, Any]) -> str | None:
    consumption = _mapping(report, "consumption_by_half_hour")
    if consumption is None:
        return None
    series = {
        str(name): [_num(v) for v in values]
        for name, values in consumption.items()
        if isinstance(values, Sequence) and not isinstance(values, str)
    }
    series = {name: values for name, values in series.items() if any(v is not None for v in values)}
    title = "Consumption by half-hour (fleet total, mean over days)"
    if not series:
        return _section(title, _no_data())
    return _section(title, _line_chart(series))


def _alerts_section(report: Mapping[str, Any]) -> str | None:
    alerts = _mapping(report, "alerts_by_code")
    if alerts is None:
        return None
    names = _mapping(report, "alert_names") or {}
    rows = sorted(
        ((str(code), _num(n) or 0.0) for code, n in alerts.items()), key=lambda r: (-r[1], r[0])
    )
    if not rows:
        return _section("Alerts by code", _no_data())
    shown = rows[:_TOP_ALERTS]
    labels = [(f"{code} {names[code]}" if code in names else code, n) for code, n in shown]
    note = f"<p>Top {len(shown)} of {_fmt(len(rows))} codes.</p>" if len(rows) > len(shown) else ""
    return _section("Alerts by code", note + _hbar_chart(labels))


def _latency_section(report: Mapping[str, Any]) -> str | None:
    latency = _mapping(report, "latency_ms")
    if latency is None:
        return None
    known = [c for c in _LATENCY_ORDER if c in latency]
    classes = known + sorted(str(c) for c in latency if c not in _LATENCY_ORDER)
    if not classes:
        return _section("Latency", _no_data())
    rows = []
    for name in classes:
        stats = latency[name] if isinstance(latency[name], Mapping) else {}
        cells = "".join(f'<td class="n">{_fmt(stats.get(k))}</td>' for k in ("p50", "p99", "count"))
        rows.append(f"<tr><td>{_esc(name)}</td>{cells}</tr>")
    head = "<tr><th>Class</th><th>p50 (ms)</th><th>p99 (ms)</th><th>Count</th></tr>"
    return _section("Latency", f"<table>{head}{''.join(rows)}</table>")


def _failures_section(report: Mapping[str, Any]) -> str | None:
    failures = _mapping(report, "failures")
    if failures is None:
        return None
    rows = sorted(
        ((str(code), n) for code, n in failures.items()), key=lambda r: (-(_num(r[1]) or 0), r[0])
    )
    if not rows:
        return _section("Failures", '<p class="ok">No failures.</p>')
    body = "".join(f'<tr><td>{_esc(c)}</td><td class="n">{_fmt(n)}</td></tr>' for c, n in rows)
    return _section("Failures", f"<table><tr><th>Code</th><th>Count</th></tr>{body}</table>")


def _operations_section(report: Mapping[str, Any]) -> str | None:
    operations = _mapping(report, "operations")
    if operations is None:
        return None
    if not operations:
        return _section("Operations", _no_data())
    return _section("Operations", _definitions(operations))


def _definitions(values: Mapping[Any, Any]) -> str:
    """A free-form nested mapping as nested definition lists, keys made readable."""
    items = []
    for key, value in values.items():
        shown = _definitions(value) if isinstance(value, Mapping) and value else _value(value)
        items.append(f"<dt>{_esc(_humanise(str(key)))}</dt><dd>{shown}</dd>")
    return f'<dl class="ops">{"".join(items)}</dl>'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "–"
    return _fmt(value)


# --- charts -----------------------------------------------------------------------------------


def _stacked_bars(
    days: Sequence[str], categories: Sequence[str], counts: Mapping[str, Mapping[str, float]]
) -> str:
    """One bar per day, one segment per category; heights are counts on a shared linear axis."""
    plot_w = _WIDTH - _LEFT - _RIGHT
    bottom = _TOP + _PLOT_H
    day_totals = [sum(counts[day].values()) for day in days]
    ticks = _ticks(max(day_totals))
    scale = _PLOT_H / ticks[-1]
    slot = plot_w / len(days)
    width = min(max(slot * 0.8, 0.5), 60.0)  # a few days should not make slabs
    parts = _y_axis(ticks, _LEFT, "messages per day")
    # A rotated label needs about two text heights; beyond that label every n-th day only.
    stride = math.ceil(len(days) / max(plot_w // (2 * _FONT), 1))
    for i, (day, total) in enumerate(zip(days, day_totals, strict=True)):
        x = _LEFT + i * slot + (slot - width) / 2
        y = float(bottom)
        parts.append(
            f'<g class="day" data-day="{_esc(day)}"><title>{_esc(day)}: {_fmt(total)}</title>'
        )
        for category in categories:
            value = counts[day].get(category, 0.0)
            if value <= 0:
                continue
            height = value * scale
            y -= height
            parts.append(
                f'<rect class="seg" data-day="{_esc(day)}" data-category="{_esc(category)}" '
                f'x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{height:.4f}" '
                f'fill="{_colour(category)}"><title>{_esc(day)} {_esc(category)}: '
                f"{_fmt(value)}</title></rect>"
            )
        parts.append("</g>")
        if i % stride == 0:
            cx, ty = x + width / 2, bottom + 8
            parts.append(
                f'<text x="{cx:.2f}" y="{ty}" text-anchor="end" '
                f'transform="rotate(-45 {cx:.2f} {ty})">{_esc(day)}</text>'
            )
    parts.append(_x_axis_line(bottom))
    return _svg(bottom + 80, "Messages per category per day", parts)


def _line_chart(series: Mapping[str, Sequence[float | None]]) -> str:
    """Half-hourly series on one time axis, each scaled to its own maximum (own y axis)."""
    plot_w = _WIDTH - _LEFT - _RIGHT
    bottom = _TOP + _PLOT_H
    points = max(len(values) for values in series.values())
    step = plot_w / max(points - 1, 1)
    parts: list[str] = []
    legend = []
    for index, (name, values) in enumerate(series.items()):
        colour = _SERIES_COLOURS[index % len(_SERIES_COLOURS)]
        label = _SERIES_LABELS.get(name, name)
        finite = [v for v in values if v is not None]
        ticks = _ticks(max(finite))
        scale = _PLOT_H / ticks[-1]
        if index < 2:  # Two axes fit, left and right; further series show their peak only.
            side = _LEFT if index == 0 else _WIDTH - _RIGHT
            parts.extend(
                _y_axis(ticks, side, label, right=index == 1, grid=index == 0, colour=colour)
            )
        for run in _runs(values):
            coords = " ".join(f"{_LEFT + i * step:.2f},{bottom - v * scale:.2f}" for i, v in run)
            parts.append(
                f'<polyline class="series" data-series="{_esc(name)}" fill="none" '
                f'stroke="{colour}" stroke-width="2" points="{coords}"/>'
            )
        peak = max(finite)
        at = _clock(values.index(peak))
        legend.append(
            f'<span><i class="sw" style="background:{colour}"></i>{_esc(label)}: '
            f"peak {_fmt(peak)} at {at}</span>"
        )
    for i in range(0, points, 4):
        parts.append(_x_tick(_LEFT + i * step, bottom, _clock(i)))
    if (points - 1) % 4:
        parts.append(_x_tick(_LEFT + (points - 1) * step, bottom, _clock(points - 1)))
    parts.append(_x_axis_line(bottom))
    parts.append(
        f'<text x="{_LEFT + plot_w / 2}" y="{bottom + 40}" text-anchor="middle">'
        "time of day (start of half-hour)</text>"
    )
    chart = _svg(bottom + 50, "Consumption by half-hour", parts)
    return f'<div class="legend">{"".join(legend)}</div>{chart}'


def _hbar_chart(rows: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars, one per labelled count, longest first (labels can be long names)."""
    label_w = 300
    bar_h, gap = 18, 6
    plot_w = _WIDTH - label_w - _RIGHT
    ticks = _ticks(max(n for _, n in rows))
    scale = plot_w / ticks[-1]
    parts = []
    for i, (label, count) in enumerate(rows):
        y = _TOP + i * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end">{_esc(label)}</text>'
            f'<rect class="alert" x="{label_w}" y="{y}" width="{count * scale:.2f}" '
            f'height="{bar_h}" fill="#e15759"><title>{_esc(label)}: {_fmt(count)}</title></rect>'
            f'<text x="{label_w + count * scale + 4:.2f}" y="{y + bar_h - 5}">{_fmt(count)}</text>'
        )
    bottom = _TOP + len(rows) * (bar_h + gap)
    for tick in ticks:
        x = label_w + tick * scale
        parts.append(_x_tick(x, bottom, _tick(tick, ticks)))
    parts.append(
        _line(label_w, bottom, label_w + plot_w, bottom)
        + f'<text x="{label_w + plot_w / 2}" y="{bottom + 34}" text-anchor="middle">alerts</text>'
    )
    return _svg(bottom + 44, "Alerts by code", parts)


def _y_axis(
    ticks: Sequence[float],
    x: float,
    label: str,
    *,
    right: bool = False,
    grid: bool = True,
    colour: str = "#333",
) -> list[str]:
    bottom = _TOP + _PLOT_H
    scale = _PLOT_H / ticks[-1]
    sign, anchor = (1, "start") if right else (-1, "end")
    parts = [_line(x, _TOP, x, bottom)]
    for tick in ticks:
        y = bottom - tick * scale
        if grid:
            parts.append(_line(_LEFT, y, _WIDTH - _RIGHT, y, grid=True))
        parts.append(
            f'<text x="{x + sign * 6}" y="{y + 4:.2f}" text-anchor="{anchor}">'
            f"{_tick(tick, ticks)}</text>"
        )
    lx, ly = x + sign * (_LEFT - 10), _TOP + _PLOT_H / 2
    parts.append(
        f'<text x="{lx}" y="{ly}" text-anchor="middle" style="fill:{colour}" '
        f'transform="rotate({90 * sign} {lx} {ly})">{_esc(label)}</text>'
    )
    return parts


def _x_axis_line(bottom: float) -> str:
    return _line(_LEFT, bottom, _WIDTH - _RIGHT, bottom)


def _x_tick(x: float, bottom: float, text: str) -> str:
    return _line(x, bottom, x, bottom + 4) + (
        f'<text x="{x:.2f}" y="{bottom + 16}" text-anchor="middle">{text}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, *, grid: bool = False) -> str:
    # Stroke as an attribute, not only page CSS, so a chart saved out of the page keeps its axes.
    kind, stroke = ("grid", "#e4e4e4") if grid else ("axis", "#666")
    return (
        f'<line class="{kind}" stroke="{stroke}" '
        f'x1="{x1:.2f}" y1="{y1:.2f}" x2="{x2:.2f}" y2="{y2:.2f}"/>'
    )


def _svg(height: float, title: str, parts: Iterable[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height:.0f}" '
        f'role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``top`` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:  # All zeros: an axis 0..1 keeps the scale finite and the bars flat.
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _tick(value: float, ticks: Sequence[float]) -> str:
    step = ticks[1] - ticks[0]
    if float(step).is_integer():
        return f"{value:,.0f}"
    decimals = min(max(1 - math.floor(math.log10(step)), 1), 6)
    return f"{value:,.{decimals}f}"


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Consecutive known points; a missing half-hour breaks the line instead of inventing one."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if run]


# --- small helpers ----------------------------------------------------------------------------


def _section(title: str, body: str) -> str:
    return f"<section><h2>{_esc(title)}</h2>\n{body}\n</section>"


def _no_data() -> str:
    return '<p class="nodata">no data</p>'


def _mapping(report: Mapping[str, Any], key: str) -> Mapping[Any, Any] | None:
    value = report.get(key)
    return value if isinstance(value, Mapping) else None


def _counts(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): n for k, v in value.items() if (n := _num(v)) is not None and n > 0}


def _num(value: Any) -> float | None:
    """A finite number, or None for anything else (a missing figure, NaN, a stray string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _fmt(value: Any) -> str:
    """A number with thousands separators; anything else escaped as text; None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return _esc(value)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _colour(category: str) -> str:
    known = CATEGORY_COLOURS.get(category)
    if known is not None:
        return known
    return _SPARE_COLOURS[zlib.crc32(category.encode()) % len(_SPARE_COLOURS)]


def _clock(half_hour: int) -> str:
    return f"{half_hour // 2:02d}:{30 * (half_hour % 2):02d}"


def _humanise(key: str) -> str:
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
