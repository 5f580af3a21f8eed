"""A meter's tariff: time-of-use tiers from a calendar, consumption blocks, standing charge.

Calendar (DLMS class 20 / ZSE Calendar cluster): the season whose start (month, day) is the
latest on or before a date gives a week profile; the week profile gives the day profile for the
weekday; a special day overrides it; the day profile's switching times give the tier from each
switch to the next. Season starts recur every year (GBCS seasons are yearly; a year in the
start date is ignored) [inferred].

Tiers are the day-profile script selectors of the ESME vectors (ECS01a TOU/BLOCK, 1.1.1): 1..48
select a TOU price (price matrix index 0x01..0x30); 101..108 select block tier 1..8, whose
energy goes through that tier's block thresholds (register monitors 0-0:16.1.11..18.255) to the
block prices (price matrix index 0xA1..0xD8: letter a..d = block 1..4, digit = tier).

Money in currency units (10^-5 GBP) per kWh, energy in Wh; a half-hour costs
(sum of Wh x price per kWh) // 1000 plus a 48th of the daily standing charge, as the single-rate
bill did, so a one-tier tariff bills exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

TOU_TIERS = 48
BLOCK_TIERS = 8
BLOCKS = 4
BLOCK_BASE = 100  # a day-profile tier above this is a block tier (101 = block tier 1)
HALF_HOUR = 1800
HALF_HOURS_A_DAY = 48
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
NO_LIMIT = np.iinfo(np.int64).max // 4
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class DayProfile:
    """Switching times (minutes after midnight, ascending) and the tier each switches to."""

    minutes: I64
    tiers: I64

    def tiers_at(self, minute: I64) -> I64:
        """The tier at each minute of the day (before the first switch: the last one's)."""
        i = np.searchsorted(self.minutes, minute, side="right") - 1
        return self.tiers[i]  # i == -1 wraps to the last switch: the tier running since then


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """Seasons -> week profiles -> day profiles, special days overriding."""

    seasons: tuple[tuple[int, int, int], ...]  # (month, day, week id), sorted
    weeks: dict[int, tuple[int, ...]]  # week id -> day ids Monday..Sunday
    days: dict[int, DayProfile]
    special: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (year|-1, m, d)
    #: the day profile of each day asked for so far (days since 2000; None: none): a meter
    #: bills the same days wake after wake, and its calendar is fixed until it gets a new one
    _profiles: dict[int, DayProfile | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: the tier of each half-hour of each day asked for so far, by (day, default tier): a run
    #: of half-hours within a day is a slice of it
    _rows: dict[tuple[int, int], I64] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def day_id(self, day: datetime) -> int | None:
        special = self.special.get((day.year, day.month, day.day))
        if special is None:
            special = self.special.get((-1, day.month, day.day))
        if special is not None:
            return special
        if not self.seasons:
            return None
        md = (day.month, day.day)
        current = [s for s in self.seasons if (s[0], s[1]) <= md]
        week = self.weeks.get((current or self.seasons)[-1][2])
        return None if week is None or len(week) < 7 else week[day.weekday()]

    def tiers(self, start_s: int, n: int, default: int = 1) -> I64:
        """The tier of each of ``n`` half-hours from ``start_s`` (seconds since 2000, UTC);
        ``default`` on a day with no day profile."""
        slot, within = divmod(start_s % 86_400, HALF_HOUR)
        if not within and slot + n <= HALF_HOURS_A_DAY:  # half-hours of one day: a slice
            return self._half_hour_row(start_s // 86_400, default)[slot : slot + n].copy()
        times = start_s + HALF_HOUR * np.arange(n, dtype=np.int64)
        first, last = start_s // 86_400, (start_s + HALF_HOUR * max(n - 1, 0)) // 86_400
        if first == last:  # the usual bill: one day's half-hours
            return self._day_tiers(first, times, default)
        out = np.empty(n, np.int64)
        days = times // 86_400
        for d in np.unique(days):
            mask = days == d
            out[mask] = self._day_tiers(int(d), times[mask], default)
        return out

    def _half_hour_row(self, day: int, default: int) -> I64:
        """The tiers of the 48 half-hours of day ``day`` (days since 2000), worked out once:
        :meth:`_day_tiers` goes time by time, so a slice of the row is its answer for those
        half-hours."""
        row = self._rows.get((day, default))
        if row is None:
            times = day * 86_400 + HALF_HOUR * np.arange(HALF_HOURS_A_DAY, dtype=np.int64)
            row = self._rows[(day, default)] = self._day_tiers(day, times, default)
            row.flags.writeable = False
        return row

    def _day_profile(self, day: int) -> DayProfile | None:
        """The day profile of day ``day`` (days since 2000), looked up once per day."""
        if day in self._profiles:
            return self._profiles[day]
        profile = self.days.get(self.day_id(_EPOCH + timedelta(days=day)) or -1)
        self._profiles[day] = profile
        return profile

    def _day_tiers(self, day: int, times: I64, default: int) -> I64:
        """The tiers of ``times``, all on day ``day`` (days since 2000)."""
        profile = self._day_profile(int(day))
        if profile is None or not len(profile.minutes):
            return np.full(len(times), default, np.int64)
        return profile.tiers_at((times % 86_400) // 60)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost:
    """A run of half-hours billed: cost and tier of each, energy per TOU tier and per block,
    and the block counters afterwards."""

    cost: I64
    tier: I64
    tier_wh: I64  # [TOU_TIERS]
    block_wh: I64  # [BLOCK_TIERS, BLOCKS]
    block_used: I64  # [BLOCK_TIERS], energy of each block tier in the block period so far


@dataclass(frozen=True, slots=True, kw_only=True)
class Tariff:
    """Prices per kWh by TOU tier and by (block tier, block), block thresholds (Wh, cumulative
    within the block period), daily standing charge, and the calendar choosing the tier."""

    tou_prices: I64
    block_prices: I64
    thresholds: I64
    standing_charge: int
    calendar: Calendar | None = None

    @classmethod
    def single(cls, price: int, standing_charge: int) -> Tariff:
        """One rate all day: every half-hour in TOU tier 1 (the state's ``price`` fallback)."""
        tou = np.zeros(TOU_TIERS, np.int64)
        tou[0] = price
        return cls(
            tou_prices=tou,
            block_prices=np.zeros((BLOCK_TIERS, BLOCKS), np.int64),
            thresholds=np.full((BLOCK_TIERS, BLOCKS - 1), NO_LIMIT, np.int64),
            standing_charge=standing_charge,
        )

    def cost(self, start_s: int, wh: npt.ArrayLike, block_used: npt.ArrayLike = ()) -> Cost:
        """Bill ``wh`` (one per half-hour from ``start_s``): each half-hour at its tier's price;
        a block tier's energy split across its thresholds from ``block_used`` on."""
        demand = np.asarray(wh, dtype=np.int64)
        n = len(demand)
        used = _block_counters(block_used)
        block_wh = np.zeros((BLOCK_TIERS, BLOCKS), np.int64)
        tier_wh = np.zeros(TOU_TIERS, np.int64)
        if self.calendar is None:  # one rate: every half-hour in TOU tier 1
            tier = np.ones(n, np.int64)
            money = demand * self.tou_prices[0]
            tier_wh[0] = np.add.reduce(demand)
        else:
            tier = self.calendar.tiers(start_s, n)
            if n and tier.min() >= 1 and tier.max() <= TOU_TIERS:  # TOU tiers only
                money = demand * self.tou_prices[tier - 1]
                np.add.at(tier_wh, tier - 1, demand)
            else:
                money = self._mixed(demand, tier, used, tier_wh, block_wh)
        cost = money // 1000 + self.standing_charge // 48
        return Cost(cost=cost, tier=tier, tier_wh=tier_wh, block_wh=block_wh, block_used=used)

    def idle_cost(self, n: int) -> I64:
        """What each of ``n`` half-hours costs with nothing used: :meth:`cost` of no energy
        (nothing at any tier's price, blocks untouched), the standing charge's 48th."""
        return np.full(n, self.standing_charge // 48, np.int64)

    def _mixed(self, demand: I64, tier: I64, used: I64, tier_wh: I64, block_wh: I64) -> I64:
        """Wh x price of each half-hour when block tiers (or unknown tiers, billed at nothing)
        are among them; fills ``tier_wh`` and ``block_wh`` and moves ``used`` on."""
        money = np.zeros(len(demand), np.int64)  # Wh x price, divided by 1000 once per half-hour
        tou = (tier >= 1) & (tier <= TOU_TIERS)
        money[tou] = demand[tou] * self.tou_prices[tier[tou] - 1]
        np.add.at(tier_wh, tier[tou] - 1, demand[tou])
        for k in np.unique(tier[tier > BLOCK_BASE]):
            t = int(k) - BLOCK_BASE - 1
            if t >= BLOCK_TIERS:
                continue
            mask = tier == k
            split = _split(demand[mask], int(used[t]), self.thresholds[t])
            money[mask] = split @ self.block_prices[t]
            block_wh[t] = split.sum(axis=0)
            used[t] += int(demand[mask].sum())
        return money


def _block_counters(block_used: npt.ArrayLike) -> I64:
    """A fresh copy of the block counters (one per block tier; missing ones 0, extra ones
    ignored). A meter's own counters, already one int64 per block tier, are simply copied."""
    if (
        isinstance(block_used, np.ndarray)
        and block_used.dtype == np.int64
        and block_used.shape == (BLOCK_TIERS,)
    ):
        return block_used.copy()
    used = np.zeros(BLOCK_TIERS, np.int64)
    prior = np.asarray(block_used, dtype=np.int64)[:BLOCK_TIERS]
    used[: len(prior)] = prior
    return used


def _split(wh: I64, used: int, thresholds: I64) -> npt.NDArray[np.int64]:
    """Each half-hour's energy per block [n, BLOCKS]: the part of the running total between
    consecutive thresholds (a half-hour crossing one is billed partly in each block)."""
    after = used + np.cumsum(wh)
    before = after - wh
    edges = np.concatenate(([0], np.maximum.accumulate(thresholds), [NO_LIMIT]))
    lo, hi = edges[:-1], edges[1:]
    split: I64 = np.clip(after[:, None], lo, hi) - np.clip(before[:, None], lo, hi)
    return split


__all__ = ["BLOCKS", "BLOCK_TIERS", "TOU_TIERS", "Calendar", "Cost", "DayProfile", "Tariff"]
