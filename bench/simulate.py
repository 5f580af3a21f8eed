"""``smetsnet simulate`` at scale: N premises for D simulated days through the full path.

Every message goes DUIS → hub (access control, GBCS build, ACB MAC) → in-memory WAN → simulated
devices (MAC, counter, execution, encrypted and MAC'd answer) → hub (correlation, DSP-signed DUIS)
→ the user (XML signature verified, MAC checked, readings decrypted and filed in Parquet).
Timed separately: building the world (PKI, device keys and certificates, inventory, premises)
and running it. Printed: wall times, messages and messages per second, readings filed, the
signature/MAC counts, peak RSS.
Run: ``python bench/simulate.py [--premises 100000] [--days 1] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.report import build_report
from smetsnet.sim.run import plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--premises", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = SimConfig(premises=args.premises, days=args.days, seed=args.seed)
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        sim = Simulation(config, out=Path(folder))
        outcomes = plan(sim)
        built = time.perf_counter() - began
        sim.run()
        report = build_report(sim, outcomes())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = report["messages_total"]
    print(f"premises {args.premises:,} ({report['meters']:,} meters), {args.days} day(s)")
    print(f"build the world: {built:,.1f} s ({built / args.premises * 1e3:.2f} ms a premises)")
    print(
        f"run: {sim.wall_s:,.1f} s wall, {total:,} messages, {total / sim.wall_s:,.0f} messages/s"
    )
    print(f"total: {built + sim.wall_s:,.1f} s (target for 100,000 premises, 1 day: 300 s)")
    print(f"readings filed: {report['readings_received']:,}")
    print(
        f"signatures verified {report['signatures_verified']:,} of "
        f"{report['messages_with_signature']:,}; MACs verified {report['macs_verified']:,} of "
        f"{report['messages_with_mac']:,}"
    )
    print(f"per meter per month: {report['messages_per_meter_per_month']:.1f}")
    print(f"peak RSS: {rss_mb:,.0f} MB ({rss_mb * 1024 / args.premises:,.1f} KB a premises)")


if __name__ == "__main__":
    main()
