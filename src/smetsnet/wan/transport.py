"""The WAN as the hub sees it: send GBCS bytes to a comms hub, receive what comes back.

The hub depends on :class:`Transport` only; :class:`~smetsnet.wan.memory.InMemoryWan` is the
default implementation (a deterministic simulation driven by the caller's clock) and a message
bus (NATS JetStream, DESIGN.md ``wan/``) can implement the same protocol later. Time is always
passed in by the caller, never read from a wall clock, so simulations and tests are exact.

Premises are attached per comms hub EUI as an :data:`Endpoint`: a callable that takes the wire
bytes and the arrival time and returns the messages the premises sends back (the response first,
then alerts), which is exactly ``smetsnet.devices.premises.Premises.deliver``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from smetsnet.wan.link import Technology

#: A premises as the WAN sees it: ``endpoint(wire, now) -> messages sent back``.
Endpoint = Callable[[bytes, datetime], list[bytes]]


class Direction(Enum):
    """Which way a message travels."""

    DOWN = "down"  # hub -> comms hub
    UP = "up"  # comms hub -> hub (a response or an alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One message on the WAN: its comms hub (destination going down, source going up)."""

    chub: bytes
    direction: Direction
    wire: bytes
    sent_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A message as it arrives at the hub; ``duplicate`` marks the network's extra copy."""

    message: Message
    delivered_at: datetime
    technology: Technology
    duplicate: bool = False

    @property
    def latency_s(self) -> float:
        return (self.delivered_at - self.message.sent_at).total_seconds()


class Transport(Protocol):
    """What the hub needs of a WAN."""

    def send(self, to: bytes, wire: bytes, now: datetime) -> None:
        """Hand ``wire`` to the network for comms hub ``to``; raises WanQueueFull when full."""
        ...

    def advance(self, now: datetime) -> list[Delivery]:
        """Everything that reaches the hub by ``now``, in delivery-time order."""
        ...

    def next_due(self) -> datetime | None:
        """When the next event in flight lands (``None`` when nothing is in flight)."""
        ...


class PremisesSide(Protocol):
    """How simulated premises join a WAN (the simulator's side, not the hub's)."""

    def attach(self, chub: bytes, endpoint: Endpoint, technology: Technology) -> None: ...

    def detach(self, chub: bytes) -> None: ...

    def set_down(self, chub: bytes, down: bool = True) -> None: ...

    def emit(self, chub: bytes, wire: bytes, now: datetime) -> None:
        """A premises pushes an unsolicited message (an alert) towards the hub."""
        ...
