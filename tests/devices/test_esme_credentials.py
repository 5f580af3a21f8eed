"""CS02 on the ESME: change of supplier end to end (6.23), future-dated update and its
cancellation, credential details (CS02a), authorisation per replacement mode."""

from __future__ import annotations

import copy
from datetime import timedelta

from cryptography.hazmat.primitives.serialization import Encoding

from smetsnet.devices import Esme, Role
from smetsnet.devices.core import alerts as codes
from smetsnet.gbcs import asn1
from smetsnet.gbcs.asn1 import (
    Certificate,
    GeneralizedTime,
    RemotePartySeqNumberChange,
    TrustAnchorCellId,
    TrustAnchorReplacement,
    UpdateSecurityCredentialsCommand,
)
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessRequest, AccessResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ACB, ESME_EUI, NEW_SUPPLIER, NOW, SUPPLIER, TRANS_COS

DS, KA = 1, 16  # KeyUsage bits as ASN.1 carries them


def _cert(pki: Pki, eui: bytes, usage: KeyUsage, prepayment: bool = False) -> Certificate:
    entry = next(
        e
        for e in pki.bundle.entries(eui, usage, prepayment=prepayment)
        if e.certificate is not None
    )
    assert entry.certificate is not None
    return Certificate(der=entry.certificate.public_bytes(Encoding.DER))


def _cos(
    pki: Pki, counter: int, when: GeneralizedTime | None = None
) -> UpdateSecurityCredentialsCommand:
    targets = [
        (KeyUsage.DIGITAL_SIGNATURE, DS, False),
        (KeyUsage.KEY_AGREEMENT, KA, False),
        (KeyUsage.KEY_AGREEMENT, KA, True),
    ]
    return UpdateSecurityCredentialsCommand(
        replacement_mode=7,
        authorising_cell=TrustAnchorCellId(role=5, key_usage=DS),
        authorising_seq_number=counter,
        other_changes=(RemotePartySeqNumberChange(role=2, floor_seq_number=0),),
        replacements=tuple(
            TrustAnchorReplacement(
                certificate=_cert(pki, NEW_SUPPLIER, usage, pp),
                target=TrustAnchorCellId(role=2, key_usage=bits, cell_usage=1 if pp else None),
            )
            for usage, bits, pp in targets
        ),
        execution_time=when,
    )


def _send(hub: Protection, payload: object, code: int, counter: int, originator: bytes) -> bytes:
    return build_message(
        payload=payload,  # type: ignore[arg-type]
        originator=originator,
        recipient=ESME_EUI,
        counter=counter,
        message_code=code,
        protection=hub,
    ).frame.to_bytes()


def _read(hub: Protection, originator: bytes, counter: int) -> bytes:
    req = AccessRequest.get(112, "0-0:19.10.0.255", 2, invoke_id=counter)
    return _send(hub, req, 0x0069, counter, originator)


def _alert_code(wire: bytes) -> int:
    payload = decode_message(wire).payload
    data = payload.to_json()
    assert isinstance(data, dict)
    return int(str(data["alert_code"]))


def test_change_of_supplier_end_to_end(esme: Esme, pki: Pki, hub: Protection) -> None:
    assert esme.receive(_read(hub, SUPPLIER, 100), NOW).response is not None
    out = esme.receive(_send(hub, _cos(pki, 6001), 0x0107, 6001, TRANS_COS), NOW)
    assert out.response is not None
    response = decode_message(out.response, protection=hub)
    assert hub.verify(response.frame).signature == "valid"
    assert isinstance(response.payload, asn1.UpdateSecurityCredentialsResponse)
    outcome = response.payload.outcome
    assert outcome is not None and [o.status for o in outcome.outcomes] == [0, 0, 0]
    assert {o.replacing_subject_unique_id for o in outcome.outcomes} == {NEW_SUPPLIER}
    assert esme.anchors[(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE, False)].eui == NEW_SUPPLIER
    # The old supplier is rejected by the device itself, with an alert to the new supplier.
    old = esme.receive(_read(hub, SUPPLIER, 101), NOW)
    assert old.response is None
    alert = decode_message(old.alerts[0])
    assert _alert_code(old.alerts[0]) == codes.SOURCE_LACKS_AUTHORITY
    assert alert.header.recipient == NEW_SUPPLIER
    assert hub.verify(alert.frame).signature == "valid"
    new = esme.receive(_read(hub, NEW_SUPPLIER, 1), NOW)
    assert new.response is not None
    reply = decode_message(new.response, protection=hub)
    assert reply.header.recipient == NEW_SUPPLIER and hub.verify(reply.frame).mac == "valid"
    assert isinstance(reply.payload, AccessResponse)


def test_future_dated_change_of_supplier_and_cancellation(
    esme: Esme, pki: Pki, hub: Protection
) -> None:
    when = NOW + timedelta(days=1)
    out = esme.receive(
        _send(hub, _cos(pki, 6002, GeneralizedTime.from_datetime(when)), 0x0107, 6002, TRANS_COS),
        NOW,
    )
    response = decode_message(out.response or b"").payload
    assert isinstance(response, asn1.UpdateSecurityCredentialsResponse) and response.outcome is None
    assert esme.anchors[(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE, False)].eui == SUPPLIER
    assert esme.tick(NOW + timedelta(hours=1)) == []
    alerts = esme.tick(when)
    assert len(alerts) == 1
    alert = decode_message(alerts[0])
    assert alert.header.message_code == 0x00CB and alert.header.recipient == TRANS_COS
    assert isinstance(alert.payload, asn1.UpdateSecurityCredentialsAlert)
    assert alert.payload.alert_code == codes.FUTURE_DATED_ACTIONED
    assert esme.anchors[(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE, False)].eui == NEW_SUPPLIER


def test_cancellation_drops_the_held_update(esme: Esme, pki: Pki, hub: Protection) -> None:
    later = GeneralizedTime.from_datetime(NOW + timedelta(days=1))
    never = GeneralizedTime(text="99991231235959Z")
    esme.receive(_send(hub, _cos(pki, 6002, later), 0x0107, 6002, TRANS_COS), NOW)
    esme.receive(_send(hub, _cos(pki, 6003, never), 0x0107, 6003, TRANS_COS), NOW)
    assert esme.held == [] and esme.tick(NOW + timedelta(days=2)) == []
    assert esme.anchors[(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE, False)].eui == SUPPLIER


def test_update_must_be_signed_by_the_mode_s_authoriser(
    esme: Esme, pki: Pki, hub: Protection
) -> None:
    # supplierByTransCoS sent (and signed) by the supplier: wrong authoriser, nothing changes.
    out = esme.receive(_send(hub, _cos(pki, 6001), 0x0107, 6001, SUPPLIER), NOW)
    assert out.response is None
    assert _alert_code(out.alerts[0]) == codes.SOURCE_LACKS_AUTHORITY
    assert esme.anchors[(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE, False)].eui == SUPPLIER


def test_credential_details(esme: Esme, hub: Protection) -> None:
    cmd = asn1.ProvideSecurityCredentialDetailsCommand(
        authorising_cell=TrustAnchorCellId(role=4, key_usage=KA), roles=(2, 6)
    )
    out = esme.receive(_send(hub, cmd, 0x0008, 50, ACB), NOW)
    payload = decode_message(out.response or b"").payload
    assert isinstance(payload, asn1.ProvideSecurityCredentialDetailsResponse)
    supplier, wan = payload.details
    assert supplier.status == 0 and supplier.cells is not None and len(supplier.cells) == 3
    assert {c.subject_unique_id for c in supplier.cells} == {SUPPLIER}
    assert wan.status == 25  # trustAnchorNotFound


def test_floor_set_by_an_update_is_enforced(esme: Esme, pki: Pki, hub: Protection) -> None:
    # supplierBySupplier (6.15.1) with a new floor: the supplier's next commands must reach it.
    assert esme.receive(_read(hub, SUPPLIER, 100), NOW).response is not None
    update = UpdateSecurityCredentialsCommand(
        replacement_mode=2,
        authorising_cell=TrustAnchorCellId(role=2, key_usage=DS),
        authorising_seq_number=200,
        new_floor_seq_number=5000,
        replacements=(
            TrustAnchorReplacement(
                certificate=_cert(pki, SUPPLIER, KeyUsage.DIGITAL_SIGNATURE),
                target=TrustAnchorCellId(role=2, key_usage=DS),
            ),
        ),
    )
    out = esme.receive(_send(hub, update, 0x0102, 200, SUPPLIER), NOW)
    assert out.response is not None and esme.floors[SUPPLIER] == 5000
    before = copy.deepcopy(esme.state.to_json())
    low = esme.receive(_read(hub, SUPPLIER, 4999), NOW)  # above the last accepted, below the floor
    assert low.response is None
    assert [_alert_code(a) for a in low.alerts] == [codes.SOURCE_LACKS_AUTHORITY]
    assert esme.state.to_json() == before and SUPPLIER not in esme.last_counters
    assert esme.receive(_read(hub, SUPPLIER, 5000), NOW).response is not None
    assert esme.last_counters[SUPPLIER] == 5000


def test_update_under_another_modes_code_is_refused(esme: Esme, pki: Pki, hub: Protection) -> None:
    """The authoriser is chosen by the message code: a supplier-signed 0x0101 (rootByWanProvider)
    is refused, and so is a supplier-signed 0x0102 whose payload says networkOperatorBy…
    (mode 3). Nothing executes."""
    update = UpdateSecurityCredentialsCommand(
        replacement_mode=3,
        authorising_cell=TrustAnchorCellId(role=2, key_usage=DS),
        authorising_seq_number=300,
        new_floor_seq_number=9000,
        replacements=(
            TrustAnchorReplacement(
                certificate=_cert(pki, SUPPLIER, KeyUsage.DIGITAL_SIGNATURE),
                target=TrustAnchorCellId(role=2, key_usage=DS),
            ),
        ),
    )
    before = copy.deepcopy(esme.security_json())
    for code in (0x0101, 0x0102):
        out = esme.receive(_send(hub, update, code, 300 + code, SUPPLIER), NOW)
        assert out.response is None
        assert [_alert_code(a) for a in out.alerts] == [codes.SOURCE_LACKS_AUTHORITY]
    after = esme.security_json()
    assert after["floors"] == before["floors"]
    assert after["last_counters"] == before["last_counters"]
