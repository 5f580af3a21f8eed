"""A set of certificates and keys that GBCS code can use as its :class:`KeyStore`.

A bundle holds entries (certificate and/or keys of one party for one usage and cell) and how to
trust them: a chain to our own root (CA certificates and CRLs), or *pinned* certificates without a
chain (imported reference keystores, which come without CA certificates). Key look-ups pick,
for each (EUI, usage, prepayment cell), the newest certificate that is valid and not revoked at
the bundle's time; for test material only, an expired certificate is used when nothing valid is
held (the DCC test certificates expired in 2025; the import report says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.gbcs.keystore import KeyName, KeyUsage
from smetsnet.smki.errors import CertificateExpired, PathValidationError, SmkiError
from smetsnet.smki.profile import (
    CertificateInfo,
    CertificateKind,
    check_profile,
    describe,
    keys_match,
)
from smetsnet.smki.revocation import revocation_entry
from smetsnet.smki.validate import ValidationResult, check_validity, validate_path

_DER = serialization.Encoding.DER


class EntryStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REVOKED = "revoked"
    NO_CERTIFICATE = "no-certificate"  # a bare public key or a lone private key (reference)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateEntry:
    """The certificate and keys of one party for one usage and cell."""

    eui: bytes
    usage: KeyUsage
    prepayment: bool = False
    kind: CertificateKind | None  # None when there is no certificate
    certificate: x509.Certificate | None
    info: CertificateInfo | None  # None when there is no certificate
    public_key: ec.EllipticCurvePublicKey = field(repr=False)
    private_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    name: str = ""  # where it came from: a reference name ("Z1-supplier-ds") or a file name

    def __post_init__(self) -> None:
        if self.private_key is not None and not keys_match(self.private_key, self.public_key):
            raise SmkiError(f"{self.label}: private key does not match the public key")

    @property
    def key_name(self) -> KeyName:
        return (self.eui, self.usage, self.prepayment)

    @property
    def serial(self) -> int | None:
        return self.certificate.serial_number if self.certificate is not None else None

    @property
    def label(self) -> str:
        kind = self.kind.value if self.kind is not None else "key"
        return describe(kind, self.eui, self.usage, self.serial or 0, self.prepayment)

    @classmethod
    def from_certificate(
        cls,
        certificate: x509.Certificate,
        *,
        private_key: ec.EllipticCurvePrivateKey | None = None,
        prepayment: bool = False,
        name: str = "",
    ) -> CertificateEntry:
        """An entry for a profile-checked organisation, XML-signing or device certificate."""
        info = check_profile(certificate, prepayment=prepayment)
        if info.eui is None or info.usage is None:
            raise SmkiError(f"{info.label}: a CA certificate is not a key-store entry")
        public_key = certificate.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)  # check_profile made sure
        return cls(
            eui=info.eui,
            usage=info.usage,
            prepayment=prepayment,
            kind=info.kind,
            certificate=certificate,
            info=info,
            public_key=public_key,
            private_key=private_key,
            name=name,
        )


class CertificateBundle:
    """Entries, their trust (chain or pinned) and revocation; a :class:`KeyStore`.

    ``at`` is the time key look-ups are answered for (default: now, when first asked); call
    :meth:`refresh` to move it. ``pinned`` bundles trust exactly their own certificates;
    ``test_material`` (reference keystores) tolerates expiry in look-ups and validation, with a
    warning, never for our own PKI.
    """

    def __init__(
        self,
        entries: Iterable[CertificateEntry] = (),
        *,
        roots: Iterable[x509.Certificate] = (),
        intermediates: Iterable[x509.Certificate] = (),
        crls: Iterable[x509.CertificateRevocationList] = (),
        pinned: bool = False,
        test_material: bool = False,
        source: str = "",
        at: datetime | None = None,
    ) -> None:
        self.roots = list(roots)
        self.intermediates = list(intermediates)
        self.crls = list(crls)
        self.pinned = pinned
        self.test_material = test_material
        self.source = source
        self._at = at
        self._entries: dict[KeyName, list[CertificateEntry]] = {}
        self._xml: dict[bytes, list[CertificateEntry]] = {}
        self._selected: dict[KeyName, CertificateEntry | None] = {}
        self._pinned_der: set[bytes] = set()
        for entry in entries:
            self.add(entry)

    def __repr__(self) -> str:  # never show key material
        trust = "pinned" if self.pinned else "chain"
        if self.test_material:
            trust += ", test material"
        return f"CertificateBundle({self.source!r}, {len(self)} entries, {trust})"

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values()) + sum(len(v) for v in self._xml.values())

    def __iter__(self) -> Iterator[CertificateEntry]:
        for entries in self._entries.values():
            yield from entries
        for entries in self._xml.values():
            yield from entries

    @property
    def at(self) -> datetime:
        if self._at is None:
            self._at = datetime.now(UTC)
        return self._at

    def refresh(self, at: datetime | None = None) -> None:
        """Answer look-ups for ``at`` (default: now) from here on."""
        self._at = at
        self._selected.clear()

    def add(self, entry: CertificateEntry) -> None:
        if entry.kind is CertificateKind.XML_SIGNING:
            self._xml.setdefault(entry.eui, []).append(entry)
        else:
            self._entries.setdefault(entry.key_name, []).append(entry)
            self._selected.pop(entry.key_name, None)
        if entry.certificate is not None:
            self._pinned_der.add(entry.certificate.public_bytes(_DER))

    def set_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> None:
        self.crls = list(crls)
        self._selected.clear()

    def names(self) -> list[KeyName]:
        return sorted(self._entries, key=lambda n: (n[0], n[1].value, n[2]))

    def entries(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> list[CertificateEntry]:
        return list(self._entries.get((eui, usage, prepayment), ()))

    def status(self, entry: CertificateEntry, at: datetime | None = None) -> EntryStatus:
        if entry.certificate is None:
            return EntryStatus.NO_CERTIFICATE
        at = self.at if at is None else at
        cert = entry.certificate
        if self._revoked(cert, at):
            return EntryStatus.REVOKED
        if at < cert.not_valid_before_utc:
            return EntryStatus.NOT_YET_VALID
        if at > cert.not_valid_after_utc:
            return EntryStatus.EXPIRED
        return EntryStatus.VALID

    def _revoked(self, cert: x509.Certificate, at: datetime) -> bool:
        return any(
            crl.issuer == cert.issuer
            and revocation_entry(crl, cert.serial_number, at=at) is not None
            for crl in self.crls
        )

    def current(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False, at: datetime | None = None
    ) -> CertificateEntry | None:
        """The entry key look-ups use for this name (see the class docstring), or None."""
        name = (eui, usage, prepayment)
        if at is None and name in self._selected:
            return self._selected[name]
        chosen = self._choose(self._entries.get(name, ()), self.at if at is None else at)
        if at is None:
            self._selected[name] = chosen
        return chosen

    def _choose(self, entries: Iterable[CertificateEntry], at: datetime) -> CertificateEntry | None:
        rank = {EntryStatus.VALID: 3, EntryStatus.NO_CERTIFICATE: 2}
        if self.test_material:
            rank[EntryStatus.EXPIRED] = 1
        best: tuple[int, datetime, datetime] | None = None
        chosen = None
        for entry in entries:
            score = rank.get(self.status(entry, at), 0)
            if score == 0:
                continue
            cert = entry.certificate
            key = (
                score,
                cert.not_valid_before_utc if cert else datetime.min.replace(tzinfo=UTC),
                cert.not_valid_after_utc if cert else datetime.min.replace(tzinfo=UTC),
            )
            if best is None or key > best:
                best, chosen = key, entry
        return chosen

    def xml_signing(self, eui: bytes, *, at: datetime | None = None) -> CertificateEntry | None:
        """The DUIS XML-signing certificate (role 0x87 or 0x89) of a party."""
        return self._choose(self._xml.get(eui, ()), self.at if at is None else at)

    # -- KeyStore ---------------------------------------------------------------------------

    def public_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePublicKey | None:
        entry = self.current(eui, usage, prepayment=prepayment)
        return entry.public_key if entry is not None else None

    def private_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePrivateKey | None:
        entry = self.current(eui, usage, prepayment=prepayment)
        return entry.private_key if entry is not None else None

    def certificate(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> x509.Certificate | None:
        entry = self.current(eui, usage, prepayment=prepayment)
        return entry.certificate if entry is not None else None

    # -- trust ------------------------------------------------------------------------------

    def validate(
        self, cert: x509.Certificate, *, at: datetime | None = None, prepayment: bool = False
    ) -> ValidationResult:
        """Check ``cert`` is trusted here at ``at``; raise a :class:`PathValidationError` or a
        :class:`CertificateProfileError` with the reason otherwise."""
        at = self.at if at is None else at
        if not self.pinned:
            return validate_path(
                cert,
                roots=self.roots,
                intermediates=self.intermediates,
                crls=self.crls,
                at=at,
                prepayment=prepayment,
                require_crl=True,
            )
        info = check_profile(cert, prepayment=prepayment)
        if cert.public_bytes(_DER) not in self._pinned_der:
            raise PathValidationError(
                f"not one of the pinned certificates of {self.source or 'this bundle'}",
                subject=info.label,
            )
        warnings: tuple[str, ...] = ()
        try:
            check_validity(cert, info.label, at)
        except CertificateExpired as exc:
            if not self.test_material:
                raise
            warnings = (f"{exc} (tolerated: reference test material)",)
        if self._revoked(cert, at):
            raise PathValidationError("revoked", subject=info.label)
        return ValidationResult(info=info, chain=(cert,), pinned=True, warnings=warnings)
