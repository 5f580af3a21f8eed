"""The simulation engine: the world on one simulated clock, driven by events.

One loop moves time to whichever comes first: the next scenario event (a user's request, a power
cut, a registration change) or the next thing the network has due (a WAN delivery, a device's
half-hour, a DCC schedule's run, a retry). At each step the network advances, and what the hub's
outbox holds is delivered to the users, who verify and open it. Everything runs through the same
objects ``smetsnet serve`` runs (the hub, the in-memory WAN, the simulated premises) and the same
checks (XML signatures, GBCS MACs and signatures, anti-replay counters, registration).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.duis.xmldsig import certificate_index
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.audit import AuditLog
from smetsnet.hub.audit_chain import AuditFile
from smetsnet.hub.build import build_hub, wan_profiles
from smetsnet.hub.interface import SyncAnswer
from smetsnet.hub.network import SimulatedNetwork
from smetsnet.hub.service import Hub
from smetsnet.hub.setup import NetworkSetup
from smetsnet.hub.traffic import TrafficMeter
from smetsnet.sim.config import SimConfig
from smetsnet.sim.readings import profile_readings
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import USERS, Home, World, build_world
from smetsnet.store.readings import ReadingsStore

Action = Callable[[datetime], None]
Listener = Callable[[SimUser, Received], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterPoint:
    """What a user needs to file a reading: the meter's MPxN, fuel and region."""

    mpxn: str
    fuel: str
    region: int


class Simulation:
    """A world of ``config.premises`` homes run for ``config.days`` days (module docstring);
    ``first_home`` numbers them from there (one partition of a larger world: a process of
    ``bench/simulate.py --workers``)."""

    def __init__(self, config: SimConfig, *, out: Path | None = None, first_home: int = 0) -> None:
        self.config = config
        self.start = datetime.combine(config.start, clock_time(0, 0), tzinfo=UTC)
        self.end = self.start + timedelta(days=config.days)
        self.now = self.start
        self.world: World = build_world(
            config.premises,
            seed=config.seed,
            start=self.start,
            prepayment_share=config.prepayment_share,
            first=first_home,
        )
        setup = self.world.setup
        for eui, _, _ in USERS:
            setup.response_urls[eui] = f"sim://{eui.hex()}"
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        self.audit_path = None if out is None else out / "audit.jsonl"
        audit = (
            AuditLog(AuditFile(self.audit_path), keep=False)
            if self.audit_path is not None
            else AuditLog(keep=False)
        )
        self.hub: Hub
        self.hub, wan = build_hub(
            setup, seed=config.seed, profiles=wan_profiles(config.wan) or None, audit=audit
        )
        self.network = SimulatedNetwork(
            self.hub,
            wan,
            setup.premises,
            idle_interval=timedelta(hours=config.idle_advance_h),
            prepayment_interval=timedelta(minutes=config.prepayment_advance_min),
        )
        self.users = {eui: self._user(setup, eui, name) for eui, name, _ in USERS}
        self.meters: dict[bytes, MeterPoint] = {}
        #: the electricity supplier of each ESME now (changes of supplier move it)
        self.supplier: dict[bytes, bytes] = {}
        #: seconds after midnight at which each meter's daily schedule runs
        self.run_offset_s: dict[bytes, int] = {}
        self.outages = 0
        for home in self.world.homes:
            self.add_home(home)
        self.readings = ReadingsStore(out / "readings") if out is not None else None
        self.readings_received = 0
        self._events: list[tuple[datetime, int, Action]] = []
        self._order = itertools.count()
        self._listeners: list[Listener] = []
        self.wall_s = 0.0

    # --- the world --------------------------------------------------------------------------

    def _user(self, setup: NetworkSetup, eui: bytes, name: str) -> SimUser:
        entry = self.world.pki.bundle.xml_signing(eui)
        if entry is None or entry.private_key is None or entry.certificate is None:
            raise ConfigurationError(f"the PKI has no XML-signing key of user {eui.hex()}")
        return SimUser(
            eui=eui,
            name=name,
            xml_key=entry.private_key,
            xml_certificate=entry.certificate,
            protection=setup.user_protection(eui),
            hub_certificates=certificate_index([setup.dsp_certificate]),
            on_message=self._dispatch,
        )

    def supplier_of(self, home: Home, _now: datetime) -> bytes:
        return self.supplier.get(home.esme, home.electricity_supplier)

    def add_home(self, home: Home) -> None:
        self.meters[home.esme] = MeterPoint(
            mpxn=home.mpan, fuel="electricity", region=int(home.region)
        )
        self.meters[home.gsme] = MeterPoint(mpxn=home.mprn, fuel="gas", region=int(home.region))

    def handle(self, xml: bytes, endpoint: str, now: datetime) -> SyncAnswer:
        """A user's POST, as ``serve`` takes it."""
        return self.network.handle(xml, endpoint=endpoint, now=now)

    def device_key(self, eui: bytes, usage: KeyUsage) -> ec.EllipticCurvePublicKey | None:
        """A device's public key as the SMKI look-up gives it (the world's hub keys)."""
        return self.world.setup.hub_keys.public_key(eui, usage)

    # --- events -----------------------------------------------------------------------------

    def at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self._events, (when, next(self._order), action))

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _dispatch(self, user: SimUser, received: Received) -> None:
        gbcs = received.gbcs
        if gbcs is not None and gbcs.use_case in ("ECS22b", "GCS17"):
            self._file_readings(user, received)
        for listener in self._listeners:
            listener(user, received)

    def _file_readings(self, user: SimUser, received: Received) -> None:
        assert received.gbcs is not None
        meter = self.meters.get(received.gbcs.header.originator)
        found = profile_readings(received.gbcs)
        if meter is None or found is None:
            return
        starts, values = found
        self.readings_received += len(starts)
        if self.readings is not None and len(starts):
            self.readings.add(
                user=user.eui,
                mpxn=meter.mpxn,
                fuel=meter.fuel,
                region=meter.region,
                starts=starts,
                values=values,
                received=received.at,
            )

    # --- the loop ---------------------------------------------------------------------------

    def run(
        self, progress: Callable[[float], None] | None = None, *, until: datetime | None = None
    ) -> None:
        """Run to ``until`` (default: the end of the last day, which also finishes the run:
        readings flushed, audit closed); ``progress`` gets the fraction of time done. A run
        stopped at ``until`` can go on with another call."""
        began = time.perf_counter()
        stop = self.end if until is None else min(until, self.end)
        span = (self.end - self.start).total_seconds()
        reported = self.now
        while True:
            candidates = [t for t in (self.network.next_due(),) if t is not None]
            if self._events:
                candidates.append(self._events[0][0])
            if not candidates:
                break
            step = max(min(candidates), self.now)
            if step > stop:
                break
            self.now = step
            self.network.advance(step)
            self._deliver(step)
            while self._events and self._events[0][0] <= step:
                _, _, action = heapq.heappop(self._events)
                action(step)
            if progress is not None and step - reported >= timedelta(hours=1):
                reported = step
                progress((step - self.start).total_seconds() / span)
        self.now = stop
        self.network.advance(stop)
        self._deliver(stop)
        if stop >= self.end:
            if self.readings is not None:
                self.readings.flush()
            self.hub.audit.close()
        self.wall_s += time.perf_counter() - began
        if progress is not None:
            progress((stop - self.start).total_seconds() / span)

    def _deliver(self, now: datetime) -> None:
        while True:
            due = self.network.outbound_due(now, 10_000)
            if not due:
                return
            for outbound in due:
                user = self.users.get(bytes.fromhex(outbound.url.removeprefix("sim://")))
                if user is None:
                    self.network.delivery_failed(outbound.id, now, "no such user")
                    continue
                user.receive(outbound.body, now)
                self.network.delivered(outbound.id)

    # --- figures ----------------------------------------------------------------------------

    @property
    def traffic(self) -> TrafficMeter:
        return self.hub.traffic

    def meter_count(self) -> int:
        return len(self.meters)


def day_starts(sim: Simulation) -> list[datetime]:
    return [sim.start + timedelta(days=d) for d in range(sim.config.days)]


def spread(rng: np.random.Generator, day: datetime, count: int) -> list[datetime]:
    """``count`` moments of ``day``'s waking hours (07:00-22:00), sorted."""
    seconds = np.sort(rng.uniform(7 * 3600, 22 * 3600, count))
    return [day + timedelta(seconds=float(s)) for s in seconds]
