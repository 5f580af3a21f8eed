"""Acceptance (issue 4 §4) for the auxiliary load control switch (…90A6): every reference command
addressed to it (ECS46d future-dated and cancellation, CS02f by the transitional CoS party),
re-built with our PKI, is executed by a fresh :class:`Hcalcs` and answered with a signed response
of the same message code that our decoder verifies. Also: the calendar is held until its
activation, ECS61d is answered, and a command it does not support raises ECS100 (0x0120)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.alerts import COMMAND_NOT_SUPPORTED, ECS100_ALERT
from smetsnet.devices.esme import Hcalcs
from smetsnet.gbcs.asn1 import ProvideSecurityCredentialDetailsResponse
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.dlms import AccessResponse, Array, DataNotification
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.protection import Protection
from smetsnet.inventory.model import DeviceType
from smetsnet.smki.pki import Pki
from tests.devices.conftest import NOW, PARTIES, TRANS_COS, make_pki
from tests.devices.test_reference_commands import _rebuild
from tests.support.vectors import read_hex, rtds_files, split_vector

AUX = bytes.fromhex("00DB1234567890A6")
ECS46D = "ECS46d_6.14.3_{}_APC_OUTPUT_SUCCESS_COMMAND_GBCS.HEX"
CS02F = "CS02fSignature_NA_ERROR_COMMAND_GBCS.HEX"


def _aux_commands() -> list[Path]:
    out = []
    for path in rtds_files():
        if "PRECOMMAND" in path.name or "COMMAND" not in path.name:
            continue
        raw = split_vector(path)
        if raw.cra == Cra.COMMAND and decode_message(raw.message).header.recipient == AUX:
            out.append(path)
    return out


COMMANDS = _aux_commands()
BY_NAME = {path.name: path for path in COMMANDS}


@pytest.fixture(scope="module")
def aux_pki() -> Pki:
    """The device tests' parties with the auxiliary controller as the only device."""
    return make_pki([AUX])


@pytest.fixture(scope="module")
def parties(aux_pki: Pki) -> Protection:
    return Protection(aux_pki)


@pytest.fixture
def aux(aux_pki: Pki) -> Hcalcs:
    return Hcalcs.from_keystore(AUX, aux_pki, PARTIES)


def _vector(name: str) -> Path:
    if name not in BY_NAME:
        pytest.skip("reference vectors not found (../shared/reference)")
    return BY_NAME[name]


def _verified(command: GbcsMessage, wire: bytes | None, parties: Protection) -> GbcsMessage:
    """The response, checked: header mirrors the command, signed (every A6 command is critical)
    and the signature verifies against the device's certificate."""
    assert wire is not None
    response = decode_message(wire, protection=parties)
    h = response.header
    assert (h.message_code, h.cra, h.counter) == (
        command.header.message_code,
        Cra.RESPONSE,
        command.header.counter,
    )
    assert (h.originator, h.recipient) == (AUX, command.header.originator)
    assert command.info is not None and command.info.is_critical
    assert parties.verify(response.frame).signature == "valid"
    return response


@pytest.mark.skipif(not COMMANDS, reason="reference vectors not found (../shared/reference)")
def test_every_reference_auxiliary_command_is_answered(aux_pki: Pki, parties: Protection) -> None:
    assert sorted(p.name for p in COMMANDS) == sorted(
        [ECS46D.format("CANCELLATION"), ECS46D.format("FUTURE_DATED"), CS02F]
    )
    for path in COMMANDS:
        wire = _rebuild(path, parties)
        command = decode_message(wire)
        device = Hcalcs.from_keystore(AUX, aux_pki, PARTIES)
        outcome = device.receive(wire, NOW)
        assert outcome.alerts == [], path.name
        payload = _verified(command, outcome.response, parties).payload
        if command.header.message_code == 0x011B:
            assert isinstance(payload, ProvideSecurityCredentialDetailsResponse)
            assert [d.status for d in payload.details] == [0, 0]  # both roles anchored here
        else:
            assert isinstance(payload, AccessResponse)
            assert [r.result for r in payload.results] == [0, 0, 0, 0]
    print(f"{len(COMMANDS)} of 3 reference auxiliary controller commands answered and verified")


def test_cs02f_reports_the_anchored_credentials(aux: Hcalcs, parties: Protection) -> None:
    wire = _rebuild(_vector(CS02F), parties)
    assert decode_message(wire).header.originator == TRANS_COS
    response = _verified(decode_message(wire), aux.receive(wire, NOW).response, parties)
    body: Any = response.payload.to_json()
    details = body["details"]
    assert [d["role"] for d in details] == ["networkOperator", "transitionalCoS"]
    assert [c["subject_unique_id"] for c in details[1]["cells"]] == [
        TRANS_COS.hex()
    ]  # a DS cell only


def test_calendar_is_held_until_activation_then_set(aux: Hcalcs, parties: Protection) -> None:
    assert aux.identity.device_type == DeviceType.HCALCS
    aux.receive(_rebuild(_vector(ECS46D.format("FUTURE_DATED")), parties), NOW)
    assert len(aux.held) == 1 and aux.schedule is None and aux.special_days is None
    assert aux.tick(NOW + timedelta(days=1)) == []
    alerts = [
        decode_message(a, protection=parties) for a in aux.tick(datetime(2030, 4, 1, 9, tzinfo=UTC))
    ]
    # two activation attributes (class 9000 attribute 6) -> two 0x00CC alerts, both actioned
    assert [a.header.message_code for a in alerts] == [0x00CC, 0x00CC]
    assert all(isinstance(a.payload, DataNotification) for a in alerts)
    bodies: list[Any] = [a.payload.to_json() for a in alerts]
    assert {b["alert_code"] for b in bodies} == {codes.FUTURE_DATED_ACTIONED}
    schedule, special_days = aux.schedule, aux.special_days
    assert isinstance(schedule, Array) and len(schedule.items) == 10
    assert isinstance(special_days, Array) and len(special_days.items) == 4
    assert aux.held == []


def test_cancellation_drops_the_held_calendar(aux: Hcalcs, parties: Protection) -> None:
    aux.receive(_rebuild(_vector(ECS46D.format("FUTURE_DATED")), parties), NOW)
    assert len(aux.held) == 1
    outcome = aux.receive(_rebuild(_vector(ECS46D.format("CANCELLATION")), parties), NOW)
    assert outcome.response is not None and aux.held == []
    assert aux.tick(datetime(2030, 4, 2, tzinfo=UTC)) == [] and aux.schedule is None


def _readdressed(name: str, parties: Protection, counter: int) -> bytes:
    """An ESME reference command with the same payload, sent to the auxiliary controller."""
    for path in rtds_files():
        if path.name == name:
            m = decode_message(read_hex(path))
            return build_message(
                payload=m.payload,
                originator=m.header.originator,
                recipient=AUX,
                counter=counter,
                message_code=m.header.message_code,
                protection=parties,
            ).frame.to_bytes()
    pytest.skip("reference vectors not found (../shared/reference)")


def test_read_configuration_is_answered_with_a_mac(aux: Hcalcs, parties: Protection) -> None:
    wire = _readdressed("ECS61d_7.14_SUCCESS_COMMAND_GBCS.HEX", parties, 1 << 56)
    response = decode_message(aux.receive(wire, NOW).response or b"", protection=parties)
    assert response.header.message_code == 0x011C
    assert parties.verify(response.frame).mac == "valid"
    assert isinstance(response.payload, AccessResponse)


def test_unsupported_command_raises_ecs100(aux: Hcalcs, parties: Protection) -> None:
    counter = 0x0100_0000_0000_0001
    wire = _readdressed("ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX", parties, counter)
    outcome = aux.receive(wire, NOW)
    assert outcome.response is None and len(outcome.alerts) == 1
    alert = decode_message(outcome.alerts[0], protection=parties)
    assert (alert.header.message_code, alert.header.cra) == (ECS100_ALERT, Cra.ALERT)
    assert parties.verify(alert.frame).signature == "valid"
    body: Any = alert.payload.to_json()
    assert body["alert_code"] == COMMAND_NOT_SUPPORTED
    reference = body["value"]["value"][2]["value"]
    assert reference == (0x0059).to_bytes(2, "big").hex() + counter.to_bytes(8, "big").hex()


def test_json_round_trip_keeps_the_type(aux: Hcalcs) -> None:
    data = aux.to_json()
    assert data["type"] == "HCALCS"
    again = Hcalcs.from_json(data)
    assert isinstance(again, Hcalcs) and again.identity.device_type == DeviceType.HCALCS
    assert again.identity == aux.identity
