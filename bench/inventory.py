"""Inventory at national scale: bulk load, look-ups per second, rows and memory.

For each back-end: bulk-load N premises (comms hub CHF + GPF, ESME, GSME, import MPAN, MPRN,
four registrations each, trust anchors as shared sets referenced per device) in one
transaction; then time device-by-EUI and role-at-time look-ups cold (every look-up a database
query; the database's own page cache is warm) and warm (the service's LookupCache); then count
the rows stored and, for the default store (a SQLite file), the RSS growth and the file size.
Run: ``python bench/inventory.py [--premises N] [--backend sqlite|postgres|both]``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import multiprocessing as mp
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from smetsnet.inventory import (
    AnchorCell,
    AnchorKeyUsage,
    CellUsage,
    CertRef,
    Inventory,
    LookupCache,
    PopulationParties,
    Region,
    RemotePartyRole,
    UserRole,
    synthetic_batch,
)
from smetsnet.inventory.bulk import EUI_BASE
from smetsnet.store import PostgresStore, SqliteStore, SqlStore

DSN = os.environ.get("SMETSNET_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2024, 1, 1, tzinfo=UTC)
P = RemotePartyRole
DS, KA = AnchorKeyUsage.DIGITAL_SIGNATURE, AnchorKeyUsage.KEY_AGREEMENT


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ref(name: str, subject: int) -> CertRef:
    return CertRef(
        der_sha256=hashlib.sha256(name.encode()).digest(), subject=subject.to_bytes(8, "big")
    )


def _dcc_cells() -> dict[AnchorCell, CertRef]:
    """What every device trusts of DCC's own parties (root, recovery, ACB, WAN provider)."""
    cells = {AnchorCell(role=P.ROOT, key_usage=AnchorKeyUsage.KEY_CERT_SIGN): _ref("root", 1)}
    dcc = {
        P.RECOVERY: 0x90B3D51F30000001,
        P.ACCESS_CONTROL_BROKER: 0x90B3D51F30000002,
        P.TRANSITIONAL_COS: 0x90B3D51F30000004,
        P.WAN_PROVIDER: 0x90B3D51F30000007,
    }
    for role, eui in dcc.items():
        for usage in (DS, KA):
            cells[AnchorCell(role=role, key_usage=usage)] = _ref(f"{role.name}-{usage.name}", eui)
    return cells


def _party_cells(role: RemotePartyRole, eui: int, prepayment: bool) -> dict[AnchorCell, CertRef]:
    cells = {AnchorCell(role=role, key_usage=u): _ref(f"{eui:x}-{u.name}", eui) for u in (DS, KA)}
    if prepayment:
        top_up = AnchorCell(role=role, key_usage=KA, cell_usage=CellUsage.PREPAYMENT_TOP_UP)
        cells[top_up] = _ref(f"{eui:x}-pp", eui)
    return cells


def set_up_parties(inv: Inventory) -> PopulationParties:
    """Users of every role, and the anchor sets the population shares."""
    suppliers = tuple(0x90B3D51F30010000 + (i << 16) for i in range(3))
    gas = tuple(0x90B3D51F30110000 + (i << 16) for i in range(2))
    dnos = {r: 0x90B3D51F30020000 + (r.value << 8) for r in Region}
    gts = tuple(0x90B3D51F30210000 + (i << 16) for i in range(4))
    for eui in suppliers:
        inv.add_user(eui.to_bytes(8, "big"), f"IS {eui:x}", [UserRole.IS], "https://is.example")
    for eui in gas:
        inv.add_user(eui.to_bytes(8, "big"), f"GS {eui:x}", [UserRole.GS], "https://gs.example")
    for eui in dnos.values():
        inv.add_user(eui.to_bytes(8, "big"), f"ED {eui:x}", [UserRole.ED], "https://ed.example")
    for eui in gts:
        inv.add_user(eui.to_bytes(8, "big"), f"GT {eui:x}", [UserRole.GT], "https://gt.example")
    dcc = _dcc_cells()
    esme_sets = {}
    for s in suppliers:
        for r in Region:
            cells = {
                **dcc,
                **_party_cells(P.SUPPLIER, s, True),
                **_party_cells(P.NETWORK_OPERATOR, dnos[r], False),
            }
            esme_sets[(s, r)] = inv.create_anchor_set(f"ESME {s:x} {r.name}", cells).id
    gsme_sets = {
        g: inv.create_anchor_set(f"GSME {g:x}", {**dcc, **_party_cells(P.SUPPLIER, g, True)}).id
        for g in gas
    }
    return PopulationParties(
        import_suppliers=suppliers,
        gas_suppliers=gas,
        distributors=dnos,
        gas_transporters=gts,
        esme_sets=esme_sets,
        gsme_sets=gsme_sets,
        chf_set=inv.create_anchor_set("CHF", dcc).id,
        gpf_set=inv.create_anchor_set("GPF", dcc).id,
    )


def serving_rss(path: str, n_premises: int, count: int) -> tuple[float, float]:
    """In a fresh process: RSS growth from opening the store file and from serving look-ups."""
    rss0 = rss_mib()
    store = SqliteStore(path)
    rss1 = rss_mib()
    lookups(store, n_premises, count)
    store.close()
    return rss1 - rss0, rss_mib() - rss0


def rate(fn: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def lookups(store: SqlStore, n_premises: int, count: int) -> dict[str, float]:
    rng = random.Random(7)
    index = [rng.randrange(n_premises) for _ in range(count)]
    kinds = [rng.randrange(4) for _ in range(count)]
    euis = [(EUI_BASE + 4 * i + k).to_bytes(8, "big") for i, k in zip(index, kinds, strict=True)]
    # Role asked per device type: CHF -> import supplier, GPF -> gas supplier, ESME -> network
    # operator, GSME -> gas transporter: every lookup walks device -> premises -> MPxN -> role.
    role_of = (UserRole.IS, UserRole.GS, UserRole.ED, UserRole.GT)
    roles = [role_of[k] for k in kinds]
    times = [START + timedelta(seconds=rng.randrange(10**8)) for _ in range(count)]
    cold = Inventory(store)
    warm = Inventory(store, cache=LookupCache(max_entries=2 * count))

    def devices(inv: Inventory) -> Callable[[], None]:
        def run() -> None:
            for eui in euis:
                inv.device(eui)

        return run

    def holders(inv: Inventory) -> Callable[[], None]:
        def run() -> None:
            for role, eui, at in zip(roles, euis, times, strict=True):
                if inv.who_holds(role, eui, at) is None:
                    raise SystemExit(f"nobody holds {role.name} for {eui.hex()} at {at}")

        return run

    out = {
        "device-by-EUI cold": rate(devices(cold), count),
        "role-at-time cold": rate(holders(cold), count),
    }
    devices(warm)()  # fill the cache
    holders(warm)()
    out["device-by-EUI warm"] = rate(devices(warm), count)
    out["role-at-time warm"] = rate(holders(warm), count)
    return out


def run_backend(name: str, n: int, count: int, workdir: Path) -> None:
    gc.collect()
    rss0 = rss_mib()
    path = workdir / "inventory.db"
    schema = f"smetsnet_bench_{secrets.token_hex(4)}"
    store: SqlStore = SqliteStore(path) if name == "sqlite" else PostgresStore(DSN, schema=schema)
    try:
        inv = Inventory(store)
        parties = set_up_parties(inv)
        start = time.perf_counter()
        batch = synthetic_batch(n, parties, registered_from=START)
        made = time.perf_counter() - start
        report = inv.load(batch)
        del batch
        gc.collect()
        print(
            f"\n[{name}] {n:,} premises: generated in {made:.1f} s, loaded in "
            f"{report.seconds:.1f} s (one transaction)"
        )
        counts = store.row_counts()
        print(
            f"  rows stored: {sum(counts.values()):,} = "
            + ", ".join(f"{t} {c:,}" for t, c in counts.items() if c)
        )
        if name == "sqlite":
            files = {p.name: p.stat().st_size / 2**20 for p in workdir.iterdir()}
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            listing = ", ".join(f"{k} {v:.0f} MiB" for k, v in files.items())
            print(
                f"  memory while loading: RSS +{rss_mib() - rss0:.0f} MiB after, peak "
                f"{peak:.0f} MiB; files: {listing}"
            )
            with mp.get_context("spawn").Pool(1) as pool:
                opened, served = pool.apply(serving_rss, (str(path), n, count))
            print(
                f"  memory serving from the file (fresh process): RSS +{opened:.0f} MiB open, "
                f"+{served:.0f} MiB after {count:,} look-ups of each kind, cold and warm"
            )
        else:
            row = store.db.one(
                "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s"
                " ON s.oid = c.relnamespace WHERE s.nspname = ? AND c.relkind = 'r'",
                (schema,),
            )
            print(f"  server-side size: {int(row[0] if row else 0) / 2**20:.0f} MiB")
        for what, per_s in lookups(store, n, count).items():
            print(f"  {what}: {per_s:,.0f}/s")
    finally:
        if name == "postgres":
            store.db.run(f"DROP SCHEMA {schema} CASCADE")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--lookups", type=int, default=50_000, help="look-ups per measurement")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for name in backends:
        if name == "postgres":
            try:
                psycopg.connect(DSN, connect_timeout=3).close()
            except psycopg.Error as exc:
                print(f"\n[postgres] skipped: no server at {DSN} ({exc})")
                continue
        with tempfile.TemporaryDirectory(prefix="smetsnet-bench-") as tmp:
            run_backend(name, args.premises, min(args.lookups, 4 * args.premises), Path(tmp))


if __name__ == "__main__":
    main()
