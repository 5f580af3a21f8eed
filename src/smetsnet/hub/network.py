"""A served network in one process: the hub plus the simulated premises it talks to, on one clock.

The hub is driven by the HTTP edge's clock (``advance(now)``); simulated premises also need time
to pass when no message reaches them: half-hours are recorded, a gas meter wakes (about every 30
minutes) to take the commands its gas proxy queued, alerts are raised. :class:`SimulatedNetwork`
advances every premises whose next event is due, hands what they send to the WAN, then advances
the hub. It implements the same ``DuisService`` as the hub, so ``serve`` runs either.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography import x509

from smetsnet.devices.premises import HALF_HOUR, Premises
from smetsnet.hub.build_endpoint import PremisesEndpoint
from smetsnet.hub.interface import Outbound, SyncAnswer
from smetsnet.hub.service import Hub
from smetsnet.wan.memory import InMemoryWan

EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)


class SimulatedNetwork:
    """The hub and its simulated premises (see the module docstring)."""

    def __init__(
        self,
        hub: Hub,
        wan: InMemoryWan,
        premises: Mapping[bytes, Premises],
        *,
        idle_interval: timedelta = HALF_HOUR,
        prepayment_interval: timedelta = HALF_HOUR,
    ) -> None:
        self.hub = hub
        self.wan = wan
        #: How often a premises with nothing to do is advanced (a message advances it anyway,
        #: to its arrival). Half-hourly by default; a large simulation may say every few hours.
        #: Gas meters with commands queued at their gas proxy, and commands a device holds for
        #: later, are still woken on time.
        self.idle_interval = idle_interval
        #: The same for prepayment premises (a PPMID): their credit alerts are raised at the
        #: half-hour the credit crossed the threshold, and sent when the premises is advanced.
        self.prepayment_interval = prepayment_interval
        self.premises: dict[bytes, Premises] = {}
        # (next event, comms hub): an entry may be early (a message moved the premises' clock
        # since), never late, so a popped entry is re-checked and pushed back if not yet due.
        self._due: list[tuple[datetime, bytes]] = []
        for chub, where in premises.items():
            self.add_premises(chub, where)

    def add_premises(self, chub: bytes, premises: Premises) -> None:
        """A premises joins the running network (an install)."""
        self.premises[chub] = premises
        endpoint = self.wan.endpoint(chub)
        if isinstance(endpoint, PremisesEndpoint):
            endpoint.on_delivery = self._touch
        heapq.heappush(self._due, (self._next_event(premises), chub))

    def _touch(self, chub: bytes) -> None:
        """A message reached the premises: its next event may now be sooner (a gas command
        queued at the gas proxy waits for the meter's next wake)."""
        premises = self.premises.get(chub)
        if premises is not None:
            heapq.heappush(self._due, (self._next_event(premises), chub))

    def _next_event(self, premises: Premises) -> datetime:
        idle = self.prepayment_interval if premises.ppmid is not None else self.idle_interval
        due = premises.clock + idle
        gas = premises.gas
        if gas is not None and (
            idle == HALF_HOUR or gas.gpf.queue or gas.gsme.held or gas.gpf.firmware is not None
        ):
            due = min(due, gas.next_wake)
        held = [
            h.due
            for device in (premises.hub, premises.esme, premises.auxiliary)
            if device is not None
            for h in device.held
        ]
        if held:  # a future-dated command runs on time (device time: seconds since 2000)
            due = min(due, EPOCH_2000 + timedelta(seconds=min(held)))
        return due

    def _run_premises(self, now: datetime) -> None:
        due = self._due
        while due and due[0][0] <= now:
            _, chub = heapq.heappop(due)
            premises = self.premises.get(chub)
            if premises is None:
                continue  # removed (decommissioned)
            if self._next_event(premises) <= now:
                for wire in premises.advance(now):
                    self.wan.emit(chub, wire, now)
            # Never again at ``now``: a held command a device does not take stays in the past.
            later = max(self._next_event(premises), now + timedelta(seconds=1))
            heapq.heappush(due, (later, chub))

    # --- DuisService ------------------------------------------------------------------------

    def handle(self, body: bytes, *, endpoint: str, now: datetime) -> SyncAnswer:
        return self.hub.handle(body, endpoint=endpoint, now=now)

    def advance(self, now: datetime) -> None:
        self._run_premises(now)
        self.hub.advance(now)

    def next_due(self) -> datetime | None:
        times = [self._due[0][0]] if self._due else []
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

    def close(self) -> None:
        self.hub.close()


def set_gas_wake_interval(premises: Mapping[bytes, Premises], seconds: int, now: datetime) -> None:
    """Make every gas meter wake every ``seconds`` from ``now`` (tests and demonstrations run
    in seconds what a real meter does in half-hours)."""
    for p in premises.values():
        if p.gas is not None:
            p.gas.battery = replace(p.gas.battery, wake_interval_s=seconds)
            p.gas.next_wake = now + timedelta(seconds=seconds)
