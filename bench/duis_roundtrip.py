"""Signed DUIS requests in, signed responses out, over HTTP both ways (issue 5 §5).

The hub (``smetsnet serve``'s app: DCC Boxed network, in-memory WAN, simulated devices) runs in a
child process on its own port; this process is the service user: it sends pre-signed ECS17b
reads (4.1.1, CV 1) from many concurrent connections and runs the receiver the hub POSTs the
asynchronous I0 responses to, verifying each signature on arrival. Latency is from the start of
the POST to the verified response at the receiver. Requests are signed before the timed window.

Also: where the time goes inside the hub (in-process, cProfile of handle + advance).

    .venv/bin/python bench/duis_roundtrip.py [--requests 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
KEYSTORE = REFERENCE / "duis" / "keystore" / "keystore.json"
TEMPLATE = REFERENCE / "duis" / "templates" / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
SUPPLIER = bytes.fromhex("90B3D51F30010000")


def _profiles() -> dict:  # type: ignore[type-arg]
    from smetsnet.wan.link import LinkProfile, Technology

    # A fast WAN: the figure is the hub's throughput, not radio latency.
    return {t: LinkProfile(median_s=0.005, p99_s=0.02) for t in Technology}


def _serve(port: int, receiver_url: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    import logging

    import uvicorn

    from smetsnet.api.app import create_app
    from smetsnet.hub.boxed import load_boxed
    from smetsnet.hub.build import build_hub

    logging.disable(logging.WARNING)
    setup = load_boxed(KEYSTORE, now=datetime.now(UTC))
    setup.response_urls[SUPPLIER] = receiver_url
    hub, _ = build_hub(setup, profiles=_profiles())
    config = uvicorn.Config(
        create_app(hub), host="127.0.0.1", port=port, log_level="error", access_log=False
    )
    server = uvicorn.Server(config)
    ready.set()
    server.run()


def _signed_requests(n: int, first_counter: int) -> list[tuple[str, bytes]]:
    from smetsnet.client import DuisClient, UserCredentials
    from smetsnet.duis import MessageId, Request, from_xml

    creds = UserCredentials.from_keystore_json(KEYSTORE, SUPPLIER)
    client = DuisClient("http://unused", creds, hub_certificates=[], first_counter=first_counter)
    base = from_xml(TEMPLATE.read_bytes())
    assert isinstance(base, Request)
    out = []
    for _ in range(n):
        rid = base.header.request_id
        rid = MessageId(originator=rid.originator, target=rid.target, counter=client.next_counter())
        request = replace(base, header=replace(base.header, request_id=rid))
        out.append((str(rid), client.sign(request)))
    return out


async def _run(
    requests: list[tuple[str, bytes]], base_url: str, concurrency: int, arrived: dict[str, float]
) -> tuple[dict[str, float], float]:
    sent: dict[str, float] = {}
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def worker() -> None:
            while queue:
                rid, xml = queue.pop()
                sent[rid] = time.perf_counter()
                reply = await http.post(
                    f"{base_url}/api/v1/serviceS",
                    content=xml,
                    headers={"Content-Type": "application/xml"},
                )
                if reply.status_code != 200 or b"I99" not in reply.content:
                    raise SystemExit(f"unexpected answer {reply.status_code}: {reply.text[:200]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        deadline = time.perf_counter() + 120
        while len(arrived) < len(requests) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
    return sent, start


def _in_process_profile(n: int) -> None:
    import logging

    from smetsnet.hub.boxed import load_boxed
    from smetsnet.hub.build import build_hub

    logging.disable(logging.WARNING)
    now = datetime.now(UTC)
    setup = load_boxed(KEYSTORE, now=now)
    hub, _ = build_hub(setup, profiles=_profiles())
    requests = _signed_requests(n, first_counter=10**12)
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    for _, xml in requests:
        hub.handle(xml, endpoint="serviceS", now=now)
        now += timedelta(milliseconds=1)
        hub.advance(now)
    hub.advance(now + timedelta(seconds=5))
    profile.disable()
    elapsed = time.perf_counter() - t0
    print(
        f"\nin-process hub (no HTTP): {n / elapsed:,.0f} SR/s (handle + WAN + device + signed I0)"
    )
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=18079)
    parser.add_argument("--profile", type=int, default=500, help="in-process requests (0: skip)")
    args = parser.parse_args()
    if not KEYSTORE.is_file():
        print(f"needs the DCC Boxed keystore at {KEYSTORE}", file=sys.stderr)
        return 2

    from smetsnet.client import Receiver, verify_response
    from smetsnet.duis.xmldsig import certificate_index
    from smetsnet.smki.imports import import_keystore_json

    bundle, _ = import_keystore_json(KEYSTORE.read_bytes(), at=datetime.now(UTC))
    dsp = bundle.xml_signing(bytes.fromhex("90B3D51F30000002"))
    assert dsp is not None and dsp.certificate is not None
    certs = certificate_index([dsp.certificate])
    arrived: dict[str, float] = {}

    def verify(xml: bytes):  # type: ignore[no-untyped-def]
        answer = verify_response(xml, certs)
        rid = answer.response.header.request_id
        if rid is not None:
            arrived[str(rid)] = time.perf_counter()
        return answer

    receiver = Receiver(verify)
    url = receiver.start()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(args.port, url, ready), daemon=True)
    server.start()
    ready.wait(60)
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    warm = _signed_requests(50, first_counter=10**9)
    asyncio.run(_run(warm, base, 8, arrived))
    requests = _signed_requests(args.requests, first_counter=10**10)
    arrived.clear()
    sent, start = asyncio.run(_run(requests, base, args.concurrency, arrived))
    end = max(arrived.values()) if arrived else time.perf_counter()
    latencies = sorted((arrived[r] - sent[r]) * 1000 for r in sent if r in arrived)
    server.terminate()
    receiver.stop()
    done = len(latencies)
    print(
        f"DUIS round trip over HTTP: {done}/{len(requests)} responses, concurrency "
        f"{args.concurrency}"
    )
    print(f"  sustained: {done / (end - start):,.0f} SR/s over {end - start:.2f} s")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(f"  latency POST -> verified response: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    if args.profile:
        _in_process_profile(args.profile)
    return 0 if done == len(requests) else 1


if __name__ == "__main__":
    raise SystemExit(main())
