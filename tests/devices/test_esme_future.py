"""Future-dated DLMS commands (ECS01a, held then run by tick, 0x00CC/8F66), their cancellation;
firmware (image receipt 0x00CE, CS06 activation on a hash match, 0x8F43, mismatch); join/unjoin."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smetsnet.devices import Esme
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.firmware import OTA_MAGIC, make_image
from smetsnet.gbcs import asn1, crypto
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessRequest, AccessResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, NOW, SUPPLIER
from tests.devices.support import rebuild
from tests.support.vectors import rtds_files

ECS01A = "ECS01a_1.1.1_{}_TOU_BLOCK_SUCCESS_COMMAND_GBCS.HEX"


def _vector(name: str) -> Path:
    for path in rtds_files():
        if path.name == name:
            return path
    pytest.skip("reference vectors not found")


def _send(hub: Protection, payload: object, code: int, counter: int) -> bytes:
    return build_message(
        payload=payload,  # type: ignore[arg-type]
        originator=SUPPLIER,
        recipient=ESME_EUI,
        counter=counter,
        message_code=code,
        protection=hub,
    ).frame.to_bytes()


def test_future_dated_tariff_is_held_then_run_by_tick(esme: Esme, hub: Protection) -> None:
    wire = rebuild(_vector(ECS01A.format("FUTURE_DATED")), hub)
    out = esme.receive(wire, NOW)
    response = decode_message(out.response or b"").payload
    assert isinstance(response, AccessResponse) and all(r.result == 0 for r in response.results)
    assert len(esme.held) == 1 and esme.tick(NOW + timedelta(days=1)) == []
    due = datetime(2030, 1, 15, 9, tzinfo=UTC)
    alerts = [decode_message(a) for a in esme.tick(due)]
    assert alerts and {a.header.message_code for a in alerts} == {0x00CC}
    first = alerts[0].payload.to_json()
    assert first["alert_code"] == codes.FUTURE_DATED_ACTIONED  # type: ignore[index, call-overload]
    assert esme.held == []


def test_cancellation_drops_the_held_tariff(esme: Esme, hub: Protection) -> None:
    esme.receive(rebuild(_vector(ECS01A.format("FUTURE_DATED")), hub), NOW)
    out = esme.receive(rebuild(_vector(ECS01A.format("CANCELLATION")), hub), NOW)
    assert out.response is not None and esme.held == []
    assert esme.tick(datetime(2031, 1, 1, tzinfo=UTC)) == []


def _image(pki: Pki, version: bytes) -> bytes:
    manufacturer = OTA_MAGIC + bytes(10) + version + b"firmware body"
    key = pki.private_key(SUPPLIER, KeyUsage.DIGITAL_SIGNATURE)
    assert key is not None
    return make_image(manufacturer, crypto.ecdsa_sign(key, manufacturer))


def _activate(esme: Esme, hub: Protection, digest: bytes, counter: int) -> asn1.ActivationOutcome:
    cmd = asn1.ActivateFirmwareCommand(image_hash=digest, originator_counter=counter)
    out = esme.receive(_send(hub, cmd, 0x0012, counter), NOW)
    payload = decode_message(out.response or b"").payload
    assert isinstance(payload, asn1.ActivateFirmwareResponse) and payload.outcome is not None
    return payload.outcome


def test_firmware_receipt_and_activation_on_hash_match(
    esme: Esme, pki: Pki, hub: Protection
) -> None:
    image = _image(pki, b"\x00\x02\x00\x07")
    receipt = decode_message(esme.receive_firmware_image(image, NOW)[0])
    assert receipt.header.message_code == 0x00CE
    manufacturer = image[:-66]
    assert hashlib.sha256(manufacturer).digest().hex() in str(receipt.payload.to_json())
    outcome = _activate(esme, hub, hashlib.sha256(manufacturer).digest(), 3000)
    assert outcome.code == 0 and outcome.firmware_version == b"\x00\x02\x00\x07"
    read = AccessRequest.get(1, "0-0:0.2.1.255", 2, invoke_id=3001)
    reply = decode_message(esme.receive(_send(hub, read, 0x0053, 3001), NOW).response or b"")
    assert "00020007" in str(reply.payload.to_json())


def test_firmware_hash_mismatch_and_no_image(esme: Esme, pki: Pki, hub: Protection) -> None:
    assert _activate(esme, hub, bytes(32), 3000).code == 1  # no image held
    esme.receive_firmware_image(_image(pki, b"\x00\x02\x00\x07"), NOW)
    outcome = _activate(esme, hub, bytes(32), 3001)
    assert outcome.code == 2 and outcome.firmware_version == b"\x00\x01\x00\x00"


def test_tampered_image_is_not_kept(esme: Esme, pki: Pki) -> None:
    image = bytearray(_image(pki, b"\x00\x02\x00\x07"))
    image[20] ^= 1
    alert = decode_message(esme.receive_firmware_image(bytes(image), NOW)[0])
    assert alert.payload.to_json()["alert_code"] == 0x8F1C  # type: ignore[index, call-overload]
    assert esme.state.firmware_image is None


def test_join_and_unjoin_keep_the_device_log(esme: Esme, hub: Protection) -> None:
    partner = bytes.fromhex("00DB12345678909A")
    join = asn1.JoinCommand(method=0, partner_id=partner, partner_type=5)
    first = decode_message(esme.receive(_send(hub, join, 0x000D, 10), NOW).response or b"")
    assert first.payload == asn1.JoinResponse(code=0) and esme.state.device_log == [(partner, 5)]
    clash = asn1.JoinCommand(method=0, partner_id=partner, partner_type=4)
    second = decode_message(esme.receive(_send(hub, clash, 0x000D, 11), NOW).response or b"")
    assert second.payload == asn1.JoinResponse(code=3)
    unjoin = asn1.UnjoinCommand(partner_id=partner)
    third = decode_message(esme.receive(_send(hub, unjoin, 0x000F, 12), NOW).response or b"")
    assert third.payload == asn1.UnjoinResponse(code=0) and esme.state.device_log == []
    fourth = decode_message(esme.receive(_send(hub, unjoin, 0x000F, 13), NOW).response or b"")
    assert fourth.payload == asn1.UnjoinResponse(code=1)
