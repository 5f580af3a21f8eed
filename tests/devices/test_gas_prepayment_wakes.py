"""A prepayment GSME's wakes run together (issue 6, the steady day's speed) leave the meter, its
GPF mirror and the alerts exactly as wake by wake: the same premises is driven three ways, one
wake per advance, an advance every two hours (the simulation's cadence for prepayment premises)
and one advance per stretch, through days whose gas takes the credit below the low-credit level,
makes emergency credit available, runs out inside a non-disablement period (the valve stays open
until the period ends), is rescued by emergency credit taken from the PPMID (armed, then opened),
runs out of that (0x81AA) and is topped up through a command queued at the GPF, while two
time-based debts are collected and cleared. The tariff and the non-disablement calendar are the
RTDS GCS01a (TOU) and GCS05 reference commands (re-built with our PKI)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.tariff import (
    BLOCK_TIERS,
    BLOCKS,
    TOU_TIERS,
    Calendar,
    DayProfile,
    Tariff,
)
from smetsnet.devices.gas import GasPremises, Gsme
from smetsnet.devices.gas import prepayment as gas_prepayment
from smetsnet.devices.gas.premises import GSME_COMMAND_NOT_RETRIEVED
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.gbz import GbzAlert
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import PPMID_EUI
from tests.devices.test_gas_premises import Hub, _top_up
from tests.devices.test_gas_reference_commands import COMMANDS, join_ppmid
from tests.devices.test_gsme_calendars import NON_DISABLEMENT, TOU, _premises

pytestmark = pytest.mark.skipif(not COMMANDS, reason="reference vectors not found")

HALF = timedelta(minutes=30)
#: The stretches of the run: (hours after the first wake it ends at, what happens then).
Action = Callable[[GasPremises, datetime, Hub], list[bytes]]


def _prepayment(premises: GasPremises, pki: Pki) -> None:
    """Prepayment with £3 of credit, £2 of emergency credit below 50p, low credit below £1 and
    two time debts (24p a day, 10p an hour), not collected while the valve is closed."""
    join_ppmid(pki, premises.gsme)
    s = premises.gsme.state
    s.payment_mode, s.balance, s.low_credit_level = "prepayment", 300_000, 100_000
    s.emergency_credit_limit, s.emergency_credit_threshold = 200_000, 50_000
    s.payment_control = gas_prepayment.PREPAYMENT_ENABLED | gas_prepayment.SUSPEND_DEBT_DISABLED
    s.time_debts = [90_000, 25_000]
    s.time_debt_rates = [[24_000, 86_400], [10_000, 3_600]]
    premises.gpf.refresh(s)


def _emergency_credit(premises: GasPremises, at: datetime, hub: Hub) -> list[bytes]:
    granted, out = premises.emergency_credit_from_ppmid(PPMID_EUI, at)
    assert granted
    assert premises.enable_supply()  # the consumer opens the armed valve
    return out


def _queue_top_up(premises: GasPremises, at: datetime, hub: Hub) -> list[bytes]:
    out = premises.advance(at)
    wire = _top_up(hub, premises, 20_00)
    return out + premises.deliver(wire, at)  # waits at the GPF for the next wake


def _open_valve(premises: GasPremises, at: datetime, hub: Hub) -> list[bytes]:
    out = premises.advance(at)
    assert premises.enable_supply()
    return out


def _nothing(premises: GasPremises, at: datetime, hub: Hub) -> list[bytes]:
    return premises.advance(at)


STRETCHES: tuple[tuple[float, Action], ...] = (
    (68.25, _emergency_credit),
    (96.0, _queue_top_up),
    (97.0, _open_valve),
    (136.0, _nothing),
)


def _run(pki: Pki, protection: Protection, step: timedelta | None) -> dict[str, Any]:
    """The whole run, advancing every ``step`` (None: once per stretch); what it produced."""
    premises = _premises(pki, protection, TOU, NON_DISABLEMENT)
    _prepayment(premises, pki)
    hub = Hub(protection)
    start = premises.next_wake
    now, out = start - HALF, []
    for hours, action in STRETCHES:
        until = start + timedelta(hours=hours)
        while step is not None and now + step < until:
            now += step
            out += premises.advance(now)
        now = until
        out += action(premises, now, hub)
    seen = [decode_message(w) for w in out]  # signatures differ (ECDSA), the rest must not
    return {
        "messages": [(m.header, m.payload.to_json()) for m in seen],
        "alerts": [(a.alert_code, a.timestamp) for a in _alerts(seen)],
        "gsme": premises.gsme.to_json(),
        "mirror": premises.gpf.mirror.to_json(),
        "next_wake": premises.next_wake,
    }


def _alerts(messages: list[GbcsMessage]) -> list[GbzAlert]:
    return [m.payload for m in messages if isinstance(m.payload, GbzAlert)]


def test_prepayment_wakes_run_together_end_as_wake_by_wake(
    gas_pki: Pki, gas_hub: Protection, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = _count_records(monkeypatch)
    wake_by_wake = _run(gas_pki, gas_hub, HALF)
    one_by_one = len(recorded)
    assert set(recorded) == {1}  # the old path: a half-hour a wake
    codes = [code for code, _ in wake_by_wake["alerts"]]
    expected = {
        account.LOW_CREDIT_ALERT,
        account.EMERGENCY_CREDIT_AVAILABLE,
        account.CREDIT_EXHAUSTED,
        account.EMERGENCY_CREDIT_ACTIVATED,
        account.DISABLED_THEN_ARMED_BY_EMERGENCY_CREDIT,
        account.EMERGENCY_CREDIT_EXHAUSTED,
        *account.DEBT_CLEARED[:2],
    }
    assert expected <= set(codes), sorted(hex(c) for c in expected - set(codes))
    assert GSME_COMMAND_NOT_RETRIEVED not in codes
    for step in (timedelta(hours=2), None):
        recorded.clear()
        assert _run(gas_pki, gas_hub, step) == wake_by_wake
        assert len(recorded) < one_by_one / 3  # the wakes did run together


def _count_records(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of half-hours of each call recording them into the GSME."""
    calls: list[int] = []
    record = Gsme.record_half_hours

    def counted(gsme: Gsme, start: datetime, wh: npt.ArrayLike) -> list[bytes]:
        calls.append(int(np.size(wh)))
        return record(gsme, start, wh)

    monkeypatch.setattr(Gsme, "record_half_hours", counted)
    return calls


@pytest.mark.parametrize("tiers", [(1,), (2, 3), (101,), (102, 1, 250)])
def test_a_tariffs_idle_cost_is_its_cost_of_no_energy(tiers: tuple[int, ...]) -> None:
    """What a half-hour with the supply off costs (drawn after a cut): the tariff's bill of no
    energy, whatever its tiers (TOU, block, unknown) and block counters."""
    minutes = np.arange(len(tiers), dtype=np.int64) * 300
    profile = DayProfile(minutes=minutes, tiers=np.array(tiers, np.int64))
    calendar = Calendar(seasons=((1, 1, 1),), weeks={1: (1,) * 7}, days={1: profile})
    base = Tariff.single(12_345, 28_801)
    tariff = Tariff(
        tou_prices=np.arange(1, TOU_TIERS + 1, dtype=np.int64) * 1_000,
        block_prices=np.arange(BLOCK_TIERS * BLOCKS, dtype=np.int64).reshape(BLOCK_TIERS, BLOCKS),
        thresholds=base.thresholds // 10**9,
        standing_charge=base.standing_charge,
        calendar=calendar,
    )
    n, used = 100, np.arange(BLOCK_TIERS, dtype=np.int64) * 7
    expected = tariff.cost(473_385_600, np.zeros(n, np.int64), used).cost
    assert np.array_equal(tariff.idle_cost(n), expected)
    assert np.array_equal(base.idle_cost(n), base.cost(0, np.zeros(n, np.int64)).cost)
