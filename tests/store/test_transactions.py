"""Every change is one transaction: a failing step leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smetsnet.inventory import (
    AlreadyExists,
    Device,
    DeviceStatus,
    DeviceType,
    MeterKind,
    MeterPoint,
    Region,
    StoreError,
)
from smetsnet.store import SqlStore

NOW = datetime(2025, 1, 1, tzinfo=UTC)
EUI = bytes.fromhex("00db1234567890a0")
DEVICE = Device(eui=EUI, type=DeviceType.ESME, status=DeviceStatus.Pending, status_at=NOW)


class Boom(Exception):
    pass


def _three_writes_then_fail(store: SqlStore) -> None:
    with store.transaction() as tx:
        pid = tx.add_premises(Region.LONDON, 16)
        tx.add_device(DEVICE)
        point = MeterPoint(mpxn="1200000000011", kind=MeterKind.IMPORT_MPAN, premises_id=pid)
        tx.add_meter_point(point)
        assert tx.device(EUI) == DEVICE  # visible inside the transaction
        raise Boom


def test_an_exception_rolls_back_every_write(store: SqlStore) -> None:
    with pytest.raises(Boom):
        _three_writes_then_fail(store)
    assert store.device(EUI) is None
    assert store.meter_point("1200000000011") is None
    assert sum(store.row_counts().values()) == 0


def _premises_then_duplicate(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.add_premises(Region.LONDON, 16)
        tx.add_device(DEVICE)


def test_a_database_error_rolls_back_and_is_translated(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.add_device(DEVICE)
    with pytest.raises(AlreadyExists, match="device 00-DB-12-34-56-78-90-A0 already exists"):
        _premises_then_duplicate(store)
    assert store.row_counts()["premises"] == 0
    with pytest.raises(StoreError, match=r"no such table|does not exist"):
        store.db.one("SELECT * FROM no_such_table")
    assert store.device(EUI) == DEVICE  # the store is still usable after a failed statement


def _nested_then_fail(store: SqlStore) -> None:
    with store.transaction() as outer:
        outer.add_premises(Region.LONDON, 16)
        with store.transaction() as inner:
            inner.add_premises(Region.LONDON, 16)
        raise Boom


def test_nested_blocks_join_the_outer_transaction(store: SqlStore) -> None:
    with pytest.raises(Boom):
        _nested_then_fail(store)
    assert store.row_counts()["premises"] == 0
