"""Versioned migrations: from an empty database, from the previous version, and refusals."""

from __future__ import annotations

import pytest

from smetsnet.inventory import (
    AnchorCell,
    AnchorKeyUsage,
    CertRef,
    DeviceStatus,
    Inventory,
    Region,
    RemotePartyRole,
    SchemaVersionError,
)
from smetsnet.store import LATEST, MIGRATIONS, SqlStore, migrate, schema_version
from tests.store.backends import Backend


def _versions(store: SqlStore) -> list[int]:
    return [int(r[0]) for r in store.db.all("SELECT version FROM schema_version ORDER BY version")]


def test_from_an_empty_database(backend: Backend) -> None:
    store = backend.open()
    try:
        assert store.migrated == [m.version for m in MIGRATIONS] == [1, 2]
        assert _versions(store) == [1, 2] and schema_version(store.db) == LATEST
        assert set(store.row_counts()) >= {"device", "anchor_override", "registration"}
    finally:
        store.close()
    again = backend.open()  # reopening applies nothing
    try:
        assert again.migrated == []
    finally:
        again.close()


def test_from_the_previous_version(backend: Backend) -> None:
    db = backend.raw_db()
    assert migrate(db, target=1) == [1]
    # Data written by version 1 (no anchor_override table, no region index yet).
    with db.transaction():
        db.run("INSERT INTO premises (id, region, han_log_max) VALUES (?, ?, ?)", (7, 12, 16))
        db.run(
            "INSERT INTO device (eui, device_type, status, prior_status, status_at, premises_id,"
            " on_han_log, anchor_set_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (0x00DB1234567890A0, 1, 4, None, 1_700_000_000, 7, 1, None),
        )
    db.close()
    store = backend.open()
    try:
        assert store.migrated == [2]
        assert _versions(store) == [1, 2]
        inv = Inventory(store)
        esme = inv.device("00-DB-12-34-56-78-90-A0")
        assert esme.status is DeviceStatus.Commissioned and esme.premises_id == 7
        assert inv.premises_by_region() == {Region.LONDON: 1}
        cell = AnchorCell(role=RemotePartyRole.SUPPLIER, key_usage=AnchorKeyUsage.DIGITAL_SIGNATURE)
        ref = CertRef(der_sha256=bytes(32), subject=bytes.fromhex("90b3d51f30010000"))
        inv.replace_anchor(esme.eui, cell, ref, by=ref.subject, reason="uses version 2")
        assert inv.anchors(esme.eui) == {cell: ref}
    finally:
        store.close()


def test_a_newer_database_is_refused(backend: Backend) -> None:
    backend.open().close()
    db = backend.raw_db()
    db.run("INSERT INTO schema_version (version, applied_at, description) VALUES (99, 0, 'x')")
    with pytest.raises(SchemaVersionError, match="version 99; this code knows up to 2"):
        migrate(db)
    db.close()
