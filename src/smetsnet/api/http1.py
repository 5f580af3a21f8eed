"""A small HTTP/1.1 client for one job: POST a body to a URL on a kept-alive connection and
learn the status. The hub's deliveries are half of its HTTP work, and a general client spends
most of a POST's CPU on what a delivery never uses (cookies, redirects, proxies, header
objects, streams, a task per request): aiohttp took 0.17-0.29 ms of CPU per POST to a uvicorn
receiver on loopback where this takes 0.05 ms (16 POSTs in flight, keep-alive, uvloop).

One request is one ``write`` (head and body together); the response is parsed by httptools
(uvicorn's C parser, a dependency already), its body read and dropped. Connections are pooled
per (scheme, host, port) and reused while the server keeps them alive, up to ``idle_s`` idle
(under the 5 s keep-alive of common servers: reusing a connection the server is closing would
fail the POST). A connection taken from the pool that the server had closed before answering
(nothing received) is replaced by a new one once: a delivery is at-least-once anyway.

Failures are this module's :class:`PostError` (``kind`` says connect or other). The client has
no clock of its own: the caller (:class:`~smetsnet.api.delivery.HttpPoster`) bounds each POST
with ``asyncio.timeout`` (a cancelled exchange aborts its connection) and turns failures into
outcomes.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
import time
from collections import defaultdict
from typing import cast
from urllib.parse import urlsplit

import httptools

#: What a request line's target and a Host header may hold: printable ASCII, no blank.
_PRINTABLE = re.compile(r"[!-~]+")
#: Seconds an idle connection is kept for reuse.
DEFAULT_IDLE_S = 2.0

Origin = tuple[str, str, int]  # scheme, host, port


class PostError(Exception):
    """A POST that failed before a status arrived: ``kind`` is ``connect`` or ``other``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> tuple[Origin, bytes]:
    """The origin and the request head's first lines (request line and Host) of ``url``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise PostError("other", f"bad URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError("other", f"not an http(s) URL: {url!r}")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    authority = parts.netloc.rpartition("@")[2]
    if not _PRINTABLE.fullmatch(path + authority):
        # A blank or a control character would end the request line or the Host header early.
        raise PostError("other", f"URL with a blank or a non-ASCII character: {url!r}")
    head = f"POST {path} HTTP/1.1\r\nHost: {authority}\r\n".encode("ascii")
    return (parts.scheme, host, port), head


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: one request at a time, its response parsed as it comes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[int] | None = None
        self._status = 0
        self._received = False  # any byte of the current response
        self._headers_done = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport, only act like one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(PostError("other", f"not an HTTP response: {exc}"))
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done:  # a body delimited by the end of the connection
            waiter.set_result(self._status)
        elif not self._received:
            waiter.set_exception(_Stale())
        else:
            waiter.set_exception(PostError("other", "the connection closed mid-response"))

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()
        self._headers_done = True

    def on_message_complete(self) -> None:
        keep = self.parser.should_keep_alive()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(self._status)
        if not keep:
            self._close()

    # use
    def request(self, data: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._status, self._received, self._headers_done = 0, False, False
        self.transport.write(data)
        return waiter

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class _BodyConnection(_Connection):
    """A connection that keeps the response body (httptools calls ``on_body`` only on a
    protocol that has one: the hub's deliveries, which drop it, do not pay for it)."""

    def __init__(self) -> None:
        self.body: list[bytes] = []
        super().__init__()

    def request(self, data: bytes) -> asyncio.Future[int]:
        self.body = []
        return super().request(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)


class _Stale(Exception):
    """A reused connection the server had closed before it read the request."""


class Http1Client:
    """POSTs over pooled keep-alive connections (module docstring)."""

    def __init__(self, *, idle_s: float = DEFAULT_IDLE_S, keep_body: bool = False) -> None:
        """``keep_body``: :meth:`exchange` returns the response body (else it is dropped)."""
        self._idle_s = idle_s
        self._factory = _BodyConnection if keep_body else _Connection
        self._pool: dict[Origin, list[_Connection]] = defaultdict(list)
        self._ssl: ssl.SSLContext | None = None

    async def post(self, url: str, body: bytes, content_type: bytes) -> int:
        """POST ``body``; the response's status (its body is read and dropped)."""
        status, _ = await self.exchange(url, body, content_type)
        return status

    async def exchange(self, url: str, body: bytes, content_type: bytes) -> tuple[int, bytes]:
        """POST ``body``; the response's status and body (empty unless ``keep_body``)."""
        origin, head = _target(url)
        data = b"".join(
            (
                head,
                b"Content-Type: ",
                content_type,
                b"\r\nContent-Length: ",
                str(len(body)).encode(),
                b"\r\n\r\n",
                body,
            )
        )
        connection = self._take(origin)
        if connection is not None:
            try:
                return await self._exchange(origin, connection, data)
            except _Stale:
                pass  # the server closed it meanwhile: once more on a new connection
        connection = await self._connect(origin)
        try:
            return await self._exchange(origin, connection, data)
        except _Stale:
            raise PostError("other", "the server closed the connection without answering") from None

    async def _exchange(
        self, origin: Origin, connection: _Connection, data: bytes
    ) -> tuple[int, bytes]:
        try:
            status = await connection.request(data)
        except BaseException:
            connection.abort()  # a half-done exchange leaves the connection unusable
            raise
        body = b"".join(connection.body) if isinstance(connection, _BodyConnection) else b""
        if not connection.closed:
            connection.idle_since = time.monotonic()
            self._pool[origin].append(connection)
        return status, body

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._pool.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self._idle_s:
                return connection
            connection.abort()
        return None

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(self._factory, host, port, ssl=context)
        except OSError as exc:
            raise PostError("connect", f"{exc}") from None
        return connection

    def close(self) -> None:
        """Close every pooled connection."""
        for idle in self._pool.values():
            for connection in idle:
                connection.abort()
        self._pool.clear()
