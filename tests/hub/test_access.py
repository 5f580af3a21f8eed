"""AccessControl: the DUIS checks in order, each audited, each failure with its code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.duis.errors import DuisError, DuisXmlError
from smetsnet.duis.xmldsig import certificate_index, sign
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub import AccessControl, AuditLog, Check, Outcome
from smetsnet.inventory import DeviceStatus, DeviceType, Inventory, MeterKind, Region, UserStatus
from smetsnet.inventory.mpxn import make_mpan
from smetsnet.smki.pki import Party, Pki
from smetsnet.smki.profile import RemotePartyRole
from smetsnet.store import open_store

TEMPLATES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "duis" / "templates"
READ_IMPORT = "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"  # 4.1.1 CV1 from the supplier
READ_INVENTORY = "8.2_READ_INVENTORY_REQUEST_DUIS.XML"  # non-device, CV8

START = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
SUPPLIER = bytes.fromhex("90b3d51f30010000")  # the templates' originator
DNO = bytes.fromhex("90b3d51f30020000")
OTHER = bytes.fromhex("00db123456780004")
STRANGER = bytes.fromhex("90b3d51f30090000")  # has a certificate, is no service user
ESME = bytes.fromhex("00db1234567890a0")  # the templates' target
GSME, CHF, GPF = (bytes.fromhex(f"00db1234567890a{k}") for k in (1, 2, 3))
# Access control's checks, in order; PRECOMMAND and DISPATCH come later, in the engine.
ORDER = list(Check)[: list(Check).index(Check.PRECOMMAND)]

Signer = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def _template(name: str) -> bytes:
    if not TEMPLATES.is_dir():
        pytest.skip("DUIS templates need ../shared/reference (absent)")
    return (TEMPLATES / name).read_bytes()


@pytest.fixture(scope="module")
def signers() -> dict[bytes, Signer]:
    pki = Pki.create(at=START - timedelta(days=1))
    out = {}
    for eui, role in (
        (SUPPLIER, RemotePartyRole.SUPPLIER),
        (DNO, RemotePartyRole.NETWORK_OPERATOR),
        (OTHER, RemotePartyRole.OTHER_USER),
        (STRANGER, RemotePartyRole.SUPPLIER),
    ):
        entry = pki.issue_organisation(
            Party(eui=eui, role=role),
            KeyUsage.DIGITAL_SIGNATURE,
            role=RemotePartyRole.XML_SIGNING,
            at=START - timedelta(days=1),
        )
        assert entry.private_key is not None and entry.certificate is not None
        out[eui] = (entry.private_key, entry.certificate)
    return out


@pytest.fixture
def inventory() -> Inventory:
    inv = Inventory(open_store("sqlite://:memory:"), clock=lambda: START)
    inv.add_user(SUPPLIER, "Supplier", ["IS", "GS"], "https://supplier.example/duis")
    inv.add_user(DNO, "Network operator", ["ED"], "https://dno.example/duis")
    inv.add_user(OTHER, "Other user", ["OU"], "https://other.example/duis")
    premises = inv.add_premises(Region.LONDON)
    for eui, kind in ((CHF, DeviceType.CHF), (GPF, DeviceType.GPF), (ESME, DeviceType.ESME)):
        inv.add_device(eui, kind)
    inv.install_comms_hub(premises.id, CHF, GPF)
    inv.add_to_han_log(CHF, ESME)
    mpan = make_mpan("120000000000")
    inv.add_meter_point(mpan, MeterKind.IMPORT_MPAN, premises.id)
    inv.link_meter(mpan, ESME)
    inv.apply(ESME, "join")
    inv.commission(ESME)
    inv.register(mpan, "IS", SUPPLIER, START)
    inv.register(mpan, "ED", DNO, START)
    return inv


@pytest.fixture
def access(inventory: Inventory, signers: dict[bytes, Signer]) -> AccessControl:
    index = certificate_index(cert for _, cert in signers.values())
    return AccessControl(inventory, index, audit=AuditLog())


def _request(
    name: str = READ_IMPORT,
    *,
    originator: bytes = SUPPLIER,
    target: bytes | None = None,
    counter: int = 1000,
    cv: int | None = None,
) -> bytes:
    """The template with its RequestID (and CV) changed, unsigned."""
    text = _template(name).decode()
    head, rest = text.split("<sr:RequestID>", 1)
    old_id, tail = rest.split("</sr:RequestID>", 1)
    old_target = old_id.split(":")[1]
    new_id = ":".join((_eui(originator), _eui(target) if target else old_target, str(counter)))
    text = f"{head}<sr:RequestID>{new_id}</sr:RequestID>{tail}"
    if cv is not None:
        text = re.sub(r"<sr:CommandVariant>\d+<", f"<sr:CommandVariant>{cv}<", text)
    return text.encode()


def _eui(eui: bytes) -> str:
    return "-".join(f"{b:02X}" for b in eui)


def _signed(signers: dict[bytes, Signer], xml: bytes, by: bytes = SUPPLIER) -> bytes:
    key, cert = signers[by]
    return sign(xml, key, cert)


def _rejected(
    access: AccessControl, xml: bytes, check: Check, code: str | None, endpoint: str = "serviceS"
) -> DuisError:
    before = len(access.audit)
    with pytest.raises(DuisError) as caught:
        access.check(xml, endpoint=endpoint, now=NOW)
    assert caught.value.response_code == code, caught.value
    entries = access.audit.entries()[before:]
    assert entries[-1].check is check and entries[-1].outcome is Outcome.FAIL
    assert entries[-1].response_code == code
    # every earlier check ran (passed or was skipped), nothing after the failing one
    assert [e.check for e in entries] == ORDER[: ORDER.index(check) + 1]
    assert all(e.outcome is not Outcome.FAIL for e in entries[:-1])
    return caught.value


# --- happy paths ------------------------------------------------------------------------------


def test_accepts_a_signed_template(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    accepted = access.check(_signed(signers, _request()), endpoint="/api/v1/serviceS", now=NOW)
    assert accepted.user.eui == SUPPLIER
    assert accepted.sr.srv == "4.1.1"
    assert accepted.device is not None and accepted.device.eui == ESME
    assert accepted.role.name == "IS"
    assert accepted.request.header.request_id.counter == 1000
    entries = access.audit.entries()
    assert [e.check for e in entries] == ORDER
    assert all(e.outcome is Outcome.PASS for e in entries)
    assert {e.request_id for e in entries} == {str(accepted.request.header.request_id)}
    assert access.last_counter(SUPPLIER) == 1000


def test_network_operator_is_entitled_by_its_own_registration(
    access: AccessControl, signers: dict[bytes, Signer]
) -> None:
    xml = _signed(signers, _request(originator=DNO), by=DNO)
    assert access.check(xml, endpoint="serviceS", now=NOW).role.name == "ED"


def test_non_device_sr_skips_the_device_checks(
    access: AccessControl, signers: dict[bytes, Signer]
) -> None:
    accepted = access.check(
        _signed(signers, _request(READ_INVENTORY)), endpoint="serviceD", now=NOW
    )
    assert accepted.device is None and accepted.sr.non_device
    outcomes = {e.check: e.outcome for e in access.audit.entries()}
    assert outcomes[Check.DEVICE] is outcomes[Check.REGISTRATION] is Outcome.SKIP
    assert outcomes[Check.COUNTER] is Outcome.PASS


# --- one failure per check ----------------------------------------------------------------------


def test_malformed_xml_has_no_code(access: AccessControl) -> None:
    err = _rejected(access, b"<sr:Request", Check.SHAPE, None)
    assert isinstance(err, DuisXmlError)
    assert access.audit.entries()[-1].request_id is None


def test_xxe_is_refused(access: AccessControl) -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    assert isinstance(_rejected(access, xxe, Check.SHAPE, None), DuisXmlError)


def test_unsigned(access: AccessControl) -> None:
    text = _request().decode()
    unsigned = text[: text.index("<ds:Signature")] + "</sr:Request>"
    _rejected(access, unsigned.encode(), Check.SIGNATURE, "E1")


def test_placeholder_signature_of_the_template(access: AccessControl) -> None:
    _rejected(access, _request(), Check.SIGNATURE, "E1")


def test_bad_signature(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    signed = _signed(signers, _request())
    tampered = signed.replace(b":1000<", b":1001<")
    assert tampered != signed
    _rejected(access, tampered, Check.SIGNATURE, "E1")


def test_signer_must_be_the_originator(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    _rejected(access, _signed(signers, _request(), by=DNO), Check.SIGNATURE, "E1")


def test_unknown_user(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request(originator=STRANGER), by=STRANGER)
    _rejected(access, xml, Check.USER, "E1")


def test_suspended_user(
    access: AccessControl, inventory: Inventory, signers: dict[bytes, Signer]
) -> None:
    inventory.set_user_status(SUPPLIER, UserStatus.SUSPENDED)
    _rejected(access, _signed(signers, _request()), Check.USER, "E3")


def test_wrong_role(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request(originator=OTHER), by=OTHER)  # 4.1.1 is IS GS ED GT
    _rejected(access, xml, Check.ROLE, "E2")


def test_unknown_device(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request(target=bytes.fromhex("00db1234567890af")))
    _rejected(access, xml, Check.DEVICE, "E19")


def test_device_status_forbids(
    access: AccessControl, inventory: Inventory, signers: dict[bytes, Signer]
) -> None:
    inventory.change_status(ESME, DeviceStatus.Suspended)
    _rejected(access, _signed(signers, _request()), Check.DEVICE, "E5")


def test_wrong_device_type(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    _rejected(access, _signed(signers, _request(target=CHF)), Check.DEVICE_TYPE, "E11")


def test_the_premises_gas_supplier_is_not_entitled_by_its_mprn_to_the_esme(
    access: AccessControl, inventory: Inventory, signers: dict[bytes, Signer]
) -> None:
    """4.1.1 is open to IS and GS, but an ESME is associated with its MPAN only: the gas
    supplier of the same premises is refused (E4), not entitled through the premises' MPRN."""
    inventory.add_user(STRANGER, "Gas supplier", ["GS"], "https://gas.example/duis")
    esme = inventory.find_device(ESME)
    assert esme is not None and esme.premises_id is not None
    inventory.add_meter_point("1234567890", MeterKind.MPRN, esme.premises_id)
    inventory.register("1234567890", "GS", STRANGER, START)
    xml = _signed(signers, _request(originator=STRANGER, counter=2000), by=STRANGER)
    error = _rejected(access, xml, Check.REGISTRATION, "E4")
    assert "not registered as GS" in str(error)


def test_not_registered_at_that_time(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request())
    with pytest.raises(DuisError) as caught:
        access.check(xml, endpoint="serviceS", now=START - timedelta(seconds=1))
    assert caught.value.response_code == "E4"
    last = access.audit.entries()[-1]
    assert last.check is Check.REGISTRATION and last.outcome is Outcome.FAIL
    assert len(access.audit) == ORDER.index(Check.REGISTRATION) + 1


def test_bad_command_variant(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request(cv=4))  # 4.1.1 is non-critical: CV 1-3
    _rejected(access, xml, Check.COMMAND_VARIANT, "E12", endpoint="serviceT")


def test_wrong_endpoint(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request())
    _rejected(access, xml, Check.COMMAND_VARIANT, "E13", endpoint="/api/v1/serviceT")


def test_replayed_counter(access: AccessControl, signers: dict[bytes, Signer]) -> None:
    xml = _signed(signers, _request(counter=2000))
    access.check(xml, endpoint="serviceS", now=NOW)
    _rejected(access, xml, Check.COUNTER, "E1")
    _rejected(access, _signed(signers, _request(counter=1999)), Check.COUNTER, "E1")
    access.check(_signed(signers, _request(counter=2001)), endpoint="serviceS", now=NOW)
    assert access.last_counter(SUPPLIER) == 2001
