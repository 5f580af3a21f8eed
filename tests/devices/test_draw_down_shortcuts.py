"""The draw-down's shortcuts (devices.core.prepayment.draw_down) take exactly what the plain
half-hour walk takes: a run done at once when nothing can happen, the instalments of a time
debt with nothing owed never worked out, and the non-disablement half-hours asked for (a
function) only when the run is walked. The walk below is the draw-down as the module docstring
states it, one half-hour at a time with every instalment computed, written out independently."""

from __future__ import annotations

import copy

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.prepayment import DebtRate, Settings
from tests.devices.test_prepayment_accounts import T0, Registers


def _walk(
    r: Registers,
    s: Settings,
    costs: list[int],
    idle: list[int],
    held: list[bool],
    enabled: bool,
) -> tuple[list[tuple[int, int]], int | None, list[list[int]]]:
    """The reference: alerts, cut and instalments of a half-hour-by-half-hour draw-down."""
    n = len(costs)
    due = [rate.instalments(T0, n).tolist() for rate in s.time_debt_rates]
    alerts: list[tuple[int, int]] = []
    cut = None
    taken = [[0] * n for _ in range(2)]
    for k in range(n):
        combined_before, balance_before = r.balance + r.emergency_credit, r.balance
        charge = costs[k] if enabled else idle[k]
        suspended = (s.suspend_debt_disabled and not enabled) or (
            s.suspend_debt_emergency and r.emergency_granted > 0
        )
        for i in range(2):
            if suspended or r.time_debts[i] <= 0 or not due[i][k]:
                continue
            amount = min(r.time_debts[i], due[i][k])
            r.time_debts[i] -= amount
            r.debt_recovered[i] += amount
            taken[i][k] = amount
            charge += amount
            if r.time_debts[i] == 0:
                alerts.append((k, account.DEBT_CLEARED[i]))
        if r.balance > 0:
            part = min(r.balance, charge)
            r.balance -= part
            charge -= part
        if charge and r.emergency_granted and r.emergency_credit > 0:
            part = min(r.emergency_credit, charge)
            r.emergency_credit -= part
            charge -= part
            if r.emergency_credit == 0:
                alerts.append((k, account.EMERGENCY_CREDIT_EXHAUSTED))
        r.accumulated_debt += charge
        combined = r.balance + r.emergency_credit
        if combined_before >= s.low_credit_threshold > combined:
            alerts.append((k, account.LOW_CREDIT_ALERT))
        if (
            s.emergency_credit_limit > 0
            and r.emergency_granted == 0
            and balance_before > s.emergency_credit_threshold >= r.balance
        ):
            alerts.append((k, account.EMERGENCY_CREDIT_AVAILABLE))
        if enabled and combined <= s.disablement_threshold and not held[k]:
            enabled = False
            cut = k + 1
            alerts.append((k, account.CREDIT_EXHAUSTED))
    return alerts, cut, taken


money = st.integers(min_value=-50_000, max_value=400_000)
rates = st.builds(
    DebtRate,
    amount=st.sampled_from([0, 0, 4_800, 10_000, 7]),
    period=st.sampled_from([86_400, 3_600, 900]),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Registers, Settings, list[int], list[int], list[bool], bool]:
    n = draw(st.integers(min_value=0, max_value=60))
    granted = draw(st.sampled_from([0, 0, 20_000]))
    registers = Registers(
        balance=draw(money),
        emergency_credit=draw(st.integers(min_value=0, max_value=granted)),
        emergency_granted=granted,
        accumulated_debt=draw(st.integers(min_value=0, max_value=10_000)),
        time_debts=draw(st.lists(st.sampled_from([0, 0, -5, 900, 50_000]), min_size=2, max_size=2)),
    )
    config = Settings(
        disablement_threshold=draw(st.sampled_from([0, 0, 1_000])),
        low_credit_threshold=draw(st.sampled_from([100_000, 0, 250_000])),
        emergency_credit_limit=draw(st.sampled_from([0, 20_000])),
        emergency_credit_threshold=draw(st.sampled_from([0, 50_000])),
        time_debt_rates=(draw(rates), draw(rates)),
        suspend_debt_disabled=draw(st.booleans()),
        suspend_debt_emergency=draw(st.booleans()),
    )
    costs = draw(st.lists(st.integers(0, 9_000), min_size=n, max_size=n))
    idle = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    held = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return registers, config, costs, idle, held, draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(cases(), st.booleans())
def test_the_draw_down_takes_what_the_half_hour_walk_takes(
    case: tuple[Registers, Settings, list[int], list[int], list[bool], bool], lazy: bool
) -> None:
    registers, config, costs, idle, held, enabled = case
    walked = copy.deepcopy(registers)
    expected = _walk(walked, config, costs, idle, held, enabled)
    asked: list[bool] = []

    def periods() -> npt.NDArray[np.bool_]:
        asked.append(True)
        return np.array(held, np.bool_)

    drawn = account.draw_down(
        registers,
        config,
        costs=np.array(costs, np.int64),
        idle_costs=np.array(idle, np.int64),
        t0=T0,
        enabled=enabled,
        non_disabled=periods if lazy else np.array(held, np.bool_),
    )
    assert registers == walked
    assert (drawn.alerts, drawn.cut) == expected[:2]
    assert drawn.instalments.tolist() == expected[2]
    assert len(asked) <= 1  # worked out once at most (and only for a walk)
