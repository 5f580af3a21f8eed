"""The PPMID takes emergency credit on the meters it is paired with (issue 6): on the GSME as
PCS02 (the GSME's shared account grants it: 0x81AB), on the ESME at its own interface; a
request for one fuel leaves the other meter alone, a PPMID off the HAN gets nothing, and the
consumer opens the re-armed valve on the PPMID."""

from __future__ import annotations

from datetime import timedelta

from smetsnet.devices.premises import Premises
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.gbz import GbzAlert
from smetsnet.smki.pki import Pki
from tests.devices.test_month import PPMID, START
from tests.devices.test_premises import _with_gas
from tests.devices.test_premises import premises_pki as premises_pki  # the fixture

LATER = START + timedelta(hours=2)


def _gas_codes(wires: list[bytes]) -> list[int]:
    payloads = [decode_message(w).payload for w in wires]
    return [p.alert_code for p in payloads if isinstance(p, GbzAlert)]


def _ready(pki: Pki) -> Premises:
    """A home whose gas meter is in prepayment at its emergency credit threshold (1p, the
    threshold £1, the limit £5); the ESME is in credit mode."""
    premises = _with_gas(pki)
    assert premises.ppmid is not None and premises.gas is not None
    return premises


def test_gas_emergency_credit_is_taken_on_the_paired_gsme(premises_pki: Pki) -> None:
    premises = _ready(premises_pki)
    assert premises.ppmid is not None and premises.gas is not None
    state = premises.gas.gsme.state
    result = premises.ppmid.request_emergency_credit(LATER, fuel="gas")
    assert result.accepted
    assert 0x81AB in _gas_codes(result.alerts)
    assert state.emergency_granted == 500_000 and state.emergency_credit == 500_000
    # the GPF's mirror has it too (what a remote read would be answered from)
    assert premises.gas.gpf.mirror.emergency_granted == 500_000
    # taken: not again until repaid
    assert not premises.ppmid.request_emergency_credit(LATER, fuel="gas").accepted


def test_a_request_for_electricity_leaves_the_gas_meter_alone(premises_pki: Pki) -> None:
    premises = _ready(premises_pki)
    assert premises.ppmid is not None and premises.gas is not None
    result = premises.ppmid.request_emergency_credit(LATER, fuel="electricity")
    assert not result.accepted  # the ESME is in credit mode
    assert premises.gas.gsme.state.emergency_granted == 0


def test_a_ppmid_off_the_han_gets_nothing(premises_pki: Pki) -> None:
    premises = _ready(premises_pki)
    assert premises.ppmid is not None and premises.gas is not None
    del premises.hub.state.devices[PPMID]
    result = premises.ppmid.request_emergency_credit(LATER)
    assert not result.accepted and result.alerts == []
    assert premises.gas.gsme.state.emergency_granted == 0


def test_the_consumer_opens_the_armed_valve_on_the_ppmid(premises_pki: Pki) -> None:
    premises = _ready(premises_pki)
    assert premises.ppmid is not None and premises.gas is not None
    state = premises.gas.gsme.state
    state.supply = "armed"
    assert not premises.ppmid.enable_supply("electricity")  # the ESME was not armed
    assert state.supply == "armed"
    assert premises.ppmid.enable_supply("gas")
    assert state.supply == "enabled" and premises.gas.gpf.mirror.supply == "enabled"
