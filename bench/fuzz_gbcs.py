"""Fuzz the GBCS decoder with mutated reference messages.

Every input must give a decoded message or a ``GbcsDecodeError`` (never another exception, a hang
or unbounded memory). Mutations: bit flips, byte replacements, insertions, deletions, truncations,
duplicated slices and length bytes pushed to extremes. Prints counts; exits 1 on any other
exception (with the first few inputs, as hex, to reproduce them).

Run: ``make fuzz`` or ``python bench/fuzz_gbcs.py [--count N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import KEYSTORE, reference_messages, require_reference
from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.folder_keystore import FolderKeyStore


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        kind = rng.randrange(7)
        pos = rng.randrange(len(out)) if out else 0
        if kind == 0 and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == 1 and out:
            out[pos] = rng.randrange(256)
        elif kind == 2:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
        elif kind == 3 and out:
            del out[pos : pos + rng.randrange(1, 9)]
        elif kind == 4:
            del out[rng.randrange(len(out) + 1) :]
        elif kind == 5 and out:
            end = min(len(out), pos + rng.randrange(1, 64))
            out[pos:pos] = out[pos:end]
        elif out:
            out[pos] = rng.choice((0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0x85, 0xFF))
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    require_reference()
    protection = Protection(FolderKeyStore(KEYSTORE))
    seeds = [data for _, data in reference_messages()]
    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    start = time.perf_counter()
    for i in range(args.count):
        data = mutate(rng, seeds[i % len(seeds)])
        try:
            decode_message(data, protection=protection)
            outcomes["decoded"] += 1
        except GbcsDecodeError:
            outcomes["GbcsDecodeError"] += 1
        except Exception:
            outcomes["other exception"] += 1
            if len(failures) < 5:
                failures.append(data.hex() + "\n" + traceback.format_exc())
    elapsed = time.perf_counter() - start
    print(
        f"{args.count:,} mutated reference messages in {elapsed:.1f} s "
        f"({args.count / elapsed:,.0f}/s), seed {args.seed}"
    )
    for name in ("decoded", "GbcsDecodeError", "other exception"):
        print(f"  {name:>16}: {outcomes[name]:,}")
    for failure in failures:
        print(failure, file=sys.stderr)
    if outcomes["other exception"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
