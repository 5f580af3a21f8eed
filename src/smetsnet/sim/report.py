"""The run's report in the terms the GB network uses, for people (HTML) and machines (JSON).

``report.json`` holds only what the seed decides (no wall-clock figures), so the same seed gives
the same file; the wall time is printed and shown in the HTML.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from smetsnet.gbcs.registry import alert_code_info
from smetsnet.sim.engine import Simulation
from smetsnet.sim.users import Checks

HALF_HOURS = 48


def build_report(sim: Simulation, operations: dict[str, Any]) -> dict[str, Any]:
    traffic = sim.traffic
    config = sim.config
    meters = sim.meter_count()
    checks = Checks()
    latencies: dict[str, list[float]] = {}
    alerts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for user in sim.users.values():
        checks.merge(user.checks)
        for sr_class, values in user.latencies.items():
            latencies.setdefault(sr_class, []).extend(values)
        alerts.update(user.alerts)
        codes.update(user.codes)
    # The hub checks every request's XML signature before anything else (access control).
    access = sim.hub.access
    checks.messages_with_signature += access.signatures_checked
    checks.signatures_verified += access.signatures_valid
    failures = {code: n for code, n in sorted(codes.items()) if code.startswith("E")}
    metrics = sim.hub.metrics()
    for name in ("timeouts", "retries", "unmatched", "schedules_removed"):
        if metrics.get(name):
            failures[f"hub {name}"] = int(metrics[name])
    return {
        "premises": config.premises,
        "meters": meters,
        "days": config.days,
        "seed": config.seed,
        "start": config.start.isoformat(),
        "messages_total": traffic.total(),
        "messages_per_meter_per_month": round(
            traffic.per_meter_per_month(meters=meters, days=config.days), 3
        ),
        "share_by_category": {k: round(v, 6) for k, v in traffic.share_by_category().items()},
        "traffic_by_day": {
            day.isoformat(): {c.value: n for c, n in row.items()}
            for day, row in traffic.by_day_and_category().items()
        },
        "messages_by_kind": traffic.by_kind(),
        "wan_transfer_units": traffic.transfers(),
        "messages_by_srv": dict(sorted(traffic.by_srv().items())),
        "messages_by_use_case": dict(sorted(traffic.by_use_case().items())),
        "consumption_by_half_hour": consumption_by_half_hour(sim),
        "readings_received": sim.readings_received,
        "latency_ms": {k: _percentiles(v) for k, v in sorted(latencies.items())},
        "alerts_by_code": dict(sorted(alerts.items())),
        "alert_names": _alert_names(alerts),
        "failures": failures,
        "messages_with_signature": checks.messages_with_signature,
        "signatures_verified": checks.signatures_verified,
        "messages_with_mac": checks.messages_with_mac,
        "macs_verified": checks.macs_verified,
        "operations": operations,
        "audit_entries": len(sim.hub.audit),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "count": 0}
    array = np.asarray(values, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p99": round(float(np.percentile(array, 99)), 1),
        "count": len(values),
    }


def _alert_names(alerts: Counter[str]) -> dict[str, str]:
    names = {}
    for code in alerts:
        if code.startswith("0x"):
            info = alert_code_info(int(code, 16))
            if info is not None:
                names[code] = info.name
    return names


def consumption_by_half_hour(sim: Simulation) -> dict[str, list[float]]:
    """The fleet's mean total per half-hour of the day, per fuel, from the stored readings."""
    store = sim.readings
    if store is None:
        return {}
    table = store.readings()
    if table.num_rows == 0:
        return {}
    starts = table.column("start").cast("int64").to_numpy()
    values = table.column("value").to_numpy()
    fuels = np.asarray(table.column("fuel").to_pylist())
    out: dict[str, list[float]] = {}
    for fuel, label in (("electricity", "electricity_wh"), ("gas", "gas_litres")):
        mask = fuels == fuel
        if not mask.any():
            continue
        slot = (starts[mask] % 86_400) // 1_800
        days = max(1, len(np.unique(starts[mask] // 86_400)))
        totals = np.bincount(slot, weights=values[mask], minlength=HALF_HOURS)[:HALF_HOURS]
        out[label] = [round(float(x), 1) for x in totals / days]
    return out


def write_outputs(report: dict[str, Any], out: Path, *, wall_s: float) -> dict[str, Path]:
    """``report.json`` and ``report.html`` in ``out`` (the readings are already there)."""
    from smetsnet.sim.html import write_html

    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "report.json"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    html_path = write_html({**report, "wall_s": round(wall_s, 1)}, out / "report.html")
    return {"json": json_path, "html": html_path, "readings": out / "readings"}
