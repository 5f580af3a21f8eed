"""Our own PKI: parties and devices, key look-ups, path validation, revocation, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID

from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.builders import apply_mac, sign_precommand
from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.keystore import KeyStore, KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.bundle import EntryStatus
from smetsnet.smki.errors import (
    CertificateExpired,
    CertificateProfileError,
    CertificateRevoked,
    PathValidationError,
)
from smetsnet.smki.export import export_folder_files
from smetsnet.smki.folder_keystore import FolderKeyStore
from smetsnet.smki.issue import (
    CaRole,
    CertificateAuthority,
    issue_device_certificate,
    issue_organisation_certificate,
    new_key,
)
from smetsnet.smki.pki import (
    DCC_TEST_PARTIES,
    CaNames,
    Party,
    Pki,
    device_euis,
    parse_party,
)
from smetsnet.smki.profile import CertificateKind, RemotePartyRole, key_identifier
from smetsnet.smki.revocation import Revocation, check_crl, issue_crl
from smetsnet.smki.storage import load_pki, save_pki, write_files
from smetsnet.smki.validate import validate_path
from tests.support.vectors import GBCS_KEYSTORE, read_hex, require_reference, rtds_files

AT = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(days=100)
DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT
SUPPLIER = bytes.fromhex("90b3d51f30010000")
ACB = bytes.fromhex("90b3d51f30000002")
RECOVERY = bytes.fromhex("90b3d51f30000001")
DEVICE = bytes.fromhex("00db1234567890a0")


def _pki() -> Pki:
    pki = Pki.create(at=AT)
    for party in DCC_TEST_PARTIES:
        pki.add_party(party, at=AT)
    pki.add_devices([DEVICE, bytes.fromhex("00db1234567890a1")], at=AT)
    pki.bundle.refresh(LATER)
    return pki


@pytest.fixture
def pki() -> Pki:
    return _pki()


def _cert(pki: Pki, eui: bytes, usage: KeyUsage, *, prepayment: bool = False) -> x509.Certificate:
    cert = pki.bundle.certificate(eui, usage, prepayment=prepayment)
    assert cert is not None
    return cert


def test_parties_get_the_certificates_of_their_role(pki: Pki) -> None:
    supplier = {(e.usage, e.prepayment, e.kind) for e in pki.bundle if e.eui == SUPPLIER}
    assert supplier == {
        (DS, False, CertificateKind.ORGANISATION),
        (KA, False, CertificateKind.ORGANISATION),
        (KA, True, CertificateKind.ORGANISATION),
        (DS, False, CertificateKind.XML_SIGNING),
    }
    acb_xml = pki.bundle.xml_signing(ACB)
    assert acb_xml is not None and acb_xml.info is not None
    assert acb_xml.info.role is RemotePartyRole.DSP_XML_SIGNING
    user_xml = pki.bundle.xml_signing(SUPPLIER)
    assert user_xml is not None and user_xml.info is not None
    assert user_xml.info.role is RemotePartyRole.XML_SIGNING
    assert {e.usage for e in pki.bundle if e.eui == RECOVERY} == {DS}
    device = {(e.usage, e.kind) for e in pki.bundle if e.eui == DEVICE}
    assert device == {(DS, CertificateKind.DEVICE), (KA, CertificateKind.DEVICE)}
    # 1 + 3 + 1 + 1 + 4 + 3 + 4 + 3 + 3 party certificates, 2 per device.
    assert len(pki.bundle) == 23 + 4
    supplier_ds = pki.bundle.current(SUPPLIER, DS)
    assert supplier_ds is not None and supplier_ds.info is not None
    assert supplier_ds.info.common_name == "GITTESTSUPPLIER"


def test_pki_is_a_keystore(pki: Pki) -> None:
    store: KeyStore = pki
    for eui, usage, prepayment in [
        (SUPPLIER, DS, False),
        (SUPPLIER, KA, True),
        (DEVICE, KA, False),
    ]:
        private = store.private_key(eui, usage, prepayment=prepayment)
        public = store.public_key(eui, usage, prepayment=prepayment)
        assert private is not None and public is not None
        assert key_identifier(private.public_key()) == key_identifier(public)
    # The XML-signing key is not a GBCS signing key, and the prepayment cell is separate.
    xml = pki.bundle.xml_signing(SUPPLIER)
    assert xml is not None
    assert key_identifier(xml.public_key) != key_identifier(pki.public_key(SUPPLIER, DS))  # type: ignore[arg-type]
    assert key_identifier(pki.public_key(SUPPLIER, KA)) != key_identifier(  # type: ignore[arg-type]
        pki.public_key(SUPPLIER, KA, prepayment=True)  # type: ignore[arg-type]
    )
    assert pki.public_key(RECOVERY, KA) is None
    assert pki.private_key(bytes(8), DS) is None
    assert "PRIVATE" not in repr(pki.bundle.current(SUPPLIER, DS))


def test_validate_ok(pki: Pki) -> None:
    for eui, usage, prepayment in [
        (SUPPLIER, DS, False),
        (SUPPLIER, KA, True),
        (DEVICE, DS, False),
    ]:
        result = pki.validate(
            _cert(pki, eui, usage, prepayment=prepayment), at=LATER, prepayment=prepayment
        )
        assert len(result.chain) == 3 and result.chain[-1] == pki.cas[CaRole.ROOT].certificate
        assert result.warnings == () and result.pinned is False
        assert result.info.eui == eui
    xml = pki.bundle.xml_signing(SUPPLIER)
    assert xml is not None and xml.certificate is not None
    assert pki.validate(xml.certificate, at=LATER).info.kind is CertificateKind.XML_SIGNING
    for ca in pki.cas.values():
        assert pki.validate(ca.certificate, at=LATER).info.kind is CertificateKind.CA


def test_validate_expired_and_not_yet_valid(pki: Pki) -> None:
    cert = _cert(pki, SUPPLIER, DS)
    with pytest.raises(CertificateExpired, match="expired at 2036-03-14") as caught:
        pki.validate(cert, at=datetime(2036, 3, 14, tzinfo=UTC))
    assert caught.value.not_after == datetime(2036, 3, 13, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(CertificateExpired, match="not yet valid"):
        pki.validate(cert, at=AT - timedelta(days=1))
    # Devices never expire, but their CA chain still must be valid.
    device = _cert(pki, DEVICE, KA)
    assert pki.validate(device, at=datetime(9000, 1, 1, tzinfo=UTC)).info.eui == DEVICE


def test_revoked_certificate_is_rejected_and_no_longer_used(pki: Pki) -> None:
    cert = _cert(pki, DEVICE, DS)
    revoked_at = AT + timedelta(days=10)
    pki.revoke(cert, at=revoked_at, reason=x509.ReasonFlags.key_compromise)
    with pytest.raises(CertificateRevoked, match="reason: key_compromise") as caught:
        pki.validate(cert, at=LATER)
    assert caught.value.revoked_at == revoked_at
    assert pki.validate(cert, at=AT + timedelta(days=5)).info.eui == DEVICE  # before revocation
    crl = pki.crls[CaRole.DEVICE]
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert crl.is_signature_valid(pki.cas[CaRole.DEVICE].certificate.public_key())  # type: ignore[arg-type]
    (entry,) = [e for e in pki.bundle if e.certificate == cert]
    assert pki.bundle.status(entry) is EntryStatus.REVOKED
    assert pki.public_key(DEVICE, DS) is None  # a revoked key is never handed out
    assert pki.public_key(DEVICE, KA) is not None
    # A replacement certificate takes over.
    pki.add_device(DEVICE, at=AT + timedelta(days=11))
    assert pki.bundle.certificate(DEVICE, DS) not in (None, cert)


def test_revoking_a_ca_rejects_what_it_issued(pki: Pki) -> None:
    cert = _cert(pki, SUPPLIER, KA)
    pki.revoke(pki.cas[CaRole.ORGANISATION].certificate, at=AT + timedelta(days=1))
    with pytest.raises(CertificateRevoked, match="ca serial"):
        pki.validate(cert, at=LATER)


def test_wrong_issuer_is_rejected(pki: Pki) -> None:
    names = CaNames(root="OTHER ROOT", organisation="OTHER OCA", device="OTHER DCA")
    other = Pki.create(at=AT, names=names)
    other.add_party(Party(eui=SUPPLIER, role=RemotePartyRole.SUPPLIER), at=AT)
    with pytest.raises(PathValidationError, match="no trusted CA named 'CN=OTHER OCA,OU=07'"):
        pki.validate(_cert(other, SUPPLIER, DS), at=LATER)
    # A CA with our organisation CA's name but another key: the signature does not verify.
    twin = Pki.create(at=AT)
    twin.add_party(Party(eui=SUPPLIER, role=RemotePartyRole.SUPPLIER), at=AT)
    with pytest.raises(PathValidationError, match="signature does not verify"):
        pki.validate(_cert(twin, SUPPLIER, DS), at=LATER)
    roots = [pki.cas[CaRole.ROOT].certificate]
    with pytest.raises(PathValidationError, match="signature does not verify"):
        validate_path(
            _cert(pki, SUPPLIER, DS),
            roots=roots,
            intermediates=[twin.cas[CaRole.ORGANISATION].certificate],
            at=LATER,
        )


def test_gb_issuing_structure_is_enforced(pki: Pki) -> None:
    org, device = pki.cas[CaRole.ORGANISATION], pki.cas[CaRole.DEVICE]
    key = new_key().public_key()
    # An organisation certificate signed by the device CA (an impostor issuer object).
    as_org = CertificateAuthority(
        role=CaRole.ORGANISATION, certificate=device.certificate, private_key=device.private_key
    )
    misissued = issue_organisation_certificate(
        as_org, eui=SUPPLIER, role=RemotePartyRole.SUPPLIER, usage=DS, public_key=key, not_before=AT
    )
    with pytest.raises(PathValidationError, match="not issued by an issuing authority"):
        pki.validate(misissued, at=LATER)
    # A device certificate signed by the organisation CA.
    as_device = CertificateAuthority(
        role=CaRole.DEVICE, certificate=org.certificate, private_key=org.private_key
    )
    wrong_device = issue_device_certificate(
        as_device, eui=DEVICE, usage=DS, public_key=key, not_before=AT
    )
    with pytest.raises(PathValidationError, match="issued by an organisation CA"):
        pki.validate(wrong_device, at=LATER)
    # An end-entity certificate cannot act as an issuer.
    supplier = _cert(pki, SUPPLIER, DS)
    private = pki.private_key(SUPPLIER, DS)
    assert private is not None
    child = (
        x509.CertificateBuilder()
        .subject_name(supplier.subject)
        .issuer_name(supplier.subject)
        .public_key(key)
        .serial_number(5)
        .not_valid_before(AT)
        .not_valid_after(AT + timedelta(days=365))
    )
    for ext in supplier.extensions:
        if ext.oid != ExtensionOID.AUTHORITY_KEY_IDENTIFIER:
            child = child.add_extension(ext.value, critical=ext.critical)
    with pytest.raises(PathValidationError, match="issuer is not a CA"):
        validate_path(
            child.sign(private, hashes.SHA256()),
            roots=roots_of(pki),
            intermediates=[supplier],
            at=LATER,
        )


def roots_of(pki: Pki) -> list[x509.Certificate]:
    return [pki.cas[CaRole.ROOT].certificate]


def test_wrongly_profiled_certificate_is_rejected(pki: Pki) -> None:
    org_ca = pki.cas[CaRole.ORGANISATION]
    key = new_key()
    both = x509.KeyUsage(True, False, False, False, True, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_cert(pki, SUPPLIER, DS).subject)
        .issuer_name(org_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(AT)
        .not_valid_after(AT + timedelta(days=365))
        .add_extension(both, critical=True)
        .add_extension(x509.SubjectKeyIdentifier(key_identifier(key.public_key())), critical=False)
        .add_extension(
            _cert(pki, SUPPLIER, DS)
            .extensions.get_extension_for_class(x509.CertificatePolicies)
            .value,
            critical=True,
        )
        .sign(org_ca.private_key, hashes.SHA256())
    )
    with pytest.raises(CertificateProfileError, match="both digitalSignature and keyAgreement"):
        pki.validate(cert, at=LATER)


def test_crl_checks() -> None:
    pki = Pki.create(at=AT)
    org = pki.cas[CaRole.ORGANISATION]
    crl = issue_crl(org, [Revocation(serial=5, revoked_at=AT)], number=1, this_update=AT)
    check_crl(crl, org.certificate, at=AT + timedelta(days=29))
    with pytest.raises(PathValidationError, match="out of date"):
        check_crl(crl, org.certificate, at=AT + timedelta(days=31))
    with pytest.raises(PathValidationError, match="CRL issuer is not"):
        check_crl(crl, pki.cas[CaRole.DEVICE].certificate, at=AT)
    other = Pki.create(at=AT).cas[CaRole.ORGANISATION]
    forged = issue_crl(other, [], number=1, this_update=AT)
    with pytest.raises(PathValidationError, match="CRL signature does not verify"):
        check_crl(forged, org.certificate, at=AT)
    # Our PKI re-publishes stale CRLs before validating.
    pki.add_party(Party(eui=SUPPLIER, role=RemotePartyRole.SUPPLIER), at=AT)
    assert pki.validate(_cert(pki, SUPPLIER, DS), at=AT + timedelta(days=400)).info.eui == SUPPLIER


def test_save_and_load_round_trip(pki: Pki, tmp_path: Path) -> None:
    revoked = _cert(pki, DEVICE, DS)
    pki.revoke(revoked, at=AT + timedelta(days=1))
    saved_number = _crl_number(pki.crls[CaRole.ORGANISATION])
    save_pki(pki, tmp_path / "pki")
    assert (tmp_path / "pki" / "index.json").is_file()
    assert (tmp_path / "pki" / "ca" / "root.key").stat().st_mode & 0o077 == 0
    loaded = load_pki(tmp_path / "pki")
    loaded.bundle.refresh(LATER)
    assert len(loaded.bundle) == len(pki.bundle)
    for eui, usage, pp in [(SUPPLIER, KA, True), (ACB, DS, False), (DEVICE, KA, False)]:
        a, b = (
            pki.private_key(eui, usage, prepayment=pp),
            loaded.private_key(eui, usage, prepayment=pp),
        )
        assert a is not None and b is not None
        assert a.private_numbers() == b.private_numbers()
    with pytest.raises(CertificateRevoked):
        loaded.validate(revoked, at=LATER)
    assert loaded.public_key(DEVICE, DS) is None
    # Revoking more after loading keeps the earlier revocations and numbers the CRL on.
    loaded.revoke(_cert(loaded, SUPPLIER, DS), at=AT + timedelta(days=2))
    org_crl, device_crl = loaded.crls[CaRole.ORGANISATION], loaded.crls[CaRole.DEVICE]
    assert len(list(device_crl)) == 1 and len(list(org_crl)) == 1
    assert _crl_number(org_crl) > saved_number
    # The folder-format key store inside is readable by FolderKeyStore.
    store = FolderKeyStore(tmp_path / "pki" / "keystore")
    assert store.certificate(SUPPLIER, KA, prepayment=True) == pki.bundle.certificate(
        SUPPLIER, KA, prepayment=True
    )


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_load_rejects_a_damaged_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_pki(tmp_path)
    (tmp_path / "index.json").write_text('{"format": "smetsnet-pki/1", "cas": {}}')
    with pytest.raises(ConfigurationError, match="damaged"):
        load_pki(tmp_path)


def test_export_round_trips_through_folder_keystore(pki: Pki, tmp_path: Path) -> None:
    files = export_folder_files(pki.bundle)
    assert "90b3d51f30010000-pp-ka.pem" in files and "90b3d51f30010000-pp-ka.key" in files
    assert "00db1234567890a0-ds.key" in files
    write_files(tmp_path, files)
    store = FolderKeyStore(tmp_path)
    names = pki.bundle.names()
    assert len(files) == 2 * len(names)  # every slot: certificate and private key
    for eui, usage, prepayment in names:
        ours = pki.private_key(eui, usage, prepayment=prepayment)
        theirs = store.private_key(eui, usage, prepayment=prepayment)
        assert ours is not None and theirs is not None
        assert ours.private_numbers() == theirs.private_numbers()
        assert store.certificate(eui, usage, prepayment=prepayment) == pki.bundle.certificate(
            eui, usage, prepayment=prepayment
        )
    public_only = export_folder_files(pki.bundle, private_keys=False)
    assert not any(name.endswith(".key") for name in public_only)


def test_export_picks_the_newest_valid_certificate(pki: Pki) -> None:
    first = _cert(pki, SUPPLIER, DS)
    party = DCC_TEST_PARTIES[4]
    assert party.eui == SUPPLIER
    newer = pki.issue_organisation(party, DS, at=AT + timedelta(days=30)).certificate
    pki.bundle.refresh(LATER)
    assert pki.bundle.certificate(SUPPLIER, DS) == newer != first
    # Before the newer one starts, the first is still the one in use.
    current = pki.bundle.current(SUPPLIER, DS, at=AT + timedelta(days=1))
    assert current is not None and current.certificate == first


def test_party_specs() -> None:
    party = parse_party("supplier:90-B3-D5-1F-30-01-00-00:GITTESTSUPPLIER")
    assert party == Party(
        eui=SUPPLIER, role=RemotePartyRole.SUPPLIER, common_name="GITTESTSUPPLIER"
    )
    assert parse_party("03:90b3d51f30020000").role is RemotePartyRole.NETWORK_OPERATOR
    assert parse_party("ACB:90-B3-D5-1F-30-00-00-02").role is RemotePartyRole.ACCESS_CONTROL_BROKER
    for bad, reason in [
        ("supplier", "ROLE:EUI"),
        ("grocer:90b3d51f30020000", "unknown role"),
        ("07:90b3d51f30020000", "not a party role"),
        ("supplier:90b3d51f3002", "not an EUI-64"),
    ]:
        with pytest.raises(ConfigurationError, match=reason):
            parse_party(bad)


def test_device_euis() -> None:
    euis = device_euis(3, prefix=bytes.fromhex("00db12345678"), start=0x90A0)
    assert [e.hex() for e in euis] == ["00db1234567890a0", "00db1234567890a1", "00db1234567890a2"]
    with pytest.raises(ConfigurationError, match="do not fit"):
        device_euis(2, prefix=bytes(7), start=255)
    with pytest.raises(ConfigurationError, match="1 to 7 bytes"):
        device_euis(1, prefix=bytes(8), start=0)


def test_issuing_devices_in_bulk_gives_each_its_two_certificates() -> None:
    pki = Pki.create(at=AT)
    euis = device_euis(200, prefix=bytes.fromhex("00db12345678"), start=1)
    pki.add_devices(euis, at=AT)
    assert len(pki.bundle) == 400


def test_gbcs_messages_protected_with_our_keys_verify_through_an_export(
    pki: Pki, tmp_path: Path
) -> None:
    """The critical flow with our PKI as key store, checked by FolderKeyStore on the export."""
    require_reference()
    precommand = next(
        read_hex(p) for p in rtds_files() if "ECS01a" in p.name and "PRECOMMAND" in p.name
    )
    frame = decode_frame(precommand)
    assert frame.header.originator == SUPPLIER and frame.header.recipient == DEVICE
    ours = Protection(pki)
    maced = apply_mac(sign_precommand(precommand, ours), ours)
    write_files(tmp_path, export_folder_files(pki.bundle))  # a MAC check needs a private key
    independent = Protection(FolderKeyStore(tmp_path))
    verification = independent.verify(decode_frame(maced))
    assert (verification.signature, verification.mac) == ("valid", "valid")
    # The DCC reference keys do not verify it.
    reference = Protection(FolderKeyStore(require_reference(GBCS_KEYSTORE)))
    assert reference.verify(decode_frame(maced)).signature == "invalid"
