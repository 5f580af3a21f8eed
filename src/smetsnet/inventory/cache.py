"""A warm cache for the hub's hot look-ups: device by EUI, service user by EUI, and who holds a
role for a device.

A role look-up caches the whole registration timeline of the MPxN that serves the device (one
row per interval), so any time can be answered from memory by binary search, including after a
change of supplier on a future date. Entries are dropped by the service when it changes what
they were read from: a device's own entry when that device changes; every timeline of an MPxN
when its registrations change; all timelines when meter points or placements change (rare).
Other processes' changes are not seen: give ``ttl`` seconds where several processes write.
Negative answers (no such device, no MPxN) are cached too and dropped the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from typing import Generic, TypeVar

from smetsnet.inventory.model import Device, RoleTimeline, ServiceUser, UserRole


class Miss(Enum):
    MISS = 0


MISS = Miss.MISS
_K = TypeVar("_K")
_V = TypeVar("_V")


class _Table(Generic[_K, _V]):
    """A bounded dict with optional expiry; the oldest entry goes first when full."""

    __slots__ = ("_clock", "_data", "_max", "_ttl", "hits", "misses")

    def __init__(self, max_entries: int, ttl: float | None, clock: Callable[[], float]) -> None:
        self._data: dict[_K, tuple[float, _V]] = {}
        self._max = max_entries
        self._ttl = ttl
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def get(self, key: _K) -> _V | Miss:
        entry = self._data.get(key)
        if entry is None or (self._ttl is not None and entry[0] < self._clock()):
            self.misses += 1
            return MISS
        self.hits += 1
        return entry[1]

    def put(self, key: _K, value: _V) -> None:
        data = self._data
        if len(data) >= self._max and key not in data:
            del data[next(iter(data))]
        expires = self._clock() + self._ttl if self._ttl is not None else 0.0
        data[key] = (expires, value)

    def drop(self, key: _K) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class LookupCache:
    def __init__(
        self,
        max_entries: int = 1_000_000,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.devices: _Table[bytes, Device | None] = _Table(max_entries, ttl, clock)
        self.users: _Table[bytes, ServiceUser | None] = _Table(max_entries, ttl, clock)
        self.timelines: _Table[tuple[bytes, UserRole], RoleTimeline | None] = _Table(
            max_entries, ttl, clock
        )
        self._by_mpxn: dict[str, set[tuple[bytes, UserRole]]] = {}

    def put_timeline(self, device: bytes, role: UserRole, timeline: RoleTimeline | None) -> None:
        key = (device, role)
        self.timelines.put(key, timeline)
        if timeline is not None:
            self._by_mpxn.setdefault(timeline.mpxn, set()).add(key)

    def drop_device(self, eui: bytes) -> None:
        self.devices.drop(eui)

    def drop_user(self, eui: bytes) -> None:
        self.users.drop(eui)

    def drop_mpxn(self, mpxn: str) -> None:
        for key in self._by_mpxn.pop(mpxn, ()):
            self.timelines.drop(key)

    def drop_timelines(self) -> None:
        self.timelines.clear()
        self._by_mpxn.clear()

    def clear(self) -> None:
        self.devices.clear()
        self.users.clear()
        self.drop_timelines()
