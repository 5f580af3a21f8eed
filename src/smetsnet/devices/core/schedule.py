"""Future-dated commands a device holds until their execution time (GBCS-PAYLOADS §1.5, §3).

A held command is kept as its wire bytes (already checked when it arrived) with its due time, so
the state stays plain data; :meth:`SimulatedDevice.tick` runs what is due and reports it by the
use case's future-dated alert (0x8F66 actioned / 0x8F67 failed). A cancellation (execution time
9999-12-31T23:59:59, or DLMS activation date-times all 0xFF) drops the held command of the same
message code from the same originator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """One future-dated command: due at ``due`` (seconds since 2000, device time)."""

    due: int
    message_code: int
    originator: bytes
    counter: int
    wire: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "message_code": self.message_code,
            "originator": self.originator.hex(),
            "counter": self.counter,
            "wire": self.wire.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Held:
        return cls(
            due=int(data["due"]),
            message_code=int(data["message_code"]),
            originator=bytes.fromhex(data["originator"]),
            counter=int(data["counter"]),
            wire=bytes.fromhex(data["wire"]),
        )


def cancel(held: list[Held], message_code: int, originator: bytes) -> int:
    """Drop the held commands of this message code from this originator; how many were."""
    keep = [h for h in held if (h.message_code, h.originator) != (message_code, originator)]
    dropped = len(held) - len(keep)
    held[:] = keep
    return dropped


def take_due(held: list[Held], now: int) -> list[Held]:
    """Remove and return the held commands due by ``now``, oldest first."""
    due = sorted((h for h in held if h.due <= now), key=lambda h: (h.due, h.counter))
    held[:] = [h for h in held if h.due > now]
    return due
