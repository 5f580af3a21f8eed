"""Issue certificates in the GB SMKI profile (see :mod:`smetsnet.smki.profile` for the facts).

A :class:`CertificateAuthority` binds a CA certificate to its private key. The root CA (subject
OU ``00``) certifies an organisation CA (OU ``07``, the issuing authority, like the DCC test
``Z1``) and a device CA (CN only, like the RTDS ``E357``). Extension order and string types
mirror the DCC test certificates, so our certificates look like theirs to any GBCS parser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.errors import SmkiError
from smetsnet.smki.profile import (
    CA_ROLES,
    DEVICE_POLICY,
    EUI_LENGTH,
    HARDWARE_MODULE_NAME,
    NO_EXPIRY,
    ORGANISATION_POLICY,
    XML_SIGNING_ROLES,
    RemotePartyRole,
    hardware_module_name,
    key_identifier,
    keys_match,
)

ORGANISATION_YEARS = 10  # the DCC test organisation certificates run ten years
CA_YEARS = 25
_SHA256 = hashes.SHA256()
_NO_NAME = x509.Name([])


class CaRole(StrEnum):
    ROOT = "root"
    ORGANISATION = "org"
    DEVICE = "device"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateAuthority:
    """A CA certificate with its signing key (never shown in reprs)."""

    role: CaRole
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        public_key = self.certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not keys_match(
            self.private_key, public_key
        ):
            raise SmkiError(f"{self.role} CA: private key does not match its certificate")
        object.__setattr__(self, "key_id", key_identifier(public_key))

    @property
    def name(self) -> x509.Name:
        return self.certificate.subject

    def sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        return builder.issuer_name(self.certificate.subject).sign(self.private_key, _SHA256)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key (the only curve GBCS uses)."""
    return ec.generate_private_key(ec.SECP256R1())


def new_serial() -> int:
    """A random positive 127-bit serial number, like the 16-byte DCC test serials."""
    return int.from_bytes(os.urandom(16), "big") >> 1 or 1


def midnight(at: datetime) -> datetime:
    """The start of ``at``'s UTC day: DCC test certificates begin at 00:00:00."""
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def years_later(start: datetime, years: int) -> datetime:
    """The last second before the anniversary, as DCC's ``…23:59:59`` notAfter values."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + years, day=28)
    return anniversary - timedelta(seconds=1)


def _text(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(oid, value, _ASN1Type.PrintableString)


def _builder(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def _policies(*oids: x509.ObjectIdentifier) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(oid, None) for oid in oids])


def issue_root_ca(
    *, name: str, key: ec.EllipticCurvePrivateKey, not_before: datetime
) -> CertificateAuthority:
    """A self-signed root, subject OU ``00`` ‖ CN; it never expires, like the device CA."""
    subject = x509.Name(
        [_text(NameOID.ORGANIZATIONAL_UNIT_NAME, "00"), _text(NameOID.COMMON_NAME, name)]
    )
    ski = key_identifier(key.public_key())
    builder = (
        _builder(subject, key.public_key(), midnight(not_before), NO_EXPIRY)
        .issuer_name(subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
        .add_extension(_policies(ORGANISATION_POLICY, DEVICE_POLICY), critical=True)
    )
    certificate = builder.sign(key, _SHA256)
    return CertificateAuthority(role=CaRole.ROOT, certificate=certificate, private_key=key)


def issue_sub_ca(
    root: CertificateAuthority,
    *,
    role: CaRole,
    name: str,
    key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
) -> CertificateAuthority:
    """The organisation CA (OU ``07`` ‖ CN, 25 years) or the device CA (CN only, no expiry)."""
    if role is CaRole.ROOT:
        raise SmkiError("issue_sub_ca issues organisation or device CAs, not roots")
    start = midnight(not_before)
    if role is CaRole.ORGANISATION:
        attrs = [_text(NameOID.ORGANIZATIONAL_UNIT_NAME, RemotePartyRole.ISSUING_AUTHORITY.ou)]
        end, policy = years_later(start, CA_YEARS), ORGANISATION_POLICY
    else:
        attrs, end, policy = [], NO_EXPIRY, DEVICE_POLICY
    subject = x509.Name([*attrs, _text(NameOID.COMMON_NAME, name)])
    builder = (
        _builder(subject, key.public_key(), start, min(end, root.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(key_identifier(key.public_key())), critical=False)
        .add_extension(_policies(policy), critical=True)
        .add_extension(_authority(root), critical=False)
    )
    return CertificateAuthority(role=role, certificate=root.sign(builder), private_key=key)


def _ca_key_usage() -> x509.KeyUsage:
    return _key_usage(cert_sign=True)


def _key_usage(
    *, signature: bool = False, agreement: bool = False, cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=agreement,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


_DS_USAGE = _key_usage(signature=True)
_KA_USAGE = _key_usage(agreement=True)


def _end_entity_usage(usage: KeyUsage) -> x509.KeyUsage:
    return _DS_USAGE if usage is KeyUsage.DIGITAL_SIGNATURE else _KA_USAGE


def _authority(ca: CertificateAuthority) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier(ca.key_id, None, None)


def _check_eui(eui: bytes) -> bytes:
    if not isinstance(eui, bytes | bytearray) or len(eui) != EUI_LENGTH:
        raise SmkiError(f"an EUI-64 must be {EUI_LENGTH} bytes, got {eui!r}")
    return bytes(eui)


def issue_organisation_certificate(
    ca: CertificateAuthority,
    *,
    eui: bytes,
    role: RemotePartyRole,
    usage: KeyUsage,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    common_name: str | None = None,
    years: int = ORGANISATION_YEARS,
) -> x509.Certificate:
    """An organisation certificate: subject [CN,] OU = role, x500UniqueIdentifier = EUI.

    XML-signing certificates are organisation certificates with role 0x87 (a user) or 0x89 (the
    DSP) and usage digitalSignature. A prepayment top-up certificate is a supplier
    key-agreement certificate (its cell is where it is held, not a field).
    """
    eui = _check_eui(eui)
    if ca.role is not CaRole.ORGANISATION:
        raise SmkiError(
            f"organisation certificates are issued by the organisation CA, not {ca.role}"
        )
    if role in CA_ROLES:
        raise SmkiError(f"role {role.name} is a CA role, not an end entity")
    if role in XML_SIGNING_ROLES and usage is not KeyUsage.DIGITAL_SIGNATURE:
        raise SmkiError("XML-signing certificates are for digital signature only")
    start = midnight(not_before)
    end = years_later(start, years)
    if end > ca.certificate.not_valid_after_utc:
        raise SmkiError(
            f"the certificate would outlive its CA ({end.isoformat()} > "
            f"{ca.certificate.not_valid_after_utc.isoformat()})"
        )
    attrs: list[x509.NameAttribute[str | bytes]] = [
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role.ou),
        x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, b"\x00" + eui, _ASN1Type.BitString),
    ]
    if common_name:
        attrs.insert(0, x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = (
        _builder(x509.Name(attrs), public_key, start, end)
        .add_extension(_end_entity_usage(usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(key_identifier(public_key)), critical=False)
        .add_extension(_policies(ORGANISATION_POLICY), critical=True)
        .add_extension(_authority(ca), critical=False)
    )
    return ca.sign(builder)


def issue_device_certificate(
    ca: CertificateAuthority,
    *,
    eui: bytes,
    usage: KeyUsage,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
) -> x509.Certificate:
    """A device certificate: empty subject, EUI in hardwareModuleName, no expiry."""
    eui = _check_eui(eui)
    if ca.role is not CaRole.DEVICE:
        raise SmkiError(f"device certificates are issued by the device CA, not {ca.role}")
    san = x509.SubjectAlternativeName(
        [x509.OtherName(HARDWARE_MODULE_NAME, hardware_module_name(eui))]
    )
    builder = (
        _builder(_NO_NAME, public_key, midnight(not_before), NO_EXPIRY)
        .add_extension(_end_entity_usage(usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(key_identifier(public_key)), critical=False)
        .add_extension(san, critical=True)
        .add_extension(_policies(DEVICE_POLICY), critical=True)
        .add_extension(_authority(ca), critical=False)
    )
    return ca.sign(builder)
