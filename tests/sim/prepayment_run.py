"""A simulation with every home on prepayment, run through the real path for the prepayment
tests (module-scoped fixtures build one each): run to the end, or stepped with the GSMEs' state
kept after each step."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from smetsnet.devices.gas.state import GsmeState
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_prepayment import PrepaymentTally, plan_prepayment


@dataclass
class Run:
    sim: Simulation
    tally: PrepaymentTally
    outcomes: dict[str, object]
    #: a stepped run: (the end of each step, each GSME's state then), in time order
    gas_steps: list[tuple[datetime, dict[bytes, GsmeState]]] = field(default_factory=list)


def prepayment_sim(
    *,
    premises: int,
    days: int,
    seed: int,
    top_up_interval_days: float,
    advance_min: float | None = None,
) -> tuple[Simulation, PrepaymentTally]:
    """``premises`` homes, all prepayment, no on-demand reads or outages, planned, not run;
    each premises advanced at least every ``advance_min`` minutes (None: as configured by
    default)."""
    config = SimConfig(
        premises=premises,
        days=days,
        seed=seed,
        prepayment_share=1.0,
        top_up_interval_days=top_up_interval_days,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    if advance_min is not None:
        config = replace(config, prepayment_advance_min=advance_min)
    sim = Simulation(config)
    return sim, plan_prepayment(sim)


def prepayment_run(*, premises: int, days: int, seed: int, top_up_interval_days: float) -> Run:
    """:func:`prepayment_sim`, run to the end."""
    sim, tally = prepayment_sim(
        premises=premises, days=days, seed=seed, top_up_interval_days=top_up_interval_days
    )
    sim.run()
    return Run(sim=sim, tally=tally, outcomes=tally())


def stepped_gas_run(
    *, premises: int, days: int, seed: int, top_up_interval_days: float, step: timedelta
) -> Run:
    """:func:`prepayment_sim` run in steps of ``step``, each ending a minute after a GSME
    wake (they wake on the half-hours from the start), every GSME's state copied after each.
    The premises are advanced every half-hour, so each GSME runs each wake on time and a step
    of half an hour sees one wake."""
    if step <= timedelta(0) or step % timedelta(minutes=30):
        raise ValueError(f"step: a positive multiple of half an hour, not {step}")
    sim, tally = prepayment_sim(
        premises=premises,
        days=days,
        seed=seed,
        top_up_interval_days=top_up_interval_days,
        advance_min=30.0,
    )
    steps: list[tuple[datetime, dict[bytes, GsmeState]]] = []
    until = sim.start + timedelta(minutes=1)
    while until < sim.end:
        sim.run(until=until)
        states = {}
        for home in sim.world.homes:
            gas = sim.network.premises[home.chf].gas
            if gas is not None:
                states[home.gsme] = gas.gsme.state.copy()
        steps.append((until, states))
        until += step
    sim.run()
    return Run(sim=sim, tally=tally, outcomes=tally(), gas_steps=steps)
