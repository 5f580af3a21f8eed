"""Signed DUIS requests in, signed responses out, over HTTP both ways (issue 5 §5).

The hub (``smetsnet serve``'s app over a simulated network of ``--users`` suppliers, each
registered for its own premises, on the in-memory WAN) runs in a child process on its own port.
This process is the service users: one lane per user sends that user's pre-signed ECS17b reads
(4.1.1, CV 1) in counter order (a user's counters must rise strictly), all lanes at once, and
runs the receiver the hub POSTs the asynchronous I0 responses to, verifying each signature on
arrival. Latency is from the start of the POST to the verified response at the receiver.
Requests are signed before the timed window (by the child, which holds the users' keys).
CPU seconds per SR of each side are printed too: on shared cores the rate and latencies move
with the neighbours' load, the CPU per SR much less.

Also: where the time goes inside the hub (in-process, cProfile of handle + advance).

    .venv/bin/python bench/duis_roundtrip.py [--requests 4000] [--users 32] [--rate SR_PER_S]
        [--delivery-concurrency 64] [--profile 800]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import multiprocessing
import os
import pstats
import socket
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_network import esme_eui, many_suppliers, user_eui

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = (
    ROOT.parent
    / "shared"
    / "reference"
    / "duis"
    / "templates"
    / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
)


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``): the figure
    that does not depend on what else shares the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _profiles() -> dict[Any, Any]:
    from smetsnet.wan.link import LinkProfile, Technology

    # A fast WAN: the figure is the hub's throughput, not radio latency.
    return {t: LinkProfile(median_s=0.005, p99_s=0.02) for t in Technology}


def _lanes(setup: Any, pki: Any, users: int, per_user: int) -> list[list[tuple[str, bytes]]]:
    from smetsnet.client import DuisClient, UserCredentials
    from smetsnet.duis import MessageId, Request, from_xml

    base = from_xml(TEMPLATE.read_bytes())
    assert isinstance(base, Request)
    lanes = []
    for i in range(users):
        entry = pki.bundle.xml_signing(user_eui(i))
        creds = UserCredentials(
            eui=user_eui(i), xml_key=entry.private_key, xml_certificate=entry.certificate,
            gbcs=setup.user_keys[user_eui(i)],
        )  # fmt: skip
        client = DuisClient("http://unused", creds, hub_certificates=[])
        lane = []
        for _ in range(per_user):
            rid = MessageId(
                originator=user_eui(i), target=esme_eui(i), counter=client.next_counter()
            )
            request = replace(base, header=replace(base.header, request_id=rid))
            lane.append((str(rid), client.sign(request)))
        lanes.append(lane)
    return lanes


def _serve(
    port: int, receiver_url: str, users: int, per_user: int, concurrency: int, conn: Any
) -> None:
    import uvicorn

    from smetsnet.api.app import create_app
    from smetsnet.api.delivery import DeliverySettings
    from smetsnet.hub.build import build_hub
    from smetsnet.hub.network import SimulatedNetwork

    logging.disable(logging.WARNING)
    setup, pki = many_suppliers(users)
    for i in range(users):
        setup.response_urls[user_eui(i)] = receiver_url
    hub, wan = build_hub(setup, profiles=_profiles())
    network = SimulatedNetwork(hub, wan, setup.premises)
    lanes = _lanes(setup, pki, users, per_user + 5)
    conn.send((setup.dsp_certificate.public_bytes(Encoding.PEM), lanes))
    config = uvicorn.Config(
        create_app(network, delivery=DeliverySettings(concurrency=concurrency)),
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
    )
    uvicorn.Server(config).run()


async def _run(
    lanes: list[list[tuple[str, bytes]]],
    base_url: str,
    arrived: dict[str, float],
    rate: float | None = None,
) -> tuple[dict[str, float], float]:
    """Send every lane's requests (each lane in counter order, the next once the last is
    acknowledged); ``rate`` spaces them to that many SR/s in all, else as fast as acknowledged.

    The users POST with the hub's own small keep-alive client (:mod:`smetsnet.api.http1`,
    keeping the answer's body): a fifth of aiohttp's CPU per POST (its module docstring).
    """
    from smetsnet.api.http1 import Http1Client

    sent: dict[str, float] = {}
    total = sum(len(lane) for lane in lanes)
    interval = len(lanes) / rate if rate else 0.0
    http = Http1Client(keep_body=True)
    url = f"{base_url}/api/v1/serviceS"

    async def lane_worker(index: int, lane: list[tuple[str, bytes]]) -> None:
        first = start + index * interval / len(lanes)
        for k, (rid, xml) in enumerate(lane):
            if interval:
                await asyncio.sleep(max(0.0, first + k * interval - time.perf_counter()))
            sent[rid] = time.perf_counter()
            async with asyncio.timeout(60):
                status, body = await http.exchange(url, xml, b"application/xml")
            if status != 200 or b">I99<" not in body:
                raise SystemExit(f"unexpected answer {status}: {body[:900]!r}")

    start = time.perf_counter()
    try:
        await asyncio.gather(*(lane_worker(i, lane) for i, lane in enumerate(lanes)))
    finally:
        http.close()
    acked = time.perf_counter() - start
    print(f"  all {total} acknowledged (I99) after {acked:.2f} s: {total / acked:,.0f} SR/s")
    deadline = time.perf_counter() + 120
    waiting = list(sent)  # re-checked every 5 ms: only those still missing, not all of them
    while waiting and time.perf_counter() < deadline:
        waiting = [rid for rid in waiting if rid not in arrived]
        if waiting:
            await asyncio.sleep(0.005)
    return sent, start


async def _users(
    receiver: Any,
    listener: socket.socket,
    base: str,
    lanes: list[list[tuple[str, bytes]]],
    arrived: dict[str, float],
    rate: float | None,
    hub_pid: int,
) -> tuple[dict[str, float], float, float, float]:
    """The users' side on one uvloop event loop: the receiver's server (``Receiver.app``,
    verifying every response) and the senders together, no thread between them to hand the
    GIL across. Five requests a lane warm up, the rest are timed; returns the timed send
    times, the start, and the CPU seconds of hub and users."""
    import uvicorn

    config = uvicorn.Config(
        receiver.app,
        interface="asgi3",
        log_level="warning",
        access_log=False,
    )
    http_server = uvicorn.Server(config)
    serving = asyncio.create_task(http_server.serve(sockets=[listener]))
    while not http_server.started:
        if serving.done():
            raise SystemExit("the users' receiver did not start")
        await asyncio.sleep(0.01)
    try:
        await _run([lane[:5] for lane in lanes], base, arrived)
        hub_cpu, users_cpu = _cpu_s(hub_pid), time.process_time()
        sent, start = await _run([lane[5:] for lane in lanes], base, arrived, rate)
        hub_cpu, users_cpu = _cpu_s(hub_pid) - hub_cpu, time.process_time() - users_cpu
    finally:
        http_server.should_exit = True
        await serving
    return sent, start, hub_cpu, users_cpu


def _in_process_profile(n: int) -> None:
    from smetsnet.hub.build import build_hub
    from smetsnet.hub.network import SimulatedNetwork

    logging.disable(logging.WARNING)
    setup, pki = many_suppliers(8)
    for i in range(8):
        setup.response_urls[user_eui(i)] = "http://users.invalid/"
    hub, wan = build_hub(setup, profiles=_profiles())
    network = SimulatedNetwork(hub, wan, setup.premises)
    lanes = _lanes(setup, pki, 8, n // 8)
    requests = [xml for group in zip(*lanes, strict=True) for _, xml in group]
    now = datetime.now(UTC)
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    for xml in requests:
        network.handle(xml, endpoint="serviceS", now=now)
        now += timedelta(milliseconds=1)
        network.advance(now)
    network.advance(now + timedelta(seconds=5))
    profile.disable()
    elapsed = time.perf_counter() - t0
    rate = len(requests) / elapsed
    print(f"\nin-process hub (no HTTP): {rate:,.0f} SR/s (access control, GBCS build + MAC, WAN,")
    print("  device answer, signed I0 into the outbox); top functions by own time:")
    pstats.Stats(profile).sort_stats("tottime").print_stats(14)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--users", type=int, default=32, help="concurrent lanes (users)")
    parser.add_argument("--port", type=int, default=18079)
    parser.add_argument(
        "--rate", type=float, default=None, help="offered SR/s (default: as fast as acknowledged)"
    )
    parser.add_argument(
        "--delivery-concurrency",
        type=int,
        default=64,
        help="POSTs to response URLs in flight at most (serve's --delivery-concurrency)",
    )
    parser.add_argument("--profile", type=int, default=800, help="in-process requests (0: skip)")
    args = parser.parse_args()
    if not TEMPLATE.is_file():
        print(f"needs the DUIS templates at {TEMPLATE.parent}", file=sys.stderr)
        return 2

    from smetsnet.client import Receiver, verify_response
    from smetsnet.duis.xmldsig import certificate_index

    per_user = max(1, args.requests // args.users)
    arrived: dict[str, float] = {}
    certs: dict[Any, x509.Certificate] = {}

    def verify(xml: bytes) -> Any:
        answer = verify_response(xml, certs)
        rid = answer.response.header.request_id
        if rid is not None:
            arrived[str(rid)] = time.perf_counter()
        return answer

    receiver = Receiver(verify)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_serve,
        args=(args.port, url, args.users, per_user, args.delivery_concurrency, child),
        daemon=True,
    )
    server.start()
    pem, lanes = parent.recv()
    certs.update(certificate_index([x509.load_pem_x509_certificate(pem)]))
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(400):
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    timed = [lane[5:] for lane in lanes]
    assert server.pid is not None
    sent, start, hub_cpu, users_cpu = uvloop.run(
        _users(receiver, listener, base, lanes, arrived, args.rate, server.pid)
    )
    done_at = [arrived[r] for r in sent if r in arrived]
    end = max(done_at) if done_at else time.perf_counter()
    latencies = sorted((arrived[r] - sent[r]) * 1000 for r in sent if r in arrived)
    server.terminate()
    total = sum(len(lane) for lane in timed)
    print(
        f"DUIS round trip over HTTP: {len(latencies)}/{total} responses, {args.users} users "
        "sending at once (each in counter order)"
    )
    print(f"  sustained: {len(latencies) / (end - start):,.0f} SR/s over {end - start:.2f} s")
    if latencies:
        per = 1000 / len(latencies)
        print(
            f"  CPU per SR: hub {hub_cpu * per:.2f} ms, users (sending and receiving)"
            f" {users_cpu * per:.2f} ms"
        )
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"  latency POST -> verified response at the user: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
    if args.profile:
        _in_process_profile(args.profile)
    return 0 if len(latencies) == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
