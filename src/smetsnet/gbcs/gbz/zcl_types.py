"""ZCL data types: read and write one value by its data type id, and show it in JSON.

ZigBee Cluster Library values are little-endian (GBCS-PAYLOADS §2.2). Numbers of every width
(integers, enumerations, bitmaps, UTC times, dates, IEEE addresses, even floats, kept as their raw
bits so that a re-encode is byte-exact) are held as Python ``int``; strings as ``bytes`` (``None``
for the ZCL "invalid" string, length 0xFF/0xFFFF with no octets).

Character strings show as text when printable ASCII, else as ``{"hex": ...}``.

Times: a ZCL ``UTCTime`` (0xE2) counts seconds since 2000-01-01 00:00:00 UTC; JSON shows the
integer and, beside it, an ISO 8601 string (key ``<name>_iso``).
"""

from __future__ import annotations

import datetime
import struct
from typing import Final

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.payload import JsonValue

# -- data type ids (ZCL table 2-10; those GBCS uses are listed in GBCS-PAYLOADS §2.2) ----------
NODATA: Final = 0x00
BOOL: Final = 0x10
MAP8: Final = 0x18
MAP16: Final = 0x19
MAP32: Final = 0x1B
U8: Final = 0x20
U16: Final = 0x21
U24: Final = 0x22
U32: Final = 0x23
U48: Final = 0x25
U64: Final = 0x27
I8: Final = 0x28
I16: Final = 0x29
I24: Final = 0x2A
I32: Final = 0x2B
I48: Final = 0x2D
ENUM8: Final = 0x30
ENUM16: Final = 0x31
SEMI: Final = 0x38
SINGLE: Final = 0x39
DOUBLE: Final = 0x3A
OCTSTR: Final = 0x41
CHARSTR: Final = 0x42
LONG_OCTSTR: Final = 0x43
LONG_CHARSTR: Final = 0x44
TIME_OF_DAY: Final = 0xE0
DATE: Final = 0xE1
UTC: Final = 0xE2
CLUSTER_ID: Final = 0xE8
ATTRIBUTE_ID: Final = 0xE9
BACNET_OID: Final = 0xEA
IEEE_ADDRESS: Final = 0xF0
SECURITY_KEY: Final = 0xF1

#: Seconds between 1970-01-01 and 2000-01-01 (the ZigBee and GBCS epoch).
EPOCH_2000: Final = 946_684_800


def _fixed_types() -> dict[int, tuple[int, bool, str]]:
    """type id -> (size in bytes, signed, name) for every fixed-size scalar type."""
    table: dict[int, tuple[int, bool, str]] = {BOOL: (1, False, "bool")}
    for i in range(8):
        table[0x08 + i] = (i + 1, False, f"data{8 * (i + 1)}")
        table[0x18 + i] = (i + 1, False, f"map{8 * (i + 1)}")
        table[0x20 + i] = (i + 1, False, f"uint{8 * (i + 1)}")
        table[0x28 + i] = (i + 1, True, f"int{8 * (i + 1)}")
    table.update(
        {
            ENUM8: (1, False, "enum8"),
            ENUM16: (2, False, "enum16"),
            SEMI: (2, False, "semi"),
            SINGLE: (4, False, "single"),
            DOUBLE: (8, False, "double"),
            TIME_OF_DAY: (4, False, "time_of_day"),
            DATE: (4, False, "date"),
            UTC: (4, False, "utc"),
            CLUSTER_ID: (2, False, "cluster_id"),
            ATTRIBUTE_ID: (2, False, "attribute_id"),
            BACNET_OID: (4, False, "bacnet_oid"),
            IEEE_ADDRESS: (8, False, "ieee_address"),
        }
    )
    return table


#: Fixed-size scalar types: type id -> (size, signed, name). Values are ints.
FIXED: Final = _fixed_types()
#: String types: type id -> (width of the length prefix, name). Values are bytes (or None).
STRINGS: Final = {
    OCTSTR: (1, "octstr"),
    CHARSTR: (1, "string"),
    LONG_OCTSTR: (2, "long_octstr"),
    LONG_CHARSTR: (2, "long_string"),
}
#: Types whose value is raw bytes of a fixed size.
RAW: Final = {SECURITY_KEY: 16}

_FLOAT_FORMATS: Final = {SEMI: "<e", SINGLE: "<f", DOUBLE: "<d"}


def type_name(type_id: int) -> str:
    if type_id in FIXED:
        return FIXED[type_id][2]
    if type_id in STRINGS:
        return STRINGS[type_id][1]
    if type_id == SECURITY_KEY:
        return "security_key"
    if type_id == NODATA:
        return "nodata"
    return f"0x{type_id:02X}"


def is_supported(type_id: int) -> bool:
    """Whether :func:`read_value` can find the size of a value of this type."""
    return type_id in FIXED or type_id in STRINGS or type_id in RAW or type_id == NODATA


ZclValue = int | bytes | None


def read_value(data: bytes, pos: int, end: int, type_id: int) -> tuple[ZclValue, int] | str:
    """Read one value of ``type_id`` at ``data[pos:end]``: ``(value, new pos)``, or a reason.

    Returning the reason (rather than raising) lets the caller name the field and offset.
    """
    info = FIXED.get(type_id)
    if info is not None:
        size, signed, _ = info
        if pos + size > end:
            return f"needs {size} byte(s) but only {end - pos} remain"
        return int.from_bytes(data[pos : pos + size], "little", signed=signed), pos + size
    string = STRINGS.get(type_id)
    if string is not None:
        width = string[0]
        if pos + width > end:
            return "string length missing"
        n = data[pos] if width == 1 else data[pos] | data[pos + 1] << 8
        pos += width
        if n == (1 << (8 * width)) - 1:
            return None, pos  # ZCL: an all-ones length is the "invalid" string, no octets
        if pos + n > end:
            return f"string of {n} byte(s) but only {end - pos} remain"
        return data[pos : pos + n], pos + n
    if type_id == NODATA:
        return None, pos
    raw = RAW.get(type_id)
    if raw is not None:
        if pos + raw > end:
            return f"needs {raw} byte(s) but only {end - pos} remain"
        return data[pos : pos + raw], pos + raw
    return f"unsupported data type 0x{type_id:02X}"


def write_value(type_id: int, value: ZclValue, field: str = "value") -> bytes:
    """Encode ``value`` as ZCL type ``type_id`` (raises GbcsEncodeError when it does not fit)."""
    info = FIXED.get(type_id)
    if info is not None:
        if not isinstance(value, int):
            raise GbcsEncodeError(field, f"{type_name(type_id)} needs an int")
        try:
            return value.to_bytes(info[0], "little", signed=info[1])
        except OverflowError:
            raise GbcsEncodeError(field, f"{value} does not fit {type_name(type_id)}") from None
    string = STRINGS.get(type_id)
    if string is not None:
        width = string[0]
        if value is None:
            return b"\xff" * width
        if not isinstance(value, bytes):
            raise GbcsEncodeError(field, "a string value must be bytes")
        if len(value) >= (1 << (8 * width)) - 1:
            raise GbcsEncodeError(field, f"string of {len(value)} bytes is too long")
        return len(value).to_bytes(width, "little") + value
    if type_id == NODATA:
        return b""
    raw = RAW.get(type_id)
    if raw is not None:
        if not isinstance(value, bytes) or len(value) != raw:
            raise GbcsEncodeError(field, f"{type_name(type_id)} needs {raw} bytes")
        return value
    raise GbcsEncodeError(field, f"unsupported data type 0x{type_id:02X}")


def pack(fmt: str, field: str, *values: int) -> bytes:
    """``struct.pack`` for the fixed GBZ headers: a value that does not fit is a GbcsEncodeError
    naming ``field``."""
    try:
        return struct.pack(fmt, *values)
    except struct.error as exc:
        raise GbcsEncodeError(field, str(exc)) from None


# -- JSON --------------------------------------------------------------------------------------
def utc_iso(seconds: int) -> str:
    """ISO 8601 (UTC, ``Z``) of a ZigBee/GBCS time: seconds since 2000-01-01."""
    moment = datetime.datetime.fromtimestamp(EPOCH_2000 + seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _part(value: int, width: int) -> str:
    if value == 0xFF:
        return "*"
    if value >= 0xFD:
        return f"x{value:02X}"  # ZCL "last"/"second last"/DST markers
    return f"{value:0{width}d}"


def date_text(raw: int) -> str:
    """A ZCL date (bytes: year-1900, month, day, weekday; 0xFF = any) as ``YYYY-MM-DD/w``."""
    year, month, day, weekday = raw & 0xFF, raw >> 8 & 0xFF, raw >> 16 & 0xFF, raw >> 24
    year_text = "*" if year == 0xFF else f"{1900 + year:04d}"
    return f"{year_text}-{_part(month, 2)}-{_part(day, 2)}/{_part(weekday, 1)}"


def make_date(year: int | None, month: int | None, day: int | None, weekday: int | None) -> int:
    """The raw ZCL date for these parts (``None`` = any, 0xFF)."""
    year_byte = 0xFF if year is None else year - 1900
    parts = (year_byte, month, day, weekday)
    raw = 0
    for shift, part in enumerate(parts):
        byte = 0xFF if part is None else part
        if not 0 <= byte <= 0xFF:
            raise GbcsEncodeError("date", f"date part {part} out of range")
        raw |= byte << (8 * shift)
    return raw


def time_of_day_text(raw: int) -> str:
    hours, minutes, seconds, hundredths = raw & 0xFF, raw >> 8 & 0xFF, raw >> 16 & 0xFF, raw >> 24
    return f"{_part(hours, 2)}:{_part(minutes, 2)}:{_part(seconds, 2)}.{_part(hundredths, 2)}"


def value_json(type_id: int, value: ZclValue) -> JsonValue:
    """JSON form of one value (UTC's ISO string is added by the caller, beside the int)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        if type_id in (CHARSTR, LONG_CHARSTR):
            if value.isascii() and value.decode("ascii").isprintable():
                return value.decode("ascii")
            # Devices put binary in "character" strings too (RTDS GCS21e model id: "GFI" + EUI).
            return {"hex": value.hex()}
        return value.hex()
    if type_id == DATE:
        return date_text(value)
    if type_id == TIME_OF_DAY:
        return time_of_day_text(value)
    fmt = _FLOAT_FORMATS.get(type_id)
    if fmt is not None:
        number = struct.unpack(fmt, value.to_bytes(struct.calcsize(fmt), "little"))[0]
        return number if number == number and abs(number) != float("inf") else str(number)
    return value


def put_json(out: dict[str, JsonValue], name: str, type_id: int, value: ZclValue) -> None:
    """Set ``out[name]`` (and ``out[name + "_iso"]`` for a UTC time)."""
    out[name] = value_json(type_id, value)
    if type_id == UTC and isinstance(value, int):
        out[name + "_iso"] = utc_iso(value)


#: ZCL status codes (GBCS-PAYLOADS §2.2, [P] names).
STATUS_NAMES: Final = {
    0x00: "success",
    0x01: "failure",
    0x7E: "not_authorized",
    0x7F: "reserved_field_not_zero",
    0x80: "malformed_command",
    0x81: "unsup_cluster_command",
    0x82: "unsup_general_command",
    0x83: "unsup_manuf_cluster_command",
    0x84: "unsup_manuf_general_command",
    0x85: "invalid_field",
    0x86: "unsupported_attribute",
    0x87: "invalid_value",
    0x88: "read_only",
    0x89: "insufficient_space",
    0x8A: "duplicate_exists",
    0x8B: "not_found",
    0x8C: "unreportable_attribute",
    0x8D: "invalid_data_type",
    0x8E: "invalid_selector",
    0x8F: "write_only",
    0x90: "inconsistent_startup_state",
    0x91: "defined_out_of_band",
    0x92: "inconsistent",
    0x93: "action_denied",
    0x94: "timeout",
    0x95: "abort",
    0x96: "invalid_image",
    0x97: "wait_for_data",
    0x98: "no_image_available",
    0x99: "require_more_image",
    0xC0: "hardware_failure",
    0xC1: "software_failure",
    0xC2: "calibration_error",
}


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:02X}")
