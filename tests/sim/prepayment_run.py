"""A simulation with every home on prepayment, run through the real path for the prepayment
tests (module-scoped fixtures build one each)."""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_prepayment import PrepaymentTally, plan_prepayment


@dataclass
class Run:
    sim: Simulation
    tally: PrepaymentTally
    outcomes: dict[str, object]


def prepayment_run(*, premises: int, days: int, seed: int, top_up_interval_days: float) -> Run:
    """``premises`` homes, all prepayment, no on-demand reads or outages, run to the end."""
    config = SimConfig(
        premises=premises,
        days=days,
        seed=seed,
        prepayment_share=1.0,
        top_up_interval_days=top_up_interval_days,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    sim = Simulation(config)
    tally = plan_prepayment(sim)
    sim.run()
    return Run(sim=sim, tally=tally, outcomes=tally())
