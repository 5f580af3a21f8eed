"""A generic DER tree: what an ASN.1 payload decodes to when no schema fits it.

Used for a (message code, CRA) with no known schema, or content that does not match its schema.
Every element keeps its identifier octets, content and non-minimal length width, so any
well-formed TLV re-encodes byte-exact; malformed TLV raises :class:`GbcsDecodeError`. Nesting is
capped at :data:`MAX_DEPTH` (recursion is bounded; every element costs at least two bytes, so
nothing is allocated beyond the input's size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.types import Asn1Payload
from smetsnet.gbcs.payload import JsonValue, unknown_node
from smetsnet.gbcs.reader import Reader, encode_length

MAX_DEPTH = 32
#: Identifier octets accepted for a high-tag-number form (tag numbers up to 2**28).
MAX_IDENTIFIER_OCTETS = 5


def _tlv(ident: bytes, content: bytes, lw: int) -> bytes:
    return ident + encode_length(len(content), lw or None) + content


@dataclass(frozen=True, slots=True, kw_only=True)
class DerSequence:
    items: tuple[DerNode, ...]
    lw: int = 0

    def to_bytes(self) -> bytes:
        return _tlv(b"\x30", b"".join(i.to_bytes() for i in self.items), self.lw)

    def to_json(self) -> JsonValue:
        return {"sequence": [i.to_json() for i in self.items]}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerConstructed:
    """Any other constructed element (SET, application, private, high tag numbers)."""

    tag: bytes
    items: tuple[DerNode, ...]
    lw: int = 0

    def to_bytes(self) -> bytes:
        return _tlv(self.tag, b"".join(i.to_bytes() for i in self.items), self.lw)

    def to_json(self) -> JsonValue:
        return {"tag": self.tag.hex(), "items": [i.to_json() for i in self.items]}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerContext:
    """A context-specific element ``[number]``: constructed (``items``) or primitive."""

    number: int
    constructed: bool
    items: tuple[DerNode, ...] = ()
    content: bytes = b""
    lw: int = 0

    def to_bytes(self) -> bytes:
        if self.constructed:
            ident = bytes((0xA0 | self.number,))
            return _tlv(ident, b"".join(i.to_bytes() for i in self.items), self.lw)
        return _tlv(bytes((0x80 | self.number,)), self.content, self.lw)

    def to_json(self) -> JsonValue:
        if self.constructed:
            return {"context": self.number, "items": [i.to_json() for i in self.items]}
        return {"context": self.number, "hex": self.content.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Content:
    """A primitive element kept as its content octets; the class gives its tag."""

    content: bytes
    lw: int = 0

    TAG: ClassVar[bytes]

    def to_bytes(self) -> bytes:
        return _tlv(self.TAG, self.content, self.lw)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Number(_Content):
    """INTEGER or ENUMERATED, shown in JSON as ``{KEY: value}``."""

    KEY: ClassVar[str]

    @property
    def value(self) -> int:
        return int.from_bytes(self.content, "big", signed=True)

    def to_json(self) -> JsonValue:
        return {self.KEY: self.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerInteger(_Number):
    TAG = b"\x02"
    KEY = "integer"


@dataclass(frozen=True, slots=True, kw_only=True)
class DerEnumerated(_Number):
    TAG = b"\x0a"
    KEY = "enumerated"


@dataclass(frozen=True, slots=True, kw_only=True)
class DerOctetString:
    value: bytes
    lw: int = 0

    def to_bytes(self) -> bytes:
        return _tlv(b"\x04", self.value, self.lw)

    def to_json(self) -> JsonValue:
        return {"octet_string": self.value.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerBitString(_Content):
    """BIT STRING content as on the wire: unused-bits octet, then the bits."""

    TAG = b"\x03"

    def to_json(self) -> JsonValue:
        return {"bit_string": self.content.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerNull:
    lw: int = 0

    def to_bytes(self) -> bytes:
        return _tlv(b"\x05", b"", self.lw)

    def to_json(self) -> JsonValue:
        return {"null": None}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerGeneralizedTime(_Content):
    TAG = b"\x18"

    def to_json(self) -> JsonValue:
        return {"generalized_time": self.content.decode("ascii", "replace")}


@dataclass(frozen=True, slots=True, kw_only=True)
class DerPrimitive:
    """Any other primitive element (OID, strings, UTCTime, BOOLEAN, NULL with content...)."""

    tag: bytes
    content: bytes
    lw: int = 0

    def to_bytes(self) -> bytes:
        return _tlv(self.tag, self.content, self.lw)

    def to_json(self) -> JsonValue:
        return {"tag": self.tag.hex(), "hex": self.content.hex()}


DerNode = (
    DerSequence
    | DerConstructed
    | DerContext
    | DerInteger
    | DerEnumerated
    | DerOctetString
    | DerBitString
    | DerNull
    | DerGeneralizedTime
    | DerPrimitive
)


def _identifier(r: Reader, field: str) -> bytes:
    """Identifier octets; the high-tag-number form continues while bit 8 is set (X.690 8.1.2.4)."""
    start = r.pos
    first = r.u8(field + ".tag")
    if first & 0x1F != 0x1F:
        return bytes((first,))
    while True:
        octet = r.u8(field + ".tag")
        if not octet & 0x80:
            break
        if r.pos - start >= MAX_IDENTIFIER_OCTETS:
            raise r.error(field + ".tag", "tag number too large", start)
    return r.data[start : r.pos]


def read_node(r: Reader, field: str, depth: int = 0) -> DerNode:
    """One element (and, for a constructed one, everything inside it)."""
    start = r.pos
    ident = _identifier(r, field)
    n, width = r.length(field + ".length")
    if n > r.end - r.pos:
        raise r.error(field, f"content of {n} byte(s) runs past its parent ({r.end - r.pos} left)")
    lw = der.nonminimal(n, width)
    first = ident[0]
    single = len(ident) == 1
    if first & 0x20:
        if depth >= MAX_DEPTH:
            raise r.error(field, f"nested deeper than {MAX_DEPTH} levels", start)
        inner = r.sub(n, field)
        items: list[DerNode] = []
        while inner.pos < inner.end:
            items.append(read_node(inner, f"{field}[{len(items)}]", depth + 1))
        if first == 0x30:
            return DerSequence(items=tuple(items), lw=lw)
        if single and first & 0xC0 == 0x80:
            return DerContext(number=first & 0x1F, constructed=True, items=tuple(items), lw=lw)
        return DerConstructed(tag=ident, items=tuple(items), lw=lw)
    content = r.take(n, field)
    if not single:
        return DerPrimitive(tag=ident, content=content, lw=lw)
    return _primitive(first, content, lw, ident)


def _primitive(first: int, content: bytes, lw: int, ident: bytes) -> DerNode:
    if first == 0x02:
        return DerInteger(content=content, lw=lw)
    if first == 0x04:
        return DerOctetString(value=content, lw=lw)
    if first == 0x0A:
        return DerEnumerated(content=content, lw=lw)
    if first == 0x03:
        return DerBitString(content=content, lw=lw)
    if first == 0x18:
        return DerGeneralizedTime(content=content, lw=lw)
    if first == 0x05 and not content:
        return DerNull(lw=lw)
    if first & 0xC0 == 0x80:
        return DerContext(number=first & 0x1F, constructed=False, content=content, lw=lw)
    return DerPrimitive(tag=ident, content=content, lw=lw)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericAsn1Payload(Asn1Payload):
    """A payload decoded without a schema: its DER tree and why no schema was used."""

    root: DerNode
    reason: str

    def to_bytes(self) -> bytes:
        return self.root.to_bytes()

    def to_json(self) -> JsonValue:
        # Marked "unknown" on purpose: the reference vectors must never need this fallback.
        out: dict[str, JsonValue] = unknown_node(self.to_bytes(), self.reason)
        out["schema"] = None
        out["der"] = self.root.to_json()
        return out


def decode_generic(data: bytes, *, base: int = 0, reason: str) -> GenericAsn1Payload:
    """Exactly one well-formed DER element, as a tree (trailing bytes are an error)."""
    r = Reader(data, 0, len(data), base)
    root = read_node(r, "payload")
    r.expect_end("payload")
    return GenericAsn1Payload(root=root, reason=reason)


__all__ = [
    "MAX_DEPTH",
    "DerBitString",
    "DerConstructed",
    "DerContext",
    "DerEnumerated",
    "DerGeneralizedTime",
    "DerInteger",
    "DerNode",
    "DerNull",
    "DerOctetString",
    "DerPrimitive",
    "DerSequence",
    "GenericAsn1Payload",
    "decode_generic",
    "read_node",
]
