"""Negative tests for every check of the device core: nothing executes, the right alert is raised;
and ESME behaviour from state (top-up, tariff, supply, profile, outage)."""

from __future__ import annotations

import copy
from datetime import timedelta

import numpy as np
import pytest

from smetsnet.devices import Esme
from smetsnet.devices.core import alerts as codes
from smetsnet.gbcs import crypto
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import (
    AccessRequest,
    AccessResponse,
    CompactArray,
    DataNotification,
    DoubleLong,
    OctetString,
    Structure,
)
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, NETWORK_OPERATOR, NOW, OTHER_ESME, SUPPLIER

ECS82, ECS42, ECS43, CS01A, ECS22B = 0x0069, 0x004F, 0x0050, 0x0007, 0x0037
BALANCE = (112, "0-0:19.10.0.255")


def _command(
    hub: Protection,
    code: int,
    payload: AccessRequest,
    *,
    counter: int = 1000,
    originator: bytes = SUPPLIER,
    recipient: bytes = ESME_EUI,
    sign: bool | None = None,
) -> bytes:
    return build_message(
        payload=payload,
        originator=originator,
        recipient=recipient,
        counter=counter,
        message_code=code,
        protection=hub,
        sign=sign,
    ).frame.to_bytes()


def _read_balance(hub: Protection, counter: int = 1000, *, originator: bytes = SUPPLIER) -> bytes:
    req = AccessRequest.get(*BALANCE, invoke_id=counter)
    return _command(hub, ECS82, req, counter=counter, originator=originator)


def _disable(
    hub: Protection,
    counter: int = 2000,
    *,
    originator: bytes = SUPPLIER,
    recipient: bytes = ESME_EUI,
    sign: bool | None = None,
) -> bytes:
    req = AccessRequest.action(9, "0-0:10.0.106.255", 1, invoke_id=counter)
    return _command(
        hub, ECS43, req, counter=counter, originator=originator, recipient=recipient, sign=sign
    )


def _alert_codes(outcome_alerts: list[bytes], hub: Protection) -> list[int]:
    out = []
    for wire in outcome_alerts:
        m = decode_message(wire)
        assert hub.verify(m.frame).ok
        assert isinstance(m.payload, DataNotification)
        assert m.payload.alert_code is not None
        out.append(m.payload.alert_code)
    return out


def _rejected(esme: Esme, wire: bytes, hub: Protection, alert: int) -> None:
    before = copy.deepcopy(esme.state.to_json()), dict(esme.last_counters)
    outcome = esme.receive(wire, NOW)
    assert outcome.response is None
    assert _alert_codes(outcome.alerts, hub) == [alert]
    assert (esme.state.to_json(), dict(esme.last_counters)) == before
    generic = decode_message(outcome.alerts[0])
    assert generic.message_code == codes.GENERIC_CRITICAL_ALERT
    assert hub.verify(generic.frame).signature == "valid"


def test_wrong_recipient(esme: Esme, hub: Protection) -> None:
    _rejected(esme, _disable(hub, recipient=OTHER_ESME), hub, codes.COMMAND_INTEGRITY_FAILED)


def test_bad_mac(esme: Esme, hub: Protection) -> None:
    wire = bytearray(_disable(hub))
    wire[-1] ^= 1
    _rejected(esme, bytes(wire), hub, codes.COMMAND_INTEGRITY_FAILED)


def test_garbage(esme: Esme, hub: Protection) -> None:
    _rejected(esme, b"\xdd\x00\x01", hub, codes.COMMAND_INTEGRITY_FAILED)


def test_critical_without_signature(esme: Esme, hub: Protection) -> None:
    _rejected(esme, _disable(hub, sign=False), hub, codes.TRUSTED_SOURCE_AUTHENTICATION_FAILURE)


def test_critical_signed_by_other_key(esme: Esme, pki: Pki, hub: Protection) -> None:
    good = decode_message(_disable(hub))
    forged = bytearray(good.frame.to_bytes())
    # Flip a bit of the signature and re-MAC as the ACB would: only the signature is wrong.
    from smetsnet.gbcs.builders import apply_mac
    from smetsnet.gbcs.frame import Frame

    frame = good.frame
    sig = bytearray(frame.signature or b"")
    sig[5] ^= 1
    unmaced = Frame(
        mac_header=None, header=frame.header, payload=frame.payload, signature=bytes(sig), mac=None
    )
    forged = bytearray(apply_mac(unmaced.to_bytes(), hub))
    _rejected(esme, bytes(forged), hub, codes.TRUSTED_SOURCE_AUTHENTICATION_FAILURE)


def test_critical_from_wrong_role(esme: Esme, hub: Protection) -> None:
    _rejected(esme, _disable(hub, originator=NETWORK_OPERATOR), hub, codes.SOURCE_LACKS_AUTHORITY)


def test_untrusted_originator(esme: Esme, hub: Protection) -> None:
    _rejected(esme, _read_balance(hub, originator=OTHER_ESME), hub, codes.SOURCE_LACKS_AUTHORITY)


def test_replayed_counter(esme: Esme, hub: Protection) -> None:
    first = esme.receive(_read_balance(hub, 1000), NOW)
    assert first.response is not None
    _rejected(esme, _read_balance(hub, 1000), hub, codes.SOURCE_LACKS_AUTHORITY)
    _rejected(esme, _read_balance(hub, 999), hub, codes.SOURCE_LACKS_AUTHORITY)
    assert esme.receive(_read_balance(hub, 1001), NOW).response is not None


def test_counter_floor(esme: Esme, hub: Protection) -> None:
    esme.floors[SUPPLIER] = 5000
    _rejected(esme, _disable(hub, 4999), hub, codes.SOURCE_LACKS_AUTHORITY)


def test_not_operational(esme: Esme, hub: Protection) -> None:
    esme.operational = False
    _rejected(esme, _disable(hub), hub, codes.SOURCE_LACKS_AUTHORITY)


def _balance(esme: Esme, hub: Protection, counter: int) -> int:
    out = esme.receive(_read_balance(hub, counter), NOW)
    assert out.response is not None
    m = decode_message(out.response, protection=hub)
    assert hub.verify(m.frame).mac == "valid"
    assert isinstance(m.payload, AccessResponse)
    value = m.payload.data[0]
    assert isinstance(value, DoubleLong)
    return value.value


def _top_up(hub: Protection, pki: Pki, counter: int, pence: int, device: bytes = ESME_EUI) -> bytes:
    # The supplier's prepayment KA key with the target device's KA key (GBCS-PAYLOADS §4).
    pp = pki.private_key(SUPPLIER, KeyUsage.KEY_AGREEMENT, prepayment=True)
    dev = pki.public_key(device, KeyUsage.KEY_AGREEMENT)
    assert pp is not None and dev is not None
    utrn = make_utrn(
        crypto.shared_secret(pp, dev),
        supplier=SUPPLIER,
        device=device,
        counter=counter,
        pence=pence,
    )
    req = AccessRequest.action(
        115, "0-0:19.40.0.255", 1, OctetString(value=utrn.encode()), invoke_id=0
    )
    return _command(hub, CS01A, req, counter=counter)


def test_top_up_credit_and_rejections(esme: Esme, pki: Pki, hub: Protection) -> None:
    esme.state.payment_mode = "prepayment"
    ok = esme.receive(_top_up(hub, pki, 3 << 32, 1000), NOW)
    assert ok.response is not None and ok.alerts == []
    assert _balance(esme, hub, 10) == 1000 * 1000  # £10 in 10^-5 GBP
    dup = esme.receive(_top_up(hub, pki, 3 << 32, 1000), NOW)
    assert _alert_codes(dup.alerts, hub) == [codes.DUPLICATE_UTRN]
    other = esme.receive(_top_up(hub, pki, 4 << 32, 500, device=OTHER_ESME), NOW)
    assert _alert_codes(other.alerts, hub) == [codes.UTRN_NOT_FOR_THIS_DEVICE]
    assert _balance(esme, hub, 11) == 1000 * 1000


def test_supply_disabled_at_zero_credit_and_rearmed(esme: Esme, pki: Pki, hub: Protection) -> None:
    s = esme.state
    s.payment_mode, s.price, s.balance = "prepayment", 30_000, 100 * 1000  # 30p/kWh, £1
    alerts = esme.record_half_hours(NOW, np.full(48, 500))
    assert s.supply == "disabled"
    # from £1 the credit first falls below the low-credit threshold, then runs out
    assert _alert_codes(alerts, hub) == [codes.LOW_CREDIT, codes.CREDIT_BELOW_DISABLEMENT]
    assert s.import_wh < 48 * 500
    again = esme.record_half_hours(NOW + timedelta(days=1), np.full(48, 500))
    assert again == []  # off already: no alert at every later bill
    out = esme.receive(_top_up(hub, pki, 5 << 32, 500), NOW)
    assert s.supply == "armed" and codes.SUPPLY_ARMED in _alert_codes(out.alerts, hub)


def test_tariff_write_bills_at_new_price(esme: Esme, hub: Protection) -> None:
    from smetsnet.gbcs.dlms import Array, Integer, Long, LongUnsigned, Structure

    price = Structure(
        items=(
            Structure(items=(Integer(value=3), Integer(value=-5))),
            Structure(items=(LongUnsigned(value=3), OctetString(value=bytes(6)), Integer(value=2))),
            Array(items=(Structure(items=(OctetString(value=b"\x01"), Long(value=25_000))),)),
        )
    )
    req = AccessRequest.set(113, "0-0:19.20.0.255", 6, price, invoke_id=1)
    out = esme.receive(_command(hub, 0x00A2, req), NOW)
    assert out.response is not None and esme.state.price == 25_000
    esme.record_half_hours(NOW, np.full(48, 1000))
    assert esme.state.billed == 48 * 25_000


def test_profile_read_matches_registers(esme: Esme, hub: Protection) -> None:
    from smetsnet.gbcs.dlms import CosemDateTime, protected_attributes_request

    day = NOW.replace(hour=0)
    esme.record_half_hours(day, np.arange(48))
    req = protected_attributes_request(
        [(7, "0-0:99.1.0.255", 2)],
        originator=SUPPLIER,
        recipient=ESME_EUI,
        counter=7000,
        restriction_from=CosemDateTime.from_datetime(day),
        restriction_to=CosemDateTime.from_datetime(day + timedelta(days=1)),
    )
    out = esme.receive(_command(hub, ECS22B, req, counter=7000), NOW)
    assert out.response is not None
    m = decode_message(out.response, protection=hub)
    assert isinstance(m.payload, AccessResponse)
    (content,) = m.payload.protected
    assert content.status == "decrypted"
    assert isinstance(content.value, Structure)
    rows = content.value.items[0]
    assert isinstance(rows, CompactArray)
    wh = np.asarray(rows.columns[1])
    assert wh.tolist() == list(range(48))
    assert int(wh.sum()) == esme.state.import_wh


def test_outage_alert(esme: Esme, hub: Protection) -> None:
    wire = esme.power_outage(NOW - timedelta(minutes=10), NOW)
    m = decode_message(wire)
    assert m.message_code == 0x0067 and m.header.recipient == NETWORK_OPERATOR
    assert m.header.cra == Cra.ALERT and hub.verify(m.frame).signature == "valid"
    assert (
        isinstance(m.payload, DataNotification)
        and m.payload.alert_code == codes.SUPPLY_OUTAGE_RESTORED_LONG
    )


def test_state_round_trips_through_json(esme: Esme) -> None:
    esme.record_half_hours(NOW, np.arange(10))
    again = Esme.from_json(esme.to_json())
    assert again.to_json() == esme.to_json()


@pytest.mark.parametrize("counter", [1, 2])
def test_security_alert_counters_increase(esme: Esme, hub: Protection, counter: int) -> None:
    a = esme.receive(_disable(hub, sign=False), NOW).alerts[0]
    b = esme.receive(_disable(hub, sign=False), NOW).alerts[0]
    assert decode_message(b).header.counter > decode_message(a).header.counter
