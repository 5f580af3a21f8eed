"""The everyday work of the network, as users and homes do it:

- **daily reading packages**: on the first morning every supplier creates a daily DCC schedule
  (5.1) of 4.8.1 Read Active Import Profile Data for each meter it supplies (the electricity
  supplier the ESME, the gas supplier the GSME: its package comes through the gas proxy), and
  the electricity distributor one for a sample of ESMEs (its demand per region); each
  run reads the previous day's 48 half-hours and the hub sends it as a DSPScheduledMessage;
- **on-demand reads**: a supplier reads a meter's registers (4.1.1) during the day;
- **power cuts**: a premises loses power and gets it back minutes to hours later; the meters
  raise their outage and restore alerts when power returns.

Each part is seeded from the run's seed, so the same seed does the same things.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import numpy as np

from smetsnet.duis import Node
from smetsnet.duis.bodies import CreateSchedule, ReadInstantaneousImportRegisters
from smetsnet.sim.engine import Simulation, day_starts, spread
from smetsnet.sim.users import NON_DEVICE, SCHEDULED, Received, SimUser
from smetsnet.sim.world import ACB, DISTRIBUTOR, GAS_SUPPLIER, Home


def install_daily_reads(sim: Simulation, homes: list[Home], when: datetime) -> None:
    """Each home's suppliers schedule its daily package, the runs spread over the read window."""
    config = sim.config
    window = config.daily_read_window_min * 60
    for home in homes:
        offset = config.daily_read_from_min * 60 + (home.index * 7919) % window
        sim.run_offset_s[home.esme] = sim.run_offset_s[home.gsme] = offset
        run_time = f"{offset // 3600:02d}:{offset // 60 % 60:02d}:{offset % 60:02d}Z"
        readers = [(home.electricity_supplier, home.esme), (GAS_SUPPLIER, home.gsme)]
        if distributor_reads(home, config.distributor_read_share):
            readers.append((DISTRIBUTOR, home.esme))
        for user_eui, meter in readers:
            user = sim.users[user_eui]
            body = CreateSchedule(
                frequency="Daily",
                start_date=when.date(),
                service_reference="4.8",
                service_reference_variant="4.8.1",
                device_id=meter,
                scheduled=previous_day("DSPReadActiveImportProfileData"),
                execution_start_time=run_time,
            )
            request = user.request("5.1", body, target=ACB, now=when)
            user.send(sim.handle, request, when, sr_class=NON_DEVICE)


def distributor_reads(home: Home, share: float) -> bool:
    """Whether the distributor reads this home's half-hours too (a fixed, spread sample: what
    it needs for demand per region and half-hour, not every meter)."""
    return (home.index * 2_654_435_761) % 10_000 < share * 10_000


def previous_day(element: str) -> Node:
    """A schedule's DSP element that reads the 48 half-hours of the day before each run."""
    return Node(
        name=element,
        children=(
            Node(name="StartDateOffset", text="-1"),
            Node(name="StartTime", text="00:00:00Z"),
            Node(name="EndDateOffset", text="0"),
            Node(name="EndTime", text="00:00:00Z"),
        ),
    )


def track_scheduled_latency(sim: Simulation) -> None:
    """A schedule's run is measured from its execution time to its package at the user."""

    def listener(user: SimUser, received: Received) -> None:
        if received.schedule_id is None or received.gbcs is None:
            return
        offset = sim.run_offset_s.get(received.gbcs.header.originator)
        if offset is None:
            return
        day = received.at.replace(hour=0, minute=0, second=0, microsecond=0)
        run_at = day + timedelta(seconds=offset)
        if run_at > received.at:  # answered after midnight: the run was the day before
            run_at -= timedelta(days=1)
        seconds = (received.at - run_at).total_seconds()
        user.latencies.setdefault(SCHEDULED, []).append(seconds * 1000.0)

    sim.listen(listener)


def _pick(rng: np.random.Generator, homes: list[Home], rate: float) -> list[Home]:
    count = int(rng.binomial(len(homes), rate))
    if not count:
        return []
    return [homes[int(i)] for i in rng.choice(len(homes), size=count, replace=False)]


def plan_on_demand_reads(sim: Simulation) -> None:
    rng = np.random.default_rng(sim.config.seed * 31 + 1)
    homes = list(sim.world.homes)
    for day in day_starts(sim):
        chosen = _pick(rng, homes, sim.config.on_demand_read_rate)
        for home, when in zip(chosen, spread(rng, day, len(chosen)), strict=True):
            sim.at(when, partial(_read_registers, sim, home))


def _read_registers(sim: Simulation, home: Home, now: datetime) -> None:
    supplier = sim.users[sim.supplier_of(home, now)]
    request = supplier.request(
        "4.1.1", ReadInstantaneousImportRegisters(), target=home.esme, now=now
    )
    supplier.send(sim.handle, request, now)


def plan_outages(sim: Simulation) -> None:
    rng = np.random.default_rng(sim.config.seed * 31 + 2)
    homes = list(sim.world.homes)
    for day in day_starts(sim):
        chosen = _pick(rng, homes, sim.config.outage_rate)
        for home, when in zip(chosen, spread(rng, day, len(chosen)), strict=True):
            minutes = float(rng.lognormal(np.log(45.0), 1.0))
            sim.at(when, partial(_power_cut, sim, home))
            sim.at(when + timedelta(minutes=min(minutes, 600.0)), partial(_power_back, sim, home))


def _power_cut(sim: Simulation, home: Home, now: datetime) -> None:
    premises = sim.network.premises.get(home.chf)
    if premises is not None and premises.outage_since is None:
        premises.power_outage(now)
        sim.outages += 1
        # The comms hub's last gasp reaches the WAN provider, and the DCC tells the distributor.
        if sim.network.wan.is_reachable(home.chf):
            sim.hub.comms_hub_power_lost(home.chf, now)


def _power_back(sim: Simulation, home: Home, now: datetime) -> None:
    premises = sim.network.premises.get(home.chf)
    if premises is None or premises.outage_since is None:
        return
    for wire in premises.power_restored(now):
        sim.network.wan.emit(home.chf, wire, now)
