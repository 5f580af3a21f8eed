"""Prepayment accounts a meter keeps (SMETS2 prepayment; electricity and gas alike): where each
half-hour's charges are taken from, time-based debt instalments, what a payment pays off first,
when emergency credit may be taken, and when a disabled supply is armed again.

The model, in the order of the ECS03 credit-charge table (credit 0 meter balance, 1 emergency
credit, 2 accumulated debt; GBCS §18.2.1):

- a half-hour's charges (the tariff's, plus the time-debt instalments due) are taken from the
  meter balance while it is above zero, then from the emergency credit balance while emergency
  credit is in use, and what neither can pay is added to the accumulated debt register;
- emergency credit becomes *available* when the meter balance falls to or below the emergency
  credit threshold; taking it (from the meter's interface, or remotely: ECS09) sets the emergency
  credit balance to the limit; it ends when a payment repays what was used;
- the supply is disabled after the half-hour that leaves the combined credit (meter balance plus
  emergency credit balance) at or below the disablement threshold, and armed again when a payment
  or emergency credit lifts it above; the consumer then enables it at the meter or the PPMID;
  not in a non-disablement period (the meter's non-disablement calendar): there the charges go
  on into the accumulated debt, and the supply is disabled after the first half-hour outside
  the period that ends with the credit still at or below the threshold [inferred];
- time-based debt (two registers) is recovered at a rate per period (an hour or a day), spread
  over the period's half-hours so that each whole period collects exactly the rate;
- payment-based debt takes a share (hundredths of a percent) of every top-up before the rest is
  credited; then the emergency credit used is repaid, then the accumulated debt, then the meter
  balance gets what is left [inferred: SMETS2 orders the first and the repayment of emergency
  credit; the place of the accumulated debt is ours].

Money is in the meter's currency units (10^-5 GBP). Alerts are returned as (half-hour index,
code): codes from ``gbcs/data/alert_codes.csv`` (DOMAIN.md §5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core import metering
from smetsnet.devices.core.metering import HALF_HOUR, LOW_CREDIT
from smetsnet.devices.core.tariff import Cost, Tariff
from smetsnet.gbcs.dlms import from_seconds_since_2000, seconds_since_2000

#: Alert codes (DOMAIN.md §5; gbcs/data/alert_codes.csv).
LOW_CREDIT_ALERT: Final = 0x810D  # combined credit below low credit threshold
CREDIT_EXHAUSTED: Final = 0x8F0F  # credit below disablement threshold (supply disabled)
EMERGENCY_CREDIT_AVAILABLE: Final = 0x8119
EMERGENCY_CREDIT_ACTIVATED: Final = 0x81AB
EMERGENCY_CREDIT_EXHAUSTED: Final = 0x81AA
DISABLED_THEN_ARMED_BY_EMERGENCY_CREDIT: Final = 0x8168
#: Debt collection completed: time debt 1, time debt 2, payment debt.
DEBT_CLEARED: Final = (0x81A7, 0x81A8, 0x81A9)
#: DebtRecoveryPerPayment is in hundredths of a percent (DUIS 0..10000 = 0..100 %).
WHOLE: Final = 10_000
TIME_DEBTS: Final = 2


class Account(Protocol):
    """The prepayment registers of a meter's state (an ESME's, or a GSME's under these names)."""

    balance: int
    emergency_credit: int
    emergency_granted: int  # the limit granted when emergency credit was taken; 0: not in use
    accumulated_debt: int
    time_debts: list[int]
    payment_debt: int
    debt_recovered: list[int]  # time debt 1, time debt 2, payment debt: collected so far


@dataclass(frozen=True, slots=True, kw_only=True)
class DebtRate:
    """A time-based debt recovery rate: ``amount`` currency units every ``period`` seconds."""

    amount: int = 0
    period: int = 86_400

    def instalments(self, t0: int, count: int) -> npt.NDArray[np.int64]:
        """What each of ``count`` half-hours from ``t0`` collects: the rate spread over the
        period's half-hours, floor of the cumulative share, so a whole period sums to ``amount``
        (a period shorter than a half-hour collects its rate once per half-hour)."""
        if self.amount <= 0 or count <= 0:
            return np.zeros(max(count, 0), np.int64)
        slots = max(self.period // HALF_HOUR, 1)
        position = (t0 // HALF_HOUR + np.arange(count, dtype=np.int64)) % slots
        return (self.amount * (position + 1)) // slots - (self.amount * position) // slots


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What the supplier configured (ECS03 disablement threshold, ECS08 limits and thresholds,
    ECS07 recovery rates and share; the ECS03 table's debt suspension flags)."""

    disablement_threshold: int = 0
    low_credit_threshold: int = LOW_CREDIT
    emergency_credit_limit: int = 0
    emergency_credit_threshold: int = 0
    time_debt_rates: tuple[DebtRate, DebtRate] = (DebtRate(), DebtRate())
    debt_recovery_per_payment: int = 0  # hundredths of a percent of each top-up
    #: time-based debt is not collected while the supply is disabled / emergency credit is in use
    suspend_debt_disabled: bool = False
    suspend_debt_emergency: bool = False


def combined_credit(account: Account) -> int:
    """Meter balance plus emergency credit balance (what the 0x810D threshold is compared to)."""
    return account.balance + account.emergency_credit


def emergency_credit_available(account: Account, settings: Settings) -> bool:
    """Emergency credit may be taken: a limit is set, none is in use, and the meter balance is at
    or below the emergency credit threshold."""
    return (
        settings.emergency_credit_limit > 0
        and account.emergency_granted == 0
        and account.balance <= settings.emergency_credit_threshold
    )


def take_emergency_credit(account: Account, settings: Settings) -> bool:
    """Emergency credit taken when available (False: it was not): the balance is the limit."""
    if not emergency_credit_available(account, settings):
        return False
    account.emergency_granted = account.emergency_credit = settings.emergency_credit_limit
    return True


class Meter(Account, metering.Tariffed, Protocol):
    """A prepayment meter's state: the account, its payment mode and its supply (or valve)."""


#: What a meter does with a run of half-hours it used and was billed for (its registers).
Register = Callable[[datetime, npt.NDArray[np.int64], Cost], None]
#: The half-hours of a non-disablement period, or a function working them out when needed.
NonDisabled = npt.NDArray[np.bool_] | Callable[[], npt.NDArray[np.bool_]]


def record_half_hours(
    meter: Meter,
    tariff: Tariff,
    block_used: npt.ArrayLike,
    start: datetime,
    wh: npt.ArrayLike,
    *,
    register: Register,
    settings: Settings,
    drawn_from: Callable[[DrawDown, int], None] | None = None,
    non_disabled: NonDisabled | None = None,
) -> list[tuple[datetime, int]]:
    """A meter's consecutive half-hours from ``start``: billed at ``tariff``, into ``register``;
    in prepayment the charges and time-debt instalments come from the account
    (:func:`charge_half_hours`, :func:`draw_down`; the supply is disabled when the credit is
    gone, except in the ``non_disabled`` half-hours) and ``drawn_from(draw-down, t0)`` sees what
    was taken (a debt log). Returns the alerts raised, each with the end of its half-hour.
    ``non_disabled`` may be a function giving them: it is called only when the draw-down goes
    half-hour by half-hour (a quiet run never reads them)."""
    if meter.payment_mode != "prepayment":
        used = metering.bill(start, wh, meter, meter.balance, tariff, block_used)
        register(start, used.demand, used.detail)
        return []
    t0 = seconds_since_2000(start)
    enabled = meter.supply == "enabled"

    def draw(costs: npt.NDArray[np.int64], idle: npt.NDArray[np.int64]) -> DrawDown:
        drawn = draw_down(
            meter,
            settings,
            costs=costs,
            idle_costs=idle,
            t0=t0,
            enabled=enabled,
            non_disabled=non_disabled,
        )
        if drawn.cut is not None:
            meter.supply = "disabled"
        if drawn_from is not None:
            drawn_from(drawn, t0)
        return drawn

    demand, detail, drawn = charge_half_hours(
        tariff, block_used, t0, wh, enabled=enabled, draw=draw
    )
    register(start, demand, detail)
    return [(from_seconds_since_2000(t0 + (k + 1) * HALF_HOUR), code) for k, code in drawn.alerts]


def grant_emergency_credit(meter: Meter, settings: Settings) -> tuple[int, ...] | None:
    """Emergency credit taken (at the meter, from the PPMID or remotely: ECS09 / GCS06) when the
    meter allows it; the alert codes it raised (0x81AB; 0x8168 when it lifts a disabled supply
    back above the disablement threshold, which is armed), or None when it was refused."""
    if meter.payment_mode != "prepayment" or not take_emergency_credit(meter, settings):
        return None
    if should_arm(meter.supply, combined_credit(meter), settings.disablement_threshold):
        meter.supply = "armed"
        return (EMERGENCY_CREDIT_ACTIVATED, DISABLED_THEN_ARMED_BY_EMERGENCY_CREDIT)
    return (EMERGENCY_CREDIT_ACTIVATED,)


def should_arm(supply: str, credit: int, threshold: int = 0) -> bool:
    """A disabled supply is armed when the credit is back above the disablement threshold."""
    return supply == "disabled" and credit > threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """Where a top-up went: payment-based debt, emergency credit repaid, accumulated debt,
    meter balance; and the alerts it raised (debt cleared)."""

    to_payment_debt: int
    to_emergency_credit: int
    to_accumulated_debt: int
    to_balance: int
    alerts: tuple[int, ...] = ()


def pay_in(account: Account, settings: Settings, value: int) -> Payment:
    """A top-up of ``value``: the payment-debt share first, then the emergency credit used (its
    full repayment ends emergency credit), then the accumulated debt, then the meter balance."""
    share = value * settings.debt_recovery_per_payment // WHOLE
    to_debt = min(max(account.payment_debt, 0), max(share, 0))
    account.payment_debt -= to_debt
    account.debt_recovered[TIME_DEBTS] += to_debt
    alerts = (DEBT_CLEARED[TIME_DEBTS],) if to_debt and account.payment_debt == 0 else ()
    rest = value - to_debt
    to_ec = 0
    if account.emergency_granted:
        to_ec = min(max(rest, 0), account.emergency_granted - account.emergency_credit)
        account.emergency_credit += to_ec
        rest -= to_ec
        if account.emergency_credit >= account.emergency_granted:
            account.emergency_credit = account.emergency_granted = 0
    to_accumulated = min(max(rest, 0), max(account.accumulated_debt, 0))
    account.accumulated_debt -= to_accumulated
    rest -= to_accumulated
    account.balance += rest
    return Payment(
        to_payment_debt=to_debt,
        to_emergency_credit=to_ec,
        to_accumulated_debt=to_accumulated,
        to_balance=rest,
        alerts=alerts,
    )


def charge_half_hours(
    tariff: Tariff,
    block_used: npt.ArrayLike,
    t0: int,
    wh: npt.ArrayLike,
    *,
    enabled: bool,
    draw: Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], DrawDown],
) -> tuple[npt.NDArray[np.int64], Cost, DrawDown]:
    """Bill the half-hours from ``t0`` in prepayment: nothing is used while the supply is off;
    ``draw(costs, idle_costs)`` takes the charges from the account (the meter's own draw-down,
    which cuts the supply when the credit is gone). Returns what was used (nothing after a cut),
    the bill of it, and the draw-down."""
    demand = np.asarray(wh, dtype=np.int64)
    if not enabled:
        demand = np.zeros_like(demand)
    detail = tariff.cost(t0, demand, block_used)
    # What each half-hour costs with nothing used (after a cut): the standing charge (the
    # tariff's cost of no energy, at any tier's price).
    idle = tariff.idle_cost(len(demand)) if enabled else detail.cost
    drawn = draw(detail.cost, idle)
    if drawn.cut is not None:
        demand = demand.copy()
        demand[drawn.cut :] = 0
        # Billed again so the registers stop at the cut (costs before it are unchanged).
        detail = tariff.cost(t0, demand, block_used)
    return demand, detail, drawn


@dataclass(slots=True, kw_only=True)
class DrawDown:
    """What a run of half-hours took: the alerts (half-hour index, code; an alert is dated at
    the end of its half-hour), the half-hour after which the supply was cut (None: it was not),
    and the debt instalments collected per half-hour (time debt 1, 2)."""

    alerts: list[tuple[int, int]] = field(default_factory=list)
    cut: int | None = None
    instalments: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((TIME_DEBTS, 0), np.int64)
    )


def draw_down(
    account: Account,
    settings: Settings,
    *,
    costs: npt.NDArray[np.int64],
    idle_costs: npt.NDArray[np.int64],
    t0: int,
    enabled: bool,
    non_disabled: NonDisabled | None = None,
) -> DrawDown:
    """Take ``costs`` (the tariff's charge of each half-hour from ``t0``) and the time-debt
    instalments from the account, in the order of the module docstring. ``idle_costs``: the
    charge of each half-hour with nothing used (the standing charge), taken instead of ``costs``
    once the supply is off. ``enabled``: whether the supply is on at the start.
    ``non_disabled``: the half-hours of a non-disablement period (None: none), or a function
    giving them (called only when the run goes half-hour by half-hour).

    A time debt with nothing owed collects nothing whatever its rate (and a draw-down never
    raises what is owed), so its instalments are not worked out: ``None`` in ``due``."""
    count = len(costs)
    due = [
        rate.instalments(t0, count) if owed > 0 else None
        for rate, owed in zip(settings.time_debt_rates, account.time_debts, strict=True)
    ]
    out = DrawDown(instalments=np.zeros((TIME_DEBTS, count), np.int64))
    total = int(np.add.reduce(costs if enabled else idle_costs))
    if _quiet(account, settings, total, due):
        account.balance -= total
        return out
    cost_list, idle_list = costs.tolist(), idle_costs.tolist()
    due_list = [[0] * count if row is None else row.tolist() for row in due]
    if callable(non_disabled):
        non_disabled = non_disabled()
    held = [False] * count if non_disabled is None else non_disabled.tolist()
    for k in range(count):
        combined_before = combined_credit(account)
        balance_before = account.balance
        charge = int(cost_list[k] if enabled else idle_list[k])
        charge += _collect_time_debt(account, settings, due_list, k, enabled, out)
        _take(account, charge, k, out)
        combined = combined_credit(account)
        if combined_before >= settings.low_credit_threshold > combined:
            out.alerts.append((k, LOW_CREDIT_ALERT))
        if (
            settings.emergency_credit_limit > 0
            and account.emergency_granted == 0
            and balance_before > settings.emergency_credit_threshold >= account.balance
        ):
            out.alerts.append((k, EMERGENCY_CREDIT_AVAILABLE))
        if enabled and combined <= settings.disablement_threshold and not held[k]:
            enabled = False
            out.cut = k + 1
            out.alerts.append((k, CREDIT_EXHAUSTED))
    return out


def _quiet(
    account: Account,
    settings: Settings,
    total: int,
    due: list[npt.NDArray[np.int64] | None],
) -> bool:
    """Nothing can happen but the meter balance paying the tariff (``total``, the run's
    charges): no debt due, no emergency credit in use, and the balance stays above every
    threshold (the common case, done at once). ``due``: each time debt's instalments (None:
    nothing owed, so nothing due)."""
    if account.emergency_granted:
        return False
    if any(row is not None and row.any() for row in due):
        return False
    left = account.balance - total
    floor = max(
        settings.disablement_threshold,
        settings.low_credit_threshold - 1,
        settings.emergency_credit_threshold if settings.emergency_credit_limit > 0 else 0,
        0,
    )
    return left > floor


def _collect_time_debt(
    account: Account,
    settings: Settings,
    due: list[list[int]],
    k: int,
    enabled: bool,
    out: DrawDown,
) -> int:
    suspended = (settings.suspend_debt_disabled and not enabled) or (
        settings.suspend_debt_emergency and account.emergency_granted > 0
    )
    if suspended:
        return 0
    total = 0
    for i in range(TIME_DEBTS):
        owed = account.time_debts[i]
        if owed <= 0 or not due[i][k]:
            continue
        taken = min(owed, due[i][k])
        account.time_debts[i] -= taken
        account.debt_recovered[i] += taken
        out.instalments[i, k] = taken
        total += taken
        if account.time_debts[i] == 0:
            out.alerts.append((k, DEBT_CLEARED[i]))
    return total


def _take(account: Account, charge: int, k: int, out: DrawDown) -> None:
    """A half-hour's charge from the meter balance, the emergency credit, the accumulated debt."""
    if account.balance > 0:
        part = min(account.balance, charge)
        account.balance -= part
        charge -= part
    if charge and account.emergency_granted and account.emergency_credit > 0:
        part = min(account.emergency_credit, charge)
        account.emergency_credit -= part
        charge -= part
        if account.emergency_credit == 0:
            out.alerts.append((k, EMERGENCY_CREDIT_EXHAUSTED))
    account.accumulated_debt += charge


__all__ = [
    "CREDIT_EXHAUSTED",
    "DEBT_CLEARED",
    "DISABLED_THEN_ARMED_BY_EMERGENCY_CREDIT",
    "EMERGENCY_CREDIT_ACTIVATED",
    "EMERGENCY_CREDIT_AVAILABLE",
    "EMERGENCY_CREDIT_EXHAUSTED",
    "LOW_CREDIT_ALERT",
    "Account",
    "DebtRate",
    "DrawDown",
    "NonDisabled",
    "Payment",
    "Settings",
    "combined_credit",
    "draw_down",
    "emergency_credit_available",
    "pay_in",
    "should_arm",
    "take_emergency_credit",
]
