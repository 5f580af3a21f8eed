"""Half-hourly metering shared by the electricity and gas meters: the bill of a run of
half-hours at the meter's tariff (prepayment cut-off included) and the rolling consumption
profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core.tariff import Cost, Tariff
from smetsnet.gbcs.dlms import from_seconds_since_2000, seconds_since_2000

HALF_HOUR = 1800


class Tariffed(Protocol):
    """The part of a meter's state a bill reads and changes."""

    supply: str
    payment_mode: str
    price: int
    standing_charge: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Bill:
    """What a run of half-hours used and cost; ``ran_out``: when the credit ran out and the
    supply, enabled until then, was disabled (None: it did not); ``went_low``: when the credit
    fell below the low-credit threshold (None: it did not cross it in this run)."""

    demand: npt.NDArray[np.int64]
    cost: npt.NDArray[np.int64]
    ran_out: datetime | None
    #: per tier and per block, for the billing registers (consistent with ``cost``)
    detail: Cost
    went_low: datetime | None = None


#: The low-credit threshold (currency units of 10^-5 GBP): £1. GBCS makes it a meter setting;
#: no SR of ours sets it, so every prepayment meter uses this (an assumption, not a GB default).
LOW_CREDIT = 100_000


@lru_cache(maxsize=256)
def single_rate(price: int, standing_charge: int) -> Tariff:
    """The one-tier tariff of a meter with no calendar set (state ``price``): cached, as a
    fleet shares a handful of prices."""
    return Tariff.single(price, standing_charge)


def bill(
    start: datetime,
    wh: npt.ArrayLike,
    state: Tariffed,
    credit: int,
    tariff: Tariff | None = None,
    block_used: npt.ArrayLike = (),
) -> Bill:
    """Cost each half-hour at its tier's price (``tariff``; without one, the single ``price``)
    plus a 48th of the daily standing charge; on prepayment nothing is used after the
    half-hour that empties ``credit``, and the supply is disabled."""
    demand = np.asarray(wh, dtype=np.int64)
    if state.supply != "enabled":
        demand = np.zeros_like(demand)
    tariff = tariff or single_rate(state.price, state.standing_charge)
    t0 = seconds_since_2000(start)
    detail = tariff.cost(t0, demand, block_used)
    cost = detail.cost
    ran_out = went_low = None
    if state.payment_mode == "prepayment" and len(demand):
        remaining = credit - np.cumsum(cost)
        if credit >= LOW_CREDIT:
            low = np.flatnonzero(remaining < LOW_CREDIT)
            if len(low):
                went_low = from_seconds_since_2000(t0 + (int(low[0]) + 1) * HALF_HOUR)
        empty = np.flatnonzero(remaining <= 0)
        if len(empty):
            cut = int(empty[0]) + 1
            demand = demand.copy()
            demand[cut:] = 0
            # Billed again so the registers stop at the cut (costs before it are unchanged).
            detail = tariff.cost(t0, demand, block_used)
            cost = detail.cost
            cost[cut:] = 0
            # Alerted once, when an enabled supply goes off (not at every later bill while
            # the standing charge keeps the balance below zero).
            if state.supply == "enabled":
                ran_out = from_seconds_since_2000(t0 + cut * HALF_HOUR)
            state.supply = "disabled"
    return Bill(demand=demand, cost=cost, ran_out=ran_out, detail=detail, went_low=went_low)


def append_profile(
    profile_start: int,
    profile: npt.NDArray[np.uint32],
    start: int,
    values: npt.NDArray[np.uint32],
    capacity: int,
) -> tuple[int, npt.NDArray[np.uint32]]:
    """The profile (start, half-hourly column) with ``values`` from ``start`` appended: a gap
    is filled with zeros and the oldest half-hours beyond ``capacity`` are dropped."""
    if not len(profile):
        profile_start = start
    gap = (start - profile_start) // HALF_HOUR - len(profile)
    joined = np.concatenate((profile, np.zeros(max(gap, 0), np.uint32), values))
    drop = max(len(joined) - capacity, 0)
    return profile_start + drop * HALF_HOUR, joined[drop:]
