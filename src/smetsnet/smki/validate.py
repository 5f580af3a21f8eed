"""Certificate path validation for SMKI: chain to a trusted root, or a pinned certificate.

The chain check follows RFC 5280 §6 as far as the GB profile needs it: each certificate's
signature verifies with its issuer's key (names and key identifiers matching), every certificate
is within its validity period at the time asked about, every issuer is a CA (basicConstraints
``cA`` and keyUsage ``keyCertSign``, path-length respected), no certificate is on its issuer's
CRL, and the leaf is in the GB profile. The GB issuing structure is enforced as well:
organisation and XML-signing certificates come from an issuing authority (OU ``07``), device
certificates from a device CA, and CAs from a root (OU ``00``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from smetsnet.smki.errors import (
    CertificateExpired,
    CertificateProfileError,
    CertificateRevoked,
    PathValidationError,
)
from smetsnet.smki.profile import CertificateInfo, CertificateKind, RemotePartyRole, check_profile
from smetsnet.smki.revocation import check_crl, reason_name, revocation_entry

_DER = Encoding.DER
MAX_DEPTH = 8  # root, CA, leaf in the GB structure; never trust a loop in the issuer names


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    """A certificate found trustworthy; ``warnings`` says what was tolerated (test material)."""

    info: CertificateInfo
    chain: tuple[x509.Certificate, ...]  # the certificate first, the trust anchor last
    pinned: bool = False
    warnings: tuple[str, ...] = ()


def check_validity(cert: x509.Certificate, label: str, at: datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise CertificateExpired(
            subject=label,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            at=at,
        )


def validate_path(
    cert: x509.Certificate,
    *,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    at: datetime,
    prepayment: bool = False,
    require_crl: bool = False,
) -> ValidationResult:
    """Validate ``cert`` up to one of ``roots`` at time ``at``; raise a reason otherwise.

    ``require_crl`` makes a missing CRL of an issuing CA an error (our own PKI always has one).
    """
    info = check_profile(cert, prepayment=prepayment)
    root_ders = {root.public_bytes(_DER) for root in roots}
    chain = [cert]
    current, current_info = cert, info
    while True:
        label = _label(current_info)
        check_validity(current, label, at)
        if current.public_bytes(_DER) in root_ders:
            _check_root(current, current_info, label)
            return ValidationResult(info=info, chain=tuple(chain))
        if len(chain) > MAX_DEPTH:
            raise PathValidationError("certificate path is too long", subject=_label(info))
        issuer = _find_issuer(current, label, [*roots, *intermediates])
        issuer_info = _check_issuer(issuer, current_info, ca_below=len(chain) - 1)
        _check_revocation(current, label, issuer, crls, at=at, required=require_crl)
        chain.append(issuer)
        current, current_info = issuer, issuer_info


def _label(info: CertificateInfo) -> str:
    return info.label


def _check_root(cert: x509.Certificate, info: CertificateInfo, label: str) -> None:
    if info.kind is not CertificateKind.CA:
        raise PathValidationError("a trust anchor must be a CA certificate", subject=label)
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        raise PathValidationError("root is not self-signed", subject=label) from None


def _find_issuer(
    cert: x509.Certificate, label: str, candidates: Sequence[x509.Certificate]
) -> x509.Certificate:
    aki = _authority_key_id(cert)
    named = [ca for ca in candidates if ca.subject == cert.issuer]
    if not named:
        issuer = cert.issuer.rfc4514_string() or "(empty name)"
        raise PathValidationError(f"no trusted CA named {issuer!r} issued it", subject=label)
    for ca in named:
        if aki is not None and _subject_key_id(ca) not in (None, aki):
            continue
        try:
            cert.verify_directly_issued_by(ca)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return ca
    raise PathValidationError(
        f"signature does not verify with the key of {cert.issuer.rfc4514_string()!r}",
        subject=label,
    )


def _check_issuer(
    issuer: x509.Certificate, below: CertificateInfo, *, ca_below: int
) -> CertificateInfo:
    try:
        info = check_profile(issuer)
    except CertificateProfileError as exc:
        raise PathValidationError(
            f"issuer is not a valid CA: {exc.reason}", subject=_label(below)
        ) from None
    if info.kind is not CertificateKind.CA:
        raise PathValidationError("issuer is not a CA (basicConstraints)", subject=_label(below))
    limit = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    if limit is not None and ca_below > limit:
        raise PathValidationError(
            f"issuer's path length {limit} allows fewer CAs below it", subject=_label(below)
        )
    _check_structure(below, info)
    return info


def _check_structure(below: CertificateInfo, issuer: CertificateInfo) -> None:
    """GB structure: which kind of CA may issue which kind of certificate."""
    label = _label(below)
    organisation = below.kind in (CertificateKind.ORGANISATION, CertificateKind.XML_SIGNING)
    if organisation and issuer.role is not RemotePartyRole.ISSUING_AUTHORITY:
        raise PathValidationError(
            "organisation certificate not issued by an issuing authority (OU 07)", subject=label
        )
    if below.kind is CertificateKind.DEVICE and issuer.role is not None:
        raise PathValidationError(
            "device certificate issued by an organisation CA, not a device CA", subject=label
        )
    if below.kind is CertificateKind.CA and issuer.role is not RemotePartyRole.ROOT:
        raise PathValidationError("CA certificate not issued by a root (OU 00)", subject=label)


def _check_revocation(
    cert: x509.Certificate,
    label: str,
    issuer: x509.Certificate,
    crls: Collection[x509.CertificateRevocationList],
    *,
    at: datetime,
    required: bool,
) -> None:
    mine = [crl for crl in crls if crl.issuer == issuer.subject]
    if not mine:
        if required:
            name = issuer.subject.rfc4514_string()
            raise PathValidationError(f"no CRL of {name!r} to check", subject=label)
        return
    for crl in mine:
        check_crl(crl, issuer, at=at)
        entry = revocation_entry(crl, cert.serial_number, at=at)
        if entry is not None:
            raise CertificateRevoked(
                subject=label, revoked_at=entry.revocation_date_utc, reason_code=reason_name(entry)
            )


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier
        ).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None
