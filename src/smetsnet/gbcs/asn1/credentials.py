"""CS02a/f (provide security credential details) and CS02c/d/e (the device's own credentials).

Layouts: GBCS-PAYLOADS §3; field names after [P] ``src/asn1.ts``. RTDS vectors: 6.24.1_CS02aMAC,
NA_CS02fSignature, 6.15.2_CS02d, 6.24.2_CS02e (no CS02c vector).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.certificate import Certificate, CertificationRequest
from smetsnet.gbcs.asn1.schema import Sequence, enumerated, integer, node, octets, optional, seq_of
from smetsnet.gbcs.asn1.types import (
    CELL_USAGE_NAMES,
    KEY_USAGE,
    ROLE_NAMES,
    STATUS_NAMES,
    Asn1Payload,
    ResponseCode,
    SequencePayload,
    TrustAnchorCellId,
)
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


# -- CS02a (0x0008) / CS02f (0x011B) ------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideSecurityCredentialDetailsCommand(SequencePayload):
    """SEQUENCE {authorising TA cell id, SEQUENCE OF RemotePartyRole}."""

    authorising_cell: TrustAnchorCellId
    roles: tuple[int, ...]
    lw: der.Widths = ()  # "" and "roles"

    PARTS = (node("authorising_cell", TrustAnchorCellId), seq_of(integer("roles", ROLE_NAMES)))


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchorCellContents(Sequence):
    """SEQUENCE {keyUsage, cellUsage DEFAULT management, subject unique id, subject key id}."""

    key_usage: int
    subject_unique_id: bytes
    subject_key_id: bytes
    cell_usage: int | None = None
    lw: der.Widths = ()

    PARTS = (
        KEY_USAGE,
        optional(integer("cell_usage", CELL_USAGE_NAMES), when=der.TAG_INTEGER),
        octets("subject_unique_id"),
        octets("subject_key_id"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePartyDetails(Sequence):
    """SEQUENCE {role, StatusCode, current seq number?, SEQUENCE OF TrustAnchorCellContents?}.

    The last two are absent when the status is not success (CS02a ERROR response: role 3, 25).
    """

    role: int
    status: int
    seq_number: int | None = None
    cells: tuple[TrustAnchorCellContents, ...] | None = None
    lw: der.Widths = ()  # "" and "cells"

    PARTS = (
        integer("role", ROLE_NAMES),
        enumerated("status", STATUS_NAMES),
        optional(integer("seq_number"), when=der.TAG_INTEGER),
        optional(seq_of(node("cells", TrustAnchorCellContents)), when=der.TAG_SEQUENCE),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideSecurityCredentialDetailsResponse(Asn1Payload):
    """SEQUENCE OF RemotePartyDetails, one per role asked for."""

    details: tuple[RemotePartyDetails, ...]
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed((d.to_bytes() for d in self.details), self.lw)

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "details": [d.to_json() for d in self.details]}

    @classmethod
    def read(cls, r: Reader) -> ProvideSecurityCredentialDetailsResponse:
        details, w = der.read_seq_of(r, "", RemotePartyDetails.read)
        return cls(details=details, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class _CertificatePayload(Asn1Payload):
    """A payload that is one X.509 certificate (CS02d command, CS02e success response)."""

    certificate: Certificate

    def to_bytes(self) -> bytes:
        return self.certificate.to_bytes()

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "certificate": self.certificate.to_json()}

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(certificate=Certificate.read(r, ""))


# -- CS02c (0x000A) / CS02e (0x000C): SEQUENCE {keyUsage} -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _KeyUsageCommand(SequencePayload):
    key_usage: int
    lw: der.Widths = ()

    PARTS = (KEY_USAGE,)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueSecurityCredentialsCommand(_KeyUsageCommand):
    """CS02c: the device generates a key pair for ``key_usage`` and returns a request."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueSecurityCredentialsResponse(Asn1Payload):
    """CS02c success: a PKCS #10 certification request."""

    request: CertificationRequest

    def to_bytes(self) -> bytes:
        return self.request.to_bytes()

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "request": self.request.to_json()}


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueSecurityCredentialsError(ResponseCode):
    NAMES: ClassVar[dict[int, str]] = {
        1: "invalidKeyUsage",
        2: "keyPairGenerationFailed",
        3: "certificationRequestFailed",
    }


def read_issue_response(r: Reader) -> Asn1Payload:
    """A SEQUENCE on success, else an INTEGER error code (as :func:`read_provide_response`)."""
    if der.has(r, der.TAG_SEQUENCE):
        return IssueSecurityCredentialsResponse(request=CertificationRequest.read(r, ""))
    return IssueSecurityCredentialsError.read(r)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideDeviceCertificateCommand(_KeyUsageCommand):
    """CS02e: which of the device's own certificates to return."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideDeviceCertificateResponse(_CertificatePayload):
    """CS02e success: the device certificate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideDeviceCertificateError(ResponseCode):
    NAMES: ClassVar[dict[int, str]] = {
        1: "invalidKeyUsage",
        2: "noCertificateHeld",
        3: "certificateRetrievalFailure",
    }


def read_provide_response(r: Reader) -> Asn1Payload:
    if der.has(r, der.TAG_SEQUENCE):
        return ProvideDeviceCertificateResponse.read(r)
    return ProvideDeviceCertificateError.read(r)


# -- CS02d (0x000B): certificate -> INTEGER ----------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateDeviceCertificateCommand(_CertificatePayload):
    """CS02d: the device's new certificate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateDeviceCertificateResponse(ResponseCode):
    NAMES: ClassVar[dict[int, str]] = {
        0: "success",
        1: "invalidCertificate",
        2: "wrongDeviceIdentity",
        3: "invalidKeyUsage",
        4: "noCorrespondingKeyPair",
        5: "wrongPublicKey",
        6: "certificateStorageFailed",
        7: "privateKeyChangeFailed",
    }


__all__ = [
    "IssueSecurityCredentialsCommand",
    "IssueSecurityCredentialsError",
    "IssueSecurityCredentialsResponse",
    "ProvideDeviceCertificateCommand",
    "ProvideDeviceCertificateError",
    "ProvideDeviceCertificateResponse",
    "ProvideSecurityCredentialDetailsCommand",
    "ProvideSecurityCredentialDetailsResponse",
    "RemotePartyDetails",
    "TrustAnchorCellContents",
    "UpdateDeviceCertificateCommand",
    "UpdateDeviceCertificateResponse",
    "read_issue_response",
    "read_provide_response",
]
