"""Delivery of the hub's outbox: real POSTs to a receiver on localhost (uvicorn in a thread),
failures reported to the hub and retried after its backoff, nothing lost, concurrency bounded."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from smetsnet.api import CallMode, DeliverySettings, DeliveryStats, HubCaller, OutboxPump
from smetsnet.api.app import create_app
from smetsnet.api.delivery import FailureKind, HttpPoster, Poster, PostOutcome, Wakeup
from smetsnet.errors import ConfigurationError
from smetsnet.hub.interface import XML
from tests.api import FakeHub
from tests.api.test_app import parse_prometheus


def _now() -> datetime:
    return datetime.now(UTC)


class Receiver:
    """A user's response endpoint: records what arrives; can answer 500 to the first
    ``fail_first`` POSTs and take ``delay`` seconds over each."""

    def __init__(self, *, fail_first: int = 0, delay: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay = delay
        self.bodies: list[bytes] = []
        self.content_types: set[str] = set()
        self.posts = 0
        self.active = 0
        self.max_active = 0
        self.app = Starlette(routes=[Route("/r", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        self.posts += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.posts <= self.fail_first:
                return Response(status_code=500)
            self.bodies.append(await request.body())
            self.content_types.add(request.headers["content-type"])
            return Response(status_code=200)
        finally:
            self.active -= 1


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _free_port() -> int:
    with _bound_socket() as sock:
        return int(sock.getsockname()[1])


@contextmanager
def serving(receiver: Receiver, port: int = 0) -> Iterator[str]:
    """Run ``receiver`` on uvicorn in a thread; yields its URL."""
    sock = _bound_socket(port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            receiver.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "receiver did not start"
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}/r"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@contextmanager
def running_edge(
    hub: FakeHub, *, tick: float = 0.01, concurrency: int = 16, shutdown_grace: float = 1.0
) -> Iterator[TestClient]:
    """The edge with its lifespan (delivery loop) running, as ``smetsnet serve`` runs it."""
    delivery = DeliverySettings(
        tick=tick, concurrency=concurrency, timeout=2.0, shutdown_grace=shutdown_grace
    )
    with TestClient(create_app(hub, delivery=delivery)) as client:
        yield client


def test_due_messages_are_posted_as_xml_and_reported_delivered() -> None:
    hub, receiver = FakeHub(), Receiver()
    with serving(receiver) as url, running_edge(hub) as client:
        bodies = [b"<m%d/>" % i for i in range(40)]
        for body in bodies:
            hub.queue(url, body, _now())
        hub.wait_until(lambda: not hub.undelivered())
        metrics = parse_prometheus(client.get("/metrics").text)
    assert sorted(receiver.bodies) == sorted(bodies)
    assert receiver.content_types == {XML}
    assert hub.failures == []
    assert hub.violations == []
    assert metrics[("smetsnet_deliveries_total", frozenset({("outcome", "ok"), ("reason", "")}))]
    assert metrics[("smetsnet_delivery_latency_seconds_count", frozenset())] == 40


def test_the_hub_is_closed_at_shutdown_after_every_delivery_was_reported() -> None:
    hub, receiver = FakeHub(), Receiver(delay=0.05)
    with serving(receiver) as url, running_edge(hub, shutdown_grace=1.0):
        for i in range(5):
            hub.queue(url, b"<m%d/>" % i, _now())
        hub.wait_until(lambda: receiver.active > 0)
        assert not hub.closed
    assert hub.closed and hub.closed_with_unreported == []
    assert hub.violations == []


def test_a_500_is_reported_failed_and_the_retry_delivers() -> None:
    hub, receiver = FakeHub(), Receiver(fail_first=3)
    with serving(receiver) as url, running_edge(hub, concurrency=1):
        ident = hub.queue(url, b"<m/>", _now())
        hub.wait_until(lambda: not hub.undelivered())
    assert [i for i, _ in hub.failures] == [ident] * 3
    assert all("HTTP 500" in reason for _, reason in hub.failures)
    assert receiver.bodies == [b"<m/>"]
    assert hub.messages[ident].attempts == 4
    assert hub.violations == []


def test_a_refused_connection_is_reported_and_delivered_once_the_receiver_listens() -> None:
    hub, receiver = FakeHub(), Receiver()
    port = _free_port()  # nothing listens there yet
    url = f"http://127.0.0.1:{port}/r"
    with running_edge(hub) as client:
        idents = [hub.queue(url, b"<m%d/>" % i, _now()) for i in range(5)]
        hub.wait_until(lambda: len(hub.failures) >= 10)
        assert hub.undelivered() == idents
        with serving(receiver, port):
            hub.wait_until(lambda: not hub.undelivered())
        metrics = parse_prometheus(client.get("/metrics").text)
    assert all("connection error" in reason for _, reason in hub.failures)
    assert sorted(receiver.bodies) == sorted(b"<m%d/>" % i for i in range(5))
    failed = (
        "smetsnet_deliveries_total",
        frozenset({("outcome", "failed"), ("reason", "connect")}),
    )
    assert metrics[failed] >= 10
    assert hub.violations == []


def test_concurrency_is_bounded() -> None:
    hub, receiver = FakeHub(), Receiver(delay=0.02)
    with serving(receiver) as url, running_edge(hub, concurrency=4):
        for i in range(40):
            hub.queue(url, b"<m%d/>" % i, _now())
        hub.wait_until(lambda: not hub.undelivered())
    assert len(receiver.bodies) == 40
    assert receiver.max_active == 4  # bounded, and the bound is used
    assert max(hub.handed_out_limits) <= 4  # never takes more than it can send
    assert hub.violations == []


def test_a_request_that_queues_a_response_wakes_the_loop() -> None:
    """With a ten-second tick, an immediate response still goes out at once."""
    hub, receiver = FakeHub(), Receiver()
    with serving(receiver) as url, running_edge(hub, tick=10.0) as client:
        time.sleep(0.05)  # the loop is now asleep for ten seconds
        hub.queue_on_request = url
        started = time.monotonic()
        client.post("/api/v1/serviceS", content=b"<r/>", headers={"Content-Type": XML})
        hub.wait_until(lambda: bool(receiver.bodies))
        elapsed = time.monotonic() - started
    assert receiver.bodies == [b"<response><r/></response>"]
    assert elapsed < 3.0


def test_shutdown_reports_posts_in_flight_as_failed() -> None:
    hub, receiver = FakeHub(), Receiver(delay=5.0)
    with serving(receiver) as url:
        with running_edge(hub, shutdown_grace=0.05, concurrency=2):
            idents = [hub.queue(url, b"<m%d/>" % i, _now()) for i in range(3)]
            hub.wait_until(lambda: receiver.active == 2)
        # Two were in flight, the third never handed out: none delivered, none lost.
        assert sorted(i for i, _ in hub.failures) == idents[:2]
        assert all("shut down" in reason for _, reason in hub.failures)
        assert hub.undelivered() == idents
        assert all(hub.messages[i].due is not None for i in idents)  # all can be handed out
    assert hub.violations == []


# The pump driven directly -----------------------------------------------------------------------


class FakePoster:
    """Answers every POST ok and records the URLs."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def post(self, url: str, body: bytes) -> PostOutcome:
        self.urls.append(url)
        return PostOutcome(True)


def _pump(hub: FakeHub, poster: Poster, now: datetime, tick: float = 0.01) -> OutboxPump:
    config = DeliverySettings(tick=tick)
    return OutboxPump(hub, HubCaller(CallMode.INLINE), lambda: now, poster, config, DeliveryStats())


async def _drain(pump: OutboxPump) -> None:
    while pump.in_flight:
        await asyncio.sleep(0.001)
    await pump.flush()  # successes are reported to the hub in batches


async def _garbage_server() -> tuple[asyncio.Server, int]:
    """A TCP server that answers anything with bytes that are not HTTP."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"this is not HTTP\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.anyio
async def test_timeouts_and_other_errors_are_failures_with_a_reason() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    hub = FakeHub()
    slow = Receiver(delay=1.0)
    garbage, garbage_port = await _garbage_server()
    poster = HttpPoster(DeliverySettings(timeout=0.2))
    try:
        with serving(slow) as slow_url, serving(Receiver()) as fine_url:
            hub.queue(slow_url, b"<m/>", now)
            hub.queue(f"http://127.0.0.1:{garbage_port}/r", b"<m/>", now)
            hub.queue(fine_url, b"<m/>", now)
            hub.queue("not a url at all", b"<m/>", now)
            hub.queue(f"http://127.0.0.1:{_free_port()}/r", b"<m/>", now)  # nobody listens
            pump = _pump(hub, poster, now)
            await pump.tick()
            await _drain(pump)
    finally:
        garbage.close()
        await poster.close()
    reasons = dict(hub.failures)
    assert "timeout" in reasons[1] and "0.2 s" in reasons[1]
    assert f"127.0.0.1:{garbage_port}" in reasons[2]
    assert hub.messages[3].delivered
    assert "not a url at all" in reasons[4]
    assert "connection error" in reasons[5]
    assert dict(pump.stats.failed) == {
        FailureKind.TIMEOUT: 1,
        FailureKind.OTHER: 2,
        FailureKind.CONNECT: 1,
    }
    assert hub.violations == []


@pytest.mark.anyio
async def test_a_poster_that_raises_is_a_failure_not_a_lost_message() -> None:
    class Broken:
        async def post(self, url: str, body: bytes) -> PostOutcome:
            raise RuntimeError("the poster broke")

    now = datetime(2024, 5, 1, tzinfo=UTC)
    hub = FakeHub()
    ident = hub.queue("http://user/r", b"<m/>", now)
    pump = _pump(hub, Broken(), now)
    await pump.tick()
    await _drain(pump)
    assert hub.failures == [(ident, "RuntimeError posting to http://user/r: the poster broke")]
    assert hub.undelivered() == [ident]


@pytest.mark.anyio
async def test_the_wait_follows_next_due_within_the_tick() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    hub = FakeHub()
    pump = _pump(hub, FakePoster(), now, tick=0.5)
    assert await pump.tick() == 0.5  # nothing pending
    hub.due_at = now + timedelta(milliseconds=30)
    assert await pump.tick() == pytest.approx(0.03)
    hub.due_at = now - timedelta(seconds=1)
    assert await pump.tick() == 0.0
    hub.due_at = now + timedelta(hours=1)
    assert await pump.tick() == 0.5
    assert hub.advanced == [now] * 4


@pytest.mark.anyio
async def test_a_failing_advance_does_not_stop_deliveries() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    hub = FakeHub(fail_advance=True)
    hub.queue("http://user/r", b"<m/>", now)
    poster = FakePoster()
    pump = _pump(hub, poster, now)
    await pump.tick()
    await _drain(pump)
    assert hub.messages[1].delivered
    assert poster.urls == ["http://user/r"]
    assert pump.stats.loop_errors == 1


@pytest.mark.parametrize(
    "settings",
    [{"tick": 0.0}, {"timeout": -1.0}, {"concurrency": 0}, {"shutdown_grace": -0.1}],
    ids=str,
)
def test_bad_delivery_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="delivery"):
        DeliverySettings(**settings)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_the_wakeup_ends_a_wait_early_and_is_cleared_by_it() -> None:
    wakeup = Wakeup()
    started = time.monotonic()
    await wakeup.wait(0.05)  # nobody sets it: the timeout ends the wait
    assert time.monotonic() - started >= 0.04
    wakeup.set()  # set before the wait: it returns at once, and clears the flag
    started = time.monotonic()
    await wakeup.wait(10.0)
    assert time.monotonic() - started < 1.0
    waiting = asyncio.create_task(wakeup.wait(10.0))  # cleared: this one waits
    await asyncio.sleep(0.01)
    assert not waiting.done()
    wakeup.set()
    await asyncio.wait_for(waiting, 1.0)
    waiting = asyncio.create_task(wakeup.wait(10.0))
    await asyncio.sleep(0.01)
    waiting.cancel()  # a cancelled wait leaves no timer or waiter behind
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert wakeup._waiter is None
