"""The users' readings store at scale: a day of half-hours for N meters added, flushed to Parquet
and queried with duckdb (per MPxN per day, per region and half-hour), each step timed.
Run: ``python bench/readings.py [--meters 20000]``."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from smetsnet.store.readings import ReadingsStore

DAY = date(2026, 1, 6)
SUPPLIER = bytes.fromhex("90B3D51F30010000")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meters", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    first = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp())
    starts = first + 1800 * np.arange(48, dtype=np.int64)
    received = datetime(2026, 1, 7, 1, tzinfo=UTC)
    values = rng.integers(0, 2_000, size=(args.meters, 48), dtype=np.int64)
    with tempfile.TemporaryDirectory() as folder:
        store = ReadingsStore(Path(folder), flush_rows=10**9)
        t0 = time.perf_counter()
        for i in range(args.meters):
            store.add(
                user=SUPPLIER,
                mpxn=f"{10 + i % 14:02d}{i:011d}",
                fuel="electricity",
                region=10 + i % 14,
                starts=starts,
                values=values[i],
                received=received,
            )
        t1 = time.perf_counter()
        store.flush()
        t2 = time.perf_counter()
        daily = store.daily_consumption(user=SUPPLIER, first=DAY, last=DAY)
        t3 = time.perf_counter()
        demand = store.regional_demand(day=DAY)
        t4 = time.perf_counter()
    assert int(np.asarray(daily.column("total")).sum()) == int(values.sum())
    assert demand.num_rows == 14 * 48
    rows = args.meters * 48
    print(f"{rows:,} readings ({args.meters:,} meters x 48)")
    print(f"add {t1 - t0:.2f} s, flush {t2 - t1:.2f} s, per MPxN per day {t3 - t2:.2f} s,")
    print(f"per region and half-hour {t4 - t3:.2f} s; total {t4 - t0:.2f} s")


if __name__ == "__main__":
    main()
