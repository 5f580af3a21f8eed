"""The premises composition: routing over the HAN, outage/restore and tamper alerts, JSON; the
gas side on the same premises (GSME whitelisted, PPMID joined to it, PCS02 from the PPMID)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from smetsnet.devices import Esme
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.gas import GasPremises, Gpf, Gsme
from smetsnet.devices.han import CommsHub, Ihd, Ppmid
from smetsnet.devices.premises import Premises
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, NETWORK_OPERATOR, PARTIES, SUPPLIER
from tests.devices.test_gas_reference_commands import GPF_EUI, GSME_EUI
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


def _with_gas(pki: Pki) -> Premises:
    for eui in (GSME_EUI, GPF_EUI):
        if pki.public_key(eui, KeyUsage.KEY_AGREEMENT) is None:
            pki.add_device(eui)
    gsme = Gsme.from_keystore(GSME_EUI, pki, PARTIES)
    s = gsme.state
    s.payment_mode, s.balance = "prepayment", 1_000
    s.emergency_credit_limit, s.emergency_credit_threshold = 500_000, 100_000
    gas = GasPremises(gsme=gsme, gpf=Gpf.from_keystore(GPF_EUI, pki, PARTIES), start=START, seed=7)
    premises = dual_fuel(pki, gas, seed=7, start=START)
    assert len(premises.commission(START)) == 4  # ESME, PPMID, IHD and the GSME
    return premises


def dual_fuel(pki: Pki, gas: GasPremises, *, seed: int, start: datetime) -> Premises:
    """Premises with the comms hub, ESME, PPMID and IHD of these tests and ``gas``."""
    return Premises(
        seed=seed,
        clock=start,
        hub=CommsHub.from_keystore(CHF, pki, PARTIES),
        esme=Esme.from_keystore(ESME_EUI, pki, PARTIES),
        ppmid=Ppmid.from_keystore(PPMID, pki, PARTIES),
        ihd=Ihd(eui=IHD),
        gas=gas,
    )


def test_one_premises_with_gas_emergency_credit_from_the_ppmid_and_json(
    premises_pki: Pki,
) -> None:
    premises = _with_gas(premises_pki)
    gas = premises.gas
    assert gas is not None and premises.ppmid is not None
    assert premises.hub.joined(GSME_EUI)
    assert [e[0] for e in gas.gsme.state.device_log] == [GPF_EUI.hex(), PPMID.hex()]
    premises.advance(START + timedelta(hours=2))
    assert len(gas.gsme.state.profile_l) == 4  # the gas side woke with the premises
    premises.ppmid.request_emergency_credit(START + timedelta(hours=2))
    assert gas.gsme.state.emergency_credit == 500_000
    saved = json.loads(json.dumps(premises.to_json()))
    again = Premises.from_json(saved)
    assert again.to_json() == saved
    assert again.gas is not None and again.gas.next_wake == gas.next_wake
    assert again.gas.gsme.state.emergency_credit == 500_000
