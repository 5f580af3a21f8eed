"""GBCS decode + verify speed on one core.

Prints messages per second (median of several runs) for:
1. the whole RTDS 4.5.0 reference set (839 messages): frame + full payload decode + decryption of
   sensitive data + MAC check + ECDSA signature check;
2. a one-day half-hourly import profile response (ECS22b) on its own: MAC check, decryption and
   full decode, the day held as one columnar object.

Nothing is cached per message; the static ECDH secret of each pair of parties and the parsed
public keys are cached (a warm-up run fills them), as a head-end would keep them.
Run: ``make bench`` or ``python bench/gbcs_decode.py [--runs N] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import KEYSTORE, RTDS, median_rate, read_hex, reference_messages, require_reference
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms.interning import clear_interning_caches
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.folder_keystore import FolderKeyStore

PROFILE_RESPONSE = "4.8.1_ECS22b/ECS22b_4.8.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument(
        "--cold-caches",
        action="store_true",
        help="also measure with the DLMS interning caches emptied before every message",
    )
    args = parser.parse_args()
    require_reference()
    protection = Protection(FolderKeyStore(KEYSTORE))
    messages = [data for _, data in reference_messages()]

    def whole_set() -> int:
        for data in messages:
            message = decode_message(data, protection=protection)
            protection.verify(message.frame)
        return len(messages)

    def whole_set_cold() -> int:
        for data in messages:
            clear_interning_caches()
            message = decode_message(data, protection=protection)
            protection.verify(message.frame)
        return len(messages)

    profile = read_hex(RTDS / PROFILE_RESPONSE)
    batch = [profile] * 2000  # the same bytes, but nothing is cached per message

    def profile_responses() -> int:
        for data in batch:
            message = decode_message(data, protection=protection)
            if protection.check_mac(message.frame) != "valid":
                raise SystemExit("profile response MAC did not verify")
        return len(batch)

    rate, rates = median_rate(whole_set, args.runs)
    print(
        f"reference set ({len(messages)} messages), decode+decrypt+verify: {rate:,.0f} msg/s "
        f"(median of {args.runs}; runs {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    if args.cold_caches:
        rate, rates = median_rate(whole_set_cold, args.runs)
        print(
            f"reference set, interning caches emptied before every message: {rate:,.0f} msg/s "
            f"(median of {args.runs}; runs {', '.join(f'{r:,.0f}' for r in rates)})"
        )
    rate, rates = median_rate(profile_responses, args.runs)
    print(
        f"ECS22b one-day profile response, MAC+decrypt+decode: {rate:,.0f} msg/s "
        f"(median of {args.runs}; runs {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    if args.profile:
        for name, job in (("reference set", whole_set), ("ECS22b profile", profile_responses)):
            print(f"\n--- profile: {name} ---")
            profiler = cProfile.Profile()
            profiler.runcall(job)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(14)


if __name__ == "__main__":
    main()
