"""Firmware: CS06 activate (and its future-dated alert 0x00CA), CS08 read PPMID/HCALCS firmware
version, the CS09 firmware version alert (0x012B) and the CCS08 firmware transfer alert (0x0128).

Layouts: GBCS-PAYLOADS §3; names after [P] ``src/asn1.ts``. RTDS vectors: NA_CCS08, NA_CS09
(no CS06, CS08 or 0x00CA vector).
"""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.schema import Sequence, integer, node, octets, optional, u64
from smetsnet.gbcs.asn1.types import (
    ALERT_CODE,
    Asn1Payload,
    GeneralizedTime,
    NullPayload,
    SequencePayload,
    date_time,
)
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader

ACTIVATION_NAMES = {0: "success", 1: "noImageHeld", 2: "hashMismatch", 3: "activationFailure"}
READ_VERSION_NAMES = {0: "readSuccess", 1: "readFailure"}
ACTIVATE_IMAGE_NAMES = {0: "success", 1: "failure"}
TRANSFER_NAMES = {
    0: "success",
    1: "imageDiscarded",
    2: "hardwareVersionMismatch",
    3: "fileTransferFailure",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivateFirmwareCommand(SequencePayload):
    """CS06: SEQUENCE {manufacturer image hash OCTET STRING(32), originator counter, execution
    date-time OPTIONAL}."""

    image_hash: bytes
    originator_counter: int
    execution_time: GeneralizedTime | None = None
    lw: der.Widths = ()

    PARTS = (
        octets("image_hash", 32),
        u64("originator_counter"),  # what __post_init__ insists on
        optional(date_time("execution_time"), shown=True),
    )

    def __post_init__(self) -> None:
        if len(self.image_hash) != 32:
            raise GbcsEncodeError("image_hash", f"{len(self.image_hash)} octets, expected 32")
        if not 0 <= self.originator_counter < 1 << 64:
            raise GbcsEncodeError("originator_counter", "must be a 64-bit unsigned number")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivationOutcome(Sequence):
    """SEQUENCE {response code, firmware version OCTET STRING}."""

    code: int
    firmware_version: bytes
    lw: der.Widths = ()

    PARTS = (integer("code", ACTIVATION_NAMES), octets("firmware_version"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivateFirmwareResponse(Asn1Payload):
    """CS06: NULL (accepted, future-dated) or the activation outcome (``outcome``)."""

    outcome: ActivationOutcome | None = None

    def to_bytes(self) -> bytes:
        return der.NULL_BYTES if self.outcome is None else self.outcome.to_bytes()

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "outcome": None if self.outcome is None else self.outcome.to_json(),
        }

    @classmethod
    def read(cls, r: Reader) -> ActivateFirmwareResponse:
        if der.has(r, der.TAG_NULL):
            der.read_null(r, "")
            return cls()
        return cls(outcome=ActivationOutcome.read(r, ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivateFirmwareAlert(SequencePayload):
    """0x00CA: SEQUENCE {alert code, execution date-time, originator counter, outcome}."""

    alert_code: int
    execution_time: GeneralizedTime
    originator_counter: int
    outcome: ActivationOutcome
    lw: der.Widths = ()

    PARTS = (
        ALERT_CODE,
        date_time("execution_time"),
        integer("originator_counter"),
        node("outcome", ActivationOutcome),
    )


# -- CS08 (0x0129) and the CS09 alert (0x012B) ----------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFirmwareVersionCommand(NullPayload):
    """CS08 command: NULL."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFirmwareVersionResponse(SequencePayload):
    """CS08: SEQUENCE {firmware version OCTET STRING, response code}."""

    firmware_version: bytes
    code: int
    lw: der.Widths = ()

    PARTS = (octets("firmware_version"), integer("code", READ_VERSION_NAMES))


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareVersionAlert(SequencePayload):
    """0x012B (alert 0x8F8B, CS09 vector): SEQUENCE {alert code, date-time, firmware version,
    activate-image code}."""

    alert_code: int
    time: GeneralizedTime
    firmware_version: bytes
    code: int
    lw: der.Widths = ()

    PARTS = (
        ALERT_CODE,
        date_time("time"),
        octets("firmware_version"),
        integer("code", ACTIVATE_IMAGE_NAMES),
    )


# -- CCS08 (0x0128) --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareTransferAlert(SequencePayload):
    """CCS08 (alert 0x8F8A / 0x8F89): SEQUENCE {alert code, date-time, entity id (8), firmware
    version, response code}."""

    alert_code: int
    time: GeneralizedTime
    entity_id: bytes
    firmware_version: bytes
    code: int
    lw: der.Widths = ()

    PARTS = (
        ALERT_CODE,
        date_time("time"),
        octets("entity_id", 8),
        octets("firmware_version"),
        integer("code", TRANSFER_NAMES),
    )


__all__ = [
    "ActivateFirmwareAlert",
    "ActivateFirmwareCommand",
    "ActivateFirmwareResponse",
    "ActivationOutcome",
    "FirmwareTransferAlert",
    "FirmwareVersionAlert",
    "ReadFirmwareVersionCommand",
    "ReadFirmwareVersionResponse",
]
