"""Joining and the device logs: CS03 join, CS04 unjoin, CS07 read join details, GCS59 restore
and GCS62 back up the GPF device log.

Layouts: GBCS-PAYLOADS §3; names after [P] ``src/asn1.ts``. RTDS vectors: 8.7.1_CS03A1,
8.7.1_CS03CCritical, 8.7.2_CS03A2NonCritical, 8.7.2_CS03CNonCritical, 8.8.1_CS04ACCritical,
8.8.2_CS04B, 8.9_CS07, NA_GCS62 (no GCS59 vector).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.certificate import Certificate
from smetsnet.gbcs.asn1.types import (
    DEVICE_TYPE_NAMES,
    Asn1Payload,
    DeviceLogEntry,
    GeneralizedTime,
    NullPayload,
    ResponseCode,
    alert_json,
    named,
    read_entries,
)
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


class JoinMethod(IntEnum):
    """Join method and role (CS03A1/A2 = method A, CS03B, CS03C)."""

    METHOD_A_INITIATOR = 0
    METHOD_A_RESPONDER = 1
    METHOD_B = 2
    METHOD_C = 3


JOIN_METHOD_NAMES = {0: "methodAInitiator", 1: "methodAResponder", 2: "methodB", 3: "methodC"}

JOIN_RESPONSE_NAMES = {
    0: "success",
    1: "invalidMessageCodeForJoinMethodAndRole",
    2: "invalidJoinMethodAndRole",
    3: "incompatibleWithExistingEntry",
    4: "deviceLogFull",
    5: "writeFailure",
    6: "keyAgreementNoResources",
    7: "keyAgreementUnknownIssuer",
    8: "keyAgreementUnsupportedSuite",
    9: "keyAgreementBadMessage",
    10: "keyAgreementBadKeyConfirm",
    11: "invalidOrMissingCertificate",
    12: "noPartnerLinkKeyReceived",
    13: "noCbkeResponse",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinCommand(Asn1Payload):
    """CS03: SEQUENCE {method and role, partner id (8), partner DeviceType, partner KA
    certificate OPTIONAL (method C)}."""

    method: int
    partner_id: bytes
    partner_type: int
    partner_certificate: Certificate | None = None
    lw: der.Widths = ()

    def __post_init__(self) -> None:
        if len(self.partner_id) != 8:
            raise GbcsEncodeError("partner_id", f"{len(self.partner_id)} octets, expected 8")

    def to_bytes(self) -> bytes:
        parts = [
            der.encode_int(self.method, "method"),
            der.encode_octets(self.partner_id, "partner_id", 8),
            der.encode_int(self.partner_type, "partner_type"),
        ]
        if self.partner_certificate is not None:
            parts.append(self.partner_certificate.to_bytes())
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {
            "schema": type(self).__name__,
            "method": named(JOIN_METHOD_NAMES, self.method),
            "partner_id": self.partner_id.hex(),
            "partner_type": named(DEVICE_TYPE_NAMES, self.partner_type),
        }
        if self.partner_certificate is not None:
            out["partner_certificate"] = self.partner_certificate.to_json()
        return out

    @classmethod
    def read(cls, r: Reader) -> JoinCommand:
        s, w = der.seq(r, "")
        method = der.read_int(s, "method")
        partner = der.read_octets(s, "partner_id", 8)
        kind = der.read_int(s, "partner_type")
        cert = Certificate.read(s, "partner_certificate") if s.pos < s.end else None
        der.done(s, "")
        return cls(
            method=method,
            partner_id=partner,
            partner_type=kind,
            partner_certificate=cert,
            lw=(("", w),) if w else (),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinResponse(ResponseCode):
    NAMES: ClassVar[dict[int, str]] = JOIN_RESPONSE_NAMES


@dataclass(frozen=True, slots=True, kw_only=True)
class UnjoinCommand(Asn1Payload):
    """CS04: the partner's entity id, a bare OCTET STRING(8)."""

    partner_id: bytes

    def __post_init__(self) -> None:
        if len(self.partner_id) != 8:
            raise GbcsEncodeError("partner_id", f"{len(self.partner_id)} octets, expected 8")

    def to_bytes(self) -> bytes:
        return der.encode_octets(self.partner_id, "partner_id", 8)

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "partner_id": self.partner_id.hex()}

    @classmethod
    def read(cls, r: Reader) -> UnjoinCommand:
        return cls(partner_id=der.read_octets(r, "partner_id", 8))


@dataclass(frozen=True, slots=True, kw_only=True)
class UnjoinResponse(ResponseCode):
    NAMES: ClassVar[dict[int, str]] = {0: "success", 1: "notInDeviceLog", 2: "otherFailure"}


# -- CS07 (0x0013) ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDeviceJoinDetailsCommand(NullPayload):
    """CS07 command: NULL."""


READ_JOIN_DETAILS_NAMES = {0: "success", 1: "readFailure"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDeviceJoinDetailsResponse(Asn1Payload):
    """CS07: SEQUENCE {response code, SEQUENCE OF DeviceLogEntry OPTIONAL}."""

    code: int
    entries: tuple[DeviceLogEntry, ...] | None = None
    lw: der.Widths = ()  # "" and "entries"

    def to_bytes(self) -> bytes:
        parts = [der.encode_int(self.code, "code")]
        if self.entries is not None:
            parts.append(der.constructed((e.to_bytes() for e in self.entries), self.lw, "entries"))
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "code": named(READ_JOIN_DETAILS_NAMES, self.code),
            "entries": None if self.entries is None else [e.to_json() for e in self.entries],
        }

    @classmethod
    def read(cls, r: Reader) -> ReadDeviceJoinDetailsResponse:
        s, w = der.seq(r, "")
        code = der.read_int(s, "code")
        entries = None
        ew = 0
        if s.pos < s.end:
            entries, ew = read_entries(s, "entries")
        der.done(s, "")
        return cls(code=code, entries=entries, lw=der.pack_widths(("", w), ("entries", ew)))


# -- GCS59 (0x008C) restore, GCS62 (0x00B2) backup alert -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreGpfDeviceLogCommand(Asn1Payload):
    """GCS59: SEQUENCE {SEQUENCE OF DeviceLogEntry}."""

    entries: tuple[DeviceLogEntry, ...]
    lw: der.Widths = ()  # "" and "entries"

    def to_bytes(self) -> bytes:
        entries = der.constructed((e.to_bytes() for e in self.entries), self.lw, "entries")
        return der.constructed((entries,), self.lw)

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "entries": [e.to_json() for e in self.entries]}

    @classmethod
    def read(cls, r: Reader) -> RestoreGpfDeviceLogCommand:
        s, w = der.seq(r, "")
        entries, ew = read_entries(s, "entries")
        der.done(s, "")
        return cls(entries=entries, lw=der.pack_widths(("", w), ("entries", ew)))


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreOutcome:
    """SEQUENCE {DeviceLogEntry, join response code}."""

    entry: DeviceLogEntry
    code: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed((self.entry.to_bytes(), der.encode_int(self.code, "code")), self.lw)

    def to_json(self) -> JsonValue:
        return {"entry": self.entry.to_json(), "code": named(JOIN_RESPONSE_NAMES, self.code)}

    @classmethod
    def read(cls, r: Reader, field: str = "") -> RestoreOutcome:
        try:
            s, w = der.seq(r, "")
            entry = DeviceLogEntry.read(s, "entry")
            code = der.read_int(s, "code")
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(entry=entry, code=code, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreGpfDeviceLogResponse(Asn1Payload):
    """GCS59: SEQUENCE {SEQUENCE OF RestoreOutcome}."""

    outcomes: tuple[RestoreOutcome, ...]
    lw: der.Widths = ()  # "" and "outcomes"

    def to_bytes(self) -> bytes:
        outcomes = der.constructed((o.to_bytes() for o in self.outcomes), self.lw, "outcomes")
        return der.constructed((outcomes,), self.lw)

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "outcomes": [o.to_json() for o in self.outcomes]}

    @classmethod
    def read(cls, r: Reader) -> RestoreGpfDeviceLogResponse:
        s, w = der.seq(r, "")
        outcomes, ow = der.read_seq_of(s, "outcomes", RestoreOutcome.read)
        der.done(s, "")
        return cls(outcomes=outcomes, lw=der.pack_widths(("", w), ("outcomes", ow)))


@dataclass(frozen=True, slots=True, kw_only=True)
class GpfDeviceLogBackupAlert(Asn1Payload):
    """GCS62 (alert 0x8071): SEQUENCE {alert code, backup date-time, SEQUENCE OF DeviceLogEntry}."""

    alert_code: int
    backup_time: GeneralizedTime
    entries: tuple[DeviceLogEntry, ...]
    lw: der.Widths = ()  # "" and "entries"

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_int(self.alert_code, "alert_code"),
                self.backup_time.to_bytes(),
                der.constructed((e.to_bytes() for e in self.entries), self.lw, "entries"),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "alert": alert_json(self.alert_code),
            "backup_time": self.backup_time.to_json(),
            "entries": [e.to_json() for e in self.entries],
        }

    @classmethod
    def read(cls, r: Reader) -> GpfDeviceLogBackupAlert:
        s, w = der.seq(r, "")
        code = der.read_int(s, "alert_code")
        when = GeneralizedTime.read(s, "backup_time")
        entries, ew = read_entries(s, "entries")
        der.done(s, "")
        return cls(
            alert_code=code,
            backup_time=when,
            entries=entries,
            lw=der.pack_widths(("", w), ("entries", ew)),
        )


__all__ = [
    "JOIN_METHOD_NAMES",
    "JOIN_RESPONSE_NAMES",
    "GpfDeviceLogBackupAlert",
    "JoinCommand",
    "JoinMethod",
    "JoinResponse",
    "ReadDeviceJoinDetailsCommand",
    "ReadDeviceJoinDetailsResponse",
    "RestoreGpfDeviceLogCommand",
    "RestoreGpfDeviceLogResponse",
    "RestoreOutcome",
    "UnjoinCommand",
    "UnjoinResponse",
]
