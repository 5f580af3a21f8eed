"""The deliveries' HTTP/1.1 client against a scripted server: connections kept alive and reused,
a connection the server closed meanwhile replaced once, every way a response can end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from smetsnet.api.http1 import Http1Client, PostError

Answer = Callable[[int, bytes], bytes | None]  # (request number, request) -> reply; None: close

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Scripted:
    """A TCP server that reads one request at a time and writes what ``answer`` says."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                reply = self.answer(len(self.requests), request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if not reply.startswith(b"HTTP/1.1"):
                    break  # an HTTP/1.0 answer ends with the connection
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def scripted(answer: Answer) -> AsyncIterator[tuple[Scripted, str]]:
    server = Scripted(answer)
    listening = await asyncio.start_server(server._serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}/users/r?x=1"
    finally:
        listening.close()


@pytest.mark.anyio
async def test_a_post_is_one_request_with_its_body_and_the_connection_is_reused() -> None:
    client = Http1Client()
    async with scripted(lambda _n, _r: OK) as (server, url):
        assert await client.post(url, b"<a/>", b"application/xml") == 200
        assert await client.post(url, b"<b/>", b"application/xml") == 200
    client.close()
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /users/r?x=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nContent-Type: application/xml\r\n" in first
    assert first.endswith(b"\r\nContent-Length: 4\r\n\r\n<a/>")


@pytest.mark.anyio
async def test_a_connection_the_server_closed_meanwhile_is_replaced() -> None:
    # The server answers the first request, then closes as the second arrives unanswered.
    client = Http1Client()
    async with scripted(lambda n, _r: OK if n != 2 else None) as (server, url):
        assert await client.post(url, b"<a/>", b"application/xml") == 200
        assert await client.post(url, b"<b/>", b"application/xml") == 200
    client.close()
    assert server.connections == 2
    assert len(server.requests) == 3  # the second was sent again, on the new connection


@pytest.mark.anyio
async def test_connection_close_and_idle_connections_are_not_reused() -> None:
    closing = b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    client = Http1Client()
    async with scripted(lambda _n, _r: closing) as (server, url):
        assert await client.post(url, b"<a/>", b"application/xml") == 500
        assert await client.post(url, b"<b/>", b"application/xml") == 500
    assert server.connections == 2
    idle = Http1Client(idle_s=0.0)
    async with scripted(lambda _n, _r: OK) as (server, url):
        await idle.post(url, b"<a/>", b"application/xml")
        await idle.post(url, b"<b/>", b"application/xml")
    assert server.connections == 2
    client.close()
    idle.close()


@pytest.mark.anyio
async def test_chunked_and_close_delimited_bodies_are_read() -> None:
    chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    client = Http1Client()
    async with scripted(lambda _n, _r: chunked) as (server, url):
        assert await client.post(url, b"<a/>", b"application/xml") == 202
        assert await client.post(url, b"<b/>", b"application/xml") == 202
    assert server.connections == 1
    until_close = b"HTTP/1.0 200 OK\r\n\r\nthe body runs to the end of the connection"
    async with scripted(lambda _n, _r: until_close) as (server, url):
        assert await client.post(url, b"<a/>", b"application/xml") == 200
        assert await client.post(url, b"<b/>", b"application/xml") == 200
    assert server.connections == 2
    client.close()


@pytest.mark.anyio
async def test_broken_answers_and_bad_urls_are_post_errors() -> None:
    client = Http1Client()
    half = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok"
    async with scripted(lambda _n, _r: half) as (_server, url):
        task = asyncio.create_task(client.post(url, b"<a/>", b"application/xml"))
        await asyncio.sleep(0.05)
        assert not task.done()  # waiting for the rest of the body
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with scripted(lambda _n, _r: b"garbage\r\n\r\n") as (_server, url):
        with pytest.raises(PostError) as caught:
            await client.post(url, b"<a/>", b"application/xml")
        assert caught.value.kind == "other"
    for url in ("not a url", "ftp://host/x", "http://host:port/x", "http://h/a b", "http://h/é"):
        with pytest.raises(PostError) as caught:
            await client.post(url, b"<a/>", b"application/xml")
        assert caught.value.kind == "other"
    client.close()


@pytest.mark.anyio
async def test_a_client_that_keeps_bodies_returns_each_response_body() -> None:
    chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nI99\r\n0\r\n\r\n"
    client = Http1Client(keep_body=True)
    async with scripted(lambda n, _r: OK if n == 1 else chunked) as (server, url):
        assert await client.exchange(url, b"<a/>", b"application/xml") == (200, b"ok")
        assert await client.exchange(url, b"<b/>", b"application/xml") == (202, b"I99")
    client.close()
    assert server.connections == 1


@pytest.mark.anyio
async def test_a_delivery_client_drops_bodies() -> None:
    client = Http1Client()
    async with scripted(lambda _n, _r: OK) as (_server, url):
        assert await client.exchange(url, b"<a/>", b"application/xml") == (200, b"")
    client.close()
