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
from smetsnet.gbcs.asn1.schema import Sequence, integer, node, octets, optional, seq_of
from smetsnet.gbcs.asn1.types import (
    ALERT_CODE,
    DEVICE_TYPE_NAMES,
    Asn1Payload,
    DeviceLogEntry,
    GeneralizedTime,
    NullPayload,
    ResponseCode,
    SequencePayload,
    date_time,
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
class JoinCommand(SequencePayload):
    """CS03: SEQUENCE {method and role, partner id (8), partner DeviceType, partner KA
    certificate OPTIONAL (method C)}."""

    method: int
    partner_id: bytes
    partner_type: int
    partner_certificate: Certificate | None = None
    lw: der.Widths = ()

    PARTS = (
        integer("method", JOIN_METHOD_NAMES),
        octets("partner_id", 8),
        integer("partner_type", DEVICE_TYPE_NAMES),
        optional(node("partner_certificate", Certificate)),
    )

    def __post_init__(self) -> None:
        if len(self.partner_id) != 8:
            raise GbcsEncodeError("partner_id", f"{len(self.partner_id)} octets, expected 8")


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

#: SEQUENCE OF DeviceLogEntry.
ENTRIES = seq_of(node("entries", DeviceLogEntry))


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadDeviceJoinDetailsResponse(SequencePayload):
    """CS07: SEQUENCE {response code, SEQUENCE OF DeviceLogEntry OPTIONAL}."""

    code: int
    entries: tuple[DeviceLogEntry, ...] | None = None
    lw: der.Widths = ()  # "" and "entries"

    PARTS = (integer("code", READ_JOIN_DETAILS_NAMES), optional(ENTRIES, shown=True))


# -- GCS59 (0x008C) restore, GCS62 (0x00B2) backup alert -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreGpfDeviceLogCommand(SequencePayload):
    """GCS59: SEQUENCE {SEQUENCE OF DeviceLogEntry}."""

    entries: tuple[DeviceLogEntry, ...]
    lw: der.Widths = ()  # "" and "entries"

    PARTS = (ENTRIES,)


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreOutcome(Sequence):
    """SEQUENCE {DeviceLogEntry, join response code}."""

    entry: DeviceLogEntry
    code: int
    lw: der.Widths = ()

    PARTS = (node("entry", DeviceLogEntry), integer("code", JOIN_RESPONSE_NAMES))


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreGpfDeviceLogResponse(SequencePayload):
    """GCS59: SEQUENCE {SEQUENCE OF RestoreOutcome}."""

    outcomes: tuple[RestoreOutcome, ...]
    lw: der.Widths = ()  # "" and "outcomes"

    PARTS = (seq_of(node("outcomes", RestoreOutcome)),)


@dataclass(frozen=True, slots=True, kw_only=True)
class GpfDeviceLogBackupAlert(SequencePayload):
    """GCS62 (alert 0x8071): SEQUENCE {alert code, backup date-time, SEQUENCE OF DeviceLogEntry}."""

    alert_code: int
    backup_time: GeneralizedTime
    entries: tuple[DeviceLogEntry, ...]
    lw: der.Widths = ()  # "" and "entries"

    PARTS = (ALERT_CODE, date_time("backup_time"), ENTRIES)


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
