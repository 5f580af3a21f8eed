"""The GSME's prepayment: the shared account model (:mod:`smetsnet.devices.core.prepayment`) on
the registers of a :class:`GsmeState`, with the settings the GBZ prepayment commands stored.

Where the settings come from (ZSE Prepayment cluster 0x0705, as the hub translates the SRs):
- GCS05 (2.1) Emergency Credit Setup: emergency credit limit and threshold; Set Low Credit
  Warning Level: the low credit threshold (0x810D);
- GCS02/GCS03 (1.6) Change Payment Mode: the payment control configuration (bit 1 prepayment;
  bit 10 set: time debt is not collected while the supply is disabled; bit 11 clear: nor while
  emergency credit is in use) and the cut-off value, the disablement threshold (GCS02's -1:
  unchanged);
- GCS04 (2.3) Change Debt: per debt register (type 1, 2: time debts 1, 2; type 3: payment
  debt) the amount, absolute (even types) or added (odd types), and its recovery: an amount
  per hour / day / week for a time debt, a share in hundredths of a percent of each top-up for
  the payment debt.

- GCS05 (2.1) also publishes the non-disablement calendar, a ZSE friendly credit calendar
  (calendar type 3: Publish Calendar, Day Profiles, Week Profiles, Seasons, Special Days), kept
  apart from the tariff's (:mod:`.state`): each day-profile entry starts (1) or stops (0)
  non-disablement at its minute of the day (the hub's translation of NonDisablementAction
  START / STOP). :func:`non_disablement` tells the half-hours in which the supply is not to be
  disabled for lack of credit [inferred: as SMETS2 names the calendar; credit running out
  inside such a period disables the supply at the first half-hour after it, if the credit is
  still at or below the disablement threshold; no calendar kept: none].

Money is in the meter's currency units (10^-5 GBP), recovery amounts too [inferred: GBCS gives
the gas debt recovery amount in the currency of the meter's other registers]. Alerts are the
GSME's prepayment alerts of GBCS (alert_codes.csv): 0x810D low credit, 0x8F0F credit below
disablement threshold, 0x8119 emergency credit available, 0x81AB activated, 0x81AA exhausted,
0x8168 supply armed by emergency credit, 0x81A7-0x81A9 debt cleared, 0x8F32 supply armed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.device import Alert
from smetsnet.devices.core.tariff import Calendar
from smetsnet.devices.gas.state import (
    DEBT_LOG_CAPACITY,
    FRIENDLY_CREDIT_CALENDAR,
    HALF_HOUR,
    GsmeState,
    published_prefix,
)
from smetsnet.devices.gas.tariff import Memo, stored_calendar
from smetsnet.gbcs.gbz.spec import CALENDAR

#: Payment control configuration bits (ZSE map16; the hub's GCS03 translation).
PREPAYMENT_ENABLED: Final = 0x0002
SUSPEND_DEBT_DISABLED: Final = 0x0400
COLLECT_DEBT_IN_EMERGENCY: Final = 0x0800
#: ZSE Debt Recovery Frequency -> seconds (hourly, daily, weekly).
RECOVERY_PERIODS: Final = {0: 3_600, 1: 86_400, 2: 7 * 86_400}
#: Debt types of the debt log and of Change Debt (1, 2: time debts; 3: payment debt).
DEBT_TYPES: Final = 3
DAY: Final = 86_400
#: Key prefixes of the kept non-disablement calendar (Day, Week Profiles, Seasons, Special Days).
_NON_DISABLEMENT: Final = tuple(
    published_prefix(CALENDAR, command_id, FRIENDLY_CREDIT_CALENDAR) for command_id in (1, 2, 3, 4)
)


def settings(state: GsmeState) -> account.Settings:
    """The prepayment settings the stored commands describe."""
    rates = tuple((int(amount), int(period)) for amount, period in state.time_debt_rates)
    return _settings(
        state.disablement_threshold,
        state.low_credit_level,
        state.emergency_credit_limit,
        state.emergency_credit_threshold,
        rates,
        state.debt_recovery_per_payment,
        state.payment_control,
    )


@lru_cache(maxsize=256)
def _settings(
    disablement: int,
    low_credit: int,
    limit: int,
    threshold: int,
    rates: tuple[tuple[int, int], ...],
    per_payment: int,
    control: int,
) -> account.Settings:
    """Cached on the values: a fleet shares a few configurations. A meter never sent GCS03
    (configuration 0) suspends nothing."""
    first, second = (account.DebtRate(amount=max(a, 0), period=max(p, 1)) for a, p in rates)
    return account.Settings(
        disablement_threshold=disablement,
        low_credit_threshold=low_credit,
        emergency_credit_limit=max(limit, 0),
        emergency_credit_threshold=threshold,
        time_debt_rates=(first, second),
        debt_recovery_per_payment=min(max(per_payment, 0), account.WHOLE),
        suspend_debt_disabled=bool(control & SUSPEND_DEBT_DISABLED),
        suspend_debt_emergency=control != 0 and not control & COLLECT_DEBT_IN_EMERGENCY,
    )


def take_emergency_credit(state: GsmeState, alerts: list[Alert]) -> bool:
    """Emergency credit taken (GCS06 from the supplier, PCS02 from the PPMID, the meter's own
    button) when the meter allows it (:func:`.core.prepayment.grant_emergency_credit`, whose
    alerts join ``alerts``)."""
    raised = account.grant_emergency_credit(state, settings(state))
    alerts.extend(Alert(code=code) for code in raised or ())
    return raised is not None


def credit_top_up(state: GsmeState, value: int, clock: int, alerts: list[Alert]) -> None:
    """A top-up's value: in prepayment through the account (payment debt share first, then the
    emergency credit used, the accumulated debt, the balance); in credit mode, where no debt is
    recovered, straight onto the meter balance."""
    if state.payment_mode != "prepayment":
        state.balance += value
        return
    payment = account.pay_in(state, settings(state), value)
    if payment.to_payment_debt:
        log_collection(state, clock, DEBT_TYPES, payment.to_payment_debt)
    alerts.extend(Alert(code=code) for code in payment.alerts)


def rearm(state: GsmeState, alerts: list[Alert]) -> None:
    """Credit came back (top-up, adjustment): a valve closed for credit is armed (0x8F32)."""
    threshold = settings(state).disablement_threshold
    if state.payment_mode == "prepayment" and account.should_arm(
        state.supply, account.combined_credit(state), threshold
    ):
        state.supply = "armed"
        alerts.append(Alert(code=codes.SUPPLY_ARMED))


def log_collections(state: GsmeState, drawn: account.DrawDown, t0: int) -> None:
    """The time-debt instalments a draw-down collected, into the debt log (GCS15d), each with
    what was left of its debt just after it (as if logged at its own half-hour: a run of
    half-hours drawn at once logs as they would have one by one)."""
    taken = drawn.instalments
    if not taken.any():
        return
    left = [outstanding(state, i + 1) + int(row.sum()) for i, row in enumerate(taken)]
    for k in np.flatnonzero(taken.any(axis=0)).tolist():  # half-hour by half-hour
        for index, amount in enumerate(taken[:, k].tolist()):
            if amount:
                left[index] -= amount
                log_collection(state, t0 + k * HALF_HOUR, index + 1, amount, left[index])


def outstanding(state: GsmeState, debt_type: int) -> int:
    """What is left of debt register ``debt_type`` (1, 2: time debts; 3: payment debt)."""
    if debt_type == DEBT_TYPES:
        return state.payment_debt
    return state.time_debts[debt_type - 1]


def log_collection(
    state: GsmeState, when: int, debt_type: int, amount: int, left: int | None = None
) -> None:
    """Add a collection to the debt log: one entry per register and day, the newest last;
    ``left``: what the debt register held just after it (None: what it holds now)."""
    day = when - when % DAY
    left = outstanding(state, debt_type) if left is None else left
    log = state.debt_log
    for i in range(len(log) - 1, -1, -1):
        logged_day, collected, logged_type, _ = log[i]
        if logged_day != day:
            break
        if logged_type == debt_type:
            log[i] = (day, collected + amount, debt_type, left)
            return
    log.append((day, amount, debt_type, left))
    del log[:-DEBT_LOG_CAPACITY]


def non_disablement(
    state: GsmeState, start_s: int, count: int, memo: Memo[Calendar | None] | None = None
) -> npt.NDArray[np.bool_]:
    """Whether each of ``count`` half-hours from ``start_s`` (seconds since 2000, as the
    half-hours billed) starts inside a non-disablement period of the kept non-disablement
    calendar (module docstring): the flag its day's day profile sets at that minute.
    ``memo``: the meter's own, holding the calendar it last built."""
    published = state.published
    kept = tuple(sorted((k, v) for k, v in published.items() if k.startswith(_NON_DISABLEMENT)))
    if not kept:
        calendar = None
    elif memo is None:
        calendar = _non_disablement_calendar(kept)
    else:
        calendar = memo.get(kept, lambda: _non_disablement_calendar(kept))
    if calendar is None:
        return np.zeros(count, np.bool_)
    held: npt.NDArray[np.bool_] = calendar.tiers(start_s, count, default=0) != 0
    return held


@lru_cache(maxsize=64)
def _non_disablement_calendar(kept: tuple[tuple[str, bytes], ...]) -> Calendar | None:
    """Cached on the kept payloads: a fleet shares a few calendars."""
    return stored_calendar(dict(kept), FRIENDLY_CREDIT_CALENDAR, lambda flag: int(flag != 0))


def credit_status(state: GsmeState) -> int:
    """ZSE Credit Status (0x0003): bit 0 credit OK, 1 low credit, 2 emergency credit enabled,
    3 available, 4 selected, 5 in use, 6 credit exhausted."""
    config = settings(state)
    combined = account.combined_credit(state)
    bits = 0
    if combined > config.low_credit_threshold:
        bits |= 0x01
    elif combined > config.disablement_threshold:
        bits |= 0x02
    if config.emergency_credit_limit > 0:
        bits |= 0x04
    if account.emergency_credit_available(state, config):
        bits |= 0x08
    if state.emergency_granted:
        bits |= 0x10 | (0x20 if state.balance <= 0 else 0)
    if combined <= config.disablement_threshold:
        bits |= 0x40
    return bits


__all__ = [
    "RECOVERY_PERIODS",
    "credit_status",
    "credit_top_up",
    "log_collection",
    "log_collections",
    "non_disablement",
    "outstanding",
    "rearm",
    "settings",
    "take_emergency_credit",
]
