"""The in-memory WAN: a deterministic discrete-event simulation on the caller's clock.

Every leg (hub to premises, premises to hub) draws, from a seeded random stream per technology,
whether it is lost, whether the network duplicates it, and a latency from the technology's
:class:`~smetsnet.wan.link.LinkProfile`; it then waits in one heap ordered by (arrival time,
send order). :meth:`InMemoryWan.advance` pops everything due: a message reaching premises is
handed to its endpoint at its arrival time and the answers travel back over the same technology;
a message reaching the hub is returned. Nothing sleeps, so a day of traffic runs in moments and
the same seed gives the same run. Each link keeps order per direction: a message never
overtakes an earlier one to or from the same comms hub.

A premises that is down or detached when a message *arrives* loses it (a switched-off comms hub
answers nothing; the hub finds out by its own timeout). A *fault* set on a comms hub's route
(:meth:`InMemoryWan.set_fault`) rewrites what reaches that premises: a corruption the network's
checks missed, injected by a simulation (e.g. a flipped bit in a firmware block). Time never
goes backwards: a call with an earlier ``now`` than one already seen is refused, because it
could deliver out of order.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from smetsnet.wan.errors import UnknownCommsHub, WanError, WanQueueFull
from smetsnet.wan.link import DEFAULT_PROFILES, LinkProfile, Technology
from smetsnet.wan.stats import Counters, LinkStats
from smetsnet.wan.transport import Delivery, Direction, Endpoint, Message

EUI_LENGTH = 8


#: Rewrites a message on its way down to a premises (see :meth:`InMemoryWan.set_fault`).
Fault = Callable[[bytes], bytes]


@dataclass(slots=True)
class _Route:
    endpoint: Endpoint | None
    technology: Technology
    down: bool = False
    fault: Fault | None = None

    @property
    def reachable(self) -> bool:
        return self.endpoint is not None and not self.down


# (arrival, send order, message, technology, duplicate): the send order breaks ties, so equal
# arrival times keep FIFO order and the heap never compares messages.
_Event = tuple[datetime, int, Message, Technology, bool]


class InMemoryWan:
    """The default :class:`~smetsnet.wan.transport.Transport` (and premises side)."""

    def __init__(
        self,
        *,
        seed: int = 0,
        profiles: Mapping[Technology, LinkProfile] | None = None,
        max_in_flight: int = 1_000_000,
    ) -> None:
        if max_in_flight < 1:
            raise WanError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self.max_in_flight = max_in_flight
        self._profiles = {**DEFAULT_PROFILES, **(profiles or {})}
        # One stream per technology, seeded from text (hashed by sha512, stable across runs), so
        # traffic on one technology never perturbs the draws of another.
        self._rngs = {t: random.Random(f"smetsnet.wan:{seed}:{t.value}") for t in Technology}
        self._counters = {t: Counters() for t in Technology}
        self._routes: dict[bytes, _Route] = {}
        self._heap: list[_Event] = []
        self._order = itertools.count()
        self._clock: datetime | None = None
        self._last_arrival: dict[tuple[bytes, Direction], datetime] = {}

    # -- premises side ----------------------------------------------------------------------

    def attach(self, chub: bytes, endpoint: Endpoint, technology: Technology) -> None:
        """Connect (or reconnect) the premises behind comms hub ``chub``; it starts up."""
        if not isinstance(chub, bytes) or len(chub) != EUI_LENGTH:
            raise WanError(f"a comms hub EUI is {EUI_LENGTH} bytes, got {chub!r}")
        self._routes[chub] = _Route(endpoint=endpoint, technology=technology)

    def endpoint(self, chub: bytes) -> Endpoint | None:
        """What is attached behind ``chub`` (None: nothing, or detached)."""
        route = self._routes.get(chub)
        return None if route is None else route.endpoint

    def detach(self, chub: bytes) -> None:
        """Disconnect the premises; messages for it are lost until it is attached again."""
        self._route(chub).endpoint = None

    def set_down(self, chub: bytes, down: bool = True) -> None:
        """Switch the premises off (``down=True``) or on again; off, it loses what arrives."""
        self._route(chub).down = down

    def set_fault(self, chub: bytes, fault: Fault | None) -> None:
        """From now on every message reaching ``chub`` passes through ``fault`` first (None:
        no more): a transfer error the network did not catch, for simulations and tests."""
        self._route(chub).fault = fault

    def is_reachable(self, chub: bytes) -> bool:
        return self._route(chub).reachable

    def emit(self, chub: bytes, wire: bytes, now: datetime) -> None:
        """A premises pushes an unsolicited message (an alert) towards the hub."""
        self._tick(now)
        route = self._route(chub)
        self._check_room()
        message = Message(chub=chub, direction=Direction.UP, wire=wire, sent_at=now)
        if not route.reachable:  # a switched-off comms hub sends nothing
            counters = self._counters[route.technology]
            counters.sent += 1
            counters.unreachable += 1
            return
        self._launch(message, route.technology)

    # -- hub side (Transport) ---------------------------------------------------------------

    def send(self, to: bytes, wire: bytes, now: datetime) -> None:
        """Hand ``wire`` to the network for comms hub ``to``.

        Raises :class:`UnknownCommsHub` for an EUI never attached and :class:`WanQueueFull`
        when ``max_in_flight`` messages are in flight (nothing is sent then).
        """
        self._tick(now)
        route = self._route(to)
        self._check_room()
        self._launch(
            Message(chub=to, direction=Direction.DOWN, wire=wire, sent_at=now), route.technology
        )

    def advance(self, now: datetime) -> list[Delivery]:
        """Run the network up to ``now``; return what reached the hub, in arrival order."""
        self._tick(now)
        arrived: list[Delivery] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, message, technology, duplicate = heapq.heappop(heap)
            if message.direction is Direction.UP:
                self._delivered(technology, message, at)
                arrived.append(
                    Delivery(
                        message=message, delivered_at=at, technology=technology, duplicate=duplicate
                    )
                )
            else:
                self._reach_premises(message, technology, at)
        return arrived

    def next_due(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    @property
    def in_flight(self) -> int:
        return len(self._heap)

    # -- statistics -------------------------------------------------------------------------

    def stats(self, technology: Technology) -> LinkStats:
        return self._counters[technology].snapshot(technology)

    def statistics(self) -> dict[Technology, LinkStats]:
        return {t: c.snapshot(t) for t, c in self._counters.items()}

    # -- internals --------------------------------------------------------------------------

    def _route(self, chub: bytes) -> _Route:
        route = self._routes.get(chub)
        if route is None:
            raise UnknownCommsHub(chub)
        return route

    def _tick(self, now: datetime) -> None:
        if self._clock is not None and now < self._clock:
            raise WanError(
                f"time went backwards: {now.isoformat()} after {self._clock.isoformat()}"
            )
        self._clock = now

    def _check_room(self) -> None:
        if len(self._heap) >= self.max_in_flight:
            raise WanQueueFull(self.max_in_flight)

    def _launch(self, message: Message, technology: Technology) -> None:
        """One leg: draw loss, duplication and latency (always in this order, for determinism)."""
        profile, rng = self._profiles[technology], self._rngs[technology]
        counters = self._counters[technology]
        counters.sent += 1
        if len(self._heap) >= self.max_in_flight:  # only answers get here full: the CHF drops them
            counters.overflowed += 1
            return
        if rng.random() < profile.loss:
            counters.lost += 1
            return
        self._push(message, technology, profile.sample_latency(rng), duplicate=False)
        if rng.random() < profile.duplicate:
            counters.duplicated += 1
            if len(self._heap) >= self.max_in_flight:
                counters.overflowed += 1
                return
            self._push(message, technology, profile.sample_latency(rng), duplicate=True)

    def _push(
        self, message: Message, technology: Technology, latency_s: float, *, duplicate: bool
    ) -> None:
        at = message.sent_at + timedelta(seconds=latency_s)
        # A link delivers in order: a comms hub's session does not overtake itself, so a later
        # message never lands before an earlier one going the same way (GBCS devices reject a
        # command whose counter is not above the last one they accepted).
        lane = (message.chub, message.direction)
        last = self._last_arrival.get(lane)
        if last is not None and at < last:
            at = last
        self._last_arrival[lane] = at
        heapq.heappush(self._heap, (at, next(self._order), message, technology, duplicate))

    def _delivered(self, technology: Technology, message: Message, at: datetime) -> None:
        counters = self._counters[technology]
        counters.delivered += 1
        counters.latencies.append((at - message.sent_at).total_seconds())

    def _reach_premises(self, message: Message, technology: Technology, at: datetime) -> None:
        route = self._routes[message.chub]
        if route.endpoint is None or route.down:
            self._counters[technology].unreachable += 1
            return
        self._delivered(technology, message, at)
        wire = message.wire if route.fault is None else route.fault(message.wire)
        # The premises answers at the moment the message lands; answers take the same link back.
        for answer in route.endpoint(wire, at):
            up = Message(chub=message.chub, direction=Direction.UP, wire=answer, sent_at=at)
            self._launch(up, technology)
