"""Import the DCC test key stores as pinned test material, with a report of findings.

Two formats (DOMAIN.md "Verified": neither has CA certificates, and most of their certificates
expired in 2025):

* DCC Boxed ``keystore.json``: ``{eui_hex: {"digitalSignature"|"keyAgreement": {serial:
  {certificate, privateKey, name, role}}}}``; names such as ``Z1-supplierPP-ka`` mark the
  prepayment cell; two certificates (mdr-ds, mdr-ka) write NULL parameters after
  ecdsa-with-SHA256, which ``cryptography`` warns about (older versions) or rejects (newer);
* the RTDS folder: ``<eui>[-pp]-<ds|ka>.<pem|key>`` (given here as a name → bytes mapping; the
  file reading lives in :mod:`smetsnet.smki.storage`).

Nothing is silently ignored: every problem is a :class:`Finding`, expiry included.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.bundle import CertificateBundle, CertificateEntry
from smetsnet.smki.errors import SmkiError
from smetsnet.smki.profile import keys_match

_JSON_USAGE = {
    "digitalSignature": KeyUsage.DIGITAL_SIGNATURE,
    "keyAgreement": KeyUsage.KEY_AGREEMENT,
}
_PREPAYMENT_NAME = re.compile(r"(PP-ka$|-pp-)", re.IGNORECASE)
# AlgorithmIdentifier { ecdsa-with-SHA256, NULL }: the NULL must be absent (RFC 5758 §3.2).
_ECDSA_SHA256_WITH_NULL = bytes.fromhex("300c06082a8648ce3d0403020500")
_FILE_NAME = re.compile(r"^([0-9A-Fa-f]{16})(-pp)?-(ds|ka)\.(pem|key)$")


class FindingLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    level: FindingLevel
    item: str  # the certificate or file concerned
    message: str

    def __str__(self) -> str:
        return f"{self.level.value}: {self.item}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    source: str
    findings: tuple[Finding, ...]
    certificates_found: int  # certificate PEMs seen, parsed or not
    certificates_loaded: int
    public_keys: int  # bare public keys (no certificate)
    private_keys_found: int
    private_keys_matching: int

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is FindingLevel.WARNING]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is FindingLevel.ERROR]


class _Collector:
    """Collects entries and findings of one import."""

    def __init__(self, source: str, at: datetime) -> None:
        self.source = source
        self.at = at
        self.findings: list[Finding] = []
        self.entries: list[CertificateEntry] = []
        self.certificates_found = self.certificates_loaded = self.public_keys = 0
        self.private_keys_found = self.private_keys_matching = 0

    def note(self, level: FindingLevel, item: str, message: str) -> None:
        self.findings.append(Finding(level=level, item=item, message=message))

    def certificate(self, pem: bytes, item: str) -> x509.Certificate | None:
        """Parse one certificate; library warnings and errors become findings."""
        self.certificates_found += 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # record, even under ``python -W error``
            try:
                cert = x509.load_pem_x509_certificate(pem)
                cert.extensions  # noqa: B018  (parse now, inside the warning catcher)
            except ValueError as exc:
                cert = None
                why = f"certificate cannot be parsed, skipped: {exc}{_hint(pem)}"
                self.note(FindingLevel.ERROR, item, why)
        for warning in caught:
            why = f"{warning.category.__name__}: {warning.message}{_hint(pem)}"
            self.note(FindingLevel.WARNING, item, why)
        if cert is not None:
            self.certificates_loaded += 1
        return cert

    def private_key(self, pem: bytes, item: str) -> ec.EllipticCurvePrivateKey | None:
        self.private_keys_found += 1
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            self.note(FindingLevel.ERROR, item, f"private key cannot be parsed: {exc}")
            return None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            self.note(FindingLevel.ERROR, item, "private key is not an ECDSA P-256 key")
            return None
        return key

    def add(
        self,
        cert: x509.Certificate,
        key: ec.EllipticCurvePrivateKey | None,
        *,
        eui: bytes,
        usage: KeyUsage,
        prepayment: bool,
        item: str,
    ) -> CertificateEntry | None:
        """Profile-check, match the key, note expiry and misfiling, then keep the entry."""
        if key is not None:
            public = cert.public_key()
            if isinstance(public, ec.EllipticCurvePublicKey) and keys_match(key, public):
                self.private_keys_matching += 1
            else:
                self.note(FindingLevel.ERROR, item, "private key does not match the certificate")
                key = None
        try:
            entry = CertificateEntry.from_certificate(
                cert, private_key=key, prepayment=prepayment, name=item
            )
        except SmkiError as exc:
            self.note(FindingLevel.ERROR, item, f"not in the GB profile, skipped: {exc}")
            return None
        if entry.eui != eui or entry.usage is not usage:
            self.note(
                FindingLevel.WARNING,
                item,
                f"filed as {eui.hex()} {usage.value} but the certificate is for "
                f"{entry.eui.hex()} {entry.usage.value}; kept where it is filed",
            )
            entry = _refile(entry, eui, usage)
        self._note_validity(cert, item)
        self.entries.append(entry)
        return entry

    def _note_validity(self, cert: x509.Certificate, item: str) -> None:
        if self.at > cert.not_valid_after_utc:
            self.note(
                FindingLevel.WARNING,
                item,
                f"expired on {cert.not_valid_after_utc.isoformat()} "
                "(kept as test material; never accepted in our own PKI)",
            )
        elif self.at < cert.not_valid_before_utc:
            self.note(
                FindingLevel.WARNING,
                item,
                f"not valid before {cert.not_valid_before_utc.isoformat()}",
            )

    def result(self) -> tuple[CertificateBundle, ImportReport]:
        bundle = CertificateBundle(
            self.entries, pinned=True, test_material=True, source=self.source, at=self.at
        )
        report = ImportReport(
            source=self.source,
            findings=tuple(self.findings),
            certificates_found=self.certificates_found,
            certificates_loaded=self.certificates_loaded,
            public_keys=self.public_keys,
            private_keys_found=self.private_keys_found,
            private_keys_matching=self.private_keys_matching,
        )
        return bundle, report


def _hint(pem: bytes) -> str:
    """Name the one known defect of the DCC test certificates (mdr-ds, mdr-ka)."""
    lines = (line.strip() for line in pem.splitlines())
    body = b"".join(line for line in lines if not line.startswith(b"-----"))
    try:
        der = base64.b64decode(body)
    except ValueError:
        return ""
    if _ECDSA_SHA256_WITH_NULL in der:
        return " (ecdsa-with-SHA256 is followed by NULL parameters, which RFC 5758 forbids)"
    return ""


def _refile(entry: CertificateEntry, eui: bytes, usage: KeyUsage) -> CertificateEntry:
    return CertificateEntry(
        eui=eui,
        usage=usage,
        prepayment=entry.prepayment,
        kind=entry.kind,
        certificate=entry.certificate,
        info=entry.info,
        public_key=entry.public_key,
        private_key=entry.private_key,
        name=entry.name,
    )


def import_keystore_json(
    data: str | bytes, *, at: datetime, source: str = "keystore.json"
) -> tuple[CertificateBundle, ImportReport]:
    """Import a DCC Boxed ``keystore.json`` as pinned test material (expiry judged at ``at``)."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise SmkiError(f"{source} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SmkiError(f"{source}: expected an object of EUIs at the top level")
    out = _Collector(source, at)
    out.note(FindingLevel.INFO, source, "no CA certificates: imported as pinned test material")
    for eui_hex, usages in document.items():
        if not re.fullmatch(r"[0-9A-Fa-f]{16}", eui_hex) or not isinstance(usages, dict):
            out.note(FindingLevel.ERROR, f"{source}[{eui_hex!r}]", "not an EUI-64 entry, skipped")
            continue
        for usage_name, by_serial in usages.items():
            usage = _JSON_USAGE.get(usage_name)
            if usage is None or not isinstance(by_serial, dict):
                out.note(FindingLevel.ERROR, f"{eui_hex}/{usage_name}", "unknown usage, skipped")
                continue
            for serial, record in by_serial.items():
                _json_record(out, bytes.fromhex(eui_hex), usage, str(serial), record)
    return out.result()


def _json_record(out: _Collector, eui: bytes, usage: KeyUsage, serial: str, record: object) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("certificate"), str):
        out.note(FindingLevel.ERROR, f"{eui.hex()}/{serial}", "record has no certificate, skipped")
        return
    item = str(record.get("name") or f"{eui.hex()}/{serial}")
    cert = out.certificate(record["certificate"].encode(), item)
    key_pem = record.get("privateKey")
    key = out.private_key(key_pem.encode(), item) if isinstance(key_pem, str) else None
    if cert is None:
        if key is not None:
            out.note(FindingLevel.ERROR, item, "its private key is skipped with the certificate")
        return
    if serial != str(cert.serial_number):
        out.note(
            FindingLevel.WARNING,
            item,
            f"filed under serial {serial}, certificate has {cert.serial_number}",
        )
    prepayment = bool(_PREPAYMENT_NAME.search(item))
    entry = out.add(cert, key, eui=eui, usage=usage, prepayment=prepayment, item=item)
    role = record.get("role")
    cert_role = entry.info.role if entry is not None and entry.info is not None else None
    if cert_role is not None and isinstance(role, int) and role != cert_role.value:
        out.note(
            FindingLevel.WARNING,
            item,
            f"record role {role} differs from the certificate's OU {cert_role.ou}",
        )


def import_folder_files(
    files: Mapping[str, bytes], *, at: datetime, source: str = "keystore folder"
) -> tuple[CertificateBundle, ImportReport]:
    """Import an RTDS-style key-store folder given as file name → contents."""
    out = _Collector(source, at)
    out.note(FindingLevel.INFO, source, "no CA certificates: imported as pinned test material")
    pems: dict[tuple[bytes, KeyUsage, bool], tuple[str, bytes]] = {}
    keys: dict[tuple[bytes, KeyUsage, bool], tuple[str, bytes]] = {}
    for file_name in sorted(files):
        match = _FILE_NAME.match(file_name)
        if match is None:
            out.note(FindingLevel.INFO, file_name, "not a key-store file name, ignored")
            continue
        eui_hex, pp, usage, kind = match.groups()
        name = (bytes.fromhex(eui_hex), KeyUsage(usage), pp is not None)
        (pems if kind == "pem" else keys)[name] = (file_name, files[file_name])
    for name in sorted(pems.keys() | keys.keys(), key=lambda n: (n[0], n[1].value, n[2])):
        _folder_item(out, name, pems.get(name), keys.get(name))
    return out.result()


def _folder_item(
    out: _Collector,
    name: tuple[bytes, KeyUsage, bool],
    pem: tuple[str, bytes] | None,
    key_file: tuple[str, bytes] | None,
) -> None:
    eui, usage, prepayment = name
    key = out.private_key(key_file[1], key_file[0]) if key_file else None
    if pem is not None and b"CERTIFICATE" in pem[1]:
        cert = out.certificate(pem[1], pem[0])
        if cert is not None:
            out.add(cert, key, eui=eui, usage=usage, prepayment=prepayment, item=pem[0])
        return
    public: ec.EllipticCurvePublicKey | None = None
    item = pem[0] if pem else key_file[0] if key_file else "?"
    if pem is not None:
        public = _bare_public_key(out, pem)
        if public is not None and key is not None:
            if keys_match(key, public):
                out.private_keys_matching += 1
            else:
                out.note(FindingLevel.ERROR, item, "private key does not match the public key")
                key = None
    elif key is not None:
        public = key.public_key()
        out.note(
            FindingLevel.WARNING, item, "private key without a certificate (public key derived)"
        )
    if public is None:
        return
    out.entries.append(
        CertificateEntry(
            eui=eui,
            usage=usage,
            prepayment=prepayment,
            kind=None,
            certificate=None,
            info=None,
            public_key=public,
            private_key=key,
            name=item,
        )
    )


def _bare_public_key(out: _Collector, pem: tuple[str, bytes]) -> ec.EllipticCurvePublicKey | None:
    try:
        public = serialization.load_pem_public_key(pem[1])
    except (ValueError, TypeError) as exc:
        out.note(FindingLevel.ERROR, pem[0], f"neither a certificate nor a public key: {exc}")
        return None
    if not isinstance(public, ec.EllipticCurvePublicKey):
        out.note(FindingLevel.ERROR, pem[0], "public key is not an elliptic-curve key")
        return None
    out.public_keys += 1
    out.note(
        FindingLevel.WARNING,
        pem[0],
        "a bare public key, not a certificate: no profile, validity or trust can be checked",
    )
    return public
