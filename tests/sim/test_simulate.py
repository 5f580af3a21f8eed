"""The simulation end to end: readings at the users equal what the meters recorded, the same seed
gives the same report, the audit chain verifies (and a tampered entry is found), the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from smetsnet.cli import app
from smetsnet.hub.audit_chain import verify_chain
from smetsnet.sim.config import SimConfig
from smetsnet.sim.readings import EPOCH_2000
from smetsnet.sim.run import simulate
from smetsnet.sim.world import GAS_SUPPLIER

QUIET = {
    "tariff_change_day": None,
    "firmware_day": None,
    "changes_of_supplier": 0,
    "installs": 0,
    "distributor_read_share": 0.0,
}
REQUIRED = {
    "premises",
    "days",
    "messages_total",
    "messages_per_meter_per_month",
    "share_by_category",
    "latency_ms",
    "alerts_by_code",
    "failures",
    "messages_with_signature",
    "signatures_verified",
    "messages_with_mac",
    "macs_verified",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], object, Path]:
    out = tmp_path_factory.mktemp("sim")
    config = SimConfig.from_dict({"premises": 4, "days": 3, "seed": 5, **QUIET})
    report, sim = simulate(config, out=out)
    return report, sim, out


def _recorded(values: np.ndarray, start_s2000: int, day: date) -> dict[int, int]:
    """Half-hour start (epoch s) -> value, for ``day``, from a device's profile arrays."""
    first = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
    starts = start_s2000 + EPOCH_2000 + 1800 * np.arange(len(values))
    keep = (starts >= first) & (starts < first + 86_400)
    return dict(zip(starts[keep].tolist(), values[keep].tolist(), strict=True))


def test_readings_at_the_users_equal_what_the_meters_recorded(run) -> None:
    _, sim, _ = run
    day = sim.config.start + timedelta(days=1)
    assert sim.readings is not None
    checked = 0
    for home in sim.world.homes:
        premises = sim.network.premises[home.chf]
        esme_state = premises.esme.state
        gas_state = premises.gas.gsme.state
        for user, mpxn, values, start in (
            (home.electricity_supplier, home.mpan, esme_state.profile_wh, esme_state.profile_start),
            (GAS_SUPPLIER, home.mprn, gas_state.profile_l, gas_state.profile_start),
        ):
            table = sim.readings.half_hourly(user=user, mpxn=mpxn, day=day)
            stored = {
                int(s.timestamp()): int(v)
                for s, v in zip(
                    table.column("start").to_pylist(),
                    table.column("value").to_pylist(),
                    strict=True,
                )
            }
            assert len(stored) == 48, (mpxn, len(stored))
            assert stored == _recorded(np.asarray(values), start, day)
            checked += 1
    assert checked == 2 * len(sim.world.homes)
    # Another user's store has none of them: each package was opened by its own supplier only.
    other = sim.readings.readings(user=bytes.fromhex("90B3D51F30020000"))
    assert other.num_rows == 0


def test_report_has_the_figures_and_nothing_was_skipped(run) -> None:
    report, _, out = run
    assert set(report) >= REQUIRED
    assert report["premises"] == 4 and report["days"] == 3
    assert report["signatures_verified"] == report["messages_with_signature"] > 0
    assert report["macs_verified"] == report["messages_with_mac"] > 0
    shares = report["share_by_category"]
    assert abs(sum(shares.values()) - 1.0) < 1e-6
    assert max(shares, key=shares.get) == "readings"
    assert report["latency_ms"]["scheduled"]["count"] == 2 * 4 * 3  # two meters, three runs
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    html = (out / "report.html").read_text()
    assert "<svg" in html and "readings" in html


def test_the_audit_chain_verifies_and_a_tampered_entry_is_found(run, tmp_path: Path) -> None:
    _, sim, out = run
    chain = verify_chain(out / "audit.jsonl")
    assert chain.ok and chain.entries == len(sim.hub.audit) > 100
    lines = (out / "audit.jsonl").read_text().splitlines(keepends=True)
    victim = len(lines) // 2
    record = json.loads(lines[victim])
    record["reason"] = "nothing to see here"
    lines[victim] = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
    tampered = tmp_path / "audit.jsonl"
    tampered.write_text("".join(lines))
    broken = verify_chain(tampered)
    assert not broken.ok and broken.first_broken == record["seq"]


def test_the_same_seed_gives_the_same_report() -> None:
    config = SimConfig.from_dict({"premises": 3, "days": 2, "seed": 9, **QUIET})
    first, _ = simulate(config)
    second, _ = simulate(config)
    assert first == second
    third, _ = simulate(config.with_overrides(seed=10))
    assert third != first


def test_cli_simulate_writes_the_report(tmp_path: Path) -> None:
    settings = tmp_path / "sim.json"
    settings.write_text(json.dumps({"on_demand_read_rate": 0.5, **QUIET}))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--premises",
            "2",
            "--days",
            "1",
            "--out",
            str(out),
            "--config",
            str(settings),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["premises"] == 2 and report["days"] == 1
    again = CliRunner().invoke(
        app, ["simulate", "--premises", "2", "--days", "1", "--out", str(out)]
    )
    assert again.exit_code == 2 and "not empty" in again.output


def test_bad_settings_are_named(tmp_path: Path) -> None:
    settings = tmp_path / "sim.json"
    settings.write_text(json.dumps({"premisses": 3}))
    result = CliRunner().invoke(
        app, ["simulate", "--config", str(settings), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "premisses" in result.output


def test_the_distributor_sees_demand_per_region_and_half_hour(tmp_path: Path) -> None:
    """ED reads its sample of meters; its aggregate per region and half-hour is the sum of
    what those meters recorded."""
    config = SimConfig.from_dict(
        {"premises": 6, "days": 3, "seed": 4, **QUIET, "distributor_read_share": 1.0}
    )
    _, sim = simulate(config, out=tmp_path)
    day = config.start + timedelta(days=1)
    demand = sim.readings.regional_demand(day=day, user=bytes.fromhex("90B3D51F30020000"))
    got: dict[tuple[int, int], int] = {}
    for region, start, total in zip(
        demand.column("region").to_pylist(),
        demand.column("start").to_pylist(),
        demand.column("total").to_pylist(),
        strict=True,
    ):
        got[(region, int(start.timestamp()))] = total
    expected: dict[tuple[int, int], int] = {}
    for home in sim.world.homes:
        state = sim.network.premises[home.chf].esme.state
        for start, wh in _recorded(np.asarray(state.profile_wh), state.profile_start, day).items():
            key = (int(home.region), start)
            expected[key] = expected.get(key, 0) + wh
    assert got == expected and len({r for r, _ in got}) > 1
