"""``smetsnet simulate``: build the world, plan the scenario, run it, write the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from smetsnet.sim import scenario
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import plan_changes_of_supplier, plan_gas_changes_of_supplier
from smetsnet.sim.ops_firmware import plan_firmware_rollout
from smetsnet.sim.ops_install import plan_installs
from smetsnet.sim.ops_prepayment import plan_prepayment
from smetsnet.sim.ops_tariffs import plan_tariff_changes
from smetsnet.sim.report import build_report, write_outputs


def plan(sim: Simulation) -> Callable[[], dict[str, Any]]:
    """Schedule every operation of the run; returns what reports the operations' outcomes."""
    homes = list(sim.world.homes)
    sim.at(sim.start, lambda now: scenario.install_daily_reads(sim, homes, now))
    scenario.track_scheduled_latency(sim)
    scenario.plan_on_demand_reads(sim)
    scenario.plan_outages(sim)
    cos = plan_changes_of_supplier(sim)
    gas_cos = plan_gas_changes_of_supplier(sim)
    tariffs = plan_tariff_changes(sim)
    installs = plan_installs(sim)
    prepayment = plan_prepayment(sim)
    firmware = plan_firmware_rollout(sim, corruption_rate=sim.config.firmware_corruption_rate)

    def outcomes() -> dict[str, Any]:
        return {
            "power_cuts": sim.outages,
            **cos(),
            **gas_cos(),
            **tariffs(),
            "install": installs(),
            "prepayment": prepayment(),
            **firmware(),
        }

    return outcomes


def simulate(
    config: SimConfig,
    *,
    out: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[dict[str, Any], Simulation]:
    """Run ``config``; with ``out``, write report.json, report.html and the readings there."""
    sim = Simulation(config, out=out)
    outcomes = plan(sim)
    sim.run(progress)
    report = build_report(sim, outcomes())
    if out is not None:
        write_outputs(report, out, wall_s=sim.wall_s)
    return report, sim
