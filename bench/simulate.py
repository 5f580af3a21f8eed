"""``smetsnet simulate`` at scale: N premises through the full path, timed in three parts.

Every message goes DUIS → hub (access control, GBCS build, ACB MAC) → in-memory WAN → simulated
devices (MAC, counter, execution, encrypted and MAC'd answer) → hub (correlation, DSP-signed DUIS)
→ the user (XML signature verified, MAC checked, readings decrypted and filed in Parquet).

1. build the world: PKI, device keys and certificates, inventory, premises;
2. the set-up day (day 0): every meter's daily DCC schedule created by its users (5.1, signed),
   prepayment meters set up (price, payment mode, first top-up: critical SRs), the day's reads;
3. a steady day (day 1): every meter's daily reading package from its schedule, on-demand reads,
   power cuts and their alerts, top-ups: what the network does every day. One-off campaigns
   (tariff change, firmware rollout, changes of supplier, installs) are left out of the bench.

Printed: wall time and messages per second of each part, readings filed, signatures and MACs
carried and verified, peak RSS. The issue's target: the steady day of 100,000 premises in
under 5 minutes. ``--workers K`` runs K processes, each a hub partition (its own PKI, hub and
WAN) owning a contiguous share of the premises, as a network would split across machines; the
figures are summed, the times are the slowest partition's.
Run: ``python bench/simulate.py [--premises 100000] [--seed 1] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path

from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.report import build_report
from smetsnet.sim.run import plan

CAMPAIGNS_OFF = {
    "tariff_change_day": None,
    "firmware_day": None,
    "changes_of_supplier": 0,
    "installs": 0,
}


@dataclass(frozen=True)
class Part:
    """What one process measured (one partition of the premises)."""

    premises: int
    meters: int
    build_s: float
    setup_s: float
    setup_messages: int
    day_s: float
    day_messages: int
    readings: int
    signatures: int
    signatures_verified: int
    macs: int
    macs_verified: int
    rss_mb: float


def run_part(premises: int, first: int, seed: int) -> Part:
    config = SimConfig.from_dict({"premises": premises, "days": 2, "seed": seed, **CAMPAIGNS_OFF})
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        sim = Simulation(config, out=Path(folder), first_home=first)
        outcomes = plan(sim)
        built = time.perf_counter() - began
        sim.run(until=sim.start + timedelta(days=1))
        setup_s, setup_messages = sim.wall_s, sim.traffic.total()
        sim.run()
        report = build_report(sim, outcomes())
    return Part(
        premises=premises,
        meters=report["meters"],
        build_s=built,
        setup_s=setup_s,
        setup_messages=setup_messages,
        day_s=sim.wall_s - setup_s,
        day_messages=sim.traffic.total() - setup_messages,
        readings=report["readings_received"],
        signatures=report["messages_with_signature"],
        signatures_verified=report["signatures_verified"],
        macs=report["messages_with_mac"],
        macs_verified=report["macs_verified"],
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--premises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes, each a hub partition with its share of the premises (default 1)",
    )
    args = parser.parse_args()
    n, workers = args.premises, max(1, args.workers)
    shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
    firsts = [sum(shares[:i]) for i in range(workers)]
    began = time.perf_counter()
    if workers == 1:
        parts = [run_part(n, 0, args.seed)]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(run_part, shares, firsts, [args.seed] * workers))
    wall = time.perf_counter() - began
    build = max(p.build_s for p in parts)
    setup = max(p.setup_s for p in parts)
    day = max(p.day_s for p in parts)
    setup_messages = sum(p.setup_messages for p in parts)
    day_messages = sum(p.day_messages for p in parts)
    print(f"premises {n:,} ({sum(p.meters for p in parts):,} meters), {workers} process(es)")
    print(f"1. build the world: {build:,.1f} s ({build / n * 1e3 * workers:.2f} ms a premises)")
    print(
        f"2. set-up day: {setup:,.1f} s, {setup_messages:,} messages "
        f"({setup_messages / setup:,.0f}/s)"
    )
    print(
        f"3. steady day: {day:,.1f} s, {day_messages:,} messages ({day_messages / day:,.0f}/s)"
        f" (target for 100,000 premises: 300 s)"
    )
    print(f"all of it: {wall:,.1f} s wall")
    print(f"readings filed: {sum(p.readings for p in parts):,}")
    print(
        f"signatures verified {sum(p.signatures_verified for p in parts):,} of "
        f"{sum(p.signatures for p in parts):,}; MACs verified "
        f"{sum(p.macs_verified for p in parts):,} of {sum(p.macs for p in parts):,}"
    )
    rss = sum(p.rss_mb for p in parts)
    print(f"peak RSS: {rss:,.0f} MB over the processes ({rss * 1024 / n:,.1f} KB a premises)")


if __name__ == "__main__":
    main()
