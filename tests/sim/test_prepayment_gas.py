"""Gas prepayment in a running simulation (issue 6), through the real path: the home's gas
supplier sets the GSME's price (1.2.1, GCS01b) and prepayment mode (1.6, GCS03) and tops it up
(2.2, CS01b) with UTRNs the meter checks; the commands wait at the gas proxy until the meter
wakes, and the meter's balance is what was topped up less what it billed."""

from __future__ import annotations

import pytest

from smetsnet.devices.gas.state import GsmeState
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import gas_supplier_of
from smetsnet.sim.ops_prepayment import (
    GAS_PRICE,
    GAS_STANDING_CHARGE,
    UNITS_PER_PENNY,
    plan_prepayment,
)
from smetsnet.sim.world import Home
from tests.sim.prepayment_run import Run, prepayment_run


@pytest.fixture(scope="module")
def run() -> Run:
    return prepayment_run(premises=4, days=3, seed=5, top_up_interval_days=2.0)


def _state(run: Run, home: Home) -> GsmeState:
    gas = run.sim.network.premises[home.chf].gas
    assert gas is not None
    return gas.gsme.state


def test_every_prepayment_home_has_its_gas_meter_on_prepayment(run: Run) -> None:
    homes = [home for home in run.sim.world.homes if home.prepayment]
    assert homes and set(run.tally.gas_homes) == {home.gsme for home in homes}
    for home in homes:
        state = _state(run, home)
        assert state.payment_mode == "prepayment"
        assert (state.price, state.standing_charge) == (GAS_PRICE, GAS_STANDING_CHARGE)
    out = run.outcomes
    assert out["gas_prepayment_meters"] == out["gas_prepayment_mode_set"] == len(homes)
    assert out["gas_price_set"] == len(homes)


def test_gas_top_ups_come_from_the_gas_supplier_and_are_accepted(run: Run) -> None:
    tally, out = run.tally, run.outcomes
    assert tally.gas_accepted and not tally.gas_refused
    assert out["gas_top_ups_accepted"] == len(tally.gas_accepted) == out["gas_top_ups"]
    assert out["gas_credit_added_pence"] == sum(t.pence for t in tally.gas_accepted)
    for home in run.sim.world.homes:
        mine = [t for t in tally.gas_accepted if t.esme == home.gsme]
        # The first at set-up, then at least one periodic top-up within the three days.
        assert len(mine) >= 2
        assert {t.supplier for t in mine} == {gas_supplier_of(run.sim, home)}
        assert len({t.counter for t in mine}) == len(mine)
        # The meter logged each UTRN it accepted, with its value.
        logged = [(utrn, value) for _, utrn, value in _state(run, home).top_ups]
        assert logged == [(t.utrn, t.pence * UNITS_PER_PENNY) for t in mine]


def test_gas_balance_is_top_ups_less_what_the_meter_billed(run: Run) -> None:
    for home in run.sim.world.homes:
        state = _state(run, home)
        credited = sum(
            t.pence * UNITS_PER_PENNY for t in run.tally.gas_accepted if t.esme == home.gsme
        )
        assert state.billed > 0
        position = state.balance + state.emergency_credit - state.accumulated_debt
        assert position == credited - state.billed


def test_the_same_seed_gives_the_same_top_ups(run: Run) -> None:
    """``smetsnet simulate`` stays deterministic per seed, the gas top-ups too (the UTRNs are
    not compared: each world makes its own keys)."""
    again = Simulation(run.sim.config)
    tally = plan_prepayment(again)
    again.run()
    for mine, theirs in ((run.tally.sent, tally.sent), (run.tally.gas_sent, tally.gas_sent)):
        assert [(t.esme, t.counter, t.pence, t.at) for t in theirs] == [
            (t.esme, t.counter, t.pence, t.at) for t in mine
        ]
