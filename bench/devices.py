"""A day of a fleet of premises (ESME + GSME each) on one core: time and memory.

Steps, each timed on its own:
1. commission: issue every device's key material (deterministic P-256 key-agreement and signing
   scalars, the ECDH secrets with its supplier and with the access control broker);
2. the day: the consumption model for every meter, 48 half-hours recorded (registers advance,
   the gas meter wakes and its battery drains), and each meter's daily package built and
   protected (ECS22b / GCS17 response, encrypted for the supplier and MAC'd);
3. a check outside the timing: a sample of packages decoded, MAC-verified and decrypted by the
   supplier's side with :func:`smetsnet.gbcs.codec.decode_message`.
Memory: the sum of the fleet's column bytes per premises and the process RSS growth.
Run: ``python bench/devices.py [--premises 100000] [--day 2025-01-15] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import time
from datetime import date

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.devices import consumption
from smetsnet.devices.consumption import Fuel
from smetsnet.devices.fleet import Fleet, RemoteParty, simulate_day
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.keystore import KeyUsage, MemoryKeyStore
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def check_sample(fleet: Fleet, packages: tuple[bytes, ...], keys: list[ec.EllipticCurvePrivateKey],
                 day: date, sample: int) -> int:  # fmt: skip
    """Decode, verify and decrypt ``sample`` random ESME packages; count the good ones."""
    good = 0
    for i in random.Random(0).sample(range(len(fleet)), min(sample, len(fleet))):
        store = MemoryKeyStore()
        s = int(fleet.supplier_of[i])
        store.add_private(fleet.suppliers[s].eui, KeyUsage.KEY_AGREEMENT, keys[s])
        public = fleet.esme_keys.key_agreement_key(i).public_key()
        store.add_public(int(fleet.esme_eui[i]).to_bytes(8, "big"), KeyUsage.KEY_AGREEMENT, public)
        protection = Protection(store)
        message = decode_message(packages[i], protection=protection)
        content = message.payload.protected[0]  # type: ignore[attr-defined]
        wh = np.asarray(content.value.items[0].columns[1], dtype=np.uint32)
        expected = consumption.half_hourly_wh(int(fleet.seeds[i]), day, Fuel.ELECTRICITY)
        ok = protection.verify(message.frame).mac == "valid" and np.array_equal(wh, expected)
        good += ok
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=100_000)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2025, 1, 15))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--suppliers", type=int, default=6)
    parser.add_argument("--chunk", type=int, default=8_192)
    parser.add_argument("--sample", type=int, default=200, help="packages decoded afterwards")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    n = args.premises

    rng = random.Random(args.seed)
    keys = [ec.derive_private_key(rng.getrandbits(255) + 1, ec.SECP256R1()) for _ in range(6)]
    suppliers = [
        RemoteParty(eui=bytes.fromhex(f"90B3D51F30{k + 1:02X}0000"), key_agreement=key.public_key())
        for k, key in enumerate(keys[: args.suppliers])
    ]
    acb_key = ec.derive_private_key(rng.getrandbits(255) + 1, ec.SECP256R1())
    acb = RemoteParty(eui=ACCESS_CONTROL_BROKER, key_agreement=acb_key.public_key())
    gc.collect()
    rss0 = rss_bytes()

    t0 = time.perf_counter()
    fleet = Fleet.commission(n, seed=args.seed, suppliers=suppliers, acb=acb)
    t_keys = time.perf_counter() - t0
    gc.collect()
    rss_fleet = rss_bytes() - rss0

    t0 = time.perf_counter()
    for start in range(0, n, args.chunk):
        seeds = fleet.seeds[start : start + args.chunk]
        consumption.day_of_readings(seeds, args.day, Fuel.ELECTRICITY)
        consumption.day_of_readings(seeds, args.day, Fuel.GAS)
    t_model = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = simulate_day(fleet, args.day, chunk=args.chunk)
    t_day = time.perf_counter() - t0
    gc.collect()
    rss_day = rss_bytes() - rss0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    print(f"premises {n:,} (ESME + GSME each), day {args.day}, seed {args.seed}, one core")
    print(f"keys issued: {t_keys:.2f} s = {t_keys / (2 * n) * 1e6:.0f} µs a device "
          "(KA + DS scalars, Z with supplier, Z with ACB; no certificates)")  # fmt: skip
    average = report.package_bytes / report.packages
    print(f"day: {t_day:.2f} s for {report.packages:,} packages "
          f"({report.packages / t_day:,.0f}/s; {average:.0f} B avg); "
          f"of which consumption model alone ≈ {t_model:.2f} s")  # fmt: skip
    print(f"memory: fleet columns {fleet.nbytes / n:.0f} B/premises "
          f"(keys {(fleet.esme_keys.nbytes + fleet.gsme_keys.nbytes) / n:.0f} B); "
          f"RSS growth after commission {rss_fleet / n:.0f} B/premises, after the day "
          f"{rss_day / n:.0f} B/premises; peak RSS {peak / 2**20:.0f} MiB")  # fmt: skip
    print(f"digest {report.digest.hex()[:16]}; registers: median import "
          f"{int(np.median(fleet.import_wh))} Wh, gas {int(np.median(fleet.gas_litres))} L; "
          f"battery {fleet.battery.lifetime_years():.1f} years")  # fmt: skip
    if args.sample:
        # The fleet's first premises again (same seed: same keys, same bytes), packages kept.
        small = Fleet.commission(min(n, 2_000), seed=args.seed, suppliers=suppliers, acb=acb)
        packages = simulate_day(small, args.day, keep=True).esme_packages
        good = check_sample(small, packages, keys, args.day, args.sample)
        print(f"sample check: {good}/{min(args.sample, len(small))} ESME packages decode, "
              "MAC-verify and decrypt to the model's readings")  # fmt: skip


if __name__ == "__main__":
    main()
