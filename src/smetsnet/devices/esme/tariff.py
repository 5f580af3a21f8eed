"""The ESME's tariff, read from the COSEM objects ECS01a/ECS01b SET (GBCS-PAYLOADS §1.8).

The object server keeps every SET value as A-XDR bytes (``state.objects``, "class/OBIS/attr");
the tariff is built from those, so no new state is needed and old state JSON still loads:
- activity calendar 20 0-0:13.0.0.255 attrs 7/8/9 (passive seasons / week / day profiles; the
  activation time, attr 10, is "now" in the vectors, and a future-dated ECS01a is held whole
  until it is due, so the passive calendar is the one that runs);
- special days 11 0-1:11.0.0.255 attr 2 {index, date (year u16 BE, month, day, weekday; 0xFFFF /
  0xFF any), day id};
- block thresholds 21 0-0:16.1.11..18.255 attr 2 (one register monitor per block tier);
- price matrix 113 0-0:19.20.0.255 attr 6 {scaler-unit, ref, array{(index octet, price)}}.
Without a calendar the state's single ``price`` is used (Tariff.single).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from smetsnet.devices.core.tariff import (
    BLOCK_TIERS,
    BLOCKS,
    TOU_TIERS,
    Calendar,
    DayProfile,
    Tariff,
)
from smetsnet.gbcs.dlms import Array, Data, OctetString, Structure, decode_data
from smetsnet.gbcs.dlms.scalars import _Int

CALENDAR = "20/0-0:13.0.0.255/"
SPECIAL_DAYS = "11/0-1:11.0.0.255/2"
PRICES = "113/0-0:19.20.0.255/6"
THRESHOLDS = tuple(f"21/0-0:16.1.{11 + t}.255/2" for t in range(BLOCK_TIERS))
_KEYS = (CALENDAR + "7", CALENDAR + "8", CALENDAR + "9", SPECIAL_DAYS, PRICES, *THRESHOLDS)
_NOTHING_SET = (b"",) * len(_KEYS)  # what each of _KEYS reads as when it was never SET


def esme_tariff(objects: dict[str, bytes], standing_charge: int) -> Tariff | None:
    """The tariff the stored objects describe; None when no calendar was set (the caller bills
    at the single ``price``)."""
    if CALENDAR + "9" not in objects:
        return None
    return _build(tuple(map(objects.get, _KEYS, _NOTHING_SET)), standing_charge)


@lru_cache(maxsize=64)
def _build(raw: tuple[bytes, ...], standing_charge: int) -> Tariff | None:
    """Cached on the encoded objects: a fleet on a few tariffs parses each once."""
    seasons, weeks, days, special, prices, *thresholds = (
        decode_data(b) if b else None for b in raw
    )
    tou, block = _prices(prices)
    limits = np.full((BLOCK_TIERS, BLOCKS - 1), 0xFFFFFFFF, np.int64)
    for t, node in enumerate(thresholds):
        values = [_int(v) for v in _items(node)][: BLOCKS - 1]
        limits[t, : len(values)] = values
    calendar = Calendar(
        seasons=tuple(sorted(_seasons(seasons))),
        weeks=dict(_weeks(weeks)),
        days=dict(_days(days)),
        special=dict(_special(special)),
    )
    return Tariff(
        tou_prices=tou,
        block_prices=block,
        thresholds=limits,
        standing_charge=standing_charge,
        calendar=calendar,
    )


def _items(node: Data | None) -> tuple[Data, ...]:
    return node.items if isinstance(node, (Array, Structure)) else ()


def _int(node: Data) -> int:
    return node.value if isinstance(node, _Int) else 0


def _octets(node: Data) -> bytes:
    return node.value if isinstance(node, OctetString) else b""


def _id(node: Data) -> int:
    """A week or day reference: an unsigned, or a short octet-string name ("01")."""
    return int.from_bytes(_octets(node)[:8], "big") if isinstance(node, OctetString) else _int(node)


def _prices(node: Data | None) -> tuple[np.ndarray, np.ndarray]:
    """Index 0x01..0x30: TOU tiers; 0xA1..0xD8: (block a..d, tier 1..8) [ECS01a vectors]."""
    tou = np.zeros(TOU_TIERS, np.int64)
    block = np.zeros((BLOCK_TIERS, BLOCKS), np.int64)
    table = _items(node)[2] if len(_items(node)) >= 3 else None
    for entry in _items(table):
        parts = _items(entry)
        if len(parts) != 2 or len(_octets(parts[0])) != 1:
            continue
        index, price = _octets(parts[0])[0], _int(parts[1])
        if 1 <= index <= TOU_TIERS:
            tou[index - 1] = price
        elif 0xA <= index >> 4 <= 0xD and 1 <= index & 0xF <= BLOCK_TIERS:
            block[(index & 0xF) - 1, (index >> 4) - 0xA] = price
    return tou, block


def _seasons(node: Data | None) -> list[tuple[int, int, int]]:
    out = []
    for season in _items(node):
        parts = _items(season)
        start = _octets(parts[1]) if len(parts) == 3 else b""
        if len(start) >= 4:
            out.append((start[2], start[3], _id(parts[2])))
    return out


def _weeks(node: Data | None) -> list[tuple[int, tuple[int, ...]]]:
    out = []
    for week in _items(node):
        parts = _items(week)
        if len(parts) == 8:
            out.append((_id(parts[0]), tuple(_int(p) for p in parts[1:])))
    return out


def _days(node: Data | None) -> list[tuple[int, DayProfile]]:
    out = []
    for day in _items(node):
        parts = _items(day)
        if len(parts) != 2:
            continue
        switches = sorted(
            (_octets(a[0])[0] * 60 + _octets(a[0])[1], _int(a[2]))
            for a in map(_items, _items(parts[1]))
            if len(a) == 3 and len(_octets(a[0])) >= 2
        )
        minutes = np.array([m for m, _ in switches], np.int64)
        tiers = np.array([t for _, t in switches], np.int64)
        out.append((_int(parts[0]), DayProfile(minutes=minutes, tiers=tiers)))
    return out


def _special(node: Data | None) -> list[tuple[tuple[int, int, int], int]]:
    out = []
    for entry in _items(node):
        parts = _items(entry)
        date = _octets(parts[1]) if len(parts) == 3 else b""
        if len(date) >= 4:
            year = int.from_bytes(date[:2], "big")
            out.append(((-1 if year == 0xFFFF else year, date[2], date[3]), _int(parts[2])))
    return out


__all__ = ["esme_tariff"]
