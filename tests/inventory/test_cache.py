"""The warm cache answers from memory, and a change made through the service invalidates it."""

from __future__ import annotations

from datetime import timedelta

from smetsnet.inventory import (
    DeviceStatus,
    Inventory,
    LookupCache,
    MeterKind,
    UserRole,
    UserStatus,
)
from smetsnet.inventory.cache import MISS
from smetsnet.inventory.mpxn import make_mpan
from smetsnet.store import SqlStore
from tests.inventory.world import START, SUPPLIER, SUPPLIER2, add_users, build


def test_changes_invalidate_the_cache(store: SqlStore) -> None:
    cache = LookupCache()
    inv = Inventory(store, cache=cache)
    add_users(inv)
    w = build(inv)
    at = START + timedelta(days=5)
    assert inv.who_holds("IS", w.esme, at) == SUPPLIER
    assert inv.device(w.esme).status is DeviceStatus.Whitelisted
    hits = cache.timelines.hits
    assert inv.who_holds("IS", w.esme, at) == SUPPLIER
    assert cache.timelines.hits == hits + 1  # answered from memory

    # The cache really caches: a change behind the service's back is not seen...
    with store.transaction() as tx:
        tx.end_registration(w.mpan, UserRole.IS, START, at)
    assert inv.who_holds("IS", w.esme, at + timedelta(days=1)) == SUPPLIER
    with store.transaction() as tx:
        tx.end_registration(w.mpan, UserRole.IS, START, None)

    # ...and a change through the service is, at once.
    inv.change_holder(w.mpan, "IS", SUPPLIER2, at)
    assert inv.who_holds("IS", w.esme, at) == SUPPLIER2
    assert inv.who_holds("IS", w.esme, at - timedelta(seconds=1)) == SUPPLIER
    inv.change_status(w.esme, DeviceStatus.InstalledNotCommissioned)
    assert inv.device(w.esme).status is DeviceStatus.InstalledNotCommissioned

    # A new meter point at the premises changes which MPxN serves the hub: all timelines go.
    assert inv.who_holds("ES", w.chf, at) is None
    export = make_mpan("129999999999")
    inv.add_meter_point(export, MeterKind.EXPORT_MPAN, w.premises.id)
    assert cache.timelines.get((w.chf, UserRole.IS)) is MISS
    inv.add_user(bytes.fromhex("90b3d51f30050000"), "Exporter", ["ES"], "https://es.example")
    inv.register(export, "ES", bytes.fromhex("90b3d51f30050000"), START)
    assert inv.who_holds("ES", w.chf, at) == bytes.fromhex("90b3d51f30050000")


def test_bounded_and_expiring() -> None:
    now = [0.0]
    cache = LookupCache(max_entries=2, ttl=10.0, clock=lambda: now[0])
    for i in range(3):
        cache.devices.put(bytes([i]) * 8, None)
    assert len(cache.devices) == 2
    assert cache.devices.get(bytes([0]) * 8) is MISS  # the oldest went first
    assert cache.devices.get(bytes([2]) * 8) is None  # a cached "no such device"
    now[0] = 11.0
    assert cache.devices.get(bytes([2]) * 8) is MISS  # expired


def test_a_users_change_through_the_service_is_seen_at_once(store: SqlStore) -> None:
    cache = LookupCache()
    inv = Inventory(store, cache=cache)
    add_users(inv)
    assert inv.find_user(SUPPLIER) is not None and inv.find_user(SUPPLIER) == inv.user(SUPPLIER)
    assert cache.users.hits >= 1  # answered from memory the second time
    inv.set_user_status(SUPPLIER, UserStatus.SUSPENDED)
    found = inv.find_user(SUPPLIER)
    assert found is not None and found.status is UserStatus.SUSPENDED
    newcomer = bytes.fromhex("90b3d51f30060000")
    assert inv.find_user(newcomer) is None  # a cached "no such user"...
    inv.add_user(newcomer, "Newcomer", ["IS"], "https://new.example")
    assert inv.find_user(newcomer) is not None  # ...dropped when the user is added
