"""The hub's own CPU cost per DUIS service request, in-process (no HTTP).

What the HTTP edge would ask of the hub for each request, on one thread: ``handle`` a pre-signed
ECS17b read (4.1.1, CV 1: access control with the XMLDSig verify, GBCS build + MAC, WAN send, the
signed I99 answer), then one delivery step as ``api.delivery.OutboxPump._step`` runs it (report
the deliveries done, ``advance``: the device answers and the signed I0 goes into the outbox,
``next_due``, ``outbound_due``), with every message handed out reported ``delivered``. Eight
suppliers send in turn, each in counter order, over a fast simulated WAN (5 ms median), so the
figure is the hub's CPU, not radio latency.

Prints SR/s as the median (and best) of ``--runs`` timed runs of ``--requests`` each, after a
warm-up run, by wall clock and by this process's CPU time (the second is steadier on a shared
machine); every run checks that each request got its I99 and its I0 was handed out. The outbox
is in memory, as in ``build_hub`` without a state folder; ``--durable`` puts it in a SQLite file
as ``serve --state`` does. ``--profile`` runs once more under cProfile and prints the top
functions by own time.

    .venv/bin/python bench/duis_hub.py [--requests 800] [--runs 5] [--durable] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REFERENCE
from bench_network import esme_eui, many_suppliers, user_eui
from smetsnet.client import DuisClient, UserCredentials
from smetsnet.duis import MessageId, Request, from_xml
from smetsnet.hub.build import build_hub
from smetsnet.hub.network import SimulatedNetwork
from smetsnet.hub.setup import NetworkSetup
from smetsnet.smki.pki import Pki
from smetsnet.wan.link import LinkProfile, Technology

TEMPLATE = REFERENCE / "duis" / "templates" / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
USERS = 8
#: Free delivery slots per step (``DeliverySettings.concurrency``'s default).
SLOTS = 64


def fast_wan() -> dict[Technology, LinkProfile]:
    """Every technology at 5 ms median: the figure is the hub's CPU, not radio latency."""
    return {t: LinkProfile(median_s=0.005, p99_s=0.02) for t in Technology}


def signed_requests(setup: NetworkSetup, pki: Pki, per_user: int) -> list[bytes]:
    """``per_user`` ECS17b reads for each user, signed, interleaved user by user; each user's
    counters rise along the list (the hub refuses a counter not above the last)."""
    base = from_xml(TEMPLATE.read_bytes())
    assert isinstance(base, Request)
    lanes = []
    for i in range(USERS):
        entry = pki.bundle.xml_signing(user_eui(i))
        if entry is None or entry.private_key is None or entry.certificate is None:
            raise SystemExit(f"the benchmark PKI has no XML-signing key for user {i}")
        credentials = UserCredentials(
            eui=user_eui(i),
            xml_key=entry.private_key,
            xml_certificate=entry.certificate,
            gbcs=setup.user_keys[user_eui(i)],
        )
        client = DuisClient("http://unused", credentials, hub_certificates=[])
        lane = []
        for _ in range(per_user):
            rid = MessageId(
                originator=user_eui(i), target=esme_eui(i), counter=client.next_counter()
            )
            lane.append(client.sign(replace(base, header=replace(base.header, request_id=rid))))
        lanes.append(lane)
    return [xml for group in zip(*lanes, strict=True) for xml in group]


class Bench:
    """One network of ``USERS`` suppliers; each :meth:`run` sends the next slice of requests."""

    def __init__(self, requests: int, runs: int, state_dir: Path | None = None) -> None:
        self.per_run = requests - requests % USERS
        if self.per_run < USERS:
            raise SystemExit(f"--requests must be at least {USERS}")
        setup, pki = many_suppliers(USERS)
        for i in range(USERS):
            setup.response_urls[user_eui(i)] = "http://users.invalid/"
        hub, wan = build_hub(setup, profiles=fast_wan(), state_dir=state_dir)
        self.network = SimulatedNetwork(hub, wan, setup.premises)
        self.requests = signed_requests(setup, pki, self.per_run // USERS * runs)
        self.now = datetime.now(UTC)

    def run(self) -> int:
        """Send the next ``per_run`` requests and deliver every response; returns how many."""
        batch, self.requests = self.requests[: self.per_run], self.requests[self.per_run :]
        network, now = self.network, self.now
        done: list[int] = []
        handed_out = acked = 0
        for xml in batch:
            answer = network.handle(xml, endpoint="serviceS", now=now)
            acked += answer.http_status == 200 and b">I99<" in answer.body
            now += timedelta(milliseconds=1)
            handed_out += self._step(now, done)
        now += timedelta(seconds=5)
        while True:  # what is still in flight or in the outbox
            n = self._step(now, done)
            if not n and not done:
                break
            handed_out += n
        self.now = now
        if acked != len(batch) or handed_out != len(batch):
            raise SystemExit(
                f"{len(batch)} requests: {acked} acknowledged (I99), {handed_out} responses "
                "delivered; every one should have both"
            )
        return len(batch)

    def _step(self, now: datetime, done: list[int]) -> int:
        """The edge's delivery step: report last step's deliveries, advance, hand out."""
        network = self.network
        for outbound_id in done:
            network.delivered(outbound_id)
        done.clear()
        network.advance(now)
        network.next_due()
        due = network.outbound_due(now, SLOTS)
        done.extend(message.id for message in due)  # the POSTs succeeded
        return len(due)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=800, help="requests per timed run")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the median is printed)")
    parser.add_argument(
        "--profile", action="store_true", help="one more run under cProfile: top functions"
    )
    parser.add_argument("--top", type=int, default=25, help="functions the profile lists")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="keep the outbox in a SQLite file (as `serve --state` does), not in memory",
    )
    args = parser.parse_args()
    if not TEMPLATE.is_file():
        print(f"needs the DUIS templates at {TEMPLATE.parent}", file=sys.stderr)
        return 2
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="duis-hub-") as state:
        return measure(args, Path(state) if args.durable else None)


def measure(args: argparse.Namespace, state_dir: Path | None) -> int:
    bench = Bench(args.requests, args.runs + 1 + int(args.profile), state_dir)
    bench.run()  # warm-up: caches, first-touch of every premises
    rates, cpu_rates = [], []
    for _ in range(args.runs):
        start, cpu = time.perf_counter(), time.process_time()
        n = bench.run()
        rates.append(n / (time.perf_counter() - start))
        cpu_rates.append(n / (time.process_time() - cpu))
    median, cpu_median = statistics.median(rates), statistics.median(cpu_rates)
    print(
        f"in-process hub, {bench.per_run} ECS17b reads (CV 1) x {args.runs} runs, {USERS} users, "
        f"outbox {'in a file' if state_dir else 'in memory'}: "
        f"{median:,.0f} SR/s median ({1e3 / median:.2f} ms/SR), best {max(rates):,.0f}; runs "
        + ", ".join(f"{r:,.0f}" for r in rates)
    )
    # CPU time of this process: the same figure less the time other processes took the core.
    print(f"  by CPU time: {cpu_median:,.0f} SR/s ({1e3 / cpu_median:.2f} ms of CPU per SR)")
    if args.profile:
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        n = bench.run()
        profile.disable()
        elapsed = time.perf_counter() - start
        print(f"\nunder cProfile: {n / elapsed:,.0f} SR/s; top functions by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
