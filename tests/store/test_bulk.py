"""Bulk loads: the rows written, the look-ups they answer, and all-or-nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smetsnet.inventory import (
    AlreadyExists,
    AnchorCell,
    AnchorKeyUsage,
    CertRef,
    DeviceStatus,
    DeviceType,
    InvalidIdentifier,
    Inventory,
    LookupCache,
    PopulationParties,
    PremisesBatch,
    Region,
    RemotePartyRole,
    UserRole,
    synthetic_batch,
)
from smetsnet.store import SqlStore

START = datetime(2024, 1, 1, tzinfo=UTC)
SUPPLIERS = (0x90B3D51F30010000, 0x90B3D51F30030000)
GAS = (0x90B3D51F30110000,)
GTS = (0x90B3D51F30210000,)
DNOS = {r: 0x90B3D51F30020000 + r.value for r in Region}


def parties(inv: Inventory) -> PopulationParties:
    for eui, role in [
        *((s, "IS") for s in SUPPLIERS),
        *((g, "GS") for g in GAS),
        *((d, "ED") for d in DNOS.values()),
        *((t, "GT") for t in GTS),
    ]:
        inv.add_user(eui.to_bytes(8, "big"), f"{role} {eui:x}", [role], "https://x.example")

    def anchor_set(name: str, owner: int) -> int:
        cell = AnchorCell(role=RemotePartyRole.SUPPLIER, key_usage=AnchorKeyUsage.DIGITAL_SIGNATURE)
        ref = CertRef(der_sha256=bytes(32), subject=owner.to_bytes(8, "big"))
        return inv.create_anchor_set(name, {cell: ref}).id

    return PopulationParties(
        import_suppliers=SUPPLIERS,
        gas_suppliers=GAS,
        distributors=DNOS,
        gas_transporters=GTS,
        esme_sets={(s, r): anchor_set(f"E{s:x}{r.value}", s) for s in SUPPLIERS for r in Region},
        gsme_sets={g: anchor_set(f"G{g:x}", g) for g in GAS},
        chf_set=anchor_set("CHF", 1),
        gpf_set=anchor_set("GPF", 1),
    )


def test_bulk_load_answers_like_the_service(store: SqlStore) -> None:
    inv = Inventory(store, cache=LookupCache())
    cold = Inventory(store)
    population = parties(inv)
    batch = synthetic_batch(300, population, registered_from=START)
    report = inv.load(batch)
    assert (report.premises, report.devices, report.meter_points, report.registrations) == (
        300,
        1200,
        600,
        1200,
    )
    counts = store.row_counts()
    assert counts["device"] == 1200 and counts["registration"] == 1200
    assert counts["anchor_set_member"] == 2 * 14 + 3  # shared: no per-device anchor rows
    assert sum(inv.premises_by_region().values()) == 300
    at = START + timedelta(days=100)
    for i in (0, 17, 299):
        esme = int(batch.esme[i]).to_bytes(8, "big")
        gpf = int(batch.gpf[i]).to_bytes(8, "big")
        device = inv.device(esme)
        assert device.type is DeviceType.ESME and device.status is DeviceStatus.Commissioned
        assert device.on_han_log and device.anchor_set_id == int(batch.esme_set[i])
        for who in (inv, cold):
            assert who.who_holds(UserRole.IS, esme, at) == int(batch.import_supplier[i]).to_bytes(
                8, "big"
            )
            assert who.who_holds(UserRole.ED, esme, at) == int(batch.distributor[i]).to_bytes(
                8, "big"
            )
            assert who.who_holds(UserRole.GS, gpf, at) == int(batch.gas_supplier[i]).to_bytes(
                8, "big"
            )
            assert who.who_holds(UserRole.GT, gpf, at) == int(batch.gas_transporter[i]).to_bytes(
                8, "big"
            )
        assert inv.who_holds(UserRole.IS, esme, START - timedelta(seconds=1)) is None
    # A second batch continues the numbering; premises added one by one come after it.
    inv.load(synthetic_batch(50, population, first=300, registered_from=START))
    assert inv.add_premises(Region.LONDON).id == 351


def test_a_failing_bulk_load_writes_nothing(store: SqlStore) -> None:
    inv = Inventory(store)
    batch = synthetic_batch(40, parties(inv), registered_from=START)
    inv.load(batch)
    before = store.row_counts()
    # Same devices again: the premises rows go in first, then the devices collide.
    with pytest.raises(AlreadyExists, match="duplicate key"):
        inv.load(batch)
    assert store.row_counts() == before


def test_batches_are_validated() -> None:
    n = 3
    good = {
        name: np.zeros(n, dtype=np.uint64)
        for name in (
            "chf",
            "gpf",
            "esme",
            "gsme",
            "import_supplier",
            "distributor",
            "gas_supplier",
            "gas_transporter",
        )
    }
    sets = {
        name: np.zeros(n, dtype=np.int64) for name in ("chf_set", "gpf_set", "esme_set", "gsme_set")
    }
    mpan = np.array([1200000000011] * n, dtype=np.int64)
    common = dict(
        **good,
        **sets,
        mprn=np.full(n, 1234567, dtype=np.int64),
        registered_from=START,
        status_at=START,
    )
    PremisesBatch(region=np.full(n, 12, dtype=np.uint8), mpan=mpan, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier, match="MPAN 1200000000012 is invalid"):
        PremisesBatch(region=np.full(n, 12, dtype=np.uint8), mpan=mpan + 1, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier, match="not a GB distributor id"):
        PremisesBatch(region=np.full(n, 9, dtype=np.uint8), mpan=mpan, **common)  # type: ignore[arg-type]
