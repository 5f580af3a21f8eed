"""Profile-wide ("general") ZCL commands: attribute reads/writes, Default Response, discovery.

These mean the same in both directions (GBCS-PAYLOADS §2.2). Attribute ids are little-endian;
attribute values are typed by their data type id (:mod:`.zcl_types`). A value of a type whose
size cannot be known (arrays, structures) ends the decode: the rest of the payload is kept as an
explicit unknown node, never guessed.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Final

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.gbz import zcl_types as t
from smetsnet.gbcs.gbz.attributes import attribute_name
from smetsnet.gbcs.payload import JsonValue, unknown_node

# Decoders build nodes with these instead of __init__ (values are valid by construction; a
# message can hold dozens of nodes and the codec's speed budget is a few microseconds each).
_new = object.__new__
_set = object.__setattr__

READ_ATTRIBUTES: Final = 0x00
READ_ATTRIBUTES_RESPONSE: Final = 0x01
WRITE_ATTRIBUTES: Final = 0x02
WRITE_ATTRIBUTES_UNDIVIDED: Final = 0x03
WRITE_ATTRIBUTES_RESPONSE: Final = 0x04
WRITE_ATTRIBUTES_NO_RESPONSE: Final = 0x05
REPORT_ATTRIBUTES: Final = 0x0A
DEFAULT_RESPONSE: Final = 0x0B
DISCOVER_ATTRIBUTES: Final = 0x0C
DISCOVER_ATTRIBUTES_RESPONSE: Final = 0x0D

_WRITE_NAMES: Final = {
    WRITE_ATTRIBUTES: "Write Attributes",
    WRITE_ATTRIBUTES_UNDIVIDED: "Write Attributes Undivided",
    WRITE_ATTRIBUTES_NO_RESPONSE: "Write Attributes No Response",
}


def _trailing_json(out: dict[str, JsonValue], trailing: bytes, why: str) -> dict[str, JsonValue]:
    if trailing:
        out["trailing"] = unknown_node(trailing, why)
    return out


class _Records(ABC):
    """A command that is a run of attribute records, then the bytes left undecoded (a value of a
    type whose size cannot be known ends the decode): Read Attributes Response, Write Attributes,
    Report Attributes."""

    __slots__ = ()
    records: tuple[AttributeStatus | AttributeValue, ...]
    trailing: bytes
    trailing_why: str

    @property
    @abstractmethod
    def name(self) -> str: ...

    def to_bytes(self) -> bytes:
        return b"".join(r.to_bytes() for r in self.records) + self.trailing

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "command": self.name,
            "records": [r.to_json(cluster_id) for r in self.records],
        }
        return _trailing_json(out, self.trailing, self.trailing_why)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadAttributes:
    """0x00: the attribute ids to read, in order."""

    attribute_ids: tuple[int, ...]
    trailing: bytes = b""

    command_id = READ_ATTRIBUTES
    name = "Read Attributes"

    def to_bytes(self) -> bytes:
        ids = self.attribute_ids
        return t.pack(f"<{len(ids)}H", "attribute_ids", *ids) + self.trailing

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "command": self.name,
            "attribute_ids": list(self.attribute_ids),
            "attributes": [attribute_name(cluster_id, a) for a in self.attribute_ids],
        }
        return _trailing_json(out, self.trailing, "odd byte after the attribute ids")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeStatus:
    """One Read Attributes Response record: id, status and, on success, type + value."""

    attribute_id: int
    status: int
    data_type: int | None = None
    value: t.ZclValue = None

    def to_bytes(self) -> bytes:
        head = struct.pack("<HB", self.attribute_id, self.status)
        if self.data_type is None:
            return head
        field = f"attribute 0x{self.attribute_id:04X}"
        return head + bytes((self.data_type,)) + t.write_value(self.data_type, self.value, field)

    def to_json(self, cluster_id: int) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "attribute_id": self.attribute_id,
            "name": attribute_name(cluster_id, self.attribute_id),
            "status": t.status_name(self.status),
        }
        if self.data_type is not None:
            out["data_type"] = t.type_name(self.data_type)
            t.put_json(out, "value", self.data_type, self.value)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadAttributesResponse(_Records):
    """0x01: one record per attribute read."""

    records: tuple[AttributeStatus, ...]
    trailing: bytes = b""
    trailing_why: str = ""

    command_id = READ_ATTRIBUTES_RESPONSE
    name = "Read Attributes Response"

    def __getitem__(self, attribute_id: int) -> AttributeStatus:
        for record in self.records:
            if record.attribute_id == attribute_id:
                return record
        raise KeyError(attribute_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeValue:
    """An attribute id with a typed value (Write Attributes, Report Attributes)."""

    attribute_id: int
    data_type: int
    value: t.ZclValue

    def to_bytes(self) -> bytes:
        field = f"attribute 0x{self.attribute_id:04X}"
        value = t.write_value(self.data_type, self.value, field)
        return struct.pack("<HB", self.attribute_id, self.data_type) + value

    def to_json(self, cluster_id: int) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "attribute_id": self.attribute_id,
            "name": attribute_name(cluster_id, self.attribute_id),
            "data_type": t.type_name(self.data_type),
        }
        t.put_json(out, "value", self.data_type, self.value)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteAttributes(_Records):
    """0x02 Write Attributes, 0x03 ... Undivided, 0x05 ... No Response (same layout)."""

    records: tuple[AttributeValue, ...]
    command_id: int = WRITE_ATTRIBUTES
    trailing: bytes = b""
    trailing_why: str = ""

    def __post_init__(self) -> None:
        if self.command_id not in _WRITE_NAMES:
            raise GbcsEncodeError("command_id", f"0x{self.command_id:02X} is not a write")

    @property
    def name(self) -> str:
        return _WRITE_NAMES[self.command_id]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportAttributes(_Records):
    """0x0A: attribute reports (id, type, value)."""

    records: tuple[AttributeValue, ...]
    trailing: bytes = b""
    trailing_why: str = ""

    command_id = REPORT_ATTRIBUTES
    name = "Report Attributes"


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteStatus:
    """One Write Attributes Response record; the id is absent for a lone success status."""

    status: int
    attribute_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteAttributesResponse:
    """0x04: a single 0x00 when every write succeeded, else (status, attribute id) records."""

    records: tuple[WriteStatus, ...]

    command_id = WRITE_ATTRIBUTES_RESPONSE
    name = "Write Attributes Response"

    def to_bytes(self) -> bytes:
        parts = [bytes((r.status,)) for r in self.records]
        for i, r in enumerate(self.records):
            if r.attribute_id is not None:
                parts[i] += struct.pack("<H", r.attribute_id)
        return b"".join(parts)

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        records: list[JsonValue] = [
            {"status": t.status_name(r.status), "attribute_id": r.attribute_id}
            for r in self.records
        ]
        return {"command": self.name, "records": records}


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultResponse:
    """0x0B: the command id answered and a ZCL status."""

    command_id_answered: int
    status: int

    command_id = DEFAULT_RESPONSE
    name = "Default Response"

    def to_bytes(self) -> bytes:
        return t.pack("BB", "default_response", self.command_id_answered, self.status)

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        return {
            "command": self.name,
            "command_id": self.command_id_answered,
            "status": t.status_name(self.status),
            "status_code": self.status,
        }


def make_default_response(command_id_answered: int, status: int) -> DefaultResponse:
    """Decoder's constructor (no __init__ call)."""
    response = _new(DefaultResponse)
    _set(response, "command_id_answered", command_id_answered)
    _set(response, "status", status)
    return response


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoverAttributes:
    """0x0C: start attribute id and how many to list."""

    start_attribute_id: int
    max_attribute_ids: int

    command_id = DISCOVER_ATTRIBUTES
    name = "Discover Attributes"

    def to_bytes(self) -> bytes:
        return t.pack("<HB", "discover_attributes", self.start_attribute_id, self.max_attribute_ids)

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        return {
            "command": self.name,
            "start_attribute_id": self.start_attribute_id,
            "max_attribute_ids": self.max_attribute_ids,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoverAttributesResponse:
    """0x0D: discovery complete flag, then (attribute id, data type) pairs."""

    complete: int
    attributes: tuple[tuple[int, int], ...]

    command_id = DISCOVER_ATTRIBUTES_RESPONSE
    name = "Discover Attributes Response"

    def to_bytes(self) -> bytes:
        body = b"".join(struct.pack("<HB", a, d) for a, d in self.attributes)
        return bytes((self.complete,)) + body

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        attributes: list[JsonValue] = [
            {"attribute_id": a, "data_type": t.type_name(d)} for a, d in self.attributes
        ]
        return {"command": self.name, "complete": self.complete, "attributes": attributes}


GeneralCommand = (
    ReadAttributes
    | ReadAttributesResponse
    | WriteAttributes
    | ReportAttributes
    | WriteAttributesResponse
    | DefaultResponse
    | DiscoverAttributes
    | DiscoverAttributesResponse
)

#: Direction a general command normally travels (True = server -> client); None: either.
USUAL_DIRECTION: Final[dict[int, bool | None]] = {
    READ_ATTRIBUTES: False,
    READ_ATTRIBUTES_RESPONSE: True,
    WRITE_ATTRIBUTES: False,
    WRITE_ATTRIBUTES_UNDIVIDED: False,
    WRITE_ATTRIBUTES_NO_RESPONSE: False,
    WRITE_ATTRIBUTES_RESPONSE: True,
    REPORT_ATTRIBUTES: True,
    DEFAULT_RESPONSE: None,
    DISCOVER_ATTRIBUTES: False,
    DISCOVER_ATTRIBUTES_RESPONSE: True,
}


# -- decode ----------------------------------------------------------------------------------
def decode_general(
    command_id: int, data: bytes, pos: int, end: int, base: int, where: str
) -> GeneralCommand | None:
    """Decode a general command's payload ``data[pos:end]``; None for an unknown command id."""
    if command_id == READ_ATTRIBUTES_RESPONSE:
        return _read_response(data, pos, end, base, where)
    if command_id == READ_ATTRIBUTES:
        count = (end - pos) // 2
        ids = struct.unpack_from(f"<{count}H", data, pos)
        attributes = _new(ReadAttributes)
        _set(attributes, "attribute_ids", ids)
        _set(attributes, "trailing", data[pos + 2 * count : end])
        return attributes
    if command_id == DEFAULT_RESPONSE:
        if end - pos < 2:
            raise GbcsDecodeError(base + pos, where + ".status", "Default Response needs 2 bytes")
        if end - pos > 2:
            raise GbcsDecodeError(base + pos + 2, where, "bytes after the Default Response")
        return make_default_response(data[pos], data[pos + 1])
    if command_id in _WRITE_NAMES or command_id == REPORT_ATTRIBUTES:
        records, pos, why = _attribute_values(data, pos, end, base, where)
        trailing = data[pos:end]
        if command_id == REPORT_ATTRIBUTES:
            return ReportAttributes(records=records, trailing=trailing, trailing_why=why)
        return WriteAttributes(
            records=records, command_id=command_id, trailing=trailing, trailing_why=why
        )
    if command_id == WRITE_ATTRIBUTES_RESPONSE:
        return _write_response(data, pos, end, base, where)
    if command_id == DISCOVER_ATTRIBUTES:
        if end - pos != 3:
            raise GbcsDecodeError(base + pos, where, "Discover Attributes needs 3 bytes")
        start, most = struct.unpack_from("<HB", data, pos)
        return DiscoverAttributes(start_attribute_id=start, max_attribute_ids=most)
    if command_id == DISCOVER_ATTRIBUTES_RESPONSE:
        if end - pos < 1 or (end - pos - 1) % 3:
            raise GbcsDecodeError(base + pos, where, "bad Discover Attributes Response length")
        pairs = tuple(struct.iter_unpack("<HB", data[pos + 1 : end]))
        return DiscoverAttributesResponse(complete=data[pos], attributes=pairs)
    return None


_FIXED = t.FIXED


def _status(
    attribute_id: int, status: int, data_type: int | None, value: t.ZclValue
) -> AttributeStatus:
    """Decoder's constructor: no __init__ call (a record per attribute read adds up)."""
    record = _new(AttributeStatus)
    _set(record, "attribute_id", attribute_id)
    _set(record, "status", status)
    _set(record, "data_type", data_type)
    _set(record, "value", value)
    return record


def _read_response(
    data: bytes, pos: int, end: int, base: int, where: str
) -> ReadAttributesResponse:
    records: list[AttributeStatus] = []
    why = ""
    while pos < end:
        if pos + 3 > end:
            raise GbcsDecodeError(base + pos, f"{where}.records[{len(records)}]", "truncated")
        attribute_id = data[pos] | data[pos + 1] << 8
        status = data[pos + 2]
        if status:
            records.append(_status(attribute_id, status, None, None))
            pos += 3
            continue
        if pos + 4 > end:
            raise GbcsDecodeError(base + pos + 3, f"{where}.records[{len(records)}]", "no type")
        data_type = data[pos + 3]
        pos += 4
        info = _FIXED.get(data_type)
        if info is not None and pos + info[0] <= end:  # the common case, inline
            size = info[0]
            value: t.ZclValue = int.from_bytes(data[pos : pos + size], "little", signed=info[1])
            pos += size
        else:
            got = t.read_value(data, pos, end, data_type)
            if isinstance(got, str):
                if not t.is_supported(data_type):
                    why = got  # size unknowable: keep the rest (from the record), undecoded
                    pos -= 4
                    break
                raise GbcsDecodeError(base + pos, f"{where}.records[{len(records)}].value", got)
            value, pos = got
        records.append(_status(attribute_id, 0, data_type, value))
    return ReadAttributesResponse(records=tuple(records), trailing=data[pos:end], trailing_why=why)


def _attribute_values(
    data: bytes, pos: int, end: int, base: int, where: str
) -> tuple[tuple[AttributeValue, ...], int, str]:
    records: list[AttributeValue] = []
    while pos < end:
        if pos + 3 > end:
            raise GbcsDecodeError(base + pos, f"{where}.records[{len(records)}]", "truncated")
        attribute_id, data_type = struct.unpack_from("<HB", data, pos)
        got = t.read_value(data, pos + 3, end, data_type)
        if isinstance(got, str):
            if not t.is_supported(data_type):
                return tuple(records), pos, got
            raise GbcsDecodeError(base + pos + 3, f"{where}.records[{len(records)}].value", got)
        value, pos = got
        records.append(AttributeValue(attribute_id=attribute_id, data_type=data_type, value=value))
    return tuple(records), pos, ""


def _write_response(
    data: bytes, pos: int, end: int, base: int, where: str
) -> WriteAttributesResponse:
    records: list[WriteStatus] = []
    while pos < end:
        status = data[pos]
        if status == 0:
            records.append(WriteStatus(status=0))
            pos += 1
            continue
        if pos + 3 > end:
            raise GbcsDecodeError(base + pos, f"{where}.records[{len(records)}]", "truncated")
        attribute_id = data[pos + 1] | data[pos + 2] << 8
        records.append(WriteStatus(status=status, attribute_id=attribute_id))
        pos += 3
    return WriteAttributesResponse(records=tuple(records))
