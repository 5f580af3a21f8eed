"""The shared prepayment accounts (devices.core.prepayment): instalments, suspension of time
debt, where charges and payments go."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.prepayment import DebtRate, Settings

T0 = 789_000_000 // 1800 * 1800  # a half-hour boundary


@dataclass
class Registers:
    balance: int = 0
    emergency_credit: int = 0
    emergency_granted: int = 0
    accumulated_debt: int = 0
    time_debts: list[int] = field(default_factory=lambda: [0, 0])
    payment_debt: int = 0
    debt_recovered: list[int] = field(default_factory=lambda: [0, 0, 0])


@pytest.mark.parametrize(("amount", "period"), [(100, 86_400), (3_001, 3_600), (7, 86_400)])
def test_a_whole_period_collects_exactly_the_rate(amount: int, period: int) -> None:
    rate = DebtRate(amount=amount, period=period)
    slots = period // 1800
    for shift in range(slots):  # any run of a period's length, wherever it starts
        assert int(rate.instalments(T0 + shift * 1800, slots).sum()) == amount
    assert int(rate.instalments(T0, 10 * slots).sum()) == 10 * amount


def _debt_settings(**flags: bool) -> Settings:
    return Settings(time_debt_rates=(DebtRate(amount=4_800), DebtRate()), **flags)


def _run(registers: Registers, settings: Settings, *, enabled: bool) -> account.DrawDown:
    costs = np.full(4, 1_000, np.int64)
    idle = np.full(4, 100, np.int64)
    return account.draw_down(
        registers, settings, costs=costs, idle_costs=idle, t0=T0, enabled=enabled
    )


def test_time_debt_is_collected_while_disabled_unless_suspended() -> None:
    owed = Registers(time_debts=[10_000, 0])
    _run(owed, _debt_settings(), enabled=False)
    # nothing left to take it from: the standing charge and the instalments are owed
    assert owed.time_debts == [9_600, 0] and owed.accumulated_debt == 4 * 100 + 400
    suspended = Registers(time_debts=[10_000, 0])
    _run(suspended, _debt_settings(suspend_debt_disabled=True), enabled=False)
    assert suspended.time_debts == [10_000, 0] and suspended.accumulated_debt == 400


def test_time_debt_waits_while_emergency_credit_is_in_use_when_so_set() -> None:
    def in_emergency() -> Registers:
        return Registers(emergency_credit=50_000, emergency_granted=50_000, time_debts=[10_000, 0])

    collected = in_emergency()
    _run(collected, _debt_settings(), enabled=True)
    assert collected.emergency_credit == 50_000 - 4_000 - 400
    waiting = in_emergency()
    _run(waiting, _debt_settings(suspend_debt_emergency=True), enabled=True)
    assert waiting.emergency_credit == 50_000 - 4_000 and waiting.time_debts == [10_000, 0]


def test_quiet_runs_take_the_same_as_the_half_hour_walk() -> None:
    settings = Settings(emergency_credit_limit=1, emergency_credit_threshold=5_000)
    quiet, walked = Registers(balance=1_000_000), Registers(balance=1_000_000)
    _run(quiet, settings, enabled=True)
    # the walk: the same charges, one half-hour at a time
    for _ in range(4):
        account.draw_down(
            walked,
            settings,
            costs=np.array([1_000], np.int64),
            idle_costs=np.array([100], np.int64),
            t0=T0,
            enabled=True,
        )
    assert quiet == walked == Registers(balance=996_000)


def test_a_payment_that_does_not_repay_all_emergency_credit_keeps_it_in_use() -> None:
    r = Registers(emergency_credit=100, emergency_granted=500, accumulated_debt=50)
    paid = account.pay_in(r, Settings(), 300)
    assert (paid.to_emergency_credit, paid.to_balance) == (300, 0)
    assert (r.emergency_credit, r.emergency_granted, r.accumulated_debt) == (400, 500, 50)
    paid = account.pay_in(r, Settings(), 300)
    assert (paid.to_emergency_credit, paid.to_accumulated_debt, paid.to_balance) == (100, 50, 150)
    assert (r.emergency_credit, r.emergency_granted, r.balance) == (0, 0, 150)
