"""Devices, premises, comms-hub device logs and meter points, on both back-ends."""

from __future__ import annotations

import pytest

from smetsnet.inventory import (
    AlreadyExists,
    DeviceStatus,
    DeviceType,
    HanLogError,
    IllegalTransition,
    InvalidIdentifier,
    Inventory,
    MeterKind,
    Region,
    UnknownDevice,
    UnknownMeterPoint,
    UnknownPremises,
)
from tests.inventory.world import build

S = DeviceStatus


def test_a_premises_installed_step_by_step(inventory: Inventory) -> None:
    world = build(inventory, register=False)
    chf, esme = inventory.device(world.chf), inventory.device(world.esme)
    assert chf.status is S.InstalledNotCommissioned and chf.premises_id == world.premises.id
    assert not chf.on_han_log
    assert esme.status is S.Whitelisted and esme.on_han_log
    assert [d.eui for d in inventory.han_log(world.chf)] == sorted([world.esme, world.gsme])
    points = inventory.store.meter_points_at(world.premises.id)
    assert {(p.mpxn, p.kind, p.device_eui) for p in points} == {
        (world.mpan, MeterKind.IMPORT_MPAN, world.esme),
        (world.mprn, MeterKind.MPRN, world.gsme),
    }
    assert (
        inventory.change_status(world.esme, S.InstalledNotCommissioned).status
        is S.InstalledNotCommissioned
    )
    assert inventory.commission(world.esme).status is S.Commissioned
    assert inventory.premises_by_region() == {Region.LONDON: 1}


def test_bad_input_names_what_is_wrong(inventory: Inventory) -> None:
    inventory.add_device("00-DB-12-34-56-78-90-A0", DeviceType.ESME)
    with pytest.raises(AlreadyExists, match="device 00-DB-12-34-56-78-90-A0 already exists"):
        inventory.add_device("00db1234567890a0", DeviceType.ESME)
    with pytest.raises(UnknownDevice, match="no device 00-DB-12-34-56-78-90-A9"):
        inventory.device("00-DB-12-34-56-78-90-A9")
    with pytest.raises(UnknownDevice, match="00-DB-12-34-56-78-90-A9"):
        inventory.commission("00-DB-12-34-56-78-90-A9")
    with pytest.raises(InvalidIdentifier, match="'00-DB-XX' is not an EUI-64"):
        inventory.device("00-DB-XX")
    with pytest.raises(UnknownPremises, match="no premises 42"):
        inventory.premises(42)
    with pytest.raises(UnknownMeterPoint, match="no meter point '1200000000011'"):
        inventory.link_meter("1200000000011", "00-DB-12-34-56-78-90-A0")
    with pytest.raises(InvalidIdentifier, match="check digit"):
        inventory.add_meter_point("1200000000012", MeterKind.IMPORT_MPAN, 1)
    assert inventory.find_device("00-DB-12-34-56-78-90-A9") is None


def test_device_log_rules(inventory: Inventory) -> None:
    world = build(inventory, register=False)  # a log of 4 with ESME + GSME on it
    with pytest.raises(HanLogError, match="already on premises"):
        inventory.add_to_han_log(world.chf, world.esme)
    with pytest.raises(HanLogError, match="part of a hub"):
        inventory.add_to_han_log(world.chf, world.gpf)
    with pytest.raises(HanLogError, match="is not a comms hub function"):
        inventory.add_to_han_log(world.esme, world.gpf)
    extra = [(0x00DB_0000_0000_0100 + i).to_bytes(8, "big") for i in range(3)]
    for eui in extra:
        inventory.add_device(eui, DeviceType.IHD)
    inventory.add_to_han_log(world.chf, extra[0])
    inventory.add_to_han_log(world.chf, extra[1])
    with pytest.raises(
        HanLogError, match="device log of CHF 00-DB-12-34-56-78-90-02 is full \\(4 of 4\\)"
    ):
        inventory.add_to_han_log(world.chf, extra[2])
    removed = inventory.remove_from_han_log(world.chf, extra[0])
    assert removed.status is S.Pending and removed.premises_id is None and not removed.on_han_log
    assert inventory.add_to_han_log(world.chf, extra[2]).status is S.Whitelisted
    with pytest.raises(HanLogError, match="not on the device log"):
        inventory.remove_from_han_log(world.chf, extra[0])


def test_meter_links_check_type_and_premises(inventory: Inventory) -> None:
    first, second = build(inventory, 0, register=False), build(inventory, 1, register=False)
    with pytest.raises(HanLogError, match="measured by a GSME, not ESME"):
        inventory.link_meter(first.mprn, first.esme)
    with pytest.raises(HanLogError, match="is at premises 2"):
        inventory.link_meter(first.mpan, second.esme)
    with pytest.raises(AlreadyExists, match=f"meter point {first.mpan} already exists"):
        inventory.add_meter_point(first.mpan, MeterKind.IMPORT_MPAN, second.premises.id)


def test_comms_hub_install_is_all_or_nothing(inventory: Inventory) -> None:
    premises = inventory.add_premises("_C")
    chf, gpf = bytes.fromhex("00db0000000000a2"), bytes.fromhex("00db0000000000a3")
    inventory.add_device(chf, DeviceType.CHF)
    inventory.add_device(gpf, DeviceType.GPF)
    inventory.change_status(gpf, S.Withdrawn)
    # The CHF is placed and moved first; the GPF's illegal move must undo both.
    with pytest.raises(IllegalTransition, match="from Withdrawn to InstalledNotCommissioned"):
        inventory.install_comms_hub(premises.id, chf, gpf)
    after = inventory.device(chf)
    assert after.status is S.Pending and after.premises_id is None
    assert inventory.store.devices_at(premises.id) == []
    inventory.change_status(gpf, S.Pending)
    inventory.install_comms_hub(premises.id, chf, gpf)
    assert inventory.device(gpf).status is S.InstalledNotCommissioned
    with pytest.raises(HanLogError, match="already has a comms hub"):
        inventory.install_comms_hub(premises.id, chf, gpf)
