"""A-XDR Data tags (GBCS-PAYLOADS §1.3) and the fixed sizes that the decoders rely on.

Tags are the DLMS ``Data`` CHOICE values. GBCS uses only a subset (dates travel as octet-strings),
but every tag listed here decodes and re-encodes, so a device sending e.g. a ``date-time`` (0x19)
is not a decode failure.
"""

from __future__ import annotations

from typing import Final

NULL: Final = 0x00
ARRAY: Final = 0x01
STRUCTURE: Final = 0x02
BOOLEAN: Final = 0x03
BIT_STRING: Final = 0x04
DOUBLE_LONG: Final = 0x05
DOUBLE_LONG_UNSIGNED: Final = 0x06
OCTET_STRING: Final = 0x09
VISIBLE_STRING: Final = 0x0A
UTF8_STRING: Final = 0x0C
BCD: Final = 0x0D
INTEGER: Final = 0x0F
LONG: Final = 0x10
UNSIGNED: Final = 0x11
LONG_UNSIGNED: Final = 0x12
COMPACT_ARRAY: Final = 0x13
LONG64: Final = 0x14
LONG64_UNSIGNED: Final = 0x15
ENUM: Final = 0x16
FLOAT32: Final = 0x17
FLOAT64: Final = 0x18
DATE_TIME: Final = 0x19
DATE: Final = 0x1A
TIME: Final = 0x1B

#: Names as written in the DLMS Blue Book (used in JSON and error messages).
TAG_NAMES: Final[dict[int, str]] = {
    NULL: "null",
    ARRAY: "array",
    STRUCTURE: "structure",
    BOOLEAN: "boolean",
    BIT_STRING: "bit-string",
    DOUBLE_LONG: "double-long",
    DOUBLE_LONG_UNSIGNED: "double-long-unsigned",
    OCTET_STRING: "octet-string",
    VISIBLE_STRING: "visible-string",
    UTF8_STRING: "utf8-string",
    BCD: "bcd",
    INTEGER: "integer",
    LONG: "long",
    UNSIGNED: "unsigned",
    LONG_UNSIGNED: "long-unsigned",
    COMPACT_ARRAY: "compact-array",
    LONG64: "long64",
    LONG64_UNSIGNED: "long64-unsigned",
    ENUM: "enum",
    FLOAT32: "float32",
    FLOAT64: "float64",
    DATE_TIME: "date-time",
    DATE: "date",
    TIME: "time",
}

#: Content size of every fixed-size simple type (bytes after the tag).
FIXED_SIZES: Final[dict[int, int]] = {
    BOOLEAN: 1,
    DOUBLE_LONG: 4,
    DOUBLE_LONG_UNSIGNED: 4,
    BCD: 1,
    INTEGER: 1,
    LONG: 2,
    UNSIGNED: 1,
    LONG_UNSIGNED: 2,
    LONG64: 8,
    LONG64_UNSIGNED: 8,
    ENUM: 1,
    FLOAT32: 4,
    FLOAT64: 8,
    DATE_TIME: 12,
    DATE: 5,
    TIME: 4,
}

#: Types whose content starts with an A-XDR length (bit-string: a bit count).
VARIABLE_TAGS: Final = frozenset((BIT_STRING, OCTET_STRING, VISIBLE_STRING, UTF8_STRING))


def tag_name(tag: int) -> str:
    return TAG_NAMES.get(tag, f"tag 0x{tag:02X}")
