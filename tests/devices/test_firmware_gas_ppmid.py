"""Firmware to gas meters and PPMIDs (DOMAIN.md §6): 11.1 to a GSME is held by the GPF until the
meter wakes, which checks the supplier's signature, sends the 0x00CF receipt alert (GBZ, image
hash) and runs a verified image at once, so GCS38 (11.2) reads the new version; a corrupted or
wrongly signed image gives 0x8F1C and no change. 11.4 to a PPMID is checked and run at once (no
receipt alert), a bad image discarded. Over the WAN the DCC tells the supplier N60 for both, N61
for a discarded image. A held image survives saving the premises."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.devices import Role
from smetsnet.devices.core.firmware import (
    OTA_MAGIC,
    Transfer,
    check_image,
    fits_hardware,
    hardware_range,
    make_image,
    split_image,
)
from smetsnet.devices.gas import GasPremises, Gpf, Gsme
from smetsnet.devices.premises import Premises
from smetsnet.duis import Node
from smetsnet.duis.header import format_eui
from smetsnet.gbcs import asn1, crypto
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.gbz import FirmwareReceipt, GbzAlert, GbzMessage, ReadAttributes
from smetsnet.gbcs.gbz.spec import METERING
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.hub.audit import AuditLog
from smetsnet.hub.build_endpoint import PremisesEndpoint
from smetsnet.hub.firmware_distribution import DELIVERED_ALERT, FAILED_ALERT, FirmwareDistributor
from smetsnet.hub.nondevice_records import FirmwareRequest, NonDeviceRecords
from smetsnet.hub.traffic import TrafficMeter
from smetsnet.smki.pki import Pki
from smetsnet.wan.firmware import TransferStatus
from smetsnet.wan.link import LinkProfile, Technology
from smetsnet.wan.memory import InMemoryWan
from tests.devices.conftest import ACB, ESME_EUI, NETWORK_OPERATOR, PARTIES, SUPPLIER, make_pki
from tests.devices.test_gas_premises import Hub
from tests.devices.test_gas_reference_commands import GPF_EUI, GSME_EUI
from tests.devices.test_month import CHF, IHD, PPMID
from tests.devices.test_premises import dual_fuel

START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
HALF = timedelta(minutes=30)
OLD, NEW = bytes.fromhex("00010000"), bytes.fromhex("00020005")
GCS38, CS08 = 0x0084, 0x0129
RECEIPT, VERIFIED, FAILED, CHANGED = 0x00CF, 0x8F72, 0x8F1C, 0x8F43


@pytest.fixture(scope="module")
def fw_pki() -> Pki:
    return make_pki([ESME_EUI, GSME_EUI, GPF_EUI, PPMID, CHF])


def _manufacturer(version: bytes = NEW, *, hardware: tuple[int, int] | None = None) -> bytes:
    """A ZigBee OTA file: 56-byte header (little-endian; field control bit 2 when it names the
    hardware versions it is for, which then follow the header) and a body."""
    control = 0x0004 if hardware else 0
    extra = b"".join(v.to_bytes(2, "little") for v in hardware) if hardware else b""
    body = b"gas meter firmware " * 8
    header = (
        OTA_MAGIC
        + (0x0100).to_bytes(2, "little")
        + (56 + len(extra)).to_bytes(2, "little")
        + control.to_bytes(2, "little")
        + bytes.fromhex("DB200100")
        + version
        + (0x0002).to_bytes(2, "little")
        + b"smetsnet test firmware".ljust(32, b" ")
        + (56 + len(extra) + len(body)).to_bytes(4, "little")
    )
    return header + extra + body


def _signed(pki: Pki, manufacturer: bytes, signer: bytes = SUPPLIER) -> bytes:
    key = pki.private_key(signer, KeyUsage.DIGITAL_SIGNATURE)
    assert key is not None
    return make_image(manufacturer, crypto.ecdsa_sign(key, manufacturer))


def _premises(pki: Pki) -> Premises:
    gas = GasPremises(
        gsme=Gsme.from_keystore(GSME_EUI, pki, PARTIES),
        gpf=Gpf.from_keystore(GPF_EUI, pki, PARTIES),
        start=START,
        seed=5,
    )
    premises = dual_fuel(pki, gas, seed=5, start=START)
    premises.commission(START)
    return premises


def _gas(premises: Premises) -> GasPremises:
    assert premises.gas is not None
    return premises.gas


def _from_gsme(pki: Pki, wires: list[bytes]) -> list[GbcsMessage]:
    """The GSME's alerts among ``wires``, each with its signature or MAC verified."""
    protection = Protection(pki)
    out = []
    for wire in wires:
        message = decode_message(wire, protection=protection)
        if message.header.originator == GSME_EUI:
            assert protection.verify(message.frame).ok
            out.append(message)
    return out


def _gcs38(hub: Hub, premises: Premises, to: bytes, now: datetime) -> bytes:
    """11.2 GCS38 (Metering 0x0206, current meter id: the firmware version, RTDS vector) to the
    GPF (answered at once from its mirror) or the GSME (answered at its next wake)."""
    wire = hub.command(to, GCS38, (METERING, ReadAttributes(attribute_ids=(0x0206,))))
    out = premises.deliver(wire, now)
    if to == GSME_EUI:
        assert out == []  # queued at the GPF
        out = premises.advance(now + HALF)
    [response] = [m for m in out if hub.open(m).header.message_code == GCS38]
    payload = hub.open(response).payload
    assert isinstance(payload, GbzMessage)
    [component] = payload.components
    assert component.command is not None
    value = component.command[0x0206].value  # type: ignore[index]
    assert isinstance(value, bytes)
    return value


def test_11_1_to_a_gsme_is_held_then_verified_reported_and_run_at_its_wake(fw_pki: Pki) -> None:
    premises, hub = _premises(fw_pki), Hub(Protection(fw_pki))
    gas = _gas(premises)
    manufacturer = _manufacturer()
    image = _signed(fw_pki, manufacturer)
    outcome, alerts = premises.hand_over_firmware(image, (GSME_EUI,), START + timedelta(minutes=5))
    assert outcome == {GSME_EUI: Transfer.SUCCESS} and alerts == []
    # The meter sleeps: the GPF holds the image, the meter still runs (and reports) the old one.
    assert gas.gpf.firmware == image and gas.gsme.state.firmware == OLD
    assert _gcs38(hub, premises, GPF_EUI, START + timedelta(minutes=6)) == OLD
    receipt, changed = _from_gsme(fw_pki, premises.advance(START + HALF))  # the wake
    assert receipt.header.message_code == RECEIPT and receipt.header.recipient == SUPPLIER
    assert receipt.frame.signature  # a critical alert: signed
    alert = receipt.payload
    assert isinstance(alert, GbzAlert) and alert.alert_code == VERIFIED
    assert alert.data == FirmwareReceipt(hash=hashlib.sha256(manufacturer).digest())
    assert alert.to_bytes()[9:11] == bytes.fromhex("0920")  # after the 9-byte alert header
    assert isinstance(changed.payload, GbzAlert) and changed.payload.alert_code == CHANGED
    assert gas.gpf.firmware is None and gas.gsme.state.firmware == NEW
    # 11.2 afterwards: the new version, from the GPF's mirror and from the meter itself.
    assert _gcs38(hub, premises, GPF_EUI, START + HALF) == NEW
    assert _gcs38(hub, premises, GSME_EUI, START + HALF) == NEW


@pytest.mark.parametrize("fault", ["corrupted", "wrongly signed", "not an image"])
def test_a_bad_image_gives_8f1c_and_the_gsme_keeps_its_version(fw_pki: Pki, fault: str) -> None:
    premises = _premises(fw_pki)
    manufacturer = _manufacturer()
    if fault == "wrongly signed":
        image = _signed(fw_pki, manufacturer, signer=NETWORK_OPERATOR)
    elif fault == "corrupted":
        spoiled = bytearray(_signed(fw_pki, manufacturer))
        spoiled[100] ^= 0x01  # inside the manufacturer image's body
        image = bytes(spoiled)
    else:
        image = b"\x00" * 200
    outcome, _ = premises.hand_over_firmware(image, (GSME_EUI,), START)
    assert outcome == {GSME_EUI: Transfer.SUCCESS}  # the comms hub passed it on
    [receipt] = _from_gsme(fw_pki, premises.advance(START + HALF))
    alert = receipt.payload
    assert receipt.header.message_code == RECEIPT
    assert isinstance(alert, GbzAlert) and alert.alert_code == FAILED
    held = split_image(image)
    reported = held.hash if held is not None else hashlib.sha256(image).digest()
    assert alert.data == FirmwareReceipt(hash=reported)
    assert reported != hashlib.sha256(manufacturer).digest() or fault == "wrongly signed"
    assert _gas(premises).gsme.state.firmware == OLD


def cs08_command(protection: Protection, recipient: bytes) -> bytes:
    """CS08 (Read Firmware Version, ASN.1) from the access control broker to ``recipient``."""
    return build_message(
        payload=asn1.ReadFirmwareVersionCommand(),
        originator=ACB,
        recipient=recipient,
        counter=1 << 40,
        message_code=CS08,
        protection=protection,
    ).frame.to_bytes()


def test_11_4_to_a_ppmid_runs_the_new_version_and_cs08_reads_it(fw_pki: Pki) -> None:
    premises = _premises(fw_pki)
    ppmid = premises.ppmid
    assert ppmid is not None
    image = _signed(fw_pki, _manufacturer())
    outcome, alerts = premises.hand_over_firmware(image, (PPMID,), START)
    assert outcome == {PPMID: Transfer.SUCCESS} and alerts == []  # no GBCS receipt alert
    assert ppmid.firmware == NEW
    protection = Protection(fw_pki)
    command = cs08_command(protection, PPMID)
    answer = premises.deliver(command, START)
    response = decode_message(answer[0], protection=protection)
    assert protection.verify(response.frame).ok
    assert response.payload == asn1.ReadFirmwareVersionResponse(firmware_version=NEW, code=0)
    # A wrongly signed image is discarded: the PPMID keeps what it runs.
    bad = _signed(fw_pki, _manufacturer(bytes.fromhex("00030000")), signer=NETWORK_OPERATOR)
    assert premises.hand_over_firmware(bad, (PPMID,), START)[0] == {PPMID: Transfer.DISCARDED}
    assert ppmid.firmware == NEW


def test_targets_off_the_han_or_of_other_hardware_do_not_take_the_image(fw_pki: Pki) -> None:
    premises = _premises(fw_pki)
    gas, ppmid = _gas(premises), premises.ppmid
    assert ppmid is not None
    other_hardware = _signed(fw_pki, _manufacturer(hardware=(2, 5)))
    outcome, alerts = premises.hand_over_firmware(
        other_hardware, (GSME_EUI, PPMID, ESME_EUI), START
    )
    assert set(outcome.values()) == {Transfer.HARDWARE_MISMATCH} and alerts == []
    assert gas.gpf.firmware is None and ppmid.firmware == OLD
    ours = _signed(fw_pki, _manufacturer(hardware=(1, 1)))
    log = premises.hub.state.devices
    log[PPMID] = replace(log[PPMID], joined=False)  # the PPMID has left the HAN
    outcome, _ = premises.hand_over_firmware(ours, (GSME_EUI, PPMID, IHD, GPF_EUI), START)
    assert outcome == {
        GSME_EUI: Transfer.SUCCESS,  # hardware version 1 is in the image's range
        PPMID: Transfer.FAILURE,  # not on the HAN
        IHD: Transfer.FAILURE,  # takes no image
        GPF_EUI: Transfer.FAILURE,  # not a device on the HAN
    }
    assert gas.gpf.firmware == ours and ppmid.firmware == OLD


def test_the_ota_header_names_the_hardware_it_is_for() -> None:
    assert hardware_range(_manufacturer()) is None
    assert hardware_range(_manufacturer(hardware=(2, 5))) == (2, 5)
    # Optional fields before the hardware versions: security credential (1), destination (8).
    plain = bytearray(_manufacturer())
    plain[8:10] = (0x0007).to_bytes(2, "little")
    with_all = bytes(plain[:56]) + b"\x01" + bytes(8) + (3).to_bytes(2, "little") + b"\x09\x00"
    assert hardware_range(with_all) == (3, 9)
    assert hardware_range(bytes(plain[:56])) is None  # announced, but cut off
    image = make_image(_manufacturer(hardware=(2, 5)), bytes(64))
    assert not fits_hardware(image) and fits_hardware(image, 2) and fits_hardware(b"junk")


def test_check_image_needs_the_devices_own_supplier(fw_pki: Pki) -> None:
    image = _signed(fw_pki, _manufacturer())
    gsme = Gsme.from_keystore(GSME_EUI, fw_pki, PARTIES)
    assert check_image(image, gsme.anchors).verified
    stranger = Gsme.from_keystore(GSME_EUI, fw_pki, {**PARTIES, Role.SUPPLIER: ACB})
    result = check_image(image, stranger.anchors)
    assert not result.verified and result.receipt_code == FAILED
    assert result.parts is not None and result.parts.version == NEW


def test_a_held_image_and_the_ppmid_version_survive_saving(fw_pki: Pki) -> None:
    premises = _premises(fw_pki)
    gsme_image = _signed(fw_pki, _manufacturer())
    ppmid_image = _signed(fw_pki, _manufacturer(bytes.fromhex("00020101")))
    premises.hand_over_firmware(gsme_image, (GSME_EUI,), START)
    premises.hand_over_firmware(ppmid_image, (PPMID,), START)
    saved = json.loads(json.dumps(premises.to_json()))
    again = Premises.from_json(saved)
    assert again.to_json() == saved
    gas = _gas(again)
    assert gas.gpf.firmware == gsme_image and again.ppmid is not None
    assert again.ppmid.firmware == bytes.fromhex("00020101")
    [receipt, _changed] = _from_gsme(fw_pki, again.advance(START + HALF))
    assert isinstance(receipt.payload, GbzAlert) and receipt.payload.alert_code == VERIFIED
    assert gas.gsme.state.firmware == NEW and gas.gpf.mirror.firmware == NEW
    # Saved before the image field existed: nothing held, the first version.
    del saved["gas"]["gpf"]["firmware"], saved["ppmid"]["firmware"]
    older = Premises.from_json(saved)
    assert _gas(older).gpf.firmware is None and older.ppmid is not None
    assert older.ppmid.firmware == OLD


def _distribute(premises: Premises, srv: str, image: bytes, device: bytes) -> list[str]:
    """The DCC's distribution of ``image`` to one device over the in-memory WAN to the
    premises' comms hub (the hub's production path: blocks, acknowledgements, the comms hub's
    hand-over): the DCC alert codes the supplier is told about it."""
    wan = InMemoryWan(seed=1, profiles={Technology.CELLULAR: LinkProfile(median_s=0.5, p99_s=1)})
    wan.attach(CHF, PremisesEndpoint(premises, CHF), Technology.CELLULAR)
    records, told = NonDeviceRecords(), []

    def alert(user: bytes, code: str, node: Node, _now: datetime) -> None:
        (body,) = node.children
        [target] = [c.text for c in body.children if c.name in ("TargetDeviceID", "MeterIDs")]
        assert user == SUPPLIER and target == format_eui(device)
        told.append(code)

    distributor = FirmwareDistributor(
        wan=wan,
        records=lambda: records,
        comms_hub=lambda _device: CHF,
        alert=alert,
        traffic=TrafficMeter(),
        audit=AuditLog(),
    )
    now = premises.clock + timedelta(minutes=1)
    records.firmware.append(
        FirmwareRequest(
            request_id=f"req-{srv}", srv=srv, by=SUPPLIER, version=NEW.hex(), image=image,
            devices=(device,), at=now,
        )
    )  # fmt: skip
    while records.pending_firmware():
        due = [t for t in (wan.next_due(), distributor.next_due()) if t]
        now = max(min(due), now)
        distributor.advance(now, wan.advance(now))
    return told


def test_the_dcc_says_n60_for_the_gsme_and_the_ppmid_and_n61_for_a_discarded_image(
    fw_pki: Pki,
) -> None:
    premises = _premises(fw_pki)
    image = _signed(fw_pki, _manufacturer())
    gsme = _distribute(premises, "11.1", image, GSME_EUI)
    assert gsme == [DELIVERED_ALERT]
    assert _gas(premises).gpf.firmware == image
    ppmid = _distribute(premises, "11.4", image, PPMID)
    assert ppmid == [DELIVERED_ALERT]
    assert premises.ppmid is not None and premises.ppmid.firmware == NEW
    bad = _signed(fw_pki, _manufacturer(bytes.fromhex("00030000")), signer=NETWORK_OPERATOR)
    assert _distribute(premises, "11.4", bad, PPMID) == [FAILED_ALERT]
    assert premises.ppmid.firmware == NEW


def test_transfer_codes_are_the_wan_statuses() -> None:
    for transfer in Transfer:
        assert TransferStatus.from_code(transfer).name == transfer.name
        assert TransferStatus.from_code(transfer).code == transfer
