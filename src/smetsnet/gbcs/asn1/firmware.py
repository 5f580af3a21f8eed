"""Firmware: CS06 activate (and its future-dated alert 0x00CA), CS08 read PPMID/HCALCS firmware
version, the CS09 firmware version alert (0x012B) and the CCS08 firmware transfer alert (0x0128).

Layouts: GBCS-PAYLOADS §3; names after [P] ``src/asn1.ts``. RTDS vectors: NA_CCS08, NA_CS09
(no CS06, CS08 or 0x00CA vector).
"""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.types import (
    Asn1Payload,
    GeneralizedTime,
    NullPayload,
    alert_json,
    named,
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
class ActivateFirmwareCommand(Asn1Payload):
    """CS06: SEQUENCE {manufacturer image hash OCTET STRING(32), originator counter, execution
    date-time OPTIONAL}."""

    image_hash: bytes
    originator_counter: int
    execution_time: GeneralizedTime | None = None
    lw: der.Widths = ()

    def __post_init__(self) -> None:
        if len(self.image_hash) != 32:
            raise GbcsEncodeError("image_hash", f"{len(self.image_hash)} octets, expected 32")
        if not 0 <= self.originator_counter < 1 << 64:
            raise GbcsEncodeError("originator_counter", "must be a 64-bit unsigned number")

    def to_bytes(self) -> bytes:
        parts = [
            der.encode_octets(self.image_hash, "image_hash", 32),
            der.encode_int(self.originator_counter, "originator_counter"),
        ]
        if self.execution_time is not None:
            parts.append(self.execution_time.to_bytes())
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "image_hash": self.image_hash.hex(),
            "originator_counter": self.originator_counter,
            "execution_time": None
            if self.execution_time is None
            else self.execution_time.to_json(),
        }

    @classmethod
    def read(cls, r: Reader) -> ActivateFirmwareCommand:
        s, w = der.seq(r, "")
        image_hash = der.read_octets(s, "image_hash", 32)
        counter = der.read_int(s, "originator_counter")
        if not 0 <= counter < 1 << 64:
            raise der.mismatch(s, "originator_counter", "not a 64-bit unsigned number")
        when = GeneralizedTime.read(s, "execution_time") if s.pos < s.end else None
        der.done(s, "")
        return cls(
            image_hash=image_hash,
            originator_counter=counter,
            execution_time=when,
            lw=(("", w),) if w else (),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivationOutcome:
    """SEQUENCE {response code, firmware version OCTET STRING}."""

    code: int
    firmware_version: bytes
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_int(self.code, "code"),
                der.encode_octets(self.firmware_version, "firmware_version"),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "code": named(ACTIVATION_NAMES, self.code),
            "firmware_version": self.firmware_version.hex(),
        }

    @classmethod
    def read(cls, r: Reader, field: str = "") -> ActivationOutcome:
        try:
            s, w = der.seq(r, "")
            code = der.read_int(s, "code")
            version = der.read_octets(s, "firmware_version")
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(code=code, firmware_version=version, lw=(("", w),) if w else ())


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
class ActivateFirmwareAlert(Asn1Payload):
    """0x00CA: SEQUENCE {alert code, execution date-time, originator counter, outcome}."""

    alert_code: int
    execution_time: GeneralizedTime
    originator_counter: int
    outcome: ActivationOutcome
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_int(self.alert_code, "alert_code"),
                self.execution_time.to_bytes(),
                der.encode_int(self.originator_counter, "originator_counter"),
                self.outcome.to_bytes(),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "alert": alert_json(self.alert_code),
            "execution_time": self.execution_time.to_json(),
            "originator_counter": self.originator_counter,
            "outcome": self.outcome.to_json(),
        }

    @classmethod
    def read(cls, r: Reader) -> ActivateFirmwareAlert:
        s, w = der.seq(r, "")
        code = der.read_int(s, "alert_code")
        when = GeneralizedTime.read(s, "execution_time")
        counter = der.read_int(s, "originator_counter")
        outcome = ActivationOutcome.read(s, "outcome")
        der.done(s, "")
        return cls(
            alert_code=code,
            execution_time=when,
            originator_counter=counter,
            outcome=outcome,
            lw=(("", w),) if w else (),
        )


# -- CS08 (0x0129) and the CS09 alert (0x012B) ----------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFirmwareVersionCommand(NullPayload):
    """CS08 command: NULL."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFirmwareVersionResponse(Asn1Payload):
    """CS08: SEQUENCE {firmware version OCTET STRING, response code}."""

    firmware_version: bytes
    code: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_octets(self.firmware_version, "firmware_version"),
                der.encode_int(self.code, "code"),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "firmware_version": self.firmware_version.hex(),
            "code": named(READ_VERSION_NAMES, self.code),
        }

    @classmethod
    def read(cls, r: Reader) -> ReadFirmwareVersionResponse:
        s, w = der.seq(r, "")
        version = der.read_octets(s, "firmware_version")
        code = der.read_int(s, "code")
        der.done(s, "")
        return cls(firmware_version=version, code=code, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareVersionAlert(Asn1Payload):
    """0x012B (alert 0x8F8B, CS09 vector): SEQUENCE {alert code, date-time, firmware version,
    activate-image code}."""

    alert_code: int
    time: GeneralizedTime
    firmware_version: bytes
    code: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_int(self.alert_code, "alert_code"),
                self.time.to_bytes(),
                der.encode_octets(self.firmware_version, "firmware_version"),
                der.encode_int(self.code, "code"),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "alert": alert_json(self.alert_code),
            "time": self.time.to_json(),
            "firmware_version": self.firmware_version.hex(),
            "code": named(ACTIVATE_IMAGE_NAMES, self.code),
        }

    @classmethod
    def read(cls, r: Reader) -> FirmwareVersionAlert:
        s, w = der.seq(r, "")
        code = der.read_int(s, "alert_code")
        when = GeneralizedTime.read(s, "time")
        version = der.read_octets(s, "firmware_version")
        result = der.read_int(s, "code")
        der.done(s, "")
        return cls(
            alert_code=code,
            time=when,
            firmware_version=version,
            code=result,
            lw=(("", w),) if w else (),
        )


# -- CCS08 (0x0128) --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareTransferAlert(Asn1Payload):
    """CCS08 (alert 0x8F8A / 0x8F89): SEQUENCE {alert code, date-time, entity id (8), firmware
    version, response code}."""

    alert_code: int
    time: GeneralizedTime
    entity_id: bytes
    firmware_version: bytes
    code: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_int(self.alert_code, "alert_code"),
                self.time.to_bytes(),
                der.encode_octets(self.entity_id, "entity_id", 8),
                der.encode_octets(self.firmware_version, "firmware_version"),
                der.encode_int(self.code, "code"),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "alert": alert_json(self.alert_code),
            "time": self.time.to_json(),
            "entity_id": self.entity_id.hex(),
            "firmware_version": self.firmware_version.hex(),
            "code": named(TRANSFER_NAMES, self.code),
        }

    @classmethod
    def read(cls, r: Reader) -> FirmwareTransferAlert:
        s, w = der.seq(r, "")
        code = der.read_int(s, "alert_code")
        when = GeneralizedTime.read(s, "time")
        entity = der.read_octets(s, "entity_id", 8)
        version = der.read_octets(s, "firmware_version")
        result = der.read_int(s, "code")
        der.done(s, "")
        return cls(
            alert_code=code,
            time=when,
            entity_id=entity,
            firmware_version=version,
            code=result,
            lw=(("", w),) if w else (),
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
