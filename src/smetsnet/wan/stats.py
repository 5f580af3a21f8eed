"""Per-technology WAN statistics: counters plus latencies kept as one column of floats."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from smetsnet.wan.link import Technology


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkStats:
    """A snapshot for one technology, both directions together.

    Every leg handed to the network is ``sent``; it then ends ``delivered``, ``lost`` (random
    loss), ``unreachable`` (premises down or detached) or ``overflowed`` (an answer or duplicate
    that found the in-flight queue full), or is still in flight. ``duplicated`` copies are
    extra deliveries, so ``delivered`` can exceed ``sent - lost - unreachable``. Latencies are
    one-way seconds over delivered messages, ``None`` before the first delivery.
    """

    technology: Technology
    sent: int
    delivered: int
    lost: int
    unreachable: int
    duplicated: int
    overflowed: int
    latency_p50_s: float | None
    latency_p90_s: float | None
    latency_p99_s: float | None


@dataclass(slots=True)
class Counters:
    """The mutable tallies behind :class:`LinkStats` (internal to the WAN implementations)."""

    sent: int = 0
    delivered: int = 0
    lost: int = 0
    unreachable: int = 0
    duplicated: int = 0
    overflowed: int = 0
    # One column of doubles rather than a list of float objects (house style: columnar bulk).
    latencies: array[float] = field(default_factory=lambda: array("d"))

    def snapshot(self, technology: Technology) -> LinkStats:
        p50 = p90 = p99 = None
        if self.latencies:
            column = np.frombuffer(self.latencies, dtype=np.float64)
            p50, p90, p99 = (float(v) for v in np.percentile(column, [50.0, 90.0, 99.0]))
        return LinkStats(
            technology=technology,
            sent=self.sent,
            delivered=self.delivered,
            lost=self.lost,
            unreachable=self.unreachable,
            duplicated=self.duplicated,
            overflowed=self.overflowed,
            latency_p50_s=p50,
            latency_p90_s=p90,
            latency_p99_s=p99,
        )
