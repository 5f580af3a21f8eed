"""Trust anchors (shared sets, per-device overrides, history) and anti-replay counters."""

from __future__ import annotations

import hashlib

import pytest

from smetsnet.inventory import (
    AlreadyExists,
    AnchorCell,
    AnchorKeyUsage,
    CellUsage,
    CertRef,
    CounterRejected,
    InvalidIdentifier,
    Inventory,
    RemotePartyRole,
    UnknownAnchorSet,
)
from tests.inventory.world import SUPPLIER, SUPPLIER2, add_users, build
from tests.store.backends import NOW

P, DS, KA = RemotePartyRole, AnchorKeyUsage.DIGITAL_SIGNATURE, AnchorKeyUsage.KEY_AGREEMENT
SUP_DS = AnchorCell(role=P.SUPPLIER, key_usage=DS)
SUP_KA = AnchorCell(role=P.SUPPLIER, key_usage=KA)
SUP_PP = AnchorCell(role=P.SUPPLIER, key_usage=KA, cell_usage=CellUsage.PREPAYMENT_TOP_UP)
ROOT = AnchorCell(role=P.ROOT, key_usage=AnchorKeyUsage.KEY_CERT_SIGN)
ACB = bytes.fromhex("90b3d51f30000002")


def cert(name: str, subject: bytes) -> CertRef:
    return CertRef(der_sha256=hashlib.sha256(name.encode()).digest(), subject=subject)


def supplier_set(inv: Inventory, name: str, supplier: bytes) -> int:
    cells = {
        ROOT: cert("root", bytes(8)),
        SUP_DS: cert(f"{name}-ds", supplier),
        SUP_KA: cert(f"{name}-ka", supplier),
        SUP_PP: cert(f"{name}-pp", supplier),
    }
    return inv.create_anchor_set(name, cells).id


def test_shared_sets_are_stored_once(inventory: Inventory) -> None:
    add_users(inventory)
    worlds = [build(inventory, n, register=False) for n in range(3)]
    supplier_set(inventory, "supplier A", SUPPLIER)
    for w in worlds:
        assert len(inventory.assign_anchor_set(w.esme, "supplier A", by=ACB)) == 4
    counts = inventory.store.row_counts()
    assert counts["anchor_set_member"] == 4  # not 4 per device
    assert counts["anchor_override"] == 0
    assert inventory.anchors(worlds[2].esme)[SUP_DS] == cert("supplier A-ds", SUPPLIER)
    with pytest.raises(AlreadyExists, match="anchor set 'supplier A' already exists"):
        supplier_set(inventory, "supplier A", SUPPLIER)
    with pytest.raises(UnknownAnchorSet, match="no anchor set 'nobody'"):
        inventory.assign_anchor_set(worlds[0].esme, "nobody", by=ACB)


def test_replacement_overrides_one_device_with_history_and_floor(inventory: Inventory) -> None:
    add_users(inventory)
    one, other = build(inventory, 0, register=False), build(inventory, 1, register=False)
    supplier_set(inventory, "supplier A", SUPPLIER)
    for w in (one, other):
        inventory.assign_anchor_set(w.esme, "supplier A", by=ACB)
    new = cert("supplier B-ds", SUPPLIER2)
    change = inventory.replace_anchor(
        one.esme,
        SUP_DS,
        new,
        by=bytes.fromhex("90b3d51f30000004"),
        reason="CoS supplierByTransCoS",
        floor=5_000,
    )
    assert change.old == cert("supplier A-ds", SUPPLIER) and change.new == new
    assert inventory.anchors(one.esme)[SUP_DS] == new
    assert inventory.anchors(one.esme)[SUP_KA] == cert("supplier A-ka", SUPPLIER)  # from the set
    assert inventory.anchors(other.esme)[SUP_DS] == cert("supplier A-ds", SUPPLIER)  # untouched
    history = inventory.anchor_history(one.esme)
    assert [h.reason for h in history][-1] == "CoS supplierByTransCoS"
    assert history[-1].replaced_by == bytes.fromhex("90b3d51f30000004")
    assert history[-1].at == NOW
    assert len(history) == 5  # 4 cells from the set, then the replacement
    # The gaining supplier's counters start at the floor given with its credentials.
    with pytest.raises(
        CounterRejected, match="counter 4999 rejected \\(none accepted yet, floor 5000\\)"
    ):
        inventory.accept_counter(one.esme, SUPPLIER2, 4_999)
    inventory.accept_counter(one.esme, SUPPLIER2, 5_000)
    state = inventory.counter(one.esme, SUPPLIER2)
    assert state is not None and state.last == 5_000 and state.floor == 5_000


def test_counters_strictly_increase_per_party(inventory: Inventory) -> None:
    device = bytes.fromhex("00db1234567890a0")
    inventory.accept_counter(device, SUPPLIER, 0)
    inventory.accept_counter(device, SUPPLIER, 1_700_000_000_000)
    for replay in (1_700_000_000_000, 5, 0):
        with pytest.raises(CounterRejected, match="last accepted 1700000000000"):
            inventory.accept_counter(device, SUPPLIER, replay)
    inventory.accept_counter(device, SUPPLIER2, 3)  # another party has its own counter
    inventory.accept_counter(device, SUPPLIER, 2**64 - 1)  # the top of the unsigned range
    state = inventory.counter(device, SUPPLIER)
    assert state is not None and state.last == 2**64 - 1
    for bad in (-1, 2**64):
        with pytest.raises(InvalidIdentifier, match="not an unsigned 64-bit number"):
            inventory.accept_counter(device, SUPPLIER, bad)
