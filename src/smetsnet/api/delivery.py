"""The edge's side of the hub's outbox: advance the hub's clock, POST what falls due to users'
response URLs, and report every outcome back so the hub can retry with backoff.

Two rules shape this module:

* The hub is CPU-bound and not thread-safe, so every call into it goes through one
  :class:`HubCaller`, which serialises them (one dedicated worker thread, or inline on the event
  loop).
* Nothing is lost: every message :meth:`DuisService.outbound_due` hands out is reported exactly
  once, as :meth:`~DuisService.delivered` or :meth:`~DuisService.delivery_failed` (with the
  reason: connection error, timeout, non-2xx status, or shutdown). The hub owns the backoff;
  the edge never drops or retries a message on its own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import ParamSpec, Protocol, TypeVar

from smetsnet.api.http1 import Http1Client, PostError
from smetsnet.errors import ConfigurationError
from smetsnet.hub.interface import XML, DuisService, Outbound

_log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Upper bounds (seconds) of the delivery-latency histogram (Prometheus' default buckets).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class CallMode(Enum):
    """Where the edge runs the hub's (synchronous, CPU-bound) calls."""

    #: One dedicated worker thread: the event loop keeps accepting connections and moving
    #: delivery bytes while the hub works; the hub always runs on that same thread.
    THREAD = "thread"
    #: On the event loop itself: no thread hop, but the loop stalls while the hub works (a
    #: request's handling, a millisecond or two). The default: the faster under load.
    INLINE = "inline"


class HubCaller:
    """The one way into the hub from the edge: calls run one at a time, in call order.

    In :attr:`CallMode.THREAD` a single-worker executor both serialises the calls and gives the
    hub thread affinity (a SQLite connection opened by the hub is always used from one thread,
    though not the thread that built the hub: open it with ``check_same_thread=False``).
    """

    def __init__(self, mode: CallMode = CallMode.INLINE) -> None:
        self.mode = mode
        self._executor: ThreadPoolExecutor | None = None

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.mode is CallMode.INLINE:
            return fn(*args, **kwargs)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smetsnet-hub")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Let the worker thread finish its call and end (a later call starts a new one)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


class FailureKind(Enum):
    """Why a POST failed, coarse enough to be a metric label (the detail goes to the hub)."""

    CONNECT = "connect"
    TIMEOUT = "timeout"
    STATUS = "status"
    OTHER = "other"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    """How the edge delivers: ``tick`` is the longest wait between two calls of
    :meth:`DuisService.advance`; ``concurrency`` bounds the POSTs in flight; ``timeout`` bounds
    one POST (connect, write, read); ``shutdown_grace`` is how long a clean shutdown waits for
    POSTs in flight before it cancels them (reported failed, so the hub retries them later)."""

    tick: float = 0.010
    #: 64, not 16: a loop turn can take one request per connection but frees a delivery slot
    #: once, so with few slots the acknowledgements outran the deliveries and responses waited
    #: in the outbox (bench/duis_roundtrip.py at 200 SR/s offered: p99 1.3 s with 16, 95 ms
    #: with 64, one run each on a shared host).
    concurrency: int = 64
    timeout: float = 10.0
    shutdown_grace: float = 5.0

    def __post_init__(self) -> None:
        if self.tick <= 0 or self.timeout <= 0 or self.shutdown_grace < 0:
            raise ConfigurationError(f"delivery times must be positive: {self}")
        if self.concurrency < 1:
            raise ConfigurationError(
                f"delivery concurrency must be at least 1, got {self.concurrency}"
            )


class DeliveryStats:
    """Counters of the delivery loop, read by ``/metrics`` and ``/health``."""

    def __init__(self) -> None:
        self.delivered = 0
        self.failed: Counter[FailureKind] = Counter()
        self.latency_buckets = [0] * len(LATENCY_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.loop_errors = 0
        self.max_in_flight = 0
        self.last_tick: float | None = None  # time.monotonic() of the last completed tick

    def observe_latency(self, seconds: float) -> None:
        self.latency_sum += seconds
        self.latency_count += 1
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.latency_buckets[index] += 1


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """What became of one POST: ok, or why not (coarse kind and the detail for the hub)."""

    ok: bool
    kind: FailureKind | None = None
    reason: str = ""


_SHUTDOWN = PostOutcome(False, FailureKind.SHUTDOWN, "the hub's HTTP edge shut down mid-delivery")


class OutboxPump:
    """The background loop: every tick (sooner when the hub's :meth:`~DuisService.next_due`
    says so, or when :meth:`wake` is called) advance the hub, take what is due for the free
    delivery slots and POST each message in its own task."""

    def __init__(
        self,
        service: DuisService,
        caller: HubCaller,
        clock: Callable[[], datetime],
        poster: Poster,
        settings: DeliverySettings,
        stats: DeliveryStats,
    ) -> None:
        self._service = service
        self._caller = caller
        self._clock = clock
        self._poster = poster
        self._settings = settings
        self.stats = stats
        self._in_flight: dict[int, Outbound] = {}
        # Delivered ids not yet reported: the next tick reports them in its one hop into the
        # hub (a thread hop per message cost more than the SQL). Until then each stays leased
        # in the outbox, so a crash in between re-delivers it (at least once, never lost).
        self._delivered: list[int] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = Wakeup()
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def wake(self) -> None:
        """Look at the outbox now (a request may just have queued an immediate response)."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop as a task of the running event loop."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="smetsnet-outbox-pump")

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def _run(self) -> None:
        """Tick until :meth:`stop`; an error of the hub is logged and the loop goes on."""
        while not self._stopping:
            delay = self._settings.tick
            try:
                delay = await self.tick()
            except Exception:
                self.stats.loop_errors += 1
                _log.exception("delivery loop: the hub failed to hand out messages")
            self.stats.last_tick = time.monotonic()
            if self._stopping:
                break
            await self._wake.wait(delay)

    async def tick(self) -> float:
        """One round: advance the hub, start POSTs for what is due; returns how long to wait."""
        free = self._settings.concurrency - len(self._in_flight)
        done, self._delivered = self._delivered, []
        due, next_due, advanced = await self._caller.call(self._step, self._clock(), free, done)
        if not advanced:
            self.stats.loop_errors += 1
        for message in due:
            if message.id in self._in_flight:
                continue  # already being posted; that task reports it
            self._in_flight[message.id] = message
            task = asyncio.create_task(self._deliver(message), name=f"deliver-{message.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._in_flight))
        if next_due is None:
            return self._settings.tick
        wait = (next_due - self._clock()).total_seconds()
        return min(max(wait, 0.0), self._settings.tick)

    def _step(
        self, now: datetime, free: int, done: list[int] | None = None
    ) -> tuple[list[Outbound], datetime | None, bool]:
        """Runs in the hub's thread: one hop for advance, the next wake and the due messages.

        A failing :meth:`~DuisService.advance` does not stop deliveries (it is logged and
        counted), and the outbox is asked last, so that once it has handed messages out
        nothing can fail before they reach the loop that reports them. ``done`` are the
        deliveries that succeeded since the last step (reported first).
        """
        try:
            self._report_delivered(done or [])
        except Exception:
            _log.exception("delivery: the hub failed to record deliveries %s", done)
        try:
            self._service.advance(now)
            advanced = True
        except Exception:
            _log.exception("delivery loop: the hub failed to advance to %s", now.isoformat())
            advanced = False
        next_due = self._service.next_due()
        due = self._service.outbound_due(now, free) if free > 0 else []
        return due, next_due, advanced

    async def _deliver(self, message: Outbound) -> None:
        started = time.perf_counter()
        try:
            outcome = await self._post(message)
        except asyncio.CancelledError:
            await self._report(message, _SHUTDOWN)
            raise
        if outcome.ok:
            self.stats.observe_latency(time.perf_counter() - started)
        await self._report(message, outcome)
        self._wake.set()  # a slot is free: more may be due

    async def _post(self, message: Outbound) -> PostOutcome:
        try:
            return await self._poster.post(message.url, message.body)
        except Exception as exc:
            # A poster that fails in a way of its own is still a failed delivery the hub must
            # hear about: dropping it silently would lose the message.
            return PostOutcome(
                False, FailureKind.OTHER, f"{type(exc).__name__} posting to {message.url}: {exc}"
            )

    async def _report(self, message: Outbound, outcome: PostOutcome) -> None:
        """Tell the hub; shielded, so a cancellation now cannot withdraw the call."""
        try:
            if outcome.ok:
                self._delivered.append(message.id)  # reported by the next tick
                self.stats.delivered += 1
            else:
                assert outcome.kind is not None
                now = self._clock()
                await asyncio.shield(
                    self._caller.call(
                        self._service.delivery_failed, message.id, now, outcome.reason
                    )
                )
                self.stats.failed[outcome.kind] += 1
                _log.info("delivery of %d failed: %s", message.id, outcome.reason)
        except Exception:
            self.stats.loop_errors += 1
            _log.exception("delivery: the hub failed to record the outcome of %d", message.id)
        finally:
            self._in_flight.pop(message.id, None)

    async def stop(self) -> None:
        """Stop taking messages, give POSTs in flight ``shutdown_grace`` seconds, cancel the rest
        and report them failed (``shutdown``) so the hub hands them out again later."""
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            await self._runner  # its last tick may still start deliveries: wait for them below
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._settings.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # A task cancelled before it first ran never reached its own report.
        for message in list(self._in_flight.values()):
            await self._report(message, _SHUTDOWN)
        await self.flush()

    async def flush(self) -> None:
        """Report the deliveries not yet reported (the next tick would) in one hop."""
        done, self._delivered = self._delivered, []
        if done:
            await asyncio.shield(self._caller.call(self._report_delivered, done))

    def _report_delivered(self, done: list[int]) -> None:
        for outbound_id in done:
            self._service.delivered(outbound_id)


class Wakeup:
    """A flag the pump's loop sleeps on, up to a timeout: :meth:`set` ends the wait under way,
    or the next one at once; each wait clears it.

    ``asyncio.wait_for(event.wait(), timeout)`` makes a task, a timer and a cancellation on each
    of the loop's ticks (about 4 % of the served hub's samples under load, py-spy of
    ``bench/duis_roundtrip.py``); this waits on one future and one timer.
    """

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Return when set (after one turn of the event loop if it already is, so the
        deliveries just started get to run) or after ``timeout`` seconds."""
        if self._set:
            await asyncio.sleep(0)
        else:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            timer = loop.call_later(timeout, _release, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        self._set = False


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_XML_TYPE = XML.encode("ascii")


class Poster(Protocol):
    """How the pump POSTs one message; :class:`HttpPoster` over the network, a fake in tests."""

    async def post(self, url: str, body: bytes) -> PostOutcome: ...


class HttpPoster:
    """POSTs to users over HTTP/1.1 with keep-alive (:class:`~smetsnet.api.http1.Http1Client`):
    no redirects (a response URL is registered as is), no proxies, each POST bounded by
    ``timeout`` (connect, write, read).

    Neither httpx nor aiohttp here: on this machine's 2 cores an httpx ``AsyncClient`` spent
    1.7-2.9 ms of CPU per POST (``bench/http_clients.py``), aiohttp 0.2-0.3 ms, the small client
    a fifth of that; delivering responses is half of the hub's HTTP work. Idle connections are
    dropped after 2 s, under the 5 s keep-alive of common servers (uvicorn, Node).
    """

    def __init__(self, settings: DeliverySettings) -> None:
        self._settings = settings
        self._client: Http1Client | None = None

    async def post(self, url: str, body: bytes) -> PostOutcome:
        if self._client is None:
            self._client = Http1Client()
        timeout = self._settings.timeout
        try:
            async with asyncio.timeout(timeout):
                status = await self._client.post(url, body, _XML_TYPE)
        except TimeoutError as exc:
            return PostOutcome(
                False,
                FailureKind.TIMEOUT,
                f"timeout ({type(exc).__name__}) after {timeout:g} s posting to {url}",
            )
        except PostError as exc:
            if exc.kind == "connect":
                return PostOutcome(False, FailureKind.CONNECT, f"connection error to {url}: {exc}")
            return PostOutcome(False, FailureKind.OTHER, f"{exc} (posting to {url})")
        if 200 <= status < 300:
            return PostOutcome(True)
        return PostOutcome(False, FailureKind.STATUS, f"HTTP {status} from {url}")

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
