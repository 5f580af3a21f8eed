"""Every SMI status transition, legal and illegal, in the table and through the store."""

from __future__ import annotations

import itertools

import pytest

from smetsnet.inventory import (
    TRANSITIONS,
    Device,
    DeviceStatus,
    DeviceType,
    IllegalTransition,
    Inventory,
)
from smetsnet.inventory.lifecycle import EVENT_DEVICE_TYPES, event_of, target_of
from smetsnet.inventory.model import HAN_TYPES, HUB_TYPES
from tests.store.backends import NOW

S = DeviceStatus
ALL_PAIRS = list(itertools.product(DeviceStatus, DeviceStatus))
ESME_EUI = bytes.fromhex("00db1234567890a0")


def _type_for(event: str) -> DeviceType:
    """A device type the event applies to."""
    allowed = EVENT_DEVICE_TYPES.get(event)
    return (
        DeviceType.CHF
        if allowed is not None and DeviceType.ESME not in allowed
        else DeviceType.ESME
    )


def test_table_covers_the_duis_lifecycle() -> None:
    # Every status is reachable from Pending, and Decommissioned is the only final status.
    reachable, frontier = {S.Pending}, [S.Pending]
    while frontier:
        src = frontier.pop()
        for a, b in TRANSITIONS:
            if a is src and b not in reachable:
                reachable.add(b)
                frontier.append(b)
    assert reachable == set(DeviceStatus)
    finals = {s for s in DeviceStatus if not any(a is s for a, _ in TRANSITIONS)}
    assert finals == {S.Decommissioned}
    assert TRANSITIONS[(S.InstalledNotCommissioned, S.Commissioned)] == "commission"
    assert TRANSITIONS[(S.Commissioned, S.Decommissioned)] == "decommission"


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: s.name)
def test_table_decides_every_pair(current: DeviceStatus, target: DeviceStatus) -> None:
    event = TRANSITIONS.get((current, target))
    if event is None:
        with pytest.raises(IllegalTransition) as info:
            event_of(ESME_EUI, DeviceType.ESME, current, target)
        assert f"from {current.name} to {target.name}" in str(info.value)
        assert "00-DB-12-34-56-78-90-A0" in str(info.value)
    else:
        assert event_of(ESME_EUI, _type_for(event), current, target) == event


def test_events_limited_to_their_device_types() -> None:
    with pytest.raises(IllegalTransition, match="ch_install does not apply to a ESME"):
        event_of(ESME_EUI, DeviceType.ESME, S.Pending, S.InstalledNotCommissioned)
    with pytest.raises(IllegalTransition, match="join does not apply to a GPF"):
        event_of(ESME_EUI, DeviceType.GPF, S.Whitelisted, S.InstalledNotCommissioned)
    for hub in HUB_TYPES:
        assert event_of(ESME_EUI, hub, S.Pending, S.InstalledNotCommissioned) == "ch_install"
    for han in HAN_TYPES:
        assert event_of(ESME_EUI, han, S.Pending, S.Whitelisted) == "add_to_han_log"


def test_target_of_named_events() -> None:
    esme = DeviceType.ESME
    assert target_of(ESME_EUI, esme, S.InstalledNotCommissioned, "commission") is S.Commissioned
    assert target_of(ESME_EUI, esme, S.Suspended, "restore", S.Whitelisted) is S.Whitelisted
    with pytest.raises(IllegalTransition, match="no status to restore"):
        target_of(ESME_EUI, esme, S.Suspended, "restore")
    with pytest.raises(IllegalTransition, match="no event named 'explode'"):
        target_of(ESME_EUI, esme, S.Commissioned, "explode")
    with pytest.raises(IllegalTransition, match="commission is not possible from Pending"):
        target_of(ESME_EUI, esme, S.Pending, "commission")


def _seed(inventory: Inventory, index: int, kind: DeviceType, status: DeviceStatus) -> bytes:
    eui = (0x00DB_0000_0000_0000 + index).to_bytes(8, "big")
    prior = S.Commissioned if status is S.Suspended else None
    with inventory.store.transaction() as tx:
        tx.add_device(Device(eui=eui, type=kind, status=status, status_at=NOW, prior_status=prior))
    return eui


def test_every_transition_through_the_store(inventory: Inventory) -> None:
    for index, (current, target) in enumerate(ALL_PAIRS):
        event = TRANSITIONS.get((current, target))
        kind = _type_for(event) if event else DeviceType.ESME
        eui = _seed(inventory, index, kind, current)
        restoring_elsewhere = (
            current is S.Suspended and event == "restore" and target is not S.Commissioned
        )
        if event is None or restoring_elsewhere:
            with pytest.raises(IllegalTransition):
                inventory.change_status(eui, target)
            assert inventory.device(eui).status is current  # nothing changed
            continue
        moved = inventory.change_status(eui, target)
        assert moved.status is target
        assert inventory.store.device(eui) == moved  # what was written is what came back


def test_suspend_then_restore_returns_to_the_prior_status(inventory: Inventory) -> None:
    eui = _seed(inventory, 1, DeviceType.ESME, S.InstalledNotCommissioned)
    suspended = inventory.apply(eui, "suspend")
    assert suspended.status is S.Suspended
    assert suspended.prior_status is S.InstalledNotCommissioned
    with pytest.raises(IllegalTransition, match="it was InstalledNotCommissioned"):
        inventory.change_status(eui, S.Commissioned)
    restored = inventory.apply(eui, "restore")
    assert restored.status is S.InstalledNotCommissioned
    assert restored.prior_status is None
    assert inventory.commission(eui).status is S.Commissioned
    assert inventory.decommission(eui).status is S.Decommissioned
    with pytest.raises(IllegalTransition, match="from Decommissioned to Commissioned"):
        inventory.commission(eui)


def test_recovery_path(inventory: Inventory) -> None:
    eui = _seed(inventory, 2, DeviceType.GSME, S.Commissioned)
    for event, status in (
        ("start_recovery", S.Recovery),
        ("recover", S.Recovered),
        ("recommission", S.Commissioned),
    ):
        assert inventory.apply(eui, event).status is status
