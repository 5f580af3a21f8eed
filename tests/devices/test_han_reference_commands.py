"""Acceptance (issue 4 §4) for the HAN devices: every reference command addressed to the comms
hub (…90A2) or to the PPMID (…90A4), re-built with our PKI, is executed by a fresh device and
answered with a response of the same message code that our decoder verifies.

All 24 are answered, CS02b WAN-provider-by-WAN-provider included (the CHF anchors the WAN
provider of our test PKI).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smetsnet.devices.core.device import SimulatedDevice
from smetsnet.devices.core.keys import Role
from smetsnet.devices.han import CommsHub, LogEntry, Ppmid
from smetsnet.gbcs.asn1 import UpdateSecurityCredentialsResponse
from smetsnet.gbcs.asn1.join import JoinResponse
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessResponse, Array, DataNotification, OctetString, Structure
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import (
    ACB,
    NOW,
    PARTIES,
    WAN_PROVIDER,
    make_pki,
)
from tests.devices.support import (
    assert_all_answered,
    check_response,
    rebuild,
    reference_commands,
    tally,
)

CHF = bytes.fromhex("00DB1234567890A2")
PPMID = bytes.fromhex("00DB1234567890A4")
#: devices the RTDS CHF commands name in its log (CCS02/CCS03 act on them)
RTDS_LOG = (bytes.fromhex("00DB1234567890A0"), bytes.fromhex("00DB1234567890A1"))

#: The comms hub also anchors the WAN provider (CS02b WAN-by-WAN, 0x0105).
CHF_PARTIES = {**PARTIES, Role.WAN_PROVIDER: WAN_PROVIDER}


COMMANDS = reference_commands([CHF, PPMID])


@pytest.fixture(scope="module")
def han_pki() -> Pki:
    return make_pki([CHF, PPMID])


@pytest.fixture(scope="module")
def parties_view(han_pki: Pki) -> Protection:
    return Protection(han_pki)


def _device(recipient: bytes, pki: Pki) -> SimulatedDevice:
    if recipient == CHF:
        hub = CommsHub.from_keystore(CHF, pki, CHF_PARTIES)
        for eui in RTDS_LOG:
            hub.state.add(LogEntry(eui=eui, link_key=bytes(16)))
        return hub
    return Ppmid.from_keystore(PPMID, pki, PARTIES)


def _answer(device: SimulatedDevice, wire: bytes, hub: Protection, success: bool) -> str:
    command = decode_message(wire)
    outcome = device.receive(wire, NOW)
    if outcome.response is None:
        return "no response"
    response, verdict = check_response(command, outcome.response, hub)
    if verdict != "ok":
        return verdict
    payload = response.payload
    if isinstance(payload, AccessResponse):
        results = [r.result for r in payload.results]
        if len(results) != len(command.payload.specs):  # type: ignore[attr-defined]
            return "result count"
        if success and any(results):
            return f"results {results}"
    elif isinstance(payload, JoinResponse):
        if success != (payload.code == 0):
            return f"join code {payload.code}"
    elif isinstance(payload, UpdateSecurityCredentialsResponse):
        statuses = [o.status for o in payload.outcome.outcomes] if payload.outcome else None
        if success and statuses != [0]:
            return f"credential outcomes {statuses}"
    else:
        return f"unexpected payload {type(payload).__name__}"
    return "ok"


@pytest.mark.skipif(not COMMANDS, reason="reference vectors not found (../shared/reference)")
def test_every_reference_han_command_is_answered(han_pki: Pki, parties_view: Protection) -> None:

    def answer(path: Path) -> str:
        wire = rebuild(path, parties_view)
        device = _device(decode_message(wire).header.recipient, han_pki)
        return _answer(device, wire, parties_view, "_SUCCESS_" in path.name)

    result = tally(COMMANDS, answer, lambda path: path.name, {})
    assert_all_answered(result, {}, len(COMMANDS))
    assert len(COMMANDS) == 24
    print(f"{len(result.passed)} of {len(COMMANDS)} CHF/PPMID commands answered and verified")


@pytest.mark.skipif(not COMMANDS, reason="reference vectors not found (../shared/reference)")
def test_wan_provider_update_replaces_its_anchor_on_the_hub(
    han_pki: Pki, parties_view: Protection
) -> None:
    [path] = [p for p in COMMANDS if "CS02bWPByWP" in p.name]
    hub = _device(CHF, han_pki)
    cell = (Role.WAN_PROVIDER, KeyUsage.DIGITAL_SIGNATURE, False)
    before = hub.anchors[cell]
    assert hub.receive(rebuild(path, parties_view), NOW).response is not None
    after = hub.anchors[cell]
    assert after.eui == WAN_PROVIDER and after.point != before.point  # the RTDS certificate's key


def test_device_log_change_raises_a_verified_cs14(han_pki: Pki, parties_view: Protection) -> None:
    hub = CommsHub.from_keystore(CHF, han_pki, PARTIES)
    [alert] = hub.whitelist(RTDS_LOG[0], NOW, link_key=bytes(range(16)))
    message = decode_message(alert, protection=parties_view)
    assert message.header.message_code == 0x0018
    assert (message.header.cra, message.header.recipient) == (Cra.ALERT, ACB)
    assert parties_view.verify(message.frame).mac == "valid"
    payload = message.payload
    assert isinstance(payload, DataNotification) and payload.alert_code == 0x8F12
    log = payload.items[2]
    assert isinstance(log, Structure) and isinstance(log.items[2], Array)
    first = log.items[2].items[0]
    assert isinstance(first, Structure) and first.items[0] == OctetString(value=RTDS_LOG[0])


def test_join_only_when_whitelisted(han_pki: Pki) -> None:
    hub = CommsHub.from_keystore(CHF, han_pki, PARTIES)
    assert not hub.join(PPMID, NOW)
    assert not hub.joined(PPMID)
    hub.whitelist(PPMID, NOW)
    assert hub.join(PPMID, NOW) and hub.joined(PPMID)
    assert [c for _, c in hub.state.security_log] == [0x8F48, 0x8F12, 0x8F49]


def test_ccs08_firmware_transfer_alert_verifies(han_pki: Pki, parties_view: Protection) -> None:
    hub = CommsHub.from_keystore(CHF, han_pki, PARTIES)
    wire = hub.firmware_transfer_alert(PPMID, bytes.fromhex("0123ABCD"), NOW)
    message = decode_message(wire, protection=parties_view)
    assert message.header.message_code == 0x0128
    assert parties_view.verify(message.frame).signature == "valid"
    assert message.payload.to_json()["entity_id"] == PPMID.hex()  # type: ignore[index,call-overload]


def test_hub_state_round_trips_through_json(han_pki: Pki) -> None:
    hub = CommsHub.from_keystore(CHF, han_pki, PARTIES)
    hub.whitelist(PPMID, NOW, link_key=bytes(16), device_type=5)
    hub.join(PPMID, NOW)
    again = CommsHub.from_json(hub.to_json())
    assert again.state.to_json() == hub.state.to_json()
    assert again.joined(PPMID)
