"""GSME HAN services and future-dated commands, by value: PCS02 from the joined PPMID activates
emergency credit (an unjoined one is rejected, 0x8F1E); CS07 lists the device log and CS04B
removes an entry; a future-dated GCS01a is held, answered at once, and run at the wake after its
start time with one 0x00CD 0x8F66 alert per dated component (GBCS-PAYLOADS §2.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smetsnet.devices.gas import GasPremises
from smetsnet.devices.gas.services import FUTURE_DATED_ALERT, outcomes
from smetsnet.gbcs.asn1 import ReadDeviceJoinDetailsResponse, UnjoinResponse
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import GbzAlert, GbzMessage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.support import rebuild
from tests.devices.test_gas_reference_commands import (
    COMMANDS,
    GPF_EUI,
    GSME_EUI,
    NOW,
    PPMID_EUI,
    join_ppmid,
    make_premises,
)

pytestmark = pytest.mark.skipif(not COMMANDS, reason="reference vectors not found")


def _vector(name: str) -> Path:
    return next(p for p in COMMANDS if p.name.startswith(name))


def _premises(pki: Pki, *, join: bool = True) -> GasPremises:
    premises = make_premises(pki, start=NOW - timedelta(minutes=1))
    if join:
        join_ppmid(pki, premises.gsme)
    return premises


def _run(premises: GasPremises, wire: bytes, when: datetime = NOW) -> list[bytes]:
    premises.deliver(wire, when)
    return premises.advance(when + timedelta(minutes=30))


def test_pcs02_from_the_joined_ppmid_activates_emergency_credit(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _premises(gas_pki)
    s = premises.gsme.state
    s.payment_mode, s.balance = "prepayment", 50_000
    s.emergency_credit_limit, s.emergency_credit_threshold = 500_000, 100_000
    out = _run(premises, rebuild(_vector("PCS02_NA_SUCCESS"), gas_hub))
    messages = [decode_message(m, protection=gas_hub) for m in out]
    (response,) = [m for m in messages if m.header.cra == Cra.RESPONSE]
    assert (response.header.originator, response.header.recipient) == (GSME_EUI, PPMID_EUI)
    assert gas_hub.verify(response.frame).mac == "valid"
    # taken through the shared account: granted at the limit, and said so (0x81AB)
    assert (s.emergency_credit, s.emergency_granted) == (500_000, 500_000)
    alerts = [m.payload for m in messages if m.header.cra == Cra.ALERT]
    assert 0x81AB in [a.alert_code for a in alerts if isinstance(a, GbzAlert)]


def test_pcs02_from_an_unjoined_ppmid_is_rejected(gas_pki: Pki, gas_hub: Protection) -> None:
    premises = _premises(gas_pki, join=False)
    s = premises.gsme.state
    s.payment_mode, s.balance = "prepayment", 50_000
    s.emergency_credit_limit, s.emergency_credit_threshold = 500_000, 100_000
    out = _run(premises, rebuild(_vector("PCS02_NA_SUCCESS"), gas_hub))
    (alert,) = [decode_message(m) for m in out]
    assert alert.header.cra == Cra.ALERT
    assert isinstance(alert.payload, GbzAlert) and alert.payload.alert_code == 0x8F1E
    assert s.emergency_credit == 0


def test_device_log_read_and_unjoin(gas_pki: Pki, gas_hub: Protection) -> None:
    premises = _premises(gas_pki)
    (read,) = _run(premises, rebuild(_vector("CS07_8.9_SUCCESS"), gas_hub))
    payload = decode_message(read).payload
    assert isinstance(payload, ReadDeviceJoinDetailsResponse) and payload.entries is not None
    assert [(e.device_id, e.device_type) for e in payload.entries] == [(GPF_EUI, 3), (PPMID_EUI, 5)]
    m = decode_message(rebuild(_vector("CS04B_8.8.2_SUCCESS"), gas_hub))
    unjoin = build_message(
        payload=type(m.payload)(partner_id=PPMID_EUI),  # type: ignore[call-arg]
        originator=m.header.originator,
        recipient=GSME_EUI,
        counter=10**9,  # above every counter of the RTDS vectors
        message_code=m.header.message_code,
        protection=gas_hub,
        sign=True,
    ).frame.to_bytes()
    (answer,) = _run(premises, unjoin, NOW + timedelta(hours=1))
    assert decode_message(answer).payload == UnjoinResponse(code=0)
    assert [e[0] for e in premises.gsme.state.device_log] == [GPF_EUI.hex()]


def test_future_dated_tariff_is_held_then_run_with_8f66(gas_pki: Pki, gas_hub: Protection) -> None:
    premises = _premises(gas_pki)
    wire = rebuild(_vector("GCS01a_1.1.1_FUTURE_DATED_BLOCK_SUCCESS"), gas_hub)
    command = decode_message(wire)
    assert isinstance(command.payload, GbzMessage)
    price_before = premises.gsme.state.price
    (response,) = _run(premises, wire)
    assert decode_message(response).header.cra == Cra.RESPONSE
    assert premises.gsme.state.price == price_before and len(premises.gsme.held) == 1
    start = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)  # the vector's start_time
    premises.next_wake = start  # the first wake at the start time runs it
    alerts = [decode_message(m, protection=gas_hub) for m in premises.advance(start)]
    dated = [a for a in alerts if a.header.message_code == FUTURE_DATED_ALERT]
    expected = outcomes(command.payload, command.header.message_code, command.header.counter)
    assert len(dated) == len(expected) == 5
    for alert, outcome in zip(dated, expected, strict=True):
        assert isinstance(alert.payload, GbzAlert) and alert.payload.alert_code == 0x8F66
        assert alert.payload.data == outcome
        assert gas_hub.verify(alert.frame).signature == "valid"
    assert premises.gsme.held == []
    assert premises.gsme.state.price != price_before
