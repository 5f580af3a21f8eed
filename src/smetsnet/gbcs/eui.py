"""EUI-64 identifiers (GBCS "system titles").

Devices and organisations are identified by an EUI-64: 8 bytes on the wire, written
``90-B3-D5-1F-30-01-00-00`` in DUIS. Inside the codec an EUI is plain ``bytes`` of length 8 (cheap
to slice, hash and compare); these helpers convert at the edges.
"""

from __future__ import annotations

import re

from smetsnet.errors import GbcsEncodeError

EUI_LENGTH = 8
_EUI_TEXT = re.compile(r"^[0-9A-Fa-f]{2}(?:[-:]?[0-9A-Fa-f]{2}){7}$")


def parse_eui(text: str) -> bytes:
    """Parse ``90-B3-D5-1F-30-01-00-00``, ``90:b3:…`` or ``90b3d51f30010000``."""
    cleaned = text.strip()
    if not _EUI_TEXT.match(cleaned):
        raise GbcsEncodeError("eui", f"{text!r} is not an EUI-64 (8 hex bytes)")
    return bytes.fromhex(cleaned.replace("-", "").replace(":", ""))


def format_eui(eui: bytes) -> str:
    """The DUIS form: upper-case hex bytes joined by ``-``."""
    return eui.hex("-").upper()


def check_eui(eui: bytes, field: str) -> bytes:
    if not isinstance(eui, bytes | bytearray) or len(eui) != EUI_LENGTH:
        raise GbcsEncodeError(field, f"an EUI-64 must be {EUI_LENGTH} bytes, got {eui!r}")
    return bytes(eui)
