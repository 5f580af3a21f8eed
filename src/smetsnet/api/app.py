"""The hub's HTTP edge, a drop-in for DCC Boxed's DUIS and SMKI web services.

Routes:

* ``POST /api/v1/serviceS`` (send command), ``/serviceT`` (transform), ``/serviceD``
  (non-device): a DUIS request, ``Content-Type: application/xml`` (415 otherwise), at most
  ``max_body`` bytes (413, decided on ``Content-Length`` or while streaming, before the rest is
  read). The hub's :class:`SyncAnswer` goes back as is (status, body, content type).
* ``GET /api/v1/smki/certificates?eui=90-B3-D5-1F-30-01-00-00`` or ``?serial=<decimal>``: the
  certificates as one PEM bundle; 404 when there are none, 400 on a malformed query.
* ``GET /health``: JSON liveness (and whether the delivery loop is ticking).
* ``GET /metrics``: Prometheus text: the hub's :meth:`DuisService.metrics` and the edge's own
  counters (requests by endpoint and status, deliveries, delivery latency).

A lifespan task (:class:`OutboxPump`) advances the hub and delivers its outbox. The hub is
CPU-bound and not thread-safe: every call into it goes through one :class:`HubCaller`.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from cryptography.hazmat.primitives.serialization import Encoding
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smetsnet.api.delivery import (
    LATENCY_BUCKETS,
    CallMode,
    DeliverySettings,
    DeliveryStats,
    FailureKind,
    HttpPoster,
    HubCaller,
    OutboxPump,
    Poster,
)
from smetsnet.errors import ConfigurationError, SmetsnetError
from smetsnet.gbcs.eui import parse_eui
from smetsnet.hub.interface import DuisService

_log = logging.getLogger(__name__)

DUIS_ENDPOINTS = ("serviceS", "serviceT", "serviceD")
DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB
PEM = "application/x-pem-file"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

#: Media types accepted for a DUIS body: DCC Boxed's ``application/xml``, the older
#: ``text/xml``, and ``application/<something>+xml``.
_XML_TYPE = re.compile(r"^(application|text)/xml$|^application/[\w.+-]+\+xml$")
#: X.509 serial numbers are at most 20 octets (RFC 5280 §4.1.2.2).
_MAX_SERIAL = 1 << 160
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
_METRIC_SAMPLE = re.compile(rf"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{(?:{_LABEL})(?:,{_LABEL})*\}})?$")


def _endpoint_label(path: str) -> str:
    """A bounded label for a request path (unknown paths are one label, not one each)."""
    if path.startswith("/api/v1/") and path[8:] in DUIS_ENDPOINTS:
        return path[8:]
    return {
        "/api/v1/smki/certificates": "smki_certificates",
        "/health": "health",
        "/metrics": "metrics",
    }.get(path, "other")


class RequestCounter:
    """Pure ASGI middleware counting HTTP requests by endpoint and final status into
    ``counts`` (a 404 or 405 of the router and a 500 of a failing handler included)."""

    def __init__(self, app: ASGIApp, counts: Counter[tuple[str, int]]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client sees if the app fails before answering

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self.counts[(_endpoint_label(scope["path"]), status)] += 1


class _BodyTooLarge(Exception):
    pass


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, text: str) -> None:
    await _respond(send, status, text.encode(), "text/plain; charset=utf-8")


class DuisRoutes:
    """Pure ASGI: a DUIS endpoint is answered by :meth:`HubEdge.duis` (``POST``) or with a 405
    (any other method); every other path goes to the Starlette app."""

    def __init__(self, app: ASGIApp, edge: HubEdge) -> None:
        self.app = app
        self.edge = edge
        self.paths = {f"/api/v1/{name}" for name in DUIS_ENDPOINTS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
        elif scope["method"] == "POST":
            await self.edge.duis(scope, receive, send)
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [(b"allow", b"POST"), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})


class HubEdge:
    """The request handlers and the state they share (one per app)."""

    def __init__(
        self,
        service: DuisService,
        caller: HubCaller,
        clock: Callable[[], datetime],
        max_body: int,
    ) -> None:
        self.service = service
        self.caller = caller
        self.clock = clock
        self.max_body = max_body
        self.stats = DeliveryStats()
        self.pump: OutboxPump | None = None
        self.requests: Counter[tuple[str, int]] = Counter()
        self.started = time.monotonic()

    async def duis(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /api/v1/serviceS|T|D`` as plain ASGI: the hot path of the edge, without
        Starlette's request and routing objects (they cost ~140 µs of a request's ~270 µs of
        CPU in the edge, ``bench/duis_roundtrip.py`` profile)."""
        endpoint = scope["path"].rsplit("/", 1)[-1]
        headers = dict(scope["headers"])
        raw_type = headers.get(b"content-type")
        content_type = raw_type.decode("latin-1") if raw_type is not None else None
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if not _XML_TYPE.match(media_type):
            message = (
                f"a DUIS request must be sent as Content-Type: application/xml, "
                f"not {content_type!r}"
            )
            await _plain(send, 415, message)
            return
        try:
            body = await self._read_body(headers.get(b"content-length"), receive)
        except _BodyTooLarge:
            await _plain(send, 413, f"request body larger than the limit of {self.max_body} bytes")
            return
        except ValueError as exc:
            await _plain(send, 400, str(exc))
            return
        answer = await self.caller.call(
            self.service.handle, body, endpoint=endpoint, now=self.clock()
        )
        if self.pump is not None:
            self.pump.wake()  # the request may have queued a response that is due now
        await _respond(send, answer.http_status, answer.body, answer.content_type)

    async def _read_body(self, declared: bytes | None, receive: Receive) -> bytes:
        """The body, refused (413) as soon as it is known to exceed the limit: from
        ``Content-Length`` before anything is read, or while streaming a chunked body."""
        if declared is not None:
            if not declared.isdigit():
                raise ValueError(f"Content-Length {declared.decode('latin-1')!r} is not a length")
            if int(declared) > self.max_body:
                raise _BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ValueError("the client disconnected before the body was read")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def certificates(self, request: Request) -> Response:
        query = request.query_params
        names = list(query.keys())
        if (
            len(names) != 1
            or len(query.getlist(names[0])) != 1
            or names[0]
            not in (
                "eui",
                "serial",
            )
        ):
            return PlainTextResponse(
                "give exactly one of ?eui=<EUI-64> or ?serial=<decimal serial number>",
                status_code=400,
            )
        value = query[names[0]]
        if names[0] == "eui":
            try:
                eui = parse_eui(value)
            except SmetsnetError as exc:
                return PlainTextResponse(f"eui: {exc}", status_code=400)
            found = await self.caller.call(self.service.certificates, eui=eui)
            wanted = f"EUI {value}"
        else:
            if not (value.isascii() and value.isdecimal()) or int(value) >= _MAX_SERIAL:
                return PlainTextResponse(
                    f"serial {value!r} is not a decimal certificate serial number",
                    status_code=400,
                )
            found = await self.caller.call(self.service.certificates, serial=int(value))
            wanted = f"serial {value}"
        if not found:
            return PlainTextResponse(f"no certificate for {wanted}", status_code=404)
        bundle = b"".join(cert.public_bytes(Encoding.PEM) for cert in found)
        return Response(bundle, media_type=PEM)

    async def health(self, request: Request) -> Response:
        pump = self.pump
        last_tick = self.stats.last_tick
        delivery: dict[str, object] = {"enabled": pump is not None}
        status, code = "ok", 200
        if pump is not None:
            delivery.update(
                running=pump.running,
                in_flight=pump.in_flight,
                last_tick_age_s=None if last_tick is None else time.monotonic() - last_tick,
            )
            if not pump.running and last_tick is not None:
                status, code = "failing", 503  # started once, and the loop has died
        return JSONResponse(
            {
                "status": status,
                "uptime_s": round(time.monotonic() - self.started, 3),
                "time": self.clock().isoformat(),
                "delivery": delivery,
            },
            status_code=code,
        )

    async def metrics(self, request: Request) -> Response:
        hub_metrics = await self.caller.call(self.service.metrics)
        return Response(self.prometheus_text(hub_metrics), media_type=PROMETHEUS_TEXT)

    def prometheus_text(self, hub_metrics: Mapping[str, float]) -> str:
        lines: list[str] = []
        lines += _hub_lines(hub_metrics)
        lines += [
            "# HELP smetsnet_http_requests_total HTTP requests by endpoint and status.",
            "# TYPE smetsnet_http_requests_total counter",
        ]
        for (endpoint, status), count in sorted(self.requests.items()):
            lines.append(
                f'smetsnet_http_requests_total{{endpoint="{endpoint}",status="{status}"}} {count}'
            )
        stats = self.stats
        lines += [
            "# HELP smetsnet_deliveries_total POSTs to response URLs by outcome.",
            "# TYPE smetsnet_deliveries_total counter",
            f'smetsnet_deliveries_total{{outcome="ok",reason=""}} {stats.delivered}',
        ]
        for kind in FailureKind:
            lines.append(
                f'smetsnet_deliveries_total{{outcome="failed",reason="{kind.value}"}}'
                f" {stats.failed[kind]}"
            )
        lines += [
            "# HELP smetsnet_delivery_latency_seconds Time of a successful POST to a user.",
            "# TYPE smetsnet_delivery_latency_seconds histogram",
        ]
        for bound, count in zip(LATENCY_BUCKETS, stats.latency_buckets, strict=True):
            lines.append(f'smetsnet_delivery_latency_seconds_bucket{{le="{bound:g}"}} {count}')
        lines += [
            f'smetsnet_delivery_latency_seconds_bucket{{le="+Inf"}} {stats.latency_count}',
            f"smetsnet_delivery_latency_seconds_sum {_number(stats.latency_sum)}",
            f"smetsnet_delivery_latency_seconds_count {stats.latency_count}",
            "# HELP smetsnet_deliveries_in_flight POSTs to response URLs now in flight.",
            "# TYPE smetsnet_deliveries_in_flight gauge",
            f"smetsnet_deliveries_in_flight {self.pump.in_flight if self.pump else 0}",
            "# HELP smetsnet_delivery_loop_errors_total Hub calls of the delivery loop that"
            " raised.",
            "# TYPE smetsnet_delivery_loop_errors_total counter",
            f"smetsnet_delivery_loop_errors_total {stats.loop_errors}",
        ]
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _hub_lines(hub_metrics: Mapping[str, float]) -> list[str]:
    """The hub's metrics as untyped samples named ``smetsnet_hub_<name>`` (or the key itself
    when it starts with ``smetsnet_``).

    A key may carry Prometheus labels (``requests_total{code="E4"}``), which pass through; any
    other character that a metric name cannot hold becomes ``_``.
    """
    lines = []
    typed: set[str] = set()
    for key, value in sorted(hub_metrics.items()):
        match = _METRIC_SAMPLE.match(key)
        name, labels = (match.group(1), match.group(2) or "") if match else (key, "")
        name = re.sub(r"[^a-zA-Z0-9_:]", "_", name)
        if not name.startswith("smetsnet_"):
            name = f"smetsnet_hub_{name}"
        if name not in typed:
            typed.add(name)
            lines.append(f"# TYPE {name} untyped")
        lines.append(f"{name}{labels} {_number(value)}")
    return lines


def create_app(
    service: DuisService,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    deliver: bool = True,
    max_body: int = DEFAULT_MAX_BODY,
    delivery: DeliverySettings | None = None,
    call_mode: CallMode = CallMode.INLINE,
    poster: Poster | None = None,
) -> Starlette:
    """The hub's HTTP edge as an ASGI app.

    ``deliver=False`` leaves out the lifespan loop (nothing advances the hub or posts its
    outbox: the caller drives it). ``poster`` replaces how deliveries are POSTed (tests; by
    default :class:`HttpPoster`). ``call_mode`` says where the hub's calls run (see
    :class:`CallMode`): inline by default, the faster under load (``bench/duis_roundtrip.py``:
    247 SR/s inline against 172 SR/s with the hub on its own thread, whose every call waits for
    the GIL that the event loop holds, and back).
    """
    if max_body < 0:
        raise ConfigurationError(f"max_body must not be negative, got {max_body}")
    settings = delivery or DeliverySettings()
    edge = HubEdge(service, HubCaller(call_mode), clock, max_body)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not deliver:
            yield
            edge.caller.close()
            return
        http = HttpPoster(settings)  # opens its connections on first use only
        pump = OutboxPump(service, edge.caller, clock, poster or http, settings, edge.stats)
        edge.pump = pump
        pump.start()
        try:
            yield
        finally:
            try:
                await pump.stop()  # reports every delivery in flight to the hub first
                await edge.caller.call(service.close)
            finally:
                edge.pump = None
                edge.caller.close()
                await http.close()

    routes = [
        Route("/api/v1/smki/certificates", edge.certificates, methods=["GET"]),
        Route("/health", edge.health, methods=["GET"]),
        Route("/metrics", edge.metrics, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestCounter, counts=edge.requests),
            Middleware(DuisRoutes, edge=edge),
        ],
        lifespan=lifespan,
    )
    app.state.edge = edge
    return app
