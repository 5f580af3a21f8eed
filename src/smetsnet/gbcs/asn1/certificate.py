"""X.509 certificates (and CS02c certification requests) carried inside ASN.1 payloads.

Decoding only frames the DER (tag ``30`` and its length) and keeps the bytes: decode speed matters
and most consumers just forward them. :mod:`cryptography` parses them lazily, when ``to_json`` is
called; a certificate it cannot parse still round-trips and shows the error in JSON.

GBCS identities (SMKI): a device certificate names its EUI in subjectAltName as a
hardwareModuleName (OID 1.3.6.1.5.5.7.8.4, RFC 4108: SEQUENCE {hwType OID, hwSerialNum OCTET
STRING}); an organisation certificate names its entity id as x500UniqueIdentifier (2.5.4.45, a BIT
STRING) in the subject (RTDS vectors: ``2.5.4.45=#0090b3d51f30020000``).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Self

from cryptography import x509
from cryptography.x509.oid import NameOID

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader

HARDWARE_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
X500_UNIQUE_IDENTIFIER = NameOID.X500_UNIQUE_IDENTIFIER

_KEY_USAGE_ATTRS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)


def _hardware_module_serial(value: bytes) -> bytes | None:
    """hwSerialNum of a HardwareModuleName (the OtherName value as cryptography gives it)."""
    try:
        s, _ = der.seq(Reader(value), "hardwareModuleName")
        n, _ = der.open_tag(s, 0x06, "hwType")
        s.pos += n
        return der.read_octets(s, "hwSerialNum")
    except (der.Mismatch, GbcsDecodeError):
        return None


def _subject_unique_id(cert: x509.Certificate) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id == HARDWARE_MODULE_NAME:
                serial = _hardware_module_serial(other.value)
                if serial is not None:
                    return serial.hex()
    for attr in cert.subject.get_attributes_for_oid(X500_UNIQUE_IDENTIFIER):
        value = attr.value
        if isinstance(value, bytes):
            # BIT STRING content: the first octet counts unused bits (0 for a whole EUI).
            return (value[1:] if len(value) == 9 and value[0] == 0 else value).hex()
        return str(value)
    return None


def _key_usage(cert: x509.Certificate) -> list[JsonValue] | None:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    names: list[JsonValue] = [name for attr, name in _KEY_USAGE_ATTRS if getattr(ku, attr)]
    if ku.key_agreement:  # encipher_only/decipher_only are only defined with keyAgreement
        names += [
            n
            for a, n in (("encipher_only", "encipherOnly"), ("decipher_only", "decipherOnly"))
            if getattr(ku, a)
        ]
    return names


def _subject_key_id(cert: x509.Certificate) -> str | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    except x509.ExtensionNotFound:
        return None


@lru_cache(maxsize=512)
def _describe(data: bytes) -> tuple[tuple[str, JsonValue], ...]:
    try:
        with warnings.catch_warnings():
            # Some SMKI test certificates trip cryptography's deprecation warnings (DOMAIN.md).
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(data)
            fields: dict[str, JsonValue] = {
                "serial": f"{cert.serial_number:x}",
                "issuer": cert.issuer.rfc4514_string(),
                "subject": cert.subject.rfc4514_string(),
                "subject_unique_id": _subject_unique_id(cert),
                "subject_key_id": _subject_key_id(cert),
                "key_usage": _key_usage(cert),
                "not_before": cert.not_valid_before_utc.isoformat(),
                "not_after": cert.not_valid_after_utc.isoformat(),
            }
    except Exception as exc:
        return (("error", f"{type(exc).__name__}: {exc}"),)
    return tuple(fields.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class _Encoded(ABC):
    """A DER structure kept as its bytes; JSON shows what :mod:`cryptography` makes of it."""

    der: bytes

    def to_bytes(self) -> bytes:
        return self.der

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = dict(self._describe())
        out["der"] = self.der.hex()
        return out

    @abstractmethod
    def _describe(self) -> tuple[tuple[str, JsonValue], ...]: ...

    @classmethod
    def read(cls, r: Reader, field: str = "") -> Self:
        return cls(der=der.blob(r, field))


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate(_Encoded):
    """An X.509 certificate as carried: its complete DER bytes (``30 82 ...``)."""

    def _describe(self) -> tuple[tuple[str, JsonValue], ...]:
        return _describe(self.der)

    def parse(self) -> x509.Certificate:
        """The certificate parsed by cryptography (raises its ValueError when it cannot)."""
        return x509.load_der_x509_certificate(self.der)


@lru_cache(maxsize=64)
def _describe_request(data: bytes) -> tuple[tuple[str, JsonValue], ...]:
    try:
        csr = x509.load_der_x509_csr(data)
        return (("subject", csr.subject.rfc4514_string()),)
    except Exception as exc:
        return (("error", f"{type(exc).__name__}: {exc}"),)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationRequest(_Encoded):
    """A PKCS #10 certification request (CS02c response), kept as its DER bytes."""

    def _describe(self) -> tuple[tuple[str, JsonValue], ...]:
        return _describe_request(self.der)


__all__ = ["HARDWARE_MODULE_NAME", "Certificate", "CertificationRequest"]
