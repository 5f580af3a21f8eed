"""Gas prepayment in a running simulation (issue 6), through the real path: the home's gas
supplier sets the GSME's price (1.2.1, GCS01b), prepayment mode (1.6, GCS03), emergency credit
and thresholds (2.1, GCS05) and, for the homes that owe it, debts (2.3, GCS04), and tops it up
(2.2, CS01b) with UTRNs the meter checks; the commands wait at the gas proxy until the meter
wakes. Homes short of money take gas emergency credit on the PPMID or by asking the supplier
(2.5, GCS06), the GSME alerts it (0x81AB), and the next top-up repays it; the time debt is
recovered at its daily rate, so the balance falls by the tariff's charge plus the instalment;
and the meter's balance is what was topped up less what it billed and recovered."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from smetsnet.devices.core.prepayment import DebtRate
from smetsnet.devices.gas.state import HALF_HOUR, GsmeState
from smetsnet.duis import Node, Request, from_xml, to_xml
from smetsnet.duis.bodies import GenericBody
from smetsnet.duis.schema import DuisSchema
from smetsnet.gbcs.dlms import seconds_since_2000
from smetsnet.hub.translate import Context, translate
from smetsnet.inventory import DeviceType
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import gas_supplier_of
from smetsnet.sim.ops_prepayment import (
    EC_ACTIVATED,
    EC_AVAILABLE,
    EMERGENCY_CREDIT_LIMIT,
    EMERGENCY_CREDIT_THRESHOLD,
    GAS_PRICE,
    GAS_STANDING_CHARGE,
    GAS_TIME_DEBT_RATE,
    LOW_CREDIT_THRESHOLD,
    PAYMENT_DEBT,
    TIME_DEBT,
    UNITS_PER_PENNY,
    debt_body,
    emergency_credit_body,
    plan_prepayment,
    prepay_configuration_body,
)
from smetsnet.sim.world import Home
from tests.sim.prepayment_run import Run, prepayment_run, stepped_gas_run
from tests.support.vectors import REFERENCE

DAY = 86_400


@pytest.fixture(scope="module")
def run() -> Run:
    return prepayment_run(premises=4, days=3, seed=5, top_up_interval_days=2.0)


@pytest.fixture(scope="module")
def credit_run() -> Run:
    """Seed 1: of 8 homes, some owe their gas supplier, and short homes take gas emergency
    credit both ways and repay it (asserted below, so a change of the draws cannot pass
    unnoticed); each GSME's state is kept after each wake."""
    return stepped_gas_run(
        premises=8, days=5, seed=1, top_up_interval_days=3.0, step=timedelta(minutes=30)
    )


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


@pytest.mark.parametrize("name", ["run", "credit_run"])
def test_gas_balance_is_top_ups_less_what_the_meter_billed_and_recovered(
    name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(name)
    for home in run.sim.world.homes:
        s = _state(run, home)
        credited = sum(
            t.pence * UNITS_PER_PENNY for t in run.tally.gas_accepted if t.esme == home.gsme
        )
        assert s.billed > 0
        # Emergency credit not yet repaid and charges no credit could pay count against it.
        position = s.balance + s.emergency_credit - s.emergency_granted - s.accumulated_debt
        assert position == credited - s.billed - sum(s.debt_recovered)
        assert 0 <= s.emergency_credit <= s.emergency_granted <= EMERGENCY_CREDIT_LIMIT


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


def test_gas_meters_hold_the_configured_emergency_credit_and_debt(credit_run: Run) -> None:
    """Read back from each GSME: what 2.1 (GCS05) and 2.3 (GCS04) set."""
    tally, out = credit_run.tally, credit_run.outcomes
    homes = list(credit_run.sim.world.homes)
    assert 0 < len(tally.gas_in_debt) < len(homes)
    assert tally.gas_configured == {home.gsme for home in homes}
    assert out["gas_prepay_configured"] == len(homes)
    assert set(tally.gas_debt_set) == tally.gas_in_debt
    assert out["gas_meters_with_debt"] == len(tally.gas_in_debt)
    srvs = credit_run.sim.traffic.by_srv()
    assert srvs["2.1"] >= 2 * len(homes)
    assert srvs["2.3"] >= len(tally.in_debt) + len(tally.gas_in_debt)
    for home in homes:
        s = _state(credit_run, home)
        assert s.emergency_credit_limit == EMERGENCY_CREDIT_LIMIT
        assert s.emergency_credit_threshold == EMERGENCY_CREDIT_THRESHOLD
        assert s.low_credit_level == LOW_CREDIT_THRESHOLD
        owes = home.gsme in tally.gas_in_debt
        assert (s.time_debts[0] + s.debt_recovered[0] == TIME_DEBT) is owes
        assert (s.payment_debt + s.debt_recovered[2] == PAYMENT_DEBT) is owes
        assert s.time_debt_rates[0] == [GAS_TIME_DEBT_RATE if owes else 0, DAY]


def test_time_debt_lowers_the_gas_balance_as_the_tariff_implies(credit_run: Run) -> None:
    """Each wake of an owing GSME with credit: the balance falls by the half-hour's charge at
    the gas price and standing charge plus the time debt's instalment at 50p a day."""
    owing = credit_run.tally.gas_in_debt
    rate = DebtRate(amount=GAS_TIME_DEBT_RATE, period=DAY)
    checked, collected_total = 0, 0
    for (_, before), (end, after) in pairwise(credit_run.gas_steps):
        half_hour = seconds_since_2000(end - timedelta(minutes=1)) - HALF_HOUR
        for gsme in owing:
            b, a = before[gsme], after[gsme]
            quiet = len(a.top_ups) == len(b.top_ups) and not (
                b.emergency_granted or a.emergency_granted
            )
            if not quiet or a.balance <= 0 or b.payment_mode != "prepayment":
                continue
            charged = a.billed - b.billed
            wh = a.energy_wh - b.energy_wh
            assert charged == wh * GAS_PRICE // 1000 + GAS_STANDING_CHARGE // 48
            collected = a.debt_recovered[0] - b.debt_recovered[0]
            assert collected == min(int(rate.instalments(half_hour, 1)[0]), b.time_debts[0])
            assert b.balance - a.balance == charged + collected
            checked += 1
            collected_total += collected
    assert checked > len(owing) * 48 * 3  # most of the five days' wakes
    assert collected_total > len(owing) * 3 * GAS_TIME_DEBT_RATE


def test_time_debt_is_recovered_at_its_daily_rate_from_the_wake_that_set_it(
    credit_run: Run,
) -> None:
    for home in credit_run.sim.world.homes:
        if home.gsme not in credit_run.tally.gas_in_debt:
            continue
        s = _state(credit_run, home)
        answered = seconds_since_2000(credit_run.tally.gas_debt_set[home.gsme])
        wake = answered - answered % HALF_HOUR  # the answer left at the wake that set it
        billed = sum(1 for k in range(len(s.profile_l)) if s.profile_start + k * HALF_HOUR >= wake)
        due = int(DebtRate(amount=GAS_TIME_DEBT_RATE, period=DAY).instalments(wake, billed).sum())
        assert s.debt_recovered[0] == min(due, TIME_DEBT) > 4 * GAS_TIME_DEBT_RATE


def test_short_homes_take_gas_emergency_credit_both_ways(credit_run: Run) -> None:
    tally, out = credit_run.tally, credit_run.outcomes
    gas = tally.ec["gas"]
    assert gas.taken_locally >= 1 and gas.granted_remotely >= 1
    assert out["gas_emergency_credit_taken_on_ppmid"] == gas.taken_locally
    assert out["gas_emergency_credit_asked_of_supplier"] == gas.asked_remotely
    # Every grant was alerted by the GSME (0x81AB) after an "available" alert (0x8119), and
    # each "available" alert had the consumer ask.
    granted = gas.taken_locally + gas.granted_remotely
    assert tally.gas_alerts[EC_ACTIVATED] == out["gas_emergency_credit_activated_alerts"]
    assert tally.gas_alerts[EC_ACTIVATED] == granted
    assert gas.taken_locally + gas.asked_remotely == tally.gas_alerts[EC_AVAILABLE] >= granted
    # Electricity's figures are its own.
    assert tally.ec["electricity"] is not gas


def test_gas_emergency_credit_is_repaid_by_the_next_top_up(credit_run: Run) -> None:
    """Emergency credit ends only at a wake that took a top-up; and a top-up that, after the
    payment debt's share, brings at least the limit ends it (no more can have been used)."""
    ended = repaid = 0
    for (_, before), (_, after) in pairwise(credit_run.gas_steps):
        for gsme, b in before.items():
            a = after[gsme]
            added = sum(value for _, _, value in a.top_ups[len(b.top_ups) :])
            if b.emergency_granted and not a.emergency_granted:
                ended += 1
                assert added > 0
            net = added - (b.payment_debt - a.payment_debt)
            if b.emergency_granted and added and net >= b.emergency_granted:
                assert a.emergency_granted == 0
                repaid += 1
    assert repaid >= 1 and ended >= repaid


@pytest.mark.parametrize(
    ("srv", "body", "use_case"),
    [
        ("2.1", prepay_configuration_body(fuel="gas"), "GCS05"),
        ("2.3", debt_body(rate=GAS_TIME_DEBT_RATE, fuel="gas"), "GCS04"),
        ("2.5", emergency_credit_body(), "GCS06"),
        ("2.1", prepay_configuration_body(), "ECS08"),
        ("2.3", debt_body(), "ECS07"),
    ],
)
def test_bodies_are_valid_duis_and_translate_to_their_use_case(
    run: Run, srv: str, body: Node, use_case: str
) -> None:
    """As the suppliers send them (signed XML aside): valid against the DUIS XSD, and the hub
    translates them to the GCS (gas) or ECS (electricity) use case."""
    folder = REFERENCE / "duis" / "schema"
    if not folder.is_dir():
        pytest.skip(f"DUIS schema not found at {folder}")
    home = run.sim.world.homes[0]
    gas = use_case.startswith("GCS")
    supplier = gas_supplier_of(run.sim, home) if gas else home.electricity_supplier
    meter = home.gsme if gas else home.esme
    request = run.sim.users[supplier].request(
        srv, GenericBody(node=body), target=meter, now=run.sim.end
    )
    xml = to_xml(request)
    DuisSchema(folder).validate(xml)
    parsed = from_xml(xml)
    assert isinstance(parsed, Request)
    rid = request.header.request_id
    ctx = Context(
        srv=srv,
        target=meter,
        device_type=DeviceType.GSME if gas else DeviceType.ESME,
        originator=rid.originator,
        counter=rid.counter,
        now=run.sim.end,
    )
    assert translate(parsed, ctx).use_case == use_case
