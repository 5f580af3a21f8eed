"""DUIS parsing and XMLDSig verification speed on one core.

Prints, as the median of several runs, per second of CPU time of this process (one core; the
wall clock on a shared machine measures the neighbours as much as the code):
1. the 297 DUIS templates parsed into typed models per second (``smetsnet.duis.from_xml``:
   hardened parse + model, nothing cached per message);
2. the floor under that: the hardened parse alone (``parse_xml(data, compact=True)``, the tree
   ``from_xml`` builds its model from), which no model building can beat;
3. XMLDSig verifications per second over the same templates signed by ``xmldsig.sign`` with each
   originator's XML-signing key from the DCC Boxed keystore (parse + digest + ECDSA check).

Issue 5 aims at >= 20,000 parses/s (DCC's Node duis-parser: ~8,900/s here); ECDSA alone allows
about 15,000 verifications/s per core.
Run: ``python bench/duis_parse.py [--runs N] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from _common import REFERENCE
from smetsnet.duis import Request, from_xml, parse_xml
from smetsnet.duis.xmldsig import certificate_index, sign, verify

TEMPLATES = REFERENCE / "duis" / "templates"
KEYSTORE = REFERENCE / "duis" / "keystore" / "keystore.json"


def _require() -> None:
    if not TEMPLATES.is_dir() or not KEYSTORE.is_file():
        sys.exit(
            f"DUIS templates or keystore not found under {REFERENCE} "
            "(they live in ../shared/reference/duis)"
        )


def cpu_rate(run: Callable[[], int], runs: int) -> tuple[float, list[float]]:
    """Median of ``runs`` CPU-time rates of ``run`` (which returns how many items it did)."""
    run()  # warm-up
    rates = []
    for _ in range(runs):
        start = time.process_time()
        n = run()
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates), rates


def _signing_key(entry: dict[str, object]) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The user's XML-signing key (DCC Boxed names it ``xml-sign-<EUI>-ds``), else any ``ds``."""
    keys = entry["digitalSignature"]
    assert isinstance(keys, dict)
    chosen = next((k for k in keys.values() if k["name"].startswith("xml-sign")), None)
    chosen = chosen or next(iter(keys.values()))
    private = load_pem_private_key(chosen["privateKey"].encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return private, x509.load_pem_x509_certificate(chosen["certificate"].encode())


def _signed(templates: list[bytes]) -> tuple[list[bytes], list[x509.Certificate]]:
    store = json.loads(KEYSTORE.read_text())
    keys: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]] = {}
    signed = []
    for data in templates:
        message = from_xml(data)
        assert isinstance(message, Request)
        eui = message.header.request_id.originator.hex()
        if eui not in keys:
            keys[eui] = _signing_key(store[eui])
        signed.append(sign(data, *keys[eui]))
    return signed, [cert for _, cert in keys.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print where parsing time goes")
    args = parser.parse_args()
    _require()
    templates = [p.read_bytes() for p in sorted(TEMPLATES.glob("*.XML"))]

    def parse_all() -> int:
        for data in templates:
            from_xml(data)
        return len(templates)

    def parse_rounds() -> int:
        return sum(parse_all() for _ in range(5))

    def parse_only() -> int:
        for _ in range(5):
            for data in templates:
                parse_xml(data, compact=True)
        return 5 * len(templates)

    rate, rates = cpu_rate(parse_rounds, args.runs)
    print(f"DUIS parse into models: {rate:,.0f} templates/s over {len(templates)} templates")
    print("  runs: " + ", ".join(f"{r:,.0f}" for r in rates))
    rate, rates = cpu_rate(parse_only, args.runs)
    print(f"  floor, the hardened parse alone: {rate:,.0f} templates/s")

    signed, certificates = _signed(templates)
    index = certificate_index(certificates)

    def verify_all() -> int:
        for data in signed:
            verify(data, index)
        return len(signed)

    rate, rates = cpu_rate(verify_all, args.runs)
    print(f"XMLDSig verify: {rate:,.0f} signatures/s over {len(signed)} signed templates")
    print("  runs: " + ", ".join(f"{r:,.0f}" for r in rates))

    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(parse_rounds)
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
