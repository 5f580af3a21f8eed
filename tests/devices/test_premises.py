"""The premises composition: routing over the HAN, outage/restore and tamper alerts, JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from smetsnet.devices import Esme
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.han import CommsHub, Ihd, Ppmid
from smetsnet.devices.premises import Premises
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, NETWORK_OPERATOR, PARTIES, SUPPLIER
from tests.devices.test_month import CHF, IHD, PPMID, START


@pytest.fixture(scope="module")
def premises_pki(pki: Pki) -> Pki:
    for eui in (CHF, PPMID):
        if pki.public_key(eui, KeyUsage.KEY_AGREEMENT) is None:
            pki.add_device(eui)
    return pki


def _premises(pki: Pki) -> Premises:
    premises = Premises(
        seed=7,
        clock=START,
        hub=CommsHub.from_keystore(CHF, pki, PARTIES),
        esme=Esme.from_keystore(ESME_EUI, pki, PARTIES),
        ppmid=Ppmid.from_keystore(PPMID, pki, PARTIES),
        ihd=Ihd(eui=IHD),
    )
    assert len(premises.commission(START)) == 3  # one CS14 per whitelisted device
    return premises


def test_outage_stops_recording_and_restore_alerts_the_network_operator(premises_pki: Pki) -> None:
    premises = _premises(premises_pki)
    premises.advance(START + timedelta(hours=2))
    before = premises.esme.state.import_wh
    premises.power_outage(START + timedelta(hours=2))
    alerts = premises.power_restored(START + timedelta(hours=4))
    assert premises.esme.state.import_wh == before
    [ecs80] = alerts
    m = decode_message(ecs80, protection=Protection(premises_pki))
    assert m.header.recipient == NETWORK_OPERATOR and m.header.message_code == 0x0067
    assert m.payload.alert_code == codes.SUPPLY_OUTAGE_RESTORED_LONG  # type: ignore[attr-defined]
    tamper = decode_message(premises.tamper(START), protection=Protection(premises_pki))
    assert tamper.header.recipient == SUPPLIER
    assert tamper.payload.alert_code == 0x8F3F  # type: ignore[attr-defined]


def test_deliver_routes_by_recipient_and_ignores_strangers(premises_pki: Pki) -> None:
    premises = _premises(premises_pki)
    assert premises.deliver(b"\x00garbage", START) == []


def test_state_round_trips_through_json(premises_pki: Pki) -> None:
    premises = _premises(premises_pki)
    premises.advance(START + timedelta(days=1))
    saved = json.loads(json.dumps(premises.to_json()))
    again = Premises.from_json(saved)
    assert again.to_json() == saved
    assert again.hub.joined(PPMID) and again.clock == premises.clock
