"""Acceptance (issue 4 §4): every reference ESME command, re-built with our PKI, is executed by a
fresh ESME and answered with a response of the same message code that our decoder verifies.

The use cases the ESME does not model yet are listed in UNSUPPORTED, each with its reason; the
test asserts that exactly those fail, so nothing is skipped silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.devices import Esme
from smetsnet.gbcs import asn1
from smetsnet.gbcs.asn1 import Asn1Payload
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.dlms import AccessResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.bundle import CertificateEntry
from smetsnet.smki.pki import Party, Pki
from smetsnet.smki.profile import RemotePartyRole
from tests.devices.conftest import ESME_EUI, NOW, PARTIES
from tests.devices.support import (
    assert_all_answered,
    check_response,
    rebuild,
    reference_commands,
    tally,
)
from tests.support.vectors import read_hex

#: use case -> why the ESME does not answer it yet (none left in RTDS 4.5.0).
UNSUPPORTED: dict[str, str] = {}
#: The "unknown remote party" of ECS21b URP: a KA certificate from a PKI the ESME does not anchor.
URP_EUI = bytes.fromhex("90B3D51F30010099")


COMMANDS = reference_commands([ESME_EUI])


@pytest.fixture(scope="module")
def urp() -> CertificateEntry:
    """A KA certificate (and its private key) of a party that is no trust anchor of the ESME."""
    other = Pki.create(at=NOW)
    return other.issue_organisation(
        Party(eui=URP_EUI, role=RemotePartyRole.SUPPLIER), KeyUsage.KEY_AGREEMENT, at=NOW
    )


#: Re-exported for the acceptance tests of other devices (moved to ``tests.devices.support``).
_rebuild = rebuild


#: ASN.1 command -> the response schemas of its use case (success or error form).
ASN1_RESPONSES: dict[type, tuple[type, ...]] = {
    asn1.UpdateSecurityCredentialsCommand: (asn1.UpdateSecurityCredentialsResponse,),
    asn1.ProvideSecurityCredentialDetailsCommand: (asn1.ProvideSecurityCredentialDetailsResponse,),
    asn1.UpdateDeviceCertificateCommand: (asn1.UpdateDeviceCertificateResponse,),
    asn1.ProvideDeviceCertificateCommand: (
        asn1.ProvideDeviceCertificateResponse,
        asn1.ProvideDeviceCertificateError,
    ),
    asn1.JoinCommand: (asn1.JoinResponse,),
    asn1.UnjoinCommand: (asn1.UnjoinResponse,),
}


def _asn1_verdict(command: Asn1Payload, payload: object) -> str:
    expected = ASN1_RESPONSES.get(type(command), ())
    if not isinstance(payload, expected):
        return f"{type(payload).__name__} answers {type(command).__name__}"
    return "ok"


def _key(path: Path, use_case: str) -> str:
    return f"{use_case}:URP" if "_URP_" in path.name else use_case


def _answer(esme: Esme, wire: bytes, hub: Protection, urp: CertificateEntry) -> str:
    """'ok', or why the answer is not acceptable."""
    command = decode_message(wire)
    if command.header.certificate is not None:
        return _answer_urp(esme, wire, hub, urp)
    outcome = esme.receive(wire, NOW)
    if outcome.response is None:
        return (
            f"no response; alerts {[decode_message(a).payload.to_json() for a in outcome.alerts]}"
        )
    return _verdict(command, outcome.response, hub)


def _answer_urp(esme: Esme, wire: bytes, hub: Protection, urp: CertificateEntry) -> str:
    """ECS21b URP: the answer names the supplementary party and counters, and its daily log
    opens only with the private key of the certificate the command carried."""
    command = decode_message(wire)
    outcome = esme.receive(wire, NOW)
    if outcome.response is None:
        return "no response"
    h = decode_message(outcome.response).header
    if (h.supplementary_remote_party, h.supplementary_remote_party_counter) != (
        urp.eui,
        command.header.supplementary_remote_party_counter,
    ) or h.supplementary_originator_counter is None:
        return "supplementary fields"
    sealed = decode_message(outcome.response, protection=hub).payload
    if not isinstance(sealed, AccessResponse) or [p.status for p in sealed.protected] != ["no-key"]:
        return "readable without the unknown party's key"
    return _verdict(command, outcome.response, hub, urp.private_key)


def _verdict(
    command: GbcsMessage,
    wire: bytes,
    hub: Protection,
    unknown_party_key: ec.EllipticCurvePrivateKey | None = None,
) -> str:
    response, verdict = check_response(command, wire, hub, unknown_party_key)
    if verdict != "ok":
        return verdict
    payload = response.payload
    if isinstance(command.payload, Asn1Payload):
        return _asn1_verdict(command.payload, payload)
    if not isinstance(payload, AccessResponse):
        return "not an access response"
    if any(p.status != "decrypted" for p in payload.protected):
        return "sensitive data does not decrypt"
    if len(payload.results) != len(command.payload.specs):  # type: ignore[attr-defined]
        return "result count"
    return "ok"


@pytest.mark.skipif(not COMMANDS, reason="reference vectors not found (../shared/reference)")
def test_every_reference_esme_command_is_answered(
    pki: Pki, hub: Protection, urp: CertificateEntry
) -> None:

    def answer(path: Path) -> str:
        esme = Esme.from_keystore(ESME_EUI, pki, PARTIES)
        return _answer(esme, rebuild(path, hub, urp), hub, urp)

    def key(path: Path) -> str:
        return _key(path, decode_message(read_hex(path)).use_case or "?")

    result = tally(COMMANDS, answer, key, UNSUPPORTED)
    assert_all_answered(result, UNSUPPORTED, len(COMMANDS))
    assert len(COMMANDS) == 200  # RTDS 4.5.0, URP read included
    print(f"{len(result.passed)} of {len(COMMANDS)} reference ESME commands answered and verified")
