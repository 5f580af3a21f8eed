"""Emergency credit and debt recovery in a running simulation (issue 6), through the real path:
the suppliers configure emergency credit (2.1) and set debts (2.3) by the hub, consumers short of
money take emergency credit on the PPMID or ask their supplier for it (2.5), and every meter's
accounts balance: top-ups less what the tariff charged, less the debt recovered, is the credit
(emergency credit used and charges owed counted against it)."""

from __future__ import annotations

import numpy as np
import pytest

from smetsnet.devices.core.prepayment import DebtRate
from smetsnet.devices.esme.state import HALF_HOUR, EsmeState
from smetsnet.gbcs.dlms import seconds_since_2000
from smetsnet.sim.ops_prepayment import (
    DEBT_PER_PAYMENT,
    EC_ACTIVATED,
    EC_AVAILABLE,
    EMERGENCY_CREDIT_LIMIT,
    PAYMENT_DEBT,
    TIME_DEBT,
    UNITS_PER_PENNY,
)
from smetsnet.sim.world import Home
from tests.sim.prepayment_run import Run, prepayment_run

#: 50p a day in meter currency units (the 2.3 rate 5 at price scale -1).
DAILY_RATE = 50_000


@pytest.fixture(scope="module")
def run() -> Run:
    # Seed 3: of 8 prepayment homes, some owe, some are short and take emergency credit both
    # ways (asserted below, so a change of the draws cannot pass unnoticed).
    return prepayment_run(premises=8, days=5, seed=3, top_up_interval_days=3.0)


def _state(run: Run, home: Home) -> EsmeState:
    return run.sim.network.premises[home.chf].esme.state


def _credited(run: Run, home: Home) -> list[int]:
    """The accepted top-ups of a home, in meter currency units, in the order sent."""
    return [t.pence * UNITS_PER_PENNY for t in run.tally.accepted if t.esme == home.esme]


def test_suppliers_configure_and_set_debt_by_the_real_srs(run: Run) -> None:
    tally, out = run.tally, run.outcomes
    homes = list(run.sim.world.homes)
    assert 0 < len(tally.in_debt) < len(homes) and 0 < len(tally.short) < len(homes)
    assert tally.debt_set == tally.in_debt and out["meters_with_debt"] == len(tally.in_debt)
    srvs = run.sim.traffic.by_srv()
    assert srvs["2.1"] >= len(homes) and srvs["2.3"] >= len(tally.in_debt)
    for home in homes:
        state = _state(run, home)
        assert state.payment_mode == "prepayment"
        owes = home.esme in tally.in_debt
        assert (state.time_debts[0] + state.debt_recovered[0] == TIME_DEBT) is owes
        assert (state.payment_debt + state.debt_recovered[2] == PAYMENT_DEBT) is owes


def test_time_debt_is_recovered_at_its_daily_rate_for_every_half_hour_billed(run: Run) -> None:
    for home in run.sim.world.homes:
        if home.esme not in run.tally.in_debt:
            continue
        state = _state(run, home)
        first = seconds_since_2000(run.tally.set_up_at[home.esme]) // HALF_HOUR * HALF_HOUR
        times = state.profile_start + HALF_HOUR * np.arange(len(state.profile_wh))
        billed = int((times >= first).sum())
        due = int(DebtRate(amount=DAILY_RATE, period=86_400).instalments(first, billed).sum())
        assert state.debt_recovered[0] == min(due, TIME_DEBT) > 4 * DAILY_RATE - DAILY_RATE // 2


def test_payment_debt_takes_its_share_of_every_top_up_after_it_was_set(run: Run) -> None:
    for home in run.sim.world.homes:
        if home.esme not in run.tally.in_debt:
            continue
        state = _state(run, home)
        # The first top-up is sent before the debt (and before prepayment mode).
        later = _credited(run, home)[1:]
        assert later
        shares = sum(value * DEBT_PER_PAYMENT // 10_000 for value in later)
        assert state.debt_recovered[2] == min(shares, PAYMENT_DEBT)


def test_every_meter_accounts_for_its_top_ups_charges_and_debt(run: Run) -> None:
    for home in run.sim.world.homes:
        s = _state(run, home)
        recovered = sum(s.debt_recovered)
        # Emergency credit not yet repaid and charges no credit could pay count against it.
        position = s.balance + s.emergency_credit - s.emergency_granted - s.accumulated_debt
        assert position == sum(_credited(run, home)) - s.billed - recovered
        assert s.emergency_credit <= s.emergency_granted <= EMERGENCY_CREDIT_LIMIT


def test_homes_short_of_money_take_emergency_credit_both_ways(run: Run) -> None:
    tally, out = run.tally, run.outcomes
    assert out["emergency_credit_taken_on_ppmid"] >= 1  # type: ignore[operator]
    assert tally.ec["electricity"].granted_remotely >= 1
    # Every grant was alerted (0x81AB) and followed an "available" alert (0x8119).
    granted = tally.ec["electricity"].taken_locally + tally.ec["electricity"].granted_remotely
    assert tally.alerts[EC_ACTIVATED] == granted
    assert tally.alerts[EC_AVAILABLE] >= granted
    # Only homes that ran low asked: each took the full limit when it was granted.
    asked = tally.ec["electricity"].taken_locally + tally.ec["electricity"].asked_remotely
    assert asked == tally.alerts[EC_AVAILABLE]
