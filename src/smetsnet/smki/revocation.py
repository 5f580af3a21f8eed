"""Certificate revocation lists: one per CA, issued with ``cryptography``'s CRL builder.

The SMKI Organisation CA publishes certificate status (DOMAIN.md §3: tScheme approval covers
"certificate status management"); the CRL details of the real service are not public, so these
follow RFC 5280: signed by the issuing CA's key, with a CRL number and the CA's key identifier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.smki.errors import PathValidationError
from smetsnet.smki.issue import CertificateAuthority

CRL_LIFETIME = timedelta(days=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class Revocation:
    """One revoked certificate of one CA."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified


def issue_crl(
    ca: CertificateAuthority,
    revocations: Iterable[Revocation],
    *,
    number: int,
    this_update: datetime,
    next_update: datetime | None = None,
) -> x509.CertificateRevocationList:
    """A CRL of ``ca`` listing ``revocations``, valid from ``this_update`` to ``next_update``."""
    this_update = this_update.astimezone(UTC).replace(microsecond=0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(this_update)
        .next_update(next_update or this_update + CRL_LIFETIME)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(ca.key_id, None, None), critical=False)
    )
    for item in revocations:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(item.serial)
            .revocation_date(item.revoked_at.astimezone(UTC).replace(microsecond=0))
        )
        if item.reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(item.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.private_key, hashes.SHA256())


def revocations_of(crl: x509.CertificateRevocationList) -> list[Revocation]:
    """The entries of a CRL, to re-issue it with more (after loading a PKI folder)."""
    out = []
    for revoked in crl:
        reason = x509.ReasonFlags[reason_name(revoked)]
        out.append(
            Revocation(
                serial=revoked.serial_number, revoked_at=revoked.revocation_date_utc, reason=reason
            )
        )
    return out


def crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def check_crl(
    crl: x509.CertificateRevocationList, issuer: x509.Certificate, *, at: datetime
) -> None:
    """Raise :class:`PathValidationError` unless ``issuer`` signed ``crl`` and it is current."""
    name = issuer.subject.rfc4514_string() or "(empty name)"
    if crl.issuer != issuer.subject:
        raise PathValidationError(f"CRL issuer is not {name}", subject="CRL")
    public_key = issuer.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not _signed_by(crl, public_key):
        raise PathValidationError(f"CRL signature does not verify with {name}'s key", subject="CRL")
    next_update = crl.next_update_utc
    if next_update is not None and at > next_update:
        raise PathValidationError(
            f"CRL of {name} is out of date (next update {next_update.isoformat()})", subject="CRL"
        )


def _signed_by(crl: x509.CertificateRevocationList, key: ec.EllipticCurvePublicKey) -> bool:
    try:
        return crl.is_signature_valid(key)
    except (InvalidSignature, ValueError, TypeError):
        return False


def revocation_entry(
    crl: x509.CertificateRevocationList, serial: int, *, at: datetime
) -> x509.RevokedCertificate | None:
    """The CRL entry of ``serial`` if it was revoked at or before ``at``."""
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    if entry is None or entry.revocation_date_utc > at:
        return None
    return entry


def reason_name(entry: x509.RevokedCertificate) -> str:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return "unspecified"
