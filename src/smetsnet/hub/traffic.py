"""Traffic accounting: every message the hub handles, counted by SR, use case, category, day, meter.

A *message* is one GBCS message (a command to a device, its response, an alert a device sends)
or one DUIS answer to a user for a request that never reaches a device. The report speaks the GB
network's terms: messages per meter per month and the share of each category (readings,
security, install and commission, tariffs, firmware, prepayment, settings, alerts).

Firmware blocks and their acknowledgements on the WAN (11.1/11.4 distribution,
``hub/firmware_distribution.py``) are counted too, but as *transfer units*, apart from the
messages: the DCC's figures count service requests and their GBCS messages, not the CSP's
file-transfer blocks (an 8 KiB image is 17 blocks and 17 acknowledgements per comms hub, which
would make firmware most of a short run's "messages"). :meth:`TrafficMeter.transfers` gives them.

Every SR variant's category lives in ``data/sr_categories.csv`` (written by us from the DUIS SR
names; the rules are in its header). :func:`category_of` looks one up; messages a device sends
unprompted have no SR, so :func:`category_of_use_case` classifies them by GBCS use case.

:class:`TrafficMeter` is on the hub's hot path (thousands of calls a second), so it keeps plain
dicts of tuple -> int and does all grouping at query time, when the cost no longer matters.
Simulations running in several processes each keep one and :meth:`TrafficMeter.merge` them, or
ship them between processes with :meth:`~TrafficMeter.to_json` / :meth:`~TrafficMeter.from_json`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Hashable, Mapping
from datetime import date
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any, Final, TypeVar

from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.registry import message_code_info, message_codes_for

#: Messages: a GBCS command, its response, a device's alert, a DUIS answer to a request that the
#: hub serves itself (a non-device SR).
MESSAGE_KINDS: Final = ("command", "response", "alert", "duis")
#: Transfer units: a block of a firmware image the DCC distributes to a comms hub, and the comms
#: hub's acknowledgement of it.
TRANSFER_KINDS: Final = ("block", "ack")
#: What :meth:`TrafficMeter.count` counts.
KINDS: Final = MESSAGE_KINDS + TRANSFER_KINDS
#: The average month, 365.25 / 12 days, so "per month" does not depend on which month.
DAYS_PER_MONTH: Final = 30.4375
#: The tag of the JSON form; a later, incompatible form gets a new one.
JSON_FORMAT: Final = "smetsnet-traffic/1"

_KIND_SET: Final = frozenset(KINDS)
_TRANSFER_SET: Final = frozenset(TRANSFER_KINDS)
_K = TypeVar("_K", bound=Hashable)


class TrafficError(SmetsnetError):
    """Traffic accounting given something it cannot count or read (the message says what)."""


class UnknownServiceRequest(TrafficError):
    """An SR variant that has no traffic category (not in DUIS V5.4's catalogue)."""

    def __init__(self, srv: str) -> None:
        self.srv = srv
        super().__init__(f"SR variant {srv!r} has no traffic category (not a DUIS SR variant)")


class Category(Enum):
    """Traffic categories: the GB network's eight, plus the DCC-only requests."""

    READINGS = "readings"
    SECURITY = "security"
    INSTALL = "install and commission"
    TARIFFS = "tariffs"
    FIRMWARE = "firmware"
    PREPAYMENT = "prepayment"
    SETTINGS = "settings"
    ALERTS = "alerts"
    #: Non-device requests that never reach a device (schedules, read/update inventory).
    INVENTORY = "inventory and schedules"


@cache
def _categories() -> Mapping[str, Category]:
    text = resources.files("smetsnet.hub").joinpath("data/sr_categories.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    table: dict[str, Category] = {}
    for row in csv.DictReader(lines):
        # A bad data file is a packaging bug: fail loudly, naming the row.
        try:
            table[row["srv"]] = Category(row["category"])
        except ValueError:
            raise TrafficError(
                f"sr_categories.csv: SR {row['srv']}: unknown category {row['category']!r}"
            ) from None
    return table


def all_categorised() -> Mapping[str, Category]:
    """Every SR variant with its category, in DUIS order."""
    return _categories()


def category_of(srv: str) -> Category:
    """The traffic category of an SR variant (``"4.8.1"``); :class:`UnknownServiceRequest` if
    DUIS has no such variant."""
    category = _categories().get(srv)
    if category is None:
        raise UnknownServiceRequest(srv)
    return category


@cache
def category_of_use_case(use_case: str) -> Category | None:
    """The category of a message a device sends unprompted, by GBCS use case (``"ECS80"``).

    Alerts are :attr:`Category.ALERTS`; for anything else (commands and their responses, which
    take their SR's category, or an unknown use case) the answer is None.
    """
    infos = [message_code_info(code) for code in message_codes_for(use_case)]
    if infos and all(info is not None and info.is_alert for info in infos):
        return Category.ALERTS
    return None


#: (day, srv, use case, category, kind): one counter per distinct combination.
_Key = tuple[date, str | None, str | None, Category, str]


class TrafficMeter:
    """Counters of messages; see the module's docstring."""

    __slots__ = ("_counts", "_meters")

    def __init__(self) -> None:
        self._counts: dict[_Key, int] = {}
        self._meters: dict[bytes, int] = {}

    def __repr__(self) -> str:
        return f"TrafficMeter(total={self.total()}, meters={self.meters()})"

    def count(
        self,
        *,
        day: date,
        srv: str | None,
        use_case: str | None,
        category: Category,
        meter: bytes | None,
        kind: str,
        n: int = 1,
    ) -> None:
        """Count ``n`` messages or transfer units (one by default). ``srv`` is None for alerts,
        ``use_case`` for DUIS answers that no GBCS message carries, ``meter`` for messages about
        no device (transfer units count for no meter)."""
        if kind not in _KIND_SET:
            raise TrafficError(f"message kind {kind!r} is not one of {', '.join(KINDS)}")
        if n < 1:
            raise TrafficError(f"message count {n} for {kind} must be at least 1")
        key = (day, srv, use_case, category, kind)
        counts = self._counts
        counts[key] = counts.get(key, 0) + n
        if meter is not None and kind not in _TRANSFER_SET:
            meters = self._meters
            meters[meter] = meters.get(meter, 0) + n

    # -- queries ---------------------------------------------------------------------------------

    def total(self) -> int:
        """All messages (transfer units are not messages: :meth:`transfers`)."""
        return sum(n for key, n in self._counts.items() if key[4] not in _TRANSFER_SET)

    def transfers(self) -> dict[str, int]:
        """Firmware blocks and acknowledgements on the WAN, by kind (every kind listed)."""
        out = dict.fromkeys(TRANSFER_KINDS, 0)
        for key, n in self._counts.items():
            if key[4] in _TRANSFER_SET:
                out[key[4]] += n
        return out

    def _sum_by(self, part: Callable[[_Key], _K | None]) -> dict[_K, int]:
        """Messages grouped by ``part`` of their key (transfer units left out)."""
        out: dict[_K, int] = {}
        for key, n in self._counts.items():
            if key[4] in _TRANSFER_SET:
                continue
            group = part(key)
            if group is not None:
                out[group] = out.get(group, 0) + n
        return out

    def by_category(self) -> dict[Category, int]:
        """Messages per category (only categories counted at least once)."""
        return self._sum_by(lambda key: key[3])

    def share_by_category(self) -> dict[str, float]:
        """Each category's fraction of all messages, keyed by its value, every category listed
        (so a report's columns do not move); empty when nothing was counted."""
        total = self.total()
        if total == 0:
            return {}
        counted = self.by_category()
        return {c.value: counted.get(c, 0) / total for c in Category}

    def by_day_and_category(self) -> dict[date, dict[Category, int]]:
        """Messages per day, then per category, days in order."""
        out: dict[date, dict[Category, int]] = {}
        for (day, _srv, _uc, category, kind), n in sorted(
            self._counts.items(), key=lambda item: item[0][0]
        ):
            if kind in _TRANSFER_SET:
                continue
            per_day = out.setdefault(day, {})
            per_day[category] = per_day.get(category, 0) + n
        return out

    def by_srv(self) -> dict[str, int]:
        """Messages per SR variant (messages without an SR, such as alerts, are left out)."""
        return self._sum_by(lambda key: key[1])

    def by_use_case(self) -> dict[str, int]:
        """Messages per GBCS use case (DUIS answers without a GBCS message are left out)."""
        return self._sum_by(lambda key: key[2])

    def by_kind(self) -> dict[str, int]:
        """Messages per kind (transfer units: :meth:`transfers`)."""
        return self._sum_by(lambda key: key[4])

    def by_meter(self) -> dict[bytes, int]:
        """Messages per meter (messages about no device are left out)."""
        return dict(self._meters)

    def meters(self) -> int:
        """How many distinct meters had at least one message."""
        return len(self._meters)

    def per_meter_per_month(self, meters: int, days: float) -> float:
        """Messages per meter per (average) month, for a fleet of ``meters`` over ``days``.

        The fleet size is given, not taken from :meth:`meters`: a meter that sent nothing still
        shares the network's load.
        """
        if meters <= 0:
            raise TrafficError(f"per_meter_per_month: meters must be positive, not {meters}")
        if days <= 0:
            raise TrafficError(f"per_meter_per_month: days must be positive, not {days}")
        return self.total() / meters / days * DAYS_PER_MONTH

    # -- combining and persisting -----------------------------------------------------------------

    def merge(self, other: TrafficMeter) -> None:
        """Add ``other``'s counts to this meter's (``other`` is left as it was)."""
        # list(): merging a meter into itself must not change the dict being read.
        for key, n in list(other._counts.items()):
            self._counts[key] = self._counts.get(key, 0) + n
        for meter, n in list(other._meters.items()):
            self._meters[meter] = self._meters.get(meter, 0) + n

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: counters as rows, meters as hex strings."""
        rows = [
            [day.isoformat(), srv, use_case, category.value, kind, n]
            for (day, srv, use_case, category, kind), n in self._counts.items()
        ]
        return {
            "format": JSON_FORMAT,
            "counts": rows,
            "meters": {meter.hex(): n for meter, n in self._meters.items()},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TrafficMeter:
        """The meter :meth:`to_json` wrote; :class:`TrafficError` naming the bad part otherwise."""
        if d.get("format") != JSON_FORMAT:
            raise TrafficError(f"traffic JSON: format {d.get('format')!r}, not {JSON_FORMAT!r}")
        meter = cls()
        for i, row in enumerate(d.get("counts", [])):
            key, n = _parse_row(i, row)
            meter._counts[key] = meter._counts.get(key, 0) + n
        meters = d.get("meters", {})
        if not isinstance(meters, Mapping):
            raise TrafficError("traffic JSON: 'meters' is not an object")
        for text, n in meters.items():
            meter._meters[_parse_meter(text)] = _parse_count(f"meter {text}", n)
        return meter


def _parse_row(i: int, row: Any) -> tuple[_Key, int]:
    where = f"counts[{i}]"
    if not isinstance(row, list | tuple) or len(row) != 6:
        raise TrafficError(f"traffic JSON {where}: not a row of 6 fields")
    day, srv, use_case, category, kind, n = row
    try:
        key = (date.fromisoformat(day), srv, use_case, Category(category), kind)
    except (TypeError, ValueError) as exc:
        raise TrafficError(f"traffic JSON {where}: {exc}") from None
    if not all(x is None or isinstance(x, str) for x in (srv, use_case)):
        raise TrafficError(f"traffic JSON {where}: srv and use case must be text or null")
    if kind not in _KIND_SET:
        raise TrafficError(f"traffic JSON {where}: message kind {kind!r} unknown")
    return key, _parse_count(where, n)


def _parse_meter(text: Any) -> bytes:
    try:
        return bytes.fromhex(text)
    except (TypeError, ValueError):
        raise TrafficError(f"traffic JSON meters: {text!r} is not a hex meter id") from None


def _parse_count(where: str, n: Any) -> int:
    # bool is an int in Python; a count of True is a bug in whoever wrote the file.
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise TrafficError(f"traffic JSON {where}: count {n!r} is not a positive integer")
    return n
