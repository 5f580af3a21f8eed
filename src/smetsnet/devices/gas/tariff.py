"""The GSME's tariff, built from the GBZ Price and Calendar commands it stored (GCS01a/GCS01b).

The ZCL server keeps the payload of every "Publish…" it received (``state.published``, see
:func:`.server._store`), calendar commands by calendar type; the tariff is a
:class:`core.tariff.Tariff` built from the Price commands and the tariff calendar's (type 0: not
the non-disablement calendar of GCS05, type 3, :func:`.prepayment.non_disablement`), so the gas
meter bills with the same logic as the ESME:
- Publish Tariff Information (0700/04): charging scheme = high nibble of the tariff type (ZSE:
  0 TOU, 1 block, 2/3 block and TOU; GCS01a TOU vector 0x00, BLOCK vector 0x10), block threshold
  multiplier / divisor (the vectors: 1 / 1000 on kWh, so a threshold is in Wh);
- Publish Price Matrix (0700/05): sub-payload control bit 0 set = TOU, tier/block id = tier
  1..48; clear = block, id = tier (high nibble, 0 = block only) and block (low nibble, 0 = block
  1) [GCS01a BLOCK vector: ids 00..03 under 3 thresholds];
- Publish Block Thresholds (0700/06): the tier (high nibble of the count byte; control bit 0
  set: all tiers) and its thresholds;
- Publish Day Profile / Week Profile / Seasons / Special Days (0707/01..04) of the tariff
  calendar: the calendar (:func:`stored_calendar`, which reads any calendar type). A ZCL Date is
  4 bytes: year - 1900, month, day, weekday (0xFF: any), read here as a u32 LE.

A day-profile price tier t is TOU tier t; in a block scheme it is block tier t (core tier
BLOCK_BASE + 1 + t; block only: block tier 0, the "no tier" block registers). No Tariff
Information and no Day Profile published: None (the caller bills at the single ``price``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from typing import Final, Generic, TypeVar

import numpy as np

from smetsnet.devices.core.tariff import (
    BLOCK_BASE,
    BLOCK_TIERS,
    BLOCKS,
    NO_LIMIT,
    TOU_TIERS,
    Calendar,
    DayProfile,
    Tariff,
)
from smetsnet.devices.gas.state import TARIFF_CALENDAR, GsmeState, published_prefix, stored_in
from smetsnet.gbcs.gbz import ClusterCommand
from smetsnet.gbcs.gbz.spec import CALENDAR, PRICE

TARIFF_INFORMATION, PRICE_MATRIX, BLOCK_THRESHOLDS = 0x04, 0x05, 0x06
DAY_PROFILE, WEEK_PROFILE, SEASONS, SPECIAL_DAYS = 0x01, 0x02, 0x03, 0x04
TOU_SCHEME, BLOCK_SCHEME = 0, 1
_PREFIXES: Final = (
    *(published_prefix(PRICE, c) for c in (TARIFF_INFORMATION, PRICE_MATRIX, BLOCK_THRESHOLDS)),
    *(published_prefix(CALENDAR, c, TARIFF_CALENDAR) for c in range(DAY_PROFILE, SPECIAL_DAYS + 1)),
)
_ANY: Final = 0xFF
_DEFAULT_DAY: Final = 1  # the all-day profile of a tariff without a calendar
_BUILT_FROM: Final = (
    published_prefix(PRICE, TARIFF_INFORMATION),
    published_prefix(CALENDAR, DAY_PROFILE, TARIFF_CALENDAR),
)
T = TypeVar("T")


class Memo(Generic[T]):
    """What one meter last built from its stored publications, and from what: its tariff and
    calendars change only when a command stores new ones, so they are rebuilt then, not at
    every wake (a fleet's meters, each with publications of its own, are too many for a
    shared cache to hold)."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: tuple[Hashable, T] | None = None

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key``: the one held when it was built from an equal key."""
        held = self._held
        if held is None or held[0] != key:
            held = self._held = (key, build())
        return held[1]


def gsme_tariff(state: GsmeState, memo: Memo[Tariff] | None = None) -> Tariff | None:
    """The tariff the stored publications describe, or None (bill at ``state.price``);
    ``memo``: the meter's own, holding the tariff it last built."""
    published = state.published
    keys = sorted(k for k in published if k.startswith(_PREFIXES))
    if not any(k.startswith(_BUILT_FROM) for k in keys):
        return None
    raw = tuple((k, published[k]) for k in keys)
    if memo is None:
        return _build(raw, state.standing_charge)
    return memo.get((raw, state.standing_charge), lambda: _build(raw, state.standing_charge))


@lru_cache(maxsize=64)
def _build(raw: tuple[tuple[str, bytes], ...], standing_charge: int) -> Tariff:
    """Cached on the stored payloads: a fleet on a few tariffs decodes each once."""
    published = dict(raw)
    info = stored_in(published, PRICE, TARIFF_INFORMATION)
    scheme, multiplier, divisor = TOU_SCHEME, 1, 1000
    if info:
        v = info[-1].values
        scheme = (int(v["tariff_type"]) >> 4) & 0xF
        multiplier, divisor = (
            int(v["block_threshold_multiplier"]),
            int(v["block_threshold_divisor"]),
        )
    tou, block = _prices(stored_in(published, PRICE, PRICE_MATRIX))
    limits = _thresholds(stored_in(published, PRICE, BLOCK_THRESHOLDS), multiplier, divisor)
    return Tariff(
        tou_prices=tou,
        block_prices=block,
        thresholds=limits,
        standing_charge=standing_charge,
        calendar=_calendar(published, scheme),
    )


def _prices(matrices: list[ClusterCommand]) -> tuple[np.ndarray, np.ndarray]:
    tou = np.zeros(TOU_TIERS, np.int64)
    block = np.zeros((BLOCK_TIERS, BLOCKS), np.int64)
    for matrix in matrices:
        prices = matrix["prices"]
        ids, values = prices["tier_block_id"].tolist(), prices["price"].tolist()
        by_tier = bool(matrix["sub_payload_control"] & 1)
        for index, price in zip(ids, values, strict=True):
            if by_tier and 1 <= index <= TOU_TIERS:
                tou[index - 1] = price
            elif not by_tier and index >> 4 < BLOCK_TIERS and index & 0xF < BLOCKS:
                block[index >> 4, index & 0xF] = price
    return tou, block


def _thresholds(commands: list[ClusterCommand], multiplier: int, divisor: int) -> np.ndarray:
    """Thresholds in Wh: value x multiplier / divisor kWh (unit of measure 0, the vectors)."""
    limits = np.full((BLOCK_TIERS, BLOCKS - 1), NO_LIMIT, np.int64)
    for command in commands:
        values = [
            int(x) * multiplier * 1000 // max(divisor, 1)
            for x in command["thresholds"]["threshold"].tolist()[: BLOCKS - 1]
        ]
        tier = int(command["tier_and_threshold_count"]) >> 4
        rows = range(BLOCK_TIERS) if command["sub_payload_control"] & 1 else (tier,)
        for row in rows:
            if row < BLOCK_TIERS:
                limits[row] = NO_LIMIT
                limits[row, : len(values)] = values
    return limits


def _tier(scheme: int, price_tier: int) -> int:
    """The core tier of a day-profile price tier under the charging scheme."""
    if scheme == TOU_SCHEME:
        return min(max(price_tier, 1), TOU_TIERS)
    if scheme == BLOCK_SCHEME:
        return BLOCK_BASE + 1
    return BLOCK_BASE + 1 + min(price_tier, BLOCK_TIERS - 1)


def _calendar(published: Mapping[str, bytes], scheme: int) -> Calendar:
    """The tariff calendar, its price tiers as core tiers; none (no seasons): one tier all day
    (block only: the no-tier block)."""
    calendar = stored_calendar(published, TARIFF_CALENDAR, lambda t: _tier(scheme, t))
    if calendar is not None:
        return calendar
    all_day = DayProfile(minutes=np.zeros(1, np.int64), tiers=np.array([_tier(scheme, 1)]))
    return Calendar(
        seasons=((1, 1, _DEFAULT_DAY),),
        weeks={_DEFAULT_DAY: (_DEFAULT_DAY,) * 7},
        days={_DEFAULT_DAY: all_day},
    )


def stored_calendar(
    published: Mapping[str, bytes], calendar_type: int, value: Callable[[int], int]
) -> Calendar | None:
    """The kept calendar of this ZSE calendar type, each day-profile entry's "price tier" byte
    (a price tier, or a friendly credit calendar's enable flag) as ``value`` maps it; None when
    it has no seasons."""
    days = {
        int(d["day_id"]): DayProfile(
            minutes=d["entries"]["start_minute"].astype(np.int64),
            tiers=np.array([value(t) for t in d["entries"]["price_tier"].tolist()], np.int64),
        )
        for d in stored_in(published, CALENDAR, DAY_PROFILE, calendar_type)
    }
    weeks = {
        int(w["week_id"]): tuple(int(w[f"day_id_ref_{day}"]) for day in _WEEKDAYS)
        for w in stored_in(published, CALENDAR, WEEK_PROFILE, calendar_type)
    }
    seasons: list[tuple[int, int, int]] = []
    for command in stored_in(published, CALENDAR, SEASONS, calendar_type):
        s = command["seasons"]
        for date, week in zip(
            s["season_start_date"].tolist(), s["week_id_ref"].tolist(), strict=True
        ):
            seasons.append(((date >> 8) & 0xFF, (date >> 16) & 0xFF, int(week)))
    special: dict[tuple[int, int, int], int] = {}
    for command in stored_in(published, CALENDAR, SPECIAL_DAYS, calendar_type):
        s = command["special_days"]
        for date, day in zip(s["special_day_date"].tolist(), s["day_id_ref"].tolist(), strict=True):
            year = -1 if date & 0xFF == _ANY else 1900 + (date & 0xFF)
            special[(year, (date >> 8) & 0xFF, (date >> 16) & 0xFF)] = int(day)
    if not seasons:
        return None
    return Calendar(seasons=tuple(sorted(seasons)), weeks=weeks, days=days, special=special)


_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

__all__ = ["Memo", "gsme_tariff", "stored_calendar"]
