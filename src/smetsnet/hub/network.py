"""A served network in one process: the hub plus the simulated premises it talks to, on one clock.

The hub is driven by the HTTP edge's clock (``advance(now)``); simulated premises also need time
to pass when no message reaches them: half-hours are recorded, a gas meter wakes (about every 30
minutes) to take the commands its gas proxy queued, alerts are raised. :class:`SimulatedNetwork`
advances every premises whose next event is due, hands what they send to the WAN, then advances
the hub. It implements the same ``DuisService`` as the hub, so ``serve`` runs either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from cryptography import x509

from smetsnet.devices.premises import HALF_HOUR, Premises
from smetsnet.hub.interface import Outbound, SyncAnswer
from smetsnet.hub.service import Hub
from smetsnet.wan.memory import InMemoryWan


class SimulatedNetwork:
    """The hub and its simulated premises (see the module docstring)."""

    def __init__(self, hub: Hub, wan: InMemoryWan, premises: Mapping[bytes, Premises]) -> None:
        self.hub = hub
        self.wan = wan
        self.premises = dict(premises)

    @staticmethod
    def _next_event(premises: Premises) -> datetime:
        due = premises.clock + HALF_HOUR
        if premises.gas is not None:
            due = min(due, premises.gas.next_wake)
        return due

    def _run_premises(self, now: datetime) -> None:
        for chub, premises in self.premises.items():
            if self._next_event(premises) > now:
                continue
            for wire in premises.advance(now):
                self.wan.emit(chub, wire, now)

    # --- DuisService ------------------------------------------------------------------------

    def handle(self, body: bytes, *, endpoint: str, now: datetime) -> SyncAnswer:
        return self.hub.handle(body, endpoint=endpoint, now=now)

    def advance(self, now: datetime) -> None:
        self._run_premises(now)
        self.hub.advance(now)

    def next_due(self) -> datetime | None:
        times = [self._next_event(p) for p in self.premises.values()]
        hub = self.hub.next_due()
        if hub is not None:
            times.append(hub)
        return min(times) if times else None

    def outbound_due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        return self.hub.outbound_due(now, limit)

    def delivered(self, outbound_id: int) -> None:
        self.hub.delivered(outbound_id)

    def delivery_failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        self.hub.delivery_failed(outbound_id, now, reason)

    def certificates(
        self, *, eui: bytes | None = None, serial: int | None = None
    ) -> list[x509.Certificate]:
        return self.hub.certificates(eui=eui, serial=serial)

    def metrics(self) -> dict[str, float]:
        return self.hub.metrics()


def set_gas_wake_interval(premises: Mapping[bytes, Premises], seconds: int, now: datetime) -> None:
    """Make every gas meter wake every ``seconds`` from ``now`` (tests and demonstrations run
    in seconds what a real meter does in half-hours)."""
    for p in premises.values():
        if p.gas is not None:
            p.gas.battery = replace(p.gas.battery, wake_interval_s=seconds)
            p.gas.next_wake = now + timedelta(seconds=seconds)
