"""DER tag-length-value primitives for the GBCS ASN.1 payloads (GBCS-PAYLOADS §3).

Two kinds of failure are kept apart on purpose:

- bytes that are not well-formed TLV (a length running past its parent, a truncated header)
  raise :class:`GbcsDecodeError` at once, with the absolute offset and the field;
- well-formed DER that does not fit the schema being tried (another tag, a missing element, an
  8-byte id of 7 bytes) raises :class:`Mismatch`, which the payload decoder catches to fall back
  to a generic DER tree (:mod:`.tree`). ``Mismatch`` never leaves this package.

Devices build some SEQUENCE headers with a non-minimal length (``30 82 00 83``, RTDS CS02b
responses and the ``00CB``/``0124`` alerts), so every typed node keeps the width of each of its
own constructed headers when it is not the minimal one (:data:`Widths`). Primitive elements must
be minimal DER for the typed schema (else: generic tree, which keeps everything).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.reader import Reader, encode_length, minimal_length_width

TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_ENUMERATED = 0x0A
TAG_GENERALIZED_TIME = 0x18
TAG_SEQUENCE = 0x30

#: Longest INTEGER content the typed schemas accept: a 64-bit sequence number plus a sign octet.
MAX_INTEGER_OCTETS = 9

#: Non-minimal length widths of a typed node's own headers: ``((header name, width), ...)``;
#: ``""`` names the node's own SEQUENCE header. Empty (the default) means minimal DER.
Widths = tuple[tuple[str, int], ...]

NULL_BYTES = b"\x05\x00"


class Mismatch(Exception):
    """Well-formed DER that does not fit the schema being tried (caught inside the package)."""

    def __init__(self, offset: int, field: str, reason: str) -> None:
        self.offset = offset
        self.field = field
        self.reason = reason
        super().__init__(f"at offset {offset} ({field}): {reason}")


#: What a typed reader may raise (anything else would be a bug).
FAILURES = (Mismatch, GbcsDecodeError)

T = TypeVar("T")


def nest(exc: Mismatch | GbcsDecodeError, prefix: str) -> Mismatch | GbcsDecodeError:
    """The same failure with ``prefix`` put before its field name.

    Readers name fields relative to their node and a composite reader prefixes the name only when
    a failure passes through it (``try`` costs nothing on success; building every field path
    eagerly cost ~10% of the decode time).
    """
    if not prefix:
        return exc
    field = exc.field
    if not field:
        field = prefix
    elif field[0] == "[":
        field = prefix + field
    else:
        field = f"{prefix}.{field}"
    return type(exc)(exc.offset, field, exc.reason)


# -- reading ----------------------------------------------------------------------------------
def header(r: Reader, field: str) -> tuple[int, int, int]:
    """Read a one-octet tag and a length; return ``(tag, content length, length width)``.

    ``r.pos`` is left at the content, which is checked to fit inside ``r`` (so the caller can
    slice it without further checks).
    """
    data = r.data
    p = tag_at = r.pos
    end = r.end
    if p + 2 > end:
        raise r.error(field, f"truncated TLV header ({end - p} byte(s) left)")
    first = data[p + 1]
    if first < 0x80:
        n = first
        width = 1
        p += 2
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise r.error(field, f"unsupported length form 0x{first:02X}", p + 1)
        if p + 2 + count > end:
            raise r.error(field, "truncated length", p + 1)
        n = int.from_bytes(data[p + 2 : p + 2 + count], "big")
        width = count + 1
        p += 2 + count
    if p + n > end:
        raise r.error(field, f"content of {n} byte(s) runs past its parent ({end - p} left)", p)
    r.pos = p
    return data[tag_at], n, width


def nonminimal(n: int, width: int) -> int:
    """``width`` when it is not the minimal encoding of length ``n``, else 0."""
    if width == 1 or width == minimal_length_width(n):
        return 0
    return width


def mismatch(r: Reader, field: str, reason: str, at: int | None = None) -> Mismatch:
    return Mismatch(r.base + (r.pos if at is None else at), field, reason)


def open_tag(r: Reader, tag: int, field: str) -> tuple[int, int]:
    """Read the header of an element that must carry ``tag``; return ``(length, width)``."""
    p = r.pos
    if p >= r.end:
        raise mismatch(r, field, f"missing (expected tag 0x{tag:02X})")
    found = r.data[p]
    if found != tag:
        raise mismatch(r, field, f"tag 0x{found:02X}, expected 0x{tag:02X}")
    _, n, width = header(r, field)
    return n, width


def has(r: Reader, tag: int) -> bool:
    """Whether the next element (if any) carries ``tag``: how OPTIONAL elements are detected."""
    return r.pos < r.end and r.data[r.pos] == tag


def _fast_open(r: Reader, tag: int) -> tuple[int, int, int] | None:
    """``(content start, content end, non-minimal width)`` of an element carrying ``tag`` with a
    1-3 octet length that fits, else None (the caller then takes the checked, slow path)."""
    data = r.data
    p = r.pos
    end = r.end
    if p + 2 > end or data[p] != tag:
        return None
    first = data[p + 1]
    if first < 0x80:
        start, n, width = p + 2, first, 0
    elif first == 0x82 and p + 4 <= end:
        n = data[p + 2] << 8 | data[p + 3]
        start, width = p + 4, (0 if n >= 0x100 else 3)
    elif first == 0x81 and p + 3 <= end:
        n = data[p + 2]
        start, width = p + 3, (0 if n >= 0x80 else 2)
    else:
        return None
    if start + n > end:
        return None
    return start, start + n, width


def seq(r: Reader, field: str, tag: int = TAG_SEQUENCE) -> tuple[Reader, int]:
    """Open a constructed element; return a reader over its content and its non-minimal width."""
    fast = _fast_open(r, tag)
    if fast is not None:
        start, end, width = fast
        r.pos = end
        return Reader(r.data, start, end, r.base), width
    n, width = open_tag(r, tag, field)
    p = r.pos
    r.pos = p + n
    return Reader(r.data, p, p + n, r.base), (0 if width == 1 else nonminimal(n, width))


def blob(r: Reader, field: str, tag: int = TAG_SEQUENCE) -> bytes:
    """A whole element carrying ``tag`` (header included) as bytes, its inside not looked at."""
    start = r.pos
    fast = _fast_open(r, tag)
    if fast is not None:
        r.pos = fast[1]
    else:
        n, _ = open_tag(r, tag, field)
        r.pos += n
    return r.data[start : r.pos]


def done(r: Reader, field: str) -> None:
    """The schema has read every element it knows: anything left is a mismatch."""
    if r.pos != r.end:
        raise mismatch(r, field, f"unexpected element with tag 0x{r.data[r.pos]:02X}")


def _primitive(r: Reader, tag: int, field: str) -> tuple[int, int]:
    """Open a primitive element; return ``(start, end)`` of its content (minimal length only)."""
    n, width = open_tag(r, tag, field)
    if width != 1 and nonminimal(n, width):
        raise mismatch(r, field, "non-minimal length of a primitive element")
    p = r.pos
    r.pos = p + n
    return p, p + n


def read_int(r: Reader, field: str, tag: int = TAG_INTEGER) -> int:
    """A minimal INTEGER (or ENUMERATED / implicitly tagged INTEGER when ``tag`` says so)."""
    data = r.data
    p = r.pos
    if p + 3 <= r.end and data[p] == tag and data[p + 1] == 1:  # fast path: one octet
        r.pos = p + 3
        value = data[p + 2]
        return value if value < 0x80 else value - 0x100
    start, end = _primitive(r, tag, field)
    n = end - start
    if n == 1:
        value = data[start]
        return value if value < 0x80 else value - 0x100
    if n == 0 or n > MAX_INTEGER_OCTETS:
        raise mismatch(r, field, f"INTEGER of {n} octets", start)
    first, second = data[start], data[start + 1]
    if (first == 0 and second < 0x80) or (first == 0xFF and second >= 0x80):
        raise mismatch(r, field, "non-minimal INTEGER", start)
    return int.from_bytes(data[start:end], "big", signed=True)


def read_octets(
    r: Reader, field: str, size: int | None = None, tag: int = TAG_OCTET_STRING
) -> bytes:
    data = r.data
    p = r.pos
    if p + 2 <= r.end and data[p] == tag:  # fast path: short-form length of the right size
        n = data[p + 1]
        q = p + 2 + n
        if n < 0x80 and q <= r.end and (size is None or n == size):
            r.pos = q
            return data[p + 2 : q]
    start, end = _primitive(r, tag, field)
    if size is not None and end - start != size:
        raise mismatch(r, field, f"{end - start} octets, expected {size}", start)
    return data[start:end]


def read_seq_of(
    r: Reader, name: str, read_item: Callable[[Reader, str], T], tag: int = TAG_SEQUENCE
) -> tuple[tuple[T, ...], int]:
    """SEQUENCE OF: the items and the header's non-minimal width; failures name ``name[i]``."""
    try:
        s, width = seq(r, "", tag)
    except FAILURES as exc:
        raise nest(exc, name) from None
    items: list[T] = []
    try:
        while s.pos < s.end:
            items.append(read_item(s, ""))
    except FAILURES as exc:
        raise nest(exc, f"{name}[{len(items)}]") from None
    return tuple(items), width


def read_null(r: Reader, field: str) -> None:
    start, end = _primitive(r, TAG_NULL, field)
    if end != start:
        raise mismatch(r, field, "NULL with content", start)


def read_time_text(r: Reader, field: str) -> str:
    """GeneralizedTime as GBCS uses it: exactly ``YYYYMMDDHHMMSSZ`` (15 ASCII octets)."""
    start, end = _primitive(r, TAG_GENERALIZED_TIME, field)
    raw = r.data[start:end]
    if len(raw) != 15 or raw[14] != 0x5A or not raw[:14].isdigit():
        raise mismatch(r, field, f"GeneralizedTime {raw!r} is not YYYYMMDDHHMMSSZ", start)
    return raw.decode("ascii")


# KeyUsage named bits (X.509 numbering, bit 0 = most significant bit of the first octet).
_KEY_USAGE_FAST = {
    b"\x03\x02\x07\x80": 1 << 0,  # digitalSignature
    b"\x03\x02\x03\x08": 1 << 4,  # keyAgreement
    b"\x03\x02\x02\x04": 1 << 5,  # keyCertSign (root cells in CS02b contingency outcomes)
}


def read_named_bits(r: Reader, field: str) -> int:
    """A named-bit BIT STRING in DER form, as a mask with ``1 << n`` for bit ``n``."""
    p = r.pos
    fast = _KEY_USAGE_FAST.get(r.data[p : p + 4]) if p + 4 <= r.end else None
    if fast is not None:
        r.pos = p + 4
        return fast
    start, end = _primitive(r, TAG_BIT_STRING, field)
    content = r.data[start:end]
    if not content or content[0] > 7:
        raise mismatch(r, field, "BIT STRING without a valid unused-bits octet", start)
    mask = 0
    for i, octet in enumerate(content[1:]):
        for j in range(8):
            if octet & (0x80 >> j):
                mask |= 1 << (8 * i + j)
    if encode_named_bits(mask) != r.data[start - 2 : end]:
        raise mismatch(r, field, "BIT STRING is not in minimal (DER) named-bit form", start)
    return mask


# -- writing ----------------------------------------------------------------------------------
def tlv(tag: int, content: bytes, width: int = 0) -> bytes:
    """One element; ``width`` (non-zero) reproduces a non-minimal length encoding."""
    n = len(content)
    if n < 0x80 and not width:
        return bytes((tag, n)) + content
    return bytes((tag,)) + encode_length(n, width or None) + content


def width_of(widths: Widths, name: str) -> int:
    for key, value in widths:
        if key == name:
            return value
    return 0


def constructed(
    parts: Iterable[bytes], widths: Widths = (), name: str = "", tag: int = 0x30
) -> bytes:
    return tlv(tag, b"".join(parts), width_of(widths, name) if widths else 0)


def encode_int(value: int, field: str, tag: int = TAG_INTEGER) -> bytes:
    if not isinstance(value, int):
        raise GbcsEncodeError(field, f"expected an integer, got {type(value).__name__}")
    if 0 <= value < 0x80:
        return bytes((tag, 1, value))
    size = (value.bit_length() + 8) // 8 if value >= 0 else ((~value).bit_length() + 8) // 8
    if size > MAX_INTEGER_OCTETS:
        raise GbcsEncodeError(field, f"integer {value} does not fit {MAX_INTEGER_OCTETS} octets")
    return bytes((tag, size)) + value.to_bytes(size, "big", signed=True)


def encode_octets(value: bytes, field: str, size: int | None = None, tag: int = 0x04) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise GbcsEncodeError(field, f"expected bytes, got {type(value).__name__}")
    if size is not None and len(value) != size:
        raise GbcsEncodeError(field, f"{len(value)} octets, expected {size}")
    return tlv(tag, bytes(value))


def encode_named_bits(mask: int) -> bytes:
    """DER named-bit BIT STRING: trailing zero bits dropped, unused count minimal (X.690 11.2.2)."""
    if mask < 0:
        raise GbcsEncodeError("key_usage", f"negative bit mask {mask}")
    if mask == 0:
        return b"\x03\x01\x00"
    top = mask.bit_length() - 1
    octets = bytearray(top // 8 + 1)
    for bit in range(top + 1):
        if mask >> bit & 1:
            octets[bit // 8] |= 0x80 >> (bit % 8)
    return tlv(TAG_BIT_STRING, bytes((7 - top % 8,)) + bytes(octets))


def encode_time_text(text: str, field: str) -> bytes:
    raw = text.encode("ascii", "replace")
    if len(raw) != 15 or raw[14] != 0x5A or not raw[:14].isdigit():
        raise GbcsEncodeError(field, f"GeneralizedTime {text!r} is not YYYYMMDDHHMMSSZ")
    return b"\x18\x0f" + raw


__all__ = [
    "FAILURES",
    "NULL_BYTES",
    "TAG_BIT_STRING",
    "TAG_ENUMERATED",
    "TAG_GENERALIZED_TIME",
    "TAG_INTEGER",
    "TAG_NULL",
    "TAG_OCTET_STRING",
    "TAG_SEQUENCE",
    "Mismatch",
    "Widths",
    "blob",
    "constructed",
    "done",
    "encode_int",
    "encode_named_bits",
    "encode_octets",
    "encode_time_text",
    "has",
    "header",
    "mismatch",
    "nest",
    "nonminimal",
    "open_tag",
    "read_int",
    "read_named_bits",
    "read_null",
    "read_octets",
    "read_seq_of",
    "read_time_text",
    "seq",
    "tlv",
    "width_of",
]
