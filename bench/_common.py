"""Shared helpers of the benchmark scripts (reference material, timing)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("SMETSNET_REFERENCE", ROOT.parent / "shared" / "reference"))
RTDS = REFERENCE / "gbcs" / "rtds-4.5.0"
KEYSTORE = REFERENCE / "gbcs" / "keystore"


def require_reference() -> None:
    if not RTDS.is_dir() or not KEYSTORE.is_dir():
        sys.exit(
            f"reference material not found under {REFERENCE} (it lives in ../shared/reference)"
        )


def read_hex(path: Path) -> bytes:
    return bytes.fromhex("".join(path.read_text().split()))


def reference_messages() -> list[tuple[Path, bytes]]:
    return [(p, read_hex(p)) for p in sorted(RTDS.rglob("*.HEX"))]


def median_rate(run: Callable[[], int], runs: int) -> tuple[float, list[float]]:
    """Median of ``runs`` timings of ``run`` (which returns how many items it did), per second."""
    run()  # warm-up
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        n = run()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates), rates
