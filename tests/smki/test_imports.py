"""Importing the DCC test key stores (pinned test material) and exporting them again."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.bundle import CertificateBundle, EntryStatus
from smetsnet.smki.errors import CertificateExpired, PathValidationError, SmkiError
from smetsnet.smki.export import entry_pem, export_folder_files, private_key_pem
from smetsnet.smki.folder_keystore import FolderKeyStore
from smetsnet.smki.imports import (
    FindingLevel,
    ImportReport,
    import_folder_files,
    import_keystore_json,
)
from smetsnet.smki.issue import new_key
from smetsnet.smki.pki import Party, Pki
from smetsnet.smki.profile import CertificateKind, RemotePartyRole, key_identifier
from smetsnet.smki.storage import import_keystore_folder, import_keystore_json_file, write_files
from tests.support.vectors import GBCS_KEYSTORE, REFERENCE, read_hex, require_reference, rtds_files

KEYSTORE_JSON = REFERENCE / "duis" / "keystore" / "keystore.json"
NOW = datetime(2026, 11, 28, tzinfo=UTC)  # after the 2025/2026 expiries
BEFORE = datetime(2024, 6, 1, tzinfo=UTC)  # when the DCC test certificates were valid
SUPPLIER = bytes.fromhex("90b3d51f30010000")
DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Iterator[None]:
    """Loading the reference must not fail under ``python -W error``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _json(at: datetime = NOW) -> tuple[CertificateBundle, ImportReport]:
    if not KEYSTORE_JSON.is_file():
        pytest.skip(f"reference keystore.json not found at {KEYSTORE_JSON}")
    return import_keystore_json_file(KEYSTORE_JSON, at=at)


def _folder(at: datetime = NOW) -> tuple[CertificateBundle, ImportReport]:
    return import_keystore_folder(require_reference(GBCS_KEYSTORE), at=at)


def test_keystore_json_every_certificate_found() -> None:
    bundle, report = _json()
    assert report.certificates_found == 33
    # mdr-ds and mdr-ka: NULL after ecdsa-with-SHA256. Older cryptography warns (kept, with a
    # warning finding), newer refuses (skipped, with an error finding); never an exception.
    mdr = [f for f in report.findings if f.item in ("mdr-ds", "mdr-ka") and "NULL" in f.message]
    assert {f.item for f in mdr} == {"mdr-ds", "mdr-ka"}
    skipped = report.certificates_found - report.certificates_loaded
    assert skipped in (0, 2)
    assert len(bundle) == report.certificates_loaded
    assert report.private_keys_found == 33
    assert report.private_keys_matching == report.certificates_loaded
    assert not [f for f in report.errors if f.item not in ("mdr-ds", "mdr-ka")]
    for entry in bundle:
        assert entry.private_key is not None
        assert key_identifier(entry.private_key.public_key()) == key_identifier(entry.public_key)
    assert bundle.pinned and bundle.test_material and not bundle.roots


def test_keystore_json_cells_and_kinds() -> None:
    bundle, _ = _json()
    prepayment = [e.name for e in bundle if e.prepayment]
    assert sorted(prepayment) == ["Z1-supplier2PP-ka", "Z1-supplierPP-ka", "Z1b-supplierPP-ka"]
    xml = sorted(e.name for e in bundle if e.kind is CertificateKind.XML_SIGNING)
    assert xml == [
        "dsp-xml-sign-90B3D51F30000002-ds",
        "xml-sign-00DB123456780004-ds",
        "xml-sign-90B3D51F30010000-ds",
        "xml-sign-90B3D51F30020000-ds",
    ]
    dsp = bundle.xml_signing(bytes.fromhex("90b3d51f30000002"))
    assert dsp is not None and dsp.info is not None
    assert dsp.info.role is RemotePartyRole.DSP_XML_SIGNING
    # The GBCS signing key is the Z1/Z1b certificate's, never the XML-signing one.
    supplier_ds = bundle.current(SUPPLIER, DS)
    assert supplier_ds is not None and supplier_ds.kind is CertificateKind.ORGANISATION
    assert supplier_ds.name in ("Z1-supplier-ds", "Z1b-supplier-ds")


def test_expiry_is_a_warning_for_reference_material() -> None:
    _, report = _json(NOW)
    expired = [f for f in report.warnings if "expired on" in f.message]
    assert len(expired) == 25  # DOMAIN.md: 25 of the 33 expired by now
    assert all("test material" in f.message for f in expired)
    _, earlier = _json(BEFORE)
    assert not [f for f in earlier.warnings if "expired on" in f.message]
    _, folder_report = _folder(NOW)
    folder_expired = {f.item for f in folder_report.warnings if "expired on" in f.message}
    assert "90b3d51f30010000-ds.pem" in folder_expired
    assert not any(item.startswith("00db") for item in folder_expired)  # devices never expire


def test_pinned_validation_of_reference_material() -> None:
    bundle, _ = _json(NOW)
    entry = bundle.current(SUPPLIER, DS)
    assert entry is not None and entry.certificate is not None
    assert bundle.status(entry) is EntryStatus.EXPIRED
    result = bundle.validate(entry.certificate, at=NOW)
    assert result.pinned and result.chain == (entry.certificate,)
    assert len(result.warnings) == 1 and "tolerated" in result.warnings[0]
    assert bundle.validate(entry.certificate, at=BEFORE).warnings == ()
    # Our own certificates are not pinned there; and without test material expiry is fatal.
    pki = Pki.create(at=NOW)
    pki.add_device(bytes(8), at=NOW)
    ours = pki.bundle.certificate(bytes(8), DS)
    assert ours is not None
    with pytest.raises(PathValidationError, match="not one of the pinned certificates"):
        bundle.validate(ours, at=NOW)
    strict = CertificateBundle(list(bundle), pinned=True, test_material=False, at=NOW)
    with pytest.raises(CertificateExpired, match="expired"):
        strict.validate(entry.certificate, at=NOW)
    assert strict.public_key(SUPPLIER, DS) is None  # expired keys are not handed out


def test_rtds_folder_every_file_found() -> None:
    bundle, report = _folder()
    assert report.certificates_found == report.certificates_loaded == 416  # 400 device, 16 org
    assert report.public_keys == 1  # fffffffffffffffe-ka.pem
    assert report.private_keys_found == 18
    assert report.private_keys_matching == 16  # the other two keys have no certificate
    assert not report.errors
    assert len(bundle) == 416 + 1 + 2
    kinds = [e.kind for e in bundle]
    assert kinds.count(CertificateKind.DEVICE) == 400
    assert kinds.count(CertificateKind.ORGANISATION) == 16
    assert kinds.count(None) == 3
    by_item: dict[str, str] = {}
    for finding in report.warnings:
        by_item[finding.item] = by_item.get(finding.item, "") + finding.message + "; "
    assert "bare public key" in by_item["fffffffffffffffe-ka.pem"]
    assert "without a certificate" in by_item["abababababababab-ka.key"]
    # The RTDS file for the WAN provider's KA key holds the second supplier's certificate.
    assert "90b3d51f30030000" in by_item["90b3d51f30000007-ka.pem"]


def test_rtds_folder_is_the_same_keystore_as_folder_keystore() -> None:
    bundle, _ = _folder()
    store = FolderKeyStore(GBCS_KEYSTORE)
    names = bundle.names()
    assert len(names) == 419  # one entry per file name
    for eui, usage, prepayment in names:
        a = bundle.public_key(eui, usage, prepayment=prepayment)
        b = store.public_key(eui, usage, prepayment=prepayment)
        assert a is not None and b is not None and key_identifier(a) == key_identifier(b)
        pa = bundle.private_key(eui, usage, prepayment=prepayment)
        pb = store.private_key(eui, usage, prepayment=prepayment)
        assert (pa is None) == (pb is None)
        if pa is not None and pb is not None:
            assert pa.private_numbers() == pb.private_numbers()


def test_imported_bundle_verifies_rtds_messages_like_folder_keystore() -> None:
    bundle, _ = _folder()
    ours, reference = Protection(bundle), Protection(FolderKeyStore(GBCS_KEYSTORE))
    checked = valid = 0
    for path in rtds_files():
        frame = decode_frame(read_hex(path))
        verdict = ours.verify(frame)
        assert verdict == reference.verify(frame), path.name
        checked += 1
        valid += verdict.mac == "valid" or verdict.signature == "valid"
    assert checked == 839 and valid > 500


@pytest.mark.parametrize("source", ["json", "folder"])
def test_export_round_trip(source: str, tmp_path: Path) -> None:
    bundle, _ = _json(BEFORE) if source == "json" else _folder(BEFORE)
    files = export_folder_files(bundle)
    write_files(tmp_path, files)
    store = FolderKeyStore(tmp_path)
    for eui, usage, prepayment in bundle.names():
        entry = bundle.current(eui, usage, prepayment=prepayment)
        assert entry is not None
        public = store.public_key(eui, usage, prepayment=prepayment)
        assert public is not None and key_identifier(public) == key_identifier(entry.public_key)
        private = store.private_key(eui, usage, prepayment=prepayment)
        assert (private is None) == (entry.private_key is None)
        assert store.certificate(eui, usage, prepayment=prepayment) == entry.certificate
    if source == "json":
        # One file per (EUI, usage, cell); the XML-signing certificates have no place there.
        assert "90b3d51f30010000-pp-ka.pem" in files and "90b3d51f30010000-pp-ka.key" in files
        chosen = bundle.current(SUPPLIER, KA, prepayment=True)
        assert chosen is not None and chosen.name == "Z1b-supplierPP-ka"  # the newest


def _tiny_json(**changes: object) -> str:
    pki = Pki.create(at=BEFORE)
    party = Party(eui=SUPPLIER, role=RemotePartyRole.SUPPLIER)
    entry = pki.issue_organisation(party, DS, at=BEFORE)
    assert entry.certificate is not None and entry.private_key is not None
    record: dict[str, object] = {
        "certificate": entry_pem(entry).decode(),
        "privateKey": private_key_pem(entry.private_key).decode(),
        "name": "Z1-supplier-ds",
        "role": 2,
    }
    record.update(changes)
    serial = str(entry.certificate.serial_number)
    return json.dumps({SUPPLIER.hex(): {"digitalSignature": {serial: record}}})


def test_json_problems_are_findings() -> None:
    _, report = import_keystore_json(_tiny_json(), at=BEFORE)
    assert not report.errors and not report.warnings and report.private_keys_matching == 1
    other_key = private_key_pem(new_key()).decode()
    _, report = import_keystore_json(_tiny_json(privateKey=other_key, role=3), at=BEFORE)
    messages = [str(f) for f in report.findings]
    assert "error: Z1-supplier-ds: private key does not match the certificate" in messages
    assert any("role 3 differs" in m for m in messages)
    assert report.private_keys_matching == 0
    _, report = import_keystore_json(_tiny_json(certificate="not a certificate"), at=BEFORE)
    assert report.certificates_found == 1 and report.certificates_loaded == 0
    assert report.errors[0].level is FindingLevel.ERROR
    with pytest.raises(SmkiError, match="not JSON"):
        import_keystore_json("{", at=BEFORE)


def test_folder_problems_are_findings() -> None:
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    files = {
        "README": b"hello",
        "0011223344556677-ds.pem": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        "0011223344556677-ka.key": private_key_pem(new_key()),
        "0011223344556677-ka.pem": new_key().public_key().public_bytes(*spki),
    }
    bundle, report = import_folder_files(files, at=BEFORE)
    messages = [str(f) for f in report.findings]
    assert "info: README: not a key-store file name, ignored" in messages
    assert any("0011223344556677-ds.pem: certificate cannot be parsed" in m for m in messages)
    assert any("private key does not match the public key" in m for m in messages)
    (entry,) = list(bundle)
    assert entry.private_key is None and entry.certificate is None
