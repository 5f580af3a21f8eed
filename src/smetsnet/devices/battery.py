"""The gas meter's battery: charge drawn while asleep, per wake and per message.

A GSME is battery powered and sleeps between wakes (about every 30 minutes) when it syncs with
the gas proxy function on the comms hub; every GBCS message it sends or receives keeps the radio
on a little longer. The figures are those of a typical design: two AA-size lithium thionyl
chloride cells (2 × 2.6 Ah) of which 85 % is usable over a long life (self-discharge, cold),
10 µA asleep (metrology, clock, valve driver), 8 µAh per wake (about 0.8 s of ZigBee radio at
35 mA including the GPF sync) and 4 µAh per message (0.4 s). At the modelled rate of
:data:`MESSAGES_PER_DAY` this lasts about 18 years; SMETS2 meters are expected to last 15.

Charge is integer nanoampere-hours in ``uint64`` columns, so a fleet drains deterministically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

HOUR_S: Final = 3600
YEAR_DAYS: Final = 365.25
#: GBCS messages a GSME handles on a usual day: the daily profile read (GCS17 command and
#: response), the daily read log (GCS16a command and response), one prepayment or billing
#: read and its response, and two alerts or GPF syncs of changed data.
MESSAGES_PER_DAY: Final = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryModel:
    """Charge drawn by a GSME, in nAh."""

    capacity_nah: int = 4_420_000_000  # 2 × 2.6 Ah × 85 % usable
    sleep_na: int = 10_000
    wake_nah: int = 8_000
    message_nah: int = 4_000
    wake_interval_s: int = 1_800
    #: The meter raises its low-battery alert below this fraction of its capacity.
    low_fraction: float = 0.1

    def __post_init__(self) -> None:
        if min(self.capacity_nah, self.wake_interval_s) <= 0:
            raise ValueError("capacity and wake interval must be positive")

    @property
    def sleep_nah_per_wake(self) -> int:
        """What the sleeping meter uses between two wakes."""
        return self.sleep_na * self.wake_interval_s // HOUR_S

    def per_day_nah(self, messages_per_day: float = MESSAGES_PER_DAY) -> float:
        wakes = 86_400 / self.wake_interval_s
        return wakes * (self.sleep_nah_per_wake + self.wake_nah) + (
            messages_per_day * self.message_nah
        )

    def lifetime_years(self, messages_per_day: float = MESSAGES_PER_DAY) -> float:
        """Years from a full battery to empty at this message rate."""
        return self.capacity_nah / self.per_day_nah(messages_per_day) / YEAR_DAYS

    def full(self, n: int) -> NDArray[np.uint64]:
        """A column of ``n`` new batteries."""
        return np.full(n, self.capacity_nah, dtype=np.uint64)

    def drain(
        self,
        remaining: NDArray[np.uint64],
        *,
        wakes: int = 1,
        messages: NDArray[np.integer] | int = 0,
    ) -> None:
        """Take the charge of ``wakes`` wake periods and ``messages`` messages, in place
        (never below zero: a flat battery stays at zero)."""
        cost = np.asarray(messages, dtype=np.uint64) * np.uint64(self.message_nah)
        cost = cost + np.uint64(wakes * (self.sleep_nah_per_wake + self.wake_nah))
        np.subtract(remaining, np.minimum(remaining, cost), out=remaining)

    def low(self, remaining: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Which meters are below the low-battery threshold (they raise the alert)."""
        return remaining < np.uint64(int(self.capacity_nah * self.low_fraction))
