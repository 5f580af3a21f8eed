"""CPU per HTTP POST of the async clients the hub could deliver with (httpx, aiohttp, its own).

A bare ASGI app on uvicorn (httptools) in a child process answers ``ok``; this process POSTs
3 KB bodies (the size of a signed DUIS response) on keep-alive connections with ``--concurrency``
POSTs in flight, and reports requests per second and this process's CPU per request. It is why
the hub's delivery (``smetsnet.api.delivery.HttpPoster``) uses its own small keep-alive client
(``smetsnet.api.http1``) rather than either library.

    .venv/bin/python bench/http_clients.py [--requests 5000] [--concurrency 4 24]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

BODY = b"x" * 3000


async def _ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body", False))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(_ok_app, host="127.0.0.1", port=port, log_level="error", access_log=False)


async def _with_httpx(url: str, total: int, concurrency: int) -> None:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def lane(count: int) -> None:
            for _ in range(count):
                reply = await client.post(url, content=BODY)
                reply.raise_for_status()

        await asyncio.gather(*(lane(total // concurrency) for _ in range(concurrency)))


async def _with_aiohttp(url: str, total: int, concurrency: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane(count: int) -> None:
            for _ in range(count):
                async with session.post(url, data=BODY) as reply:
                    await reply.read()
                    reply.raise_for_status()

        await asyncio.gather(*(lane(total // concurrency) for _ in range(concurrency)))


async def _with_smetsnet(url: str, total: int, concurrency: int) -> None:
    from smetsnet.api.delivery import DeliverySettings, HttpPoster

    poster = HttpPoster(DeliverySettings(concurrency=concurrency))

    async def lane(count: int) -> None:
        for _ in range(count):
            outcome = await poster.post(url, BODY)
            if not outcome.ok:
                raise SystemExit(outcome.reason)

    try:
        await asyncio.gather(*(lane(total // concurrency) for _ in range(concurrency)))
    finally:
        await poster.close()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 24])
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/r"
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the test server did not start") from None
            time.sleep(0.05)
    clients: dict[str, Callable[[str, int, int], Coroutine[Any, Any, None]]] = {
        "httpx": _with_httpx,
        "aiohttp": _with_aiohttp,
        "smetsnet": _with_smetsnet,
    }
    print(f"{args.requests} POSTs of {len(BODY)} bytes each to uvicorn on loopback")
    for name, run in clients.items():
        for concurrency in args.concurrency:
            asyncio.run(run(url, args.requests // 5, concurrency))  # warm-up
            cpu, start = _cpu_seconds(), time.perf_counter()
            asyncio.run(run(url, args.requests, concurrency))
            elapsed, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
            print(
                f"  {name:8} {concurrency:3} in flight: {args.requests / elapsed:8,.0f} POST/s,"
                f" client CPU {cpu / args.requests * 1e6:6.0f} us per POST"
            )
    server.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
