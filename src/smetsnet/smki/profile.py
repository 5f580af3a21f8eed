"""The GB SMKI certificate profiles, and a field-by-field check of a certificate against them.

Facts mirrored from the DCC test certificates (``reference/gbcs/keystore/*.pem`` and
``reference/duis/keystore/keystore.json``, decoded with ``cryptography``; DOMAIN.md §3):

* every key is ECDSA P-256 and every signature ecdsa-with-SHA256;
* keyUsage is critical and holds exactly one of digitalSignature or keyAgreement;
* subjectKeyIdentifier is 8 bytes, RFC 5280 §4.2.1.2 method 2 (``0100`` ‖ low 60 bits of the
  SHA-1 of the public key), e.g. ``41978ba90c066ffa`` in ``00db1234567890a0-ds.pem``;
* certificatePolicies is critical with one policy;
* organisation certificates: subject [CN,] OU = remote-party role as two hex digits (UTF8String),
  x500UniqueIdentifier (2.5.4.45) = BIT STRING ``00`` ‖ EUI-64; XML-signing certificates are
  organisation certificates with role 0x87 (users) or 0x89 (the DSP);
* device certificates: empty subject; subjectAltName (critical) = one otherName
  hardwareModuleName (1.3.6.1.5.5.7.8.4) whose value is SEQUENCE { hwType OID
  1.2.826.0.1.8641679.1.2.2.1, hwSerialNum OCTET STRING (EUI-64) }; notAfter 9999-12-31 23:59:59.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import NamedTuple, TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.errors import CertificateProfileError

HARDWARE_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
HW_TYPE_SMETS = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.2.1")
ORGANISATION_POLICY = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.4")
# The RTDS device certificates (issuer E357) carry this policy, not the organisation one.
DEVICE_POLICY = x509.ObjectIdentifier("1.2.826.0.1.1800000.1.2.1.4")
NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
EUI_LENGTH = 8
# DER prefix of the hardwareModuleName value: SEQUENCE(25) { OID(13) hwType, OCTET STRING(8) }.
_HW_NAME_PREFIX = bytes.fromhex("3019060d2a863a0001848fb90f0102020104") + bytes([EUI_LENGTH])


_E = TypeVar("_E", bound=x509.ExtensionType)


class RemotePartyRole(IntEnum):
    """GBCS remote-party roles, written as two hex digits in the subject OU."""

    ROOT = 0x00
    RECOVERY = 0x01
    SUPPLIER = 0x02
    NETWORK_OPERATOR = 0x03
    ACCESS_CONTROL_BROKER = 0x04
    TRANSITIONAL_COS = 0x05
    WAN_PROVIDER = 0x06
    ISSUING_AUTHORITY = 0x07
    LOAD_CONTROLLER = 0x08
    OTHER_USER = 0x7F
    XML_SIGNING = 0x87  # a user's DUIS XML-signing certificate
    DSP_XML_SIGNING = 0x89  # the DSP's (hub's) DUIS XML-signing certificate

    @property
    def ou(self) -> str:
        return f"{self.value:02X}"


XML_SIGNING_ROLES = frozenset({RemotePartyRole.XML_SIGNING, RemotePartyRole.DSP_XML_SIGNING})
CA_ROLES = frozenset({RemotePartyRole.ROOT, RemotePartyRole.ISSUING_AUTHORITY})


class CertificateKind(StrEnum):
    ORGANISATION = "org"
    DEVICE = "device"
    CA = "ca"
    XML_SIGNING = "xml-signing"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateInfo:
    """What a certificate in the GB profile says, once checked."""

    kind: CertificateKind
    serial: int
    eui: bytes | None  # None for CAs
    role: RemotePartyRole | None  # None for devices and the device CA
    usage: KeyUsage | None  # None for CAs
    prepayment: bool
    common_name: str | None
    not_before: datetime
    not_after: datetime
    policies: tuple[str, ...]
    subject_key_id: bytes
    authority_key_id: bytes | None

    @property
    def label(self) -> str:
        """A short name for messages: ``org 90B3D51F30010000 ds serial 4fbc…``."""
        return describe(self.kind, self.eui, self.usage, self.serial, self.prepayment)


def describe(
    kind: str, eui: bytes | None, usage: KeyUsage | None, serial: int, prepayment: bool = False
) -> str:
    parts = [kind]
    if eui is not None:
        parts.append(eui.hex().upper())
    if usage is not None:
        parts.append(f"{'pp-' if prepayment else ''}{usage.value}")
    parts.append(f"serial {serial:x}")
    return " ".join(parts)


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point: what the subjectPublicKey BIT STRING holds."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def keys_match(
    private_key: ec.EllipticCurvePrivateKey, public_key: ec.EllipticCurvePublicKey
) -> bool:
    return public_point(private_key.public_key()) == public_point(public_key)


def key_identifier(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method 2, as the DCC certificates use (8 bytes)."""
    point = public_point(public_key)
    digest = hashlib.sha1(point, usedforsecurity=False).digest()[-8:]
    return bytes([0x40 | (digest[0] & 0x0F)]) + digest[1:]


def hardware_module_name(eui: bytes) -> bytes:
    """The DER value of the device otherName (inside the ``[0]`` the library adds)."""
    return _HW_NAME_PREFIX + eui


def eui_of(cert: x509.Certificate) -> bytes | None:
    """The EUI-64 of an organisation or device certificate, without a full profile check."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER):
        value = attr.value
        if isinstance(value, bytes) and len(value) == EUI_LENGTH + 1 and value[0] == 0:
            return value[1:]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for name in san.get_values_for_type(x509.OtherName):
        if name.type_id == HARDWARE_MODULE_NAME and name.value.startswith(_HW_NAME_PREFIX):
            return name.value[len(_HW_NAME_PREFIX) :]
    return None


class _Checker:
    """One profile check; ``fail`` raises with the certificate named."""

    def __init__(self, cert: x509.Certificate) -> None:
        self.cert = cert
        self.label = f"certificate serial {cert.serial_number:x}"

    def fail(self, reason: str) -> CertificateProfileError:
        return CertificateProfileError(reason, subject=self.label)

    def extension(self, cls: type[_E], *, critical: bool | None) -> _E:
        try:
            ext = self.cert.extensions.get_extension_for_class(cls)
        except x509.ExtensionNotFound:
            raise self.fail(f"{cls.oid._name} extension is missing") from None
        if critical is not None and ext.critical != critical:
            raise self.fail(f"{ext.oid._name} must {'' if critical else 'not '}be critical")
        return ext.value


def check_profile(cert: x509.Certificate, *, prepayment: bool = False) -> CertificateInfo:
    """Check ``cert`` against the GB profile of its kind, field by field.

    ``prepayment`` says the certificate is held in the prepayment top-up cell (the certificate
    itself cannot say so: it looks like the supplier's key-agreement certificate).
    """
    check = _Checker(cert)
    try:
        extensions = cert.extensions
    except ValueError as exc:  # duplicate or malformed extensions
        raise check.fail(f"extensions cannot be parsed: {exc}") from None
    if cert.version != x509.Version.v3:
        raise check.fail(f"version is {cert.version.name}, not v3")
    if cert.signature_algorithm_oid != SignatureAlgorithmOID.ECDSA_WITH_SHA256:
        raise check.fail(f"signature algorithm is {cert.signature_algorithm_oid.dotted_string}")
    try:
        public_key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise check.fail(f"public key cannot be loaded: {exc}") from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise check.fail("public key is not an elliptic-curve key")
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise check.fail(f"public key curve is {public_key.curve.name}, not P-256")
    ski = check.extension(x509.SubjectKeyIdentifier, critical=False)
    policies = check.extension(x509.CertificatePolicies, critical=True)
    constraints = _basic_constraints(check)
    if constraints is not None and constraints.ca:
        if prepayment:
            raise check.fail("a CA certificate cannot be a prepayment cell certificate")
        identity = _check_ca(check)
    else:
        if len(policies) != 1:
            raise check.fail(f"certificatePolicies holds {len(policies)} policies, not one")
        usage = _end_entity_usage(check)
        if len(cert.subject) == 0 or _names_hardware(cert):
            identity = _check_device(check, usage, prepayment)
        else:
            identity = _check_organisation(check, usage, prepayment)
    return CertificateInfo(
        kind=identity.kind,
        serial=cert.serial_number,
        eui=identity.eui,
        role=identity.role,
        usage=identity.usage,
        prepayment=prepayment,
        common_name=identity.common_name,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        policies=tuple(p.policy_identifier.dotted_string for p in policies),
        subject_key_id=ski.digest,
        authority_key_id=_authority_key_id(extensions),
    )


class _Identity(NamedTuple):
    kind: CertificateKind
    eui: bytes | None
    role: RemotePartyRole | None
    usage: KeyUsage | None
    common_name: str | None


def _authority_key_id(extensions: x509.Extensions) -> bytes | None:
    try:
        aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return aki.key_identifier


def _basic_constraints(check: _Checker) -> x509.BasicConstraints | None:
    try:
        ext = check.cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return None
    if not ext.critical:
        raise check.fail("basicConstraints must be critical")
    return ext.value


def _key_usage(check: _Checker) -> x509.KeyUsage:
    return check.extension(x509.KeyUsage, critical=True)


def _end_entity_usage(check: _Checker) -> KeyUsage:
    ku = _key_usage(check)
    if ku.digital_signature and ku.key_agreement:
        raise check.fail("key usage has both digitalSignature and keyAgreement")
    extra = [
        name
        for name in ("content_commitment", "key_encipherment", "data_encipherment")
        if getattr(ku, name)
    ]
    if ku.key_cert_sign or ku.crl_sign:
        extra.append("keyCertSign/cRLSign")
    if extra:
        raise check.fail(f"key usage has {', '.join(extra)} besides the one allowed bit")
    if ku.digital_signature:
        return KeyUsage.DIGITAL_SIGNATURE
    if ku.key_agreement:
        return KeyUsage.KEY_AGREEMENT
    raise check.fail("key usage has neither digitalSignature nor keyAgreement")


def _check_ca(check: _Checker) -> _Identity:
    ku = _key_usage(check)
    if not ku.key_cert_sign:
        raise check.fail("CA key usage lacks keyCertSign")
    if ku.digital_signature or ku.key_agreement:
        raise check.fail("CA key usage has digitalSignature or keyAgreement")
    ou = _single_text(check, NameOID.ORGANIZATIONAL_UNIT_NAME, required=False)
    role = None
    if ou is not None:
        role = _role(check, ou)
        if role not in CA_ROLES:
            raise check.fail(f"subject OU {ou!r} is not a CA role (00 root or 07 issuing)")
    name = _single_text(check, NameOID.COMMON_NAME, required=False)
    return _Identity(CertificateKind.CA, None, role, None, name)


def _check_device(check: _Checker, usage: KeyUsage, prepayment: bool) -> _Identity:
    if len(check.cert.subject) != 0:
        raise check.fail("device certificate subject is not empty")
    if prepayment:
        raise check.fail("a device certificate cannot be a prepayment cell certificate")
    san = check.extension(x509.SubjectAlternativeName, critical=True)
    names = list(san)
    if len(names) != 1 or not isinstance(names[0], x509.OtherName):
        raise check.fail("subjectAltName must hold exactly one otherName")
    other = names[0]
    if other.type_id != HARDWARE_MODULE_NAME:
        raise check.fail(f"subjectAltName otherName is {other.type_id.dotted_string}")
    value = other.value
    if len(value) != len(_HW_NAME_PREFIX) + EUI_LENGTH or not value.startswith(_HW_NAME_PREFIX):
        raise check.fail("subjectAltName hardwareModuleName is not {hwType, 8-byte EUI-64}")
    if check.cert.not_valid_after_utc != NO_EXPIRY:
        raise check.fail(
            f"device notAfter is {check.cert.not_valid_after_utc.isoformat()}, "
            "not 9999-12-31T23:59:59Z"
        )
    return _Identity(CertificateKind.DEVICE, value[len(_HW_NAME_PREFIX) :], None, usage, None)


def _check_organisation(check: _Checker, usage: KeyUsage, prepayment: bool) -> _Identity:
    allowed = {
        NameOID.COMMON_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.X500_UNIQUE_IDENTIFIER,
    }
    for attr in check.cert.subject:
        if attr.oid not in allowed:
            raise check.fail(f"subject has an unexpected attribute {attr.oid.dotted_string}")
    ou = _single_text(check, NameOID.ORGANIZATIONAL_UNIT_NAME, required=True)
    assert ou is not None
    role = _role(check, ou)
    uid = check.cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
    if len(uid) != 1:
        raise check.fail(f"subject has {len(uid)} x500UniqueIdentifier attributes, not one")
    value = uid[0].value
    if not isinstance(value, bytes) or len(value) != EUI_LENGTH + 1 or value[0] != 0:
        raise check.fail("subject x500UniqueIdentifier is not a BIT STRING holding an EUI-64")
    kind = CertificateKind.ORGANISATION
    if role in CA_ROLES:
        raise check.fail(f"subject OU {ou!r} is a CA role in an end-entity certificate")
    if role in XML_SIGNING_ROLES:
        kind = CertificateKind.XML_SIGNING
        if usage is not KeyUsage.DIGITAL_SIGNATURE:
            raise check.fail("an XML-signing certificate must have key usage digitalSignature")
    if _has_extension(check.cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME):
        raise check.fail("an organisation certificate must not have a subjectAltName")
    if prepayment and (role is not RemotePartyRole.SUPPLIER or usage is not KeyUsage.KEY_AGREEMENT):
        raise check.fail("only a supplier key-agreement certificate can be a prepayment cell one")
    name = _single_text(check, NameOID.COMMON_NAME, required=False)
    return _Identity(kind, value[1:], role, usage, name)


def _single_text(check: _Checker, oid: x509.ObjectIdentifier, *, required: bool) -> str | None:
    attrs = check.cert.subject.get_attributes_for_oid(oid)
    if len(attrs) > 1:
        raise check.fail(f"subject has {len(attrs)} {oid._name} attributes")
    if not attrs:
        if required:
            raise check.fail(f"subject {oid._name} is missing")
        return None
    value = attrs[0].value
    if not isinstance(value, str):
        raise check.fail(f"subject {oid._name} is not text")
    return value


def _role(check: _Checker, ou: str) -> RemotePartyRole:
    if len(ou) != 2 or any(c not in "0123456789ABCDEFabcdef" for c in ou):
        raise check.fail(f"subject OU {ou!r} is not a role as two hex digits")
    try:
        return RemotePartyRole(int(ou, 16))
    except ValueError:
        raise check.fail(f"subject OU {ou!r} is not a known remote-party role") from None


def _has_extension(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bool:
    return any(ext.oid == oid for ext in cert.extensions)


def _names_hardware(cert: x509.Certificate) -> bool:
    """Whether a subjectAltName names a hardware module: the mark of a device certificate."""
    for ext in cert.extensions:
        if isinstance(ext.value, x509.SubjectAlternativeName):
            return any(
                n.type_id == HARDWARE_MODULE_NAME
                for n in ext.value.get_values_for_type(x509.OtherName)
            )
    return False
