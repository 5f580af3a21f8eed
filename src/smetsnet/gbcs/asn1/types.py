"""Types shared by the GBCS ASN.1 payloads (GBCS-PAYLOADS §3 "Shared types"; DOMAIN §2.3).

Enumerated values (roles, device types, status codes...) are kept as plain ``int`` in the decoded
nodes, so that a value a newer device sends still round-trips; the ``IntEnum``s below are for
building, and the name tables give the ASN.1 identifiers shown in JSON (an unnamed value is shown
as its number).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import IntEnum, IntFlag
from typing import ClassVar, Final, Self

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.schema import Part, Sequence, integer, node, octets, optional
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


class Asn1Payload(ABC):
    """Root of every decoded ASN.1 payload: a typed schema node or a generic DER tree."""

    __slots__ = ()

    @abstractmethod
    def to_bytes(self) -> bytes: ...

    @abstractmethod
    def to_json(self) -> JsonValue: ...


class SequencePayload(Sequence, Asn1Payload):
    """A payload that is one typed SEQUENCE (:mod:`.schema`); its JSON names its schema first."""

    __slots__ = ()

    def to_json(self) -> JsonValue:
        return self.put_json({"schema": type(self).__name__})


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseCode(Asn1Payload):
    """A payload that is one INTEGER response code (CS02c/d/e errors, CS03, CS04)."""

    code: int
    NAMES: ClassVar[dict[int, str]] = {}

    def to_bytes(self) -> bytes:
        return der.encode_int(self.code, "code")

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__, "code": named(self.NAMES, self.code)}

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(code=der.read_int(r, "code"))


@dataclass(frozen=True, slots=True, kw_only=True)
class NullPayload(Asn1Payload):
    """A payload that is one NULL (``05 00``: CS07 and CS08 commands)."""

    def to_bytes(self) -> bytes:
        return der.NULL_BYTES

    def to_json(self) -> JsonValue:
        return {"schema": type(self).__name__}

    @classmethod
    def read(cls, r: Reader) -> Self:
        der.read_null(r, "")
        return cls()


def named(table: dict[int, str], value: int) -> JsonValue:
    """The ASN.1 identifier of ``value``, or the number itself when the table has none."""
    return table.get(value, value)


class Role(IntEnum):
    """RemotePartyRole."""

    ROOT = 0
    RECOVERY = 1
    SUPPLIER = 2
    NETWORK_OPERATOR = 3
    ACCESS_CONTROL_BROKER = 4
    TRANSITIONAL_COS = 5
    WAN_PROVIDER = 6
    ISSUING_AUTHORITY = 7
    # Not in the published role list; inferred from the CS02g (0x0126) vectors, whose replaced
    # cells are role 8 and whose existing ids are the load controller's (…30010008).
    LOAD_CONTROLLER = 8
    OTHER = 127


ROLE_NAMES = {
    0: "root",
    1: "recovery",
    2: "supplier",
    3: "networkOperator",
    4: "accessControlBroker",
    5: "transitionalCoS",
    6: "wanProvider",
    7: "issuingAuthority",
    8: "loadController",
    127: "other",
}


class KeyUsage(IntFlag):
    """X.509 KeyUsage named bits (bit ``n`` is ``1 << n``); GBCS uses bits 0, 4, 5 and 6."""

    DIGITAL_SIGNATURE = 1 << 0
    NON_REPUDIATION = 1 << 1
    KEY_ENCIPHERMENT = 1 << 2
    DATA_ENCIPHERMENT = 1 << 3
    KEY_AGREEMENT = 1 << 4
    KEY_CERT_SIGN = 1 << 5
    CRL_SIGN = 1 << 6
    ENCIPHER_ONLY = 1 << 7
    DECIPHER_ONLY = 1 << 8


_KEY_USAGE_BIT_NAMES = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
)


def key_usage_names(mask: int) -> list[JsonValue]:
    """Names of the bits set in ``mask`` (bit numbers beyond the named ones as ``"bitN"``)."""
    out: list[JsonValue] = []
    bit = 0
    while mask >> bit:
        if mask >> bit & 1:
            out.append(_KEY_USAGE_BIT_NAMES[bit] if bit < 9 else f"bit{bit}")
        bit += 1
    return out


class CellUsage(IntEnum):
    MANAGEMENT = 0  # the DEFAULT: normally omitted on the wire
    PREPAYMENT_TOP_UP = 1


CELL_USAGE_NAMES = {0: "management", 1: "prePaymentTopUp"}


class DeviceType(IntEnum):
    GSME = 0
    ESME = 1
    CHF = 2
    GPF = 3
    HCALCS = 4
    PPMID = 5
    TYPE2 = 6


DEVICE_TYPE_NAMES = {0: "GSME", 1: "ESME", 2: "CHF", 3: "GPF", 4: "HCALCS", 5: "PPMID", 6: "type2"}


class StatusCode(IntEnum):
    """ENUMERATED status of a trust anchor cell (CS02a and CS02b responses)."""

    SUCCESS = 0
    BAD_CERTIFICATE = 5
    NO_TRUST_ANCHOR = 10
    INSUFFICIENT_MEMORY = 17
    TRUST_ANCHOR_NOT_FOUND = 25
    RESOURCES_BUSY = 30
    OTHER = 127


STATUS_NAMES = {
    0: "success",
    5: "badCertificate",
    10: "noTrustAnchor",
    17: "insufficientMemory",
    25: "trustAnchorNotFound",
    30: "resourcesBusy",
    127: "other",
}

#: Alert codes carried inside ASN.1 alerts (names after [P] util.ts alertCodes).
ALERT_NAMES = {
    0x8071: "gpfDeviceLogChanged",
    0x8F66: "futureDatedCommandSuccessfullyActioned",
    0x8F67: "futureDatedCommandNotSuccessfullyActioned",
    0x8F89: "firmwareTransferFailure",
    0x8F8A: "firmwareTransferSuccess",
    0x8F8B: "readFirmwareVersion",
}


def alert_json(code: int) -> JsonValue:
    return {"code": f"{code:04X}", "name": ALERT_NAMES.get(code)}


#: The alert code that opens every ASN.1 alert, shown in JSON as ``"alert": {code, name}``.
ALERT_CODE: Final = replace(integer("alert_code"), key="alert", show=alert_json)

#: A KeyUsage BIT STRING, shown as the names of its bits.
KEY_USAGE: Final = Part(
    name="key_usage",
    read=der.read_named_bits,
    write=lambda mask, field: der.encode_named_bits(mask),
    show=key_usage_names,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneralizedTime:
    """GeneralizedTime as GBCS writes it: ``YYYYMMDDHHMMSSZ`` (``99991231235959Z`` = never)."""

    text: str

    @classmethod
    def from_datetime(cls, when: datetime) -> GeneralizedTime:
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
        return cls(text=when.strftime("%Y%m%d%H%M%SZ"))

    def to_datetime(self) -> datetime:
        return datetime.strptime(self.text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)

    def to_bytes(self) -> bytes:
        return der.encode_time_text(self.text, "generalized_time")

    def to_json(self) -> JsonValue:
        t = self.text
        return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"

    @classmethod
    def read(cls, r: Reader, field: str = "") -> GeneralizedTime:
        return cls(text=der.read_time_text(r, field))


def date_time(name: str) -> Part:
    """A GeneralizedTime element."""
    return node(name, GeneralizedTime)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchorCellId(Sequence):
    """TrustAnchorCellIdentifier ::= SEQUENCE {role, keyUsage, cellUsage DEFAULT management}.

    ``cell_usage`` None = omitted (management); 0 written explicitly is kept as such. Implicitly
    tagged ``[2]`` (``A2``) as the authorising cell of a CS02b command: ``read``/``to_bytes`` take
    the tag.
    """

    role: int
    key_usage: int
    cell_usage: int | None = None
    lw: der.Widths = ()

    PARTS = (
        integer("role", ROLE_NAMES),
        KEY_USAGE,
        optional(integer("cell_usage", CELL_USAGE_NAMES)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceLogEntry(Sequence):
    """DeviceLogEntry ::= SEQUENCE {device id OCTET STRING(8), DeviceType} (CS07, GCS59, GCS62)."""

    device_id: bytes
    device_type: int
    lw: der.Widths = ()

    PARTS = (octets("device_id", 8), integer("device_type", DEVICE_TYPE_NAMES))


__all__ = [
    "ALERT_CODE",
    "ALERT_NAMES",
    "CELL_USAGE_NAMES",
    "DEVICE_TYPE_NAMES",
    "KEY_USAGE",
    "ROLE_NAMES",
    "STATUS_NAMES",
    "Asn1Payload",
    "CellUsage",
    "DeviceLogEntry",
    "DeviceType",
    "GeneralizedTime",
    "KeyUsage",
    "NullPayload",
    "ResponseCode",
    "Role",
    "SequencePayload",
    "StatusCode",
    "TrustAnchorCellId",
    "alert_json",
    "date_time",
    "key_usage_names",
    "named",
]
