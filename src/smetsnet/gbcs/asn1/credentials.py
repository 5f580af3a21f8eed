"""CS02a/f (provide security credential details) and CS02c/d/e (the device's own credentials).

Layouts: GBCS-PAYLOADS §3; field names after [P] ``src/asn1.ts``. RTDS vectors: 6.24.1_CS02aMAC,
NA_CS02fSignature, 6.15.2_CS02d, 6.24.2_CS02e (no CS02c vector).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.certificate import Certificate, CertificationRequest
from smetsnet.gbcs.asn1.types import (
    CELL_USAGE_NAMES,
    ROLE_NAMES,
    STATUS_NAMES,
    Asn1Payload,
    ResponseCode,
    TrustAnchorCellId,
    key_usage_names,
    named,
)
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


# -- CS02a (0x0008) / CS02f (0x011B) ------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideSecurityCredentialDetailsCommand(Asn1Payload):
    """SEQUENCE {authorising TA cell id, SEQUENCE OF RemotePartyRole}."""

    authorising_cell: TrustAnchorCellId
    roles: tuple[int, ...]
    lw: der.Widths = ()  # "" and "roles"

    def to_bytes(self) -> bytes:
        roles = der.constructed(
            (der.encode_int(role, f"roles[{i}]") for i, role in enumerate(self.roles)),
            self.lw,
            "roles",
        )
        return der.constructed((self.authorising_cell.to_bytes(), roles), self.lw)

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "authorising_cell": self.authorising_cell.to_json(),
            "roles": [named(ROLE_NAMES, role) for role in self.roles],
        }

    @classmethod
    def read(cls, r: Reader) -> ProvideSecurityCredentialDetailsCommand:
        s, w = der.seq(r, "")
        cell = TrustAnchorCellId.read(s, "authorising_cell")
        roles, rw = der.read_seq_of(s, "roles", der.read_int)
        der.done(s, "")
        return cls(authorising_cell=cell, roles=roles, lw=der.pack_widths(("", w), ("roles", rw)))


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchorCellContents:
    """SEQUENCE {keyUsage, cellUsage DEFAULT management, subject unique id, subject key id}."""

    key_usage: int
    subject_unique_id: bytes
    subject_key_id: bytes
    cell_usage: int | None = None
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        parts = [der.encode_named_bits(self.key_usage)]
        if self.cell_usage is not None:
            parts.append(der.encode_int(self.cell_usage, "cell_usage"))
        parts.append(der.encode_octets(self.subject_unique_id, "subject_unique_id"))
        parts.append(der.encode_octets(self.subject_key_id, "subject_key_id"))
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {"key_usage": key_usage_names(self.key_usage)}
        if self.cell_usage is not None:
            out["cell_usage"] = named(CELL_USAGE_NAMES, self.cell_usage)
        out["subject_unique_id"] = self.subject_unique_id.hex()
        out["subject_key_id"] = self.subject_key_id.hex()
        return out

    @classmethod
    def read(cls, r: Reader, field: str = "") -> TrustAnchorCellContents:
        try:
            return cls._read(r, der.TAG_SEQUENCE)
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None

    @classmethod
    def _read(cls, r: Reader, tag: int) -> TrustAnchorCellContents:
        s, w = der.seq(r, "", tag)
        usage = der.read_named_bits(s, "key_usage")
        cell = der.read_int(s, "cell_usage") if der.has(s, der.TAG_INTEGER) else None
        uid, kid = der.read_octet_run(s, 2, "ids")
        der.done(s, "")
        return cls(
            key_usage=usage,
            cell_usage=cell,
            subject_unique_id=uid,
            subject_key_id=kid,
            lw=(("", w),) if w else (),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePartyDetails:
    """SEQUENCE {role, StatusCode, current seq number?, SEQUENCE OF TrustAnchorCellContents?}.

    The last two are absent when the status is not success (CS02a ERROR response: role 3, 25).
    """

    role: int
    status: int
    seq_number: int | None = None
    cells: tuple[TrustAnchorCellContents, ...] | None = None
    lw: der.Widths = ()  # "" and "cells"

    def to_bytes(self) -> bytes:
        parts = [
            der.encode_int(self.role, "role"),
            der.encode_int(self.status, "status", der.TAG_ENUMERATED),
        ]
        if self.seq_number is not None:
            parts.append(der.encode_int(self.seq_number, "seq_number"))
        if self.cells is not None:
            parts.append(der.constructed((c.to_bytes() for c in self.cells), self.lw, "cells"))
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {
            "role": named(ROLE_NAMES, self.role),
            "status": named(STATUS_NAMES, self.status),
        }
        if self.seq_number is not None:
            out["seq_number"] = self.seq_number
        if self.cells is not None:
            out["cells"] = [cell.to_json() for cell in self.cells]
        return out

    @classmethod
    def read(cls, r: Reader, field: str = "") -> RemotePartyDetails:
        try:
            s, w = der.seq(r, "")
            role = der.read_int(s, "role")
            status = der.read_int(s, "status", der.TAG_ENUMERATED)
            seq_number = der.read_int(s, "seq_number") if der.has(s, der.TAG_INTEGER) else None
            cells = None
            cw = 0
            if der.has(s, der.TAG_SEQUENCE):
                cells, cw = der.read_seq_of(s, "cells", TrustAnchorCellContents.read)
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(
            role=role,
            status=status,
            seq_number=seq_number,
            cells=cells,
            lw=der.pack_widths(("", w), ("cells", cw)) if w or cw else (),
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


# -- CS02c (0x000A) / CS02e (0x000C): SEQUENCE {keyUsage} -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _KeyUsageCommand(Asn1Payload):
    key_usage: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed((der.encode_named_bits(self.key_usage),), self.lw)

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "key_usage": key_usage_names(self.key_usage)}

    @classmethod
    def _read(cls, r: Reader) -> tuple[int, der.Widths]:
        s, w = der.seq(r, "")
        usage = der.read_named_bits(s, "key_usage")
        der.done(s, "")
        return usage, (("", w),) if w else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueSecurityCredentialsCommand(_KeyUsageCommand):
    """CS02c: the device generates a key pair for ``key_usage`` and returns a request."""

    @classmethod
    def read(cls, r: Reader) -> IssueSecurityCredentialsCommand:
        usage, lw = cls._read(r)
        return cls(key_usage=usage, lw=lw)


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
    if der.has(r, der.TAG_SEQUENCE):
        return IssueSecurityCredentialsResponse(request=CertificationRequest.read(r, ""))
    return IssueSecurityCredentialsError.read(r)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideDeviceCertificateCommand(_KeyUsageCommand):
    """CS02e: which of the device's own certificates to return."""

    @classmethod
    def read(cls, r: Reader) -> ProvideDeviceCertificateCommand:
        usage, lw = cls._read(r)
        return cls(key_usage=usage, lw=lw)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideDeviceCertificateResponse(Asn1Payload):
    """CS02e success: the device certificate."""

    certificate: Certificate

    def to_bytes(self) -> bytes:
        return self.certificate.to_bytes()

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "certificate": self.certificate.to_json()}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvideDeviceCertificateError(ResponseCode):
    NAMES: ClassVar[dict[int, str]] = {
        1: "invalidKeyUsage",
        2: "noCertificateHeld",
        3: "certificateRetrievalFailure",
    }


def read_provide_response(r: Reader) -> Asn1Payload:
    if der.has(r, der.TAG_SEQUENCE):
        return ProvideDeviceCertificateResponse(certificate=Certificate.read(r, ""))
    return ProvideDeviceCertificateError.read(r)


# -- CS02d (0x000B): certificate -> INTEGER ----------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateDeviceCertificateCommand(Asn1Payload):
    """CS02d: the device's new certificate."""

    certificate: Certificate

    def to_bytes(self) -> bytes:
        return self.certificate.to_bytes()

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "certificate": self.certificate.to_json()}

    @classmethod
    def read(cls, r: Reader) -> UpdateDeviceCertificateCommand:
        return cls(certificate=Certificate.read(r, ""))


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
