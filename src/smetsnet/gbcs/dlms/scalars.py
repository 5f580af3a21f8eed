"""Typed nodes for the simple A-XDR ``Data`` types (GBCS-PAYLOADS §1.3).

One small frozen class per DLMS type; the tag is a class constant, so a node holds only its value
(and, for length-prefixed types, the width of a non-minimal length so that decode -> encode is
byte-exact; ``None`` means the minimal form). Containers, protected content and the ``Data``
union are in :mod:`.data`; compact arrays (tag 0x13) in :mod:`.compact`.

The decoder (:mod:`.axdr`) builds these nodes without running ``__init__`` (see :func:`fast_node`):
a payload has ~30 of them and the dataclass ``__init__`` of a frozen class costs more than the rest
of the decode. Public construction goes through ``__init__`` and is validated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.dlms import tags
from smetsnet.gbcs.dlms.clock import CosemDateTime
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import MAX_LENGTH_OCTETS, encode_length, minimal_length_width

_T = TypeVar("_T")
_new = object.__new__
_set = object.__setattr__


class DataError(GbcsDecodeError):
    """Internal: a decode failure at ``offset`` *relative to the buffer*, ``field`` relative to
    the Data being read. Containers prefix their index on the way out; the public entry points
    re-raise it as a plain :class:`GbcsDecodeError` with the absolute offset and the full field."""

    def __init__(self, offset: int, field: str, reason: str) -> None:
        super().__init__(offset, field, reason)


def read_length(d: bytes, p: int, end: int, field: str) -> tuple[int, int, int | None]:
    """An A-XDR length at ``d[p]``: ``(value, next position, width if non-minimal else None)``."""
    if p >= end:
        raise DataError(p, field, "needs a length but no bytes remain")
    first = d[p]
    if first < 0x80:
        return first, p + 1, None
    if first == 0x82 and p + 2 < end:  # the usual long form (ciphered data, profiles: ECS22b)
        n = d[p + 1] << 8 | d[p + 2]
        return n, p + 3, (None if n > 0xFF else 3)
    if first == 0x81 and p + 1 < end:
        n = d[p + 1]
        return n, p + 2, (None if n >= 0x80 else 2)
    k = first & 0x7F
    if k == 0 or k > MAX_LENGTH_OCTETS:
        raise DataError(p, field, f"unsupported length form 0x{first:02X}")
    if p + 1 + k > end:
        raise DataError(p, field, f"length needs {k} more byte(s)")
    n = int.from_bytes(d[p + 1 : p + 1 + k], "big")
    return n, p + 1 + k, (None if k + 1 == minimal_length_width(n) else k + 1)


def fast_node(cls: type[_T], **fields: Any) -> _T:
    """Build a frozen node without ``__init__`` (decoder use: the values are already checked)."""
    node = _new(cls)
    for name, value in fields.items():
        _set(node, name, value)
    return node


def length_bytes(n: int, width: int | None) -> bytes:
    return bytes((n,)) if width is None and n < 0x80 else encode_length(n, width)


# -- null, boolean -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Null:
    TAG: ClassVar[int] = tags.NULL

    def to_bytes(self) -> bytes:
        return b"\x00"

    def to_json(self) -> JsonValue:
        return {"type": "null", "value": None}


NULL = Null()


@dataclass(frozen=True, slots=True, kw_only=True)
class Boolean:
    """``octet`` keeps a true value's byte when it is not 0x01 (any non-zero octet is TRUE)."""

    TAG: ClassVar[int] = tags.BOOLEAN
    value: bool
    octet: int | None = None

    def __post_init__(self) -> None:
        if self.octet is not None and (
            not 0 <= self.octet <= 0xFF or bool(self.octet) != self.value
        ):
            raise GbcsEncodeError("boolean", f"octet {self.octet} does not encode {self.value}")

    def to_bytes(self) -> bytes:
        octet = self.octet if self.octet is not None else int(self.value)
        return bytes((tags.BOOLEAN, octet))

    def to_json(self) -> JsonValue:
        return {"type": "boolean", "value": self.value}


# -- fixed-size integers ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Int:
    TAG: ClassVar[int]
    SIZE: ClassVar[int]
    SIGNED: ClassVar[bool]
    value: int

    def __post_init__(self) -> None:
        bits = self.SIZE * 8
        low, high = (
            (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.SIGNED else (0, (1 << bits) - 1)
        )
        if not low <= self.value <= high:
            raise GbcsEncodeError(tags.tag_name(self.TAG), f"{self.value} is outside {low}..{high}")

    def to_bytes(self) -> bytes:
        return bytes((self.TAG,)) + self.value.to_bytes(self.SIZE, "big", signed=self.SIGNED)

    def to_json(self) -> JsonValue:
        return {"type": tags.TAG_NAMES[self.TAG], "value": self.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class DoubleLong(_Int):
    TAG: ClassVar[int] = tags.DOUBLE_LONG
    SIZE: ClassVar[int] = 4
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DoubleLongUnsigned(_Int):
    TAG: ClassVar[int] = tags.DOUBLE_LONG_UNSIGNED
    SIZE: ClassVar[int] = 4
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Bcd(_Int):
    """One byte holding two BCD digits; kept as the raw byte value."""

    TAG: ClassVar[int] = tags.BCD
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Integer(_Int):
    TAG: ClassVar[int] = tags.INTEGER
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Long(_Int):
    TAG: ClassVar[int] = tags.LONG
    SIZE: ClassVar[int] = 2
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsigned(_Int):
    TAG: ClassVar[int] = tags.UNSIGNED
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LongUnsigned(_Int):
    TAG: ClassVar[int] = tags.LONG_UNSIGNED
    SIZE: ClassVar[int] = 2
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Long64(_Int):
    TAG: ClassVar[int] = tags.LONG64
    SIZE: ClassVar[int] = 8
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Long64Unsigned(_Int):
    TAG: ClassVar[int] = tags.LONG64_UNSIGNED
    SIZE: ClassVar[int] = 8
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Enumerated(_Int):
    """DLMS ``enum`` (one unsigned byte)."""

    TAG: ClassVar[int] = tags.ENUM
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = False


INT_CLASSES: dict[int, type[_Int]] = {
    c.TAG: c
    for c in (
        DoubleLong,
        DoubleLongUnsigned,
        Bcd,
        Integer,
        Long,
        Unsigned,
        LongUnsigned,
        Long64,
        Long64Unsigned,
        Enumerated,
    )
}


# -- fixed-size raw types (floats, COSEM date/time) ------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Raw:
    """A fixed-size value kept as its bytes (a float's NaN payload, a date's wildcards survive)."""

    TAG: ClassVar[int]
    SIZE: ClassVar[int]
    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != self.SIZE:
            raise GbcsEncodeError(tags.tag_name(self.TAG), f"needs {self.SIZE} bytes")

    def to_bytes(self) -> bytes:
        return bytes((self.TAG,)) + self.raw

    def to_json(self) -> JsonValue:
        return {"type": tags.TAG_NAMES[self.TAG], "value": self.raw.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Float32(_Raw):
    TAG: ClassVar[int] = tags.FLOAT32
    SIZE: ClassVar[int] = 4

    @property
    def value(self) -> float:
        return float(struct.unpack(">f", self.raw)[0])

    def to_json(self) -> JsonValue:
        return {"type": "float32", "value": self.value, "raw": self.raw.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Float64(_Raw):
    TAG: ClassVar[int] = tags.FLOAT64
    SIZE: ClassVar[int] = 8

    @property
    def value(self) -> float:
        return float(struct.unpack(">d", self.raw)[0])

    def to_json(self) -> JsonValue:
        return {"type": "float64", "value": self.value, "raw": self.raw.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class DateTime(_Raw):
    TAG: ClassVar[int] = tags.DATE_TIME
    SIZE: ClassVar[int] = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Date(_Raw):
    TAG: ClassVar[int] = tags.DATE
    SIZE: ClassVar[int] = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Time(_Raw):
    TAG: ClassVar[int] = tags.TIME
    SIZE: ClassVar[int] = 4


RAW_CLASSES: dict[int, type[_Raw]] = {c.TAG: c for c in (Float32, Float64, DateTime, Date, Time)}


# -- length-prefixed types ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BitString:
    """``bits`` bits, MSB first, in ``ceil(bits / 8)`` bytes (unused low bits kept as sent)."""

    TAG: ClassVar[int] = tags.BIT_STRING
    bits: int
    data: bytes
    width: int | None = None

    def __post_init__(self) -> None:
        if self.bits < 0 or len(self.data) != (self.bits + 7) // 8:
            raise GbcsEncodeError("bit-string", f"{self.bits} bits need {(self.bits + 7) // 8} B")

    def content_bytes(self) -> bytes:
        return length_bytes(self.bits, self.width) + self.data

    def to_bytes(self) -> bytes:
        return b"\x04" + self.content_bytes()

    def to_json(self) -> JsonValue:
        bits = format(int.from_bytes(self.data, "big"), f"0{len(self.data) * 8}b")
        return {"type": "bit-string", "value": bits[: self.bits]}


@dataclass(frozen=True, slots=True, kw_only=True)
class _String:
    TAG: ClassVar[int]
    value: bytes
    width: int | None = None

    def content_bytes(self) -> bytes:
        return length_bytes(len(self.value), self.width) + self.value

    def to_bytes(self) -> bytes:
        return bytes((self.TAG,)) + length_bytes(len(self.value), self.width) + self.value

    def to_json(self) -> JsonValue:
        return {"type": tags.TAG_NAMES[self.TAG], "value": self.value.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class OctetString(_String):
    TAG: ClassVar[int] = tags.OCTET_STRING

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {"type": "octet-string", "value": self.value.hex()}
        if len(self.value) == 12:
            # GBCS carries COSEM date-times as octet-string(12) (§0 "Times"); show them readably.
            out["date_time"] = CosemDateTime.from_bytes(self.value).text()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class VisibleString(_String):
    TAG: ClassVar[int] = tags.VISIBLE_STRING

    @property
    def text(self) -> str:
        return self.value.decode("latin-1")

    def to_json(self) -> JsonValue:
        return {"type": "visible-string", "value": self.text}


@dataclass(frozen=True, slots=True, kw_only=True)
class Utf8String(_String):
    TAG: ClassVar[int] = tags.UTF8_STRING

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", "replace")

    def to_json(self) -> JsonValue:
        return {"type": "utf8-string", "value": self.text, "raw": self.value.hex()}


STRING_CLASSES: dict[int, type[OctetString | VisibleString | Utf8String]] = {
    c.TAG: c for c in (OctetString, VisibleString, Utf8String)
}


__all__ = [
    "INT_CLASSES",
    "NULL",
    "RAW_CLASSES",
    "STRING_CLASSES",
    "Bcd",
    "BitString",
    "Boolean",
    "DataError",
    "Date",
    "DateTime",
    "DoubleLong",
    "DoubleLongUnsigned",
    "Enumerated",
    "Float32",
    "Float64",
    "Integer",
    "Long",
    "Long64",
    "Long64Unsigned",
    "LongUnsigned",
    "Null",
    "OctetString",
    "Time",
    "Unsigned",
    "Utf8String",
    "VisibleString",
    "fast_node",
    "length_bytes",
    "read_length",
]
