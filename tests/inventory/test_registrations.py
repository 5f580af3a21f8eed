"""Registration data and "who holds role R for device D at time T", on both back-ends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from smetsnet.inventory import (
    InvalidIdentifier,
    Inventory,
    LookupCache,
    RegistrationConflict,
    UnknownDevice,
    UnknownMeterPoint,
    UnknownRole,
    UnknownUser,
    UserRole,
    UserStatus,
)
from smetsnet.store import SqlStore
from tests.inventory.world import (
    DNO,
    GAS_SUPPLIER,
    GT,
    OTHER,
    START,
    SUPPLIER,
    SUPPLIER2,
    add_users,
    build,
)

LATER = START + timedelta(days=30)


@pytest.fixture(params=["warm", "cold"])
def inv(request: pytest.FixtureRequest, store: SqlStore) -> Inventory:
    """Both look-up paths: through the cache, and one SQL query each time."""
    cache = LookupCache() if request.param == "warm" else None
    inventory = Inventory(store, cache=cache)
    add_users(inventory)
    return inventory


def test_each_role_resolves_through_the_premises(inv: Inventory) -> None:
    w = build(inv)
    at = START + timedelta(days=1)
    expected = {
        (UserRole.IS, w.esme): SUPPLIER,
        (UserRole.IS, w.chf): SUPPLIER,  # the hub's import supplier: the premises' MPAN
        (UserRole.ED, w.esme): DNO,
        (UserRole.ED, w.chf): DNO,
        (UserRole.GS, w.gsme): GAS_SUPPLIER,
        (UserRole.GS, w.gpf): GAS_SUPPLIER,
        (UserRole.GT, w.gpf): GT,
        (UserRole.ES, w.esme): None,  # no export MPAN at this premises
    }
    for (role, device), user in expected.items():
        assert inv.who_holds(role, device, at) == user, (role, device.hex())
    assert inv.who_holds("IS", w.esme, START - timedelta(seconds=1)) is None
    assert inv.who_holds("IS", w.esme, START) == SUPPLIER


def test_change_of_supplier_on_a_future_date(inv: Inventory) -> None:
    w = build(inv)
    on = LATER
    opened = inv.change_holder(w.mpan, "IS", SUPPLIER2, on)
    assert opened.valid_from == on and opened.valid_to is None
    assert inv.who_holds("IS", w.esme, on - timedelta(seconds=1)) == SUPPLIER
    assert inv.who_holds("IS", w.esme, on) == SUPPLIER2
    assert inv.who_holds("IS", w.chf, on + timedelta(days=400)) == SUPPLIER2
    assert [(r.user, r.valid_to) for r in inv.registrations(w.mpan, "IS")] == [
        (SUPPLIER, on),
        (SUPPLIER2, None),
    ]
    with pytest.raises(RegistrationConflict, match="cancel that change first"):
        inv.change_holder(w.mpan, "IS", SUPPLIER, on - timedelta(days=1))
    reopened = inv.cancel_change(w.mpan, "IS", on)
    assert reopened.user == SUPPLIER and reopened.valid_to is None
    assert inv.who_holds("IS", w.esme, on) == SUPPLIER


def test_overlaps_and_gaps_are_rejected_with_a_reason(inv: Inventory) -> None:
    w = build(inv, register=False)
    inv.register(w.mpan, "IS", SUPPLIER, START, LATER)
    with pytest.raises(RegistrationConflict, match="overlaps IS 90-B3-D5-1F-30-01-00-00"):
        inv.register(w.mpan, "IS", SUPPLIER2, START + timedelta(days=3))
    with pytest.raises(RegistrationConflict, match="leaves a gap for IS from"):
        inv.register(w.mpan, "IS", SUPPLIER2, LATER + timedelta(days=1))
    inv.register(w.mpan, "IS", SUPPLIER2, LATER)
    assert inv.who_holds("IS", w.esme, LATER) == SUPPLIER2
    assert len(inv.registrations(w.mpan, "IS")) == 2


def test_registration_refuses_wrong_roles_and_users(inv: Inventory) -> None:
    w = build(inv, register=False)
    with pytest.raises(RegistrationConflict, match="a MPRN has no IS registration"):
        inv.register(w.mprn, "IS", SUPPLIER, START)
    with pytest.raises(RegistrationConflict, match="does not have role ED"):
        inv.register(w.mpan, "ED", SUPPLIER, START)
    with pytest.raises(UnknownUser, match="no service user 90-B3-D5-1F-30-09-00-00"):
        inv.register(w.mpan, "IS", "90-B3-D5-1F-30-09-00-00", START)
    with pytest.raises(UnknownMeterPoint, match="no meter point '1299999999999'"):
        inv.register("1299999999999", "IS", SUPPLIER, START)
    with pytest.raises(UnknownRole, match="'XX' is not a user role"):
        inv.register(w.mpan, "XX", SUPPLIER, START)
    with pytest.raises(InvalidIdentifier, match="has no time zone"):
        inv.register(w.mpan, "IS", SUPPLIER, datetime(2025, 1, 1))  # naive on purpose


def test_who_holds_bad_input(inv: Inventory) -> None:
    w = build(inv)
    with pytest.raises(UnknownRole, match="role OU is not held per MPAN/MPRN"):
        inv.who_holds("OU", w.esme, START)
    with pytest.raises(UnknownRole, match="'SUPPLIER' is not a user role"):
        inv.who_holds("SUPPLIER", w.esme, START)
    with pytest.raises(UnknownDevice, match="no device 00-DB-00-00-00-00-00-01"):
        inv.who_holds("IS", "00-DB-00-00-00-00-00-01", START)
    with pytest.raises(InvalidIdentifier, match="not an EUI-64"):
        inv.who_holds("IS", "nonsense", START)


def test_service_users(inv: Inventory) -> None:
    user = inv.user(SUPPLIER)
    assert user.roles == {UserRole.IS, UserRole.GS} and user.status is UserStatus.ACTIVE
    assert user.response_url == "https://supplier.example/duis"
    assert inv.set_user_status(SUPPLIER, UserStatus.SUSPENDED).status is UserStatus.SUSPENDED
    assert inv.user(OTHER).roles == {UserRole.OU}
    with pytest.raises(UnknownUser, match="no service user 90-B3-D5-1F-30-09-00-00"):
        inv.user("90-B3-D5-1F-30-09-00-00")
    with pytest.raises(UnknownRole, match="'XY' is not a user role"):
        inv.add_user("90-B3-D5-1F-30-09-00-00", "x", ["XY"], "https://x")
