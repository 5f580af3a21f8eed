"""Prepayment in a running simulation (issue 6): the meters are put on prepayment with a price
and credit by the real SRs, each top-up raises the credit by exactly its value, credit falls by
what the tariff charges for what the meter recorded, a UTRN cannot be used twice, and a meter
whose credit runs out cuts the supply off until the consumer buys more and presses the button."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pytest

from smetsnet.devices.consumption import Fuel, half_hourly_wh
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.esme.state import HALF_HOUR
from smetsnet.gbcs.dlms import seconds_since_2000
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_prepayment import (
    PRICE,
    STANDING_CHARGE,
    UNITS_PER_PENNY,
    PrepaymentTally,
    TopUp,
    plan_prepayment,
    top_up_times,
)
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import Home

PROBE_PENCE = 1_234


@dataclass
class Probe:
    """A top-up the test makes itself, with the meter's balance around it, then its replays."""

    home: Home
    sent: TopUp | None = None
    before: int = 0
    after: int | None = None
    replay: TopUp | None = None
    replay_before: int = 0
    replay_after: int | None = None
    typed_accepted: bool | None = None
    typed_before: int = 0
    typed_after: int = 0
    alerts: list[int] = field(default_factory=list)


@dataclass
class Run:
    sim: Simulation
    tally: PrepaymentTally
    outcomes: dict[str, object]
    probe: Probe


def _balance(sim: Simulation, home: Home) -> int:
    return sim.network.premises[home.chf].esme.state.balance


@pytest.fixture(scope="module")
def run() -> Run:
    config = SimConfig(
        premises=6,
        days=2,
        seed=5,
        prepayment_share=0.6,
        top_up_interval_days=1.0,
        # half-hourly, so the balance read just before a top-up is the meter's at that moment
        prepayment_advance_min=30.0,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    sim = Simulation(config)
    tally = plan_prepayment(sim)
    # A home without debt that buys enough: its credit moves by exactly what it tops up.
    probe = Probe(
        home=next(
            h
            for h in sim.world.homes
            if h.esme in tally.homes and h.esme not in tally.in_debt | tally.short
        )
    )
    noon = sim.start + timedelta(days=1, hours=12)

    def top_up(now: datetime) -> None:
        probe.before = _balance(sim, probe.home)
        probe.sent = tally.top_up(probe.home, now, pence=PROBE_PENCE)

    def replay(now: datetime) -> None:  # the same UTRN in a new 2.2
        assert probe.sent is not None
        probe.replay_before = _balance(sim, probe.home)
        probe.replay = tally.top_up(probe.home, now, pence=PROBE_PENCE, utrn=probe.sent.utrn)

    def typed(now: datetime) -> None:  # the consumer types the same UTRN on the PPMID
        assert probe.sent is not None
        premises = sim.network.premises[probe.home.chf]
        assert premises.ppmid is not None
        probe.typed_before = _balance(sim, probe.home)
        result = premises.ppmid.enter_utrn(probe.sent.utrn, now)
        probe.typed_accepted, probe.typed_after = result.accepted, _balance(sim, probe.home)
        for wire in result.alerts:  # the meter's alert goes to the supplier over the WAN
            sim.network.wan.emit(probe.home.chf, wire, now)

    def listener(_user: SimUser, received: Received) -> None:
        rid = received.response.header.request_id
        if rid is None or rid.target != probe.home.esme:
            return
        if probe.sent is not None and rid.counter == probe.sent.counter:
            probe.after = _balance(sim, probe.home)
        if probe.replay is not None and rid.counter == probe.replay.counter:
            probe.replay_after = _balance(sim, probe.home)

    sim.listen(listener)
    sim.at(noon + timedelta(minutes=5), top_up)
    sim.at(noon + timedelta(minutes=10), replay)
    sim.at(noon + timedelta(minutes=15), typed)
    sim.run()
    return Run(sim=sim, tally=tally, outcomes=tally(), probe=probe)


def test_prepayment_meters_are_set_up_by_the_real_srs(run: Run) -> None:
    sim, tally = run.sim, run.tally
    prepaid = [h for h in sim.world.homes if h.prepayment]
    assert 2 <= len(prepaid) < len(sim.world.homes)
    assert run.outcomes["prepayment_meters"] == run.outcomes["prepayment_mode_set"] == len(prepaid)
    for home in sim.world.homes:
        state = sim.network.premises[home.chf].esme.state
        if home.prepayment:
            assert state.payment_mode == "prepayment"
            assert (state.price, state.standing_charge) == (PRICE, STANDING_CHARGE)
            assert tally.set_up_at[home.esme] - sim.start < timedelta(minutes=30)
        else:  # untouched: a credit meter, no credit, no top-up
            assert (state.payment_mode, state.balance) == ("credit", 0)
            assert all(t.esme != home.esme for t in tally.sent)
    # The hub counted the SRs in the prepayment and tariff categories.
    srvs = sim.traffic.by_srv()
    assert srvs["1.6"] >= len(prepaid) and srvs["2.2"] >= len(tally.sent) - 1


def test_every_top_up_but_the_replay_is_accepted(run: Run) -> None:
    out = run.outcomes
    # at set-up and about daily for two days, plus the probe and its replay
    assert out["top_ups"] >= 2 * int(out["prepayment_meters"])  # type: ignore[call-overload]
    assert out["top_ups_refused"] == 1
    assert out["top_ups_accepted"] == out["top_ups"] - 1  # type: ignore[operator]
    assert out["credit_added_pence"] == sum(t.pence for t in run.tally.accepted)
    assert run.tally.refused == [run.probe.replay]


def test_a_top_up_raises_the_credit_by_exactly_its_value(run: Run) -> None:
    probe = run.probe
    assert probe.sent is not None and probe.sent in run.tally.accepted
    assert probe.after is not None
    assert probe.after - probe.before == PROBE_PENCE * UNITS_PER_PENNY


def test_a_replayed_utrn_is_refused(run: Run) -> None:
    probe = run.probe
    # Sent again in a new request: its MAC is bound to the first counter, so the meter refuses
    # it as not for this device and the credit does not move.
    assert probe.replay is not None and probe.replay_after == probe.replay_before
    # Typed on the PPMID: the meter has seen that top-up counter (duplicate UTRN).
    assert probe.typed_accepted is False and probe.typed_after == probe.typed_before
    assert run.tally.alerts[codes.UTRN_NOT_FOR_THIS_DEVICE] == 1
    assert run.tally.alerts[codes.DUPLICATE_UTRN] == 1


def test_credit_is_top_ups_less_what_the_tariff_charged_for_the_recorded_use(run: Run) -> None:
    sim, tally = run.sim, run.tally
    for home in (h for h in sim.world.homes if h.prepayment):
        state = sim.network.premises[home.chf].esme.state
        assert state.supply == "enabled"  # credit never ran out (tops up daily)
        assert state.emergency_granted == state.accumulated_debt == 0
        credited = sum(t.pence for t in tally.accepted if t.esme == home.esme)
        # Billed from the half-hour of the set-up (price and mode arrived within it).
        first = seconds_since_2000(tally.set_up_at[home.esme]) // HALF_HOUR * HALF_HOUR
        times = state.profile_start + HALF_HOUR * np.arange(len(state.profile_wh))
        wh = state.profile_wh[times >= first].astype(np.int64)
        assert wh.sum() > 0 and len(wh) >= 2 * 48 - 1
        charged = int((wh * PRICE // 1000 + STANDING_CHARGE // 48).sum())
        assert state.billed == charged
        recovered = sum(state.debt_recovered)
        assert (recovered > 0) is (home.esme in tally.in_debt)
        assert state.balance == credited * UNITS_PER_PENNY - charged - recovered
    assert run.outcomes["meters_disabled"] == run.outcomes["credit_exhausted_alerts"] == 0


def test_credit_running_out_cuts_the_supply_until_the_consumer_tops_up() -> None:
    # Top-ups every 30 days: only the first credit, a small one, within a two-day run.
    config = SimConfig(
        premises=3,
        days=2,
        seed=2,
        prepayment_share=1.0,
        top_up_interval_days=30.0,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    sim = Simulation(config)
    # £2: gone within a day; no emergency credit to fall back on.
    tally = plan_prepayment(sim, first_credit_pence=200, emergency_credit_limit=0)
    sim.run()
    out = tally()
    homes = list(sim.world.homes)
    assert out["meters_disabled"] == len(homes)
    assert out["credit_exhausted_alerts"] >= len(homes)
    assert out["top_ups_after_disablement"] >= len(homes)
    assert out["supplies_re_enabled"] >= len(homes)
    for home in homes:
        state = sim.network.premises[home.chf].esme.state
        credited = sum(t.pence for t in tally.accepted if t.esme == home.esme)
        # Charges that fell due with no credit (the standing charge while off) were owed, then
        # paid from the consumer's top-up; debt recovered went to the supplier, not the bill.
        assert state.emergency_granted == 0
        position = state.balance - state.accumulated_debt + sum(state.debt_recovered)
        assert position == credited * UNITS_PER_PENNY - state.billed
        # Each half-hour recorded either what the home used or, while it was off, nothing.
        premises = sim.network.premises[home.chf]
        first = seconds_since_2000(tally.set_up_at[home.esme]) // HALF_HOUR * HALF_HOUR
        times = state.profile_start + HALF_HOUR * np.arange(len(state.profile_wh))
        recorded = state.profile_wh[times >= first].astype(np.int64)
        days = [sim.start.date() + timedelta(days=d) for d in range(config.days)]
        used = np.concatenate([half_hourly_wh(premises.seed, d, Fuel.ELECTRICITY) for d in days])
        used = used[: len(recorded)].astype(np.int64)
        assert ((recorded == used) | (recorded == 0)).all()
        assert recorded.sum() < used.sum()


def test_top_ups_come_about_every_interval_at_waking_hours() -> None:
    sim = Simulation(SimConfig(premises=2, days=30, prepayment_share=0.0))
    times = top_up_times(sim, np.random.default_rng(1), 3.0)
    gaps = [(b - a).total_seconds() / 86_400 for a, b in itertools.pairwise(times)]
    assert 8 <= len(times) <= 12
    # 0.75-1.25 intervals (2-4 calendar days apart), give or take the waking hours (07-22 h)
    assert all(2 - 15 / 24 <= g <= 4 + 15 / 24 for g in gaps)
    assert all(7 <= t.hour < 22 for t in times)
