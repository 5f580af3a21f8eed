"""Container nodes (array, structure), protected content, and the ``Data`` union (§1.3, §1.6).

Import Data nodes from here: this module re-exports the simple types of :mod:`.scalars` and the
compact array of :mod:`.compact`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from smetsnet.gbcs.dlms import tags
from smetsnet.gbcs.dlms.compact import CompactArray
from smetsnet.gbcs.dlms.scalars import (
    INT_CLASSES,
    NULL,
    RAW_CLASSES,
    STRING_CLASSES,
    Bcd,
    BitString,
    Boolean,
    DataError,
    Date,
    DateTime,
    DoubleLong,
    DoubleLongUnsigned,
    Enumerated,
    Float32,
    Float64,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    Null,
    OctetString,
    Time,
    Unsigned,
    Utf8String,
    VisibleString,
    fast_node,
    length_bytes,
    read_length,
)
from smetsnet.gbcs.payload import CipheredContent, DecryptStatus, JsonValue, unknown_node


# -- containers ------------------------------------------------------------------------------------
class _Deferred:
    """A slot outside the dataclass fields: the source of an array whose items are not built yet.

    Long arrays of same-shaped elements (tariff matrices: 80 × structure{octet-string, long}) are
    checked at decode with one big-integer comparison against the first element's shape (see
    :func:`smetsnet.gbcs.dlms.axdr._uniform`); their element nodes are built on first access to
    ``items``. Everything else about the node (equality, repr, hashing, pickling) reads ``items``
    and so behaves as if it had been built eagerly.
    """

    __slots__ = ("_source",)


_SOURCE = _Deferred.__dict__["_source"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Container(_Deferred):
    TAG: ClassVar[int]
    items: tuple[Data, ...]
    width: int | None = None

    if not TYPE_CHECKING:  # mypy must keep seeing plain fields

        def __getattr__(self, name: str) -> Any:
            # Only reached when a slot is unset: the items of a deferred array.
            if name != "items":
                raise AttributeError(name)
            try:
                build, args = _SOURCE.__get__(self)
            except AttributeError:
                raise AttributeError(name) from None
            items = build(*args)
            object.__setattr__(self, "items", items)
            _SOURCE.__delete__(self)  # from now on it is an ordinary node
            return items

    def to_bytes(self) -> bytes:
        out: list[bytes] = []
        _emit_container(self, out)
        return b"".join(out)

    def to_json(self) -> JsonValue:
        return {"type": tags.TAG_NAMES[self.TAG], "value": [i.to_json() for i in self.items]}


@dataclass(frozen=True, slots=True, kw_only=True)
class Array(_Container):
    """DLMS array: n elements (of one type, which is not enforced)."""

    TAG: ClassVar[int] = tags.ARRAY


@dataclass(frozen=True, slots=True, kw_only=True)
class Structure(_Container):
    TAG: ClassVar[int] = tags.STRUCTURE


# -- encoding ------------------------------------------------------------------------------------
#: Unset for a deferred array (see :class:`_Deferred`): reading it then raises AttributeError.
_GET_ITEMS = _Container.__dict__["items"].__get__
#: Short-form heads (tag, count or length < 0x80) of containers and strings, prebuilt.
_HEADS: dict[int, tuple[bytes, ...]] = {
    t: tuple(bytes((t, n)) for n in range(0x80))
    for t in (tags.ARRAY, tags.STRUCTURE, tags.OCTET_STRING, tags.VISIBLE_STRING, tags.UTF8_STRING)
}
_STRINGS = frozenset((OctetString, VisibleString, Utf8String))


def encode_into(node: Data, out: list[bytes]) -> None:
    """Append ``node``'s A-XDR bytes to ``out`` (join once at the end).

    The same bytes as ``node.to_bytes()``; a tree of containers is written in one pass, without
    a list and a join per container and a method call per string (most of a built payload).
    """
    cls = type(node)
    if cls is Structure or cls is Array:
        _emit_container(node, out)  # type: ignore[arg-type]
    else:
        out.append(node.to_bytes())


def _emit_container(node: _Container, out: list[bytes]) -> None:
    append = out.append
    try:
        items = _GET_ITEMS(node, None)
    except AttributeError:
        # A deferred array re-encodes as the bytes it was checked against (frozen, so
        # unchanged): from its count to its last element.
        _, (d, start, stop, _n, _depth) = _SOURCE.__get__(node)
        append(bytes((node.TAG,)))
        append(bytes(d[start:stop]))
        return
    n = len(items)
    if node.width is None and n < 0x80:
        append(_HEADS[node.TAG][n])
    else:
        append(bytes((node.TAG,)) + length_bytes(n, node.width))
    for item in items:
        cls = type(item)
        if cls is Structure or cls is Array:
            _emit_container(item, out)
        elif cls in _STRINGS:
            value = item.value
            if item.width is None and len(value) < 0x80:
                append(_HEADS[item.TAG][len(value)])
                append(value)
            else:
                append(item.to_bytes())
        else:
            append(item.to_bytes())


# -- sensitive data --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectedContent:
    """An octet-string of GBCS sensitive data (``31`` ‖ counter ‖ ciphertext ‖ tag; §1.6).

    ``ciphered`` keeps the wire form (re-encoded exactly whatever the decrypt outcome); when
    ``status == "decrypted"`` ``plaintext`` holds the opened bytes and ``value`` the A-XDR Data they
    decode to (``error`` says why not, if they do not).
    """

    TAG: ClassVar[int] = tags.OCTET_STRING
    ciphered: CipheredContent
    status: DecryptStatus
    plaintext: bytes | None = None
    value: Data | None = None
    error: str | None = None
    width: int | None = None

    def to_bytes(self) -> bytes:
        body = self.ciphered.to_bytes()
        return b"\x09" + length_bytes(len(body), self.width) + body

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {
            "type": "protected-content",
            "status": self.status,
            "ciphered": self.ciphered.to_json(),
        }
        if self.value is not None:
            out["value"] = self.value.to_json()
        elif self.plaintext is not None:
            out["plaintext"] = unknown_node(self.plaintext, self.error or "not decoded")
        return out


Data: TypeAlias = (
    Null
    | Boolean
    | DoubleLong
    | DoubleLongUnsigned
    | Bcd
    | Integer
    | Long
    | Unsigned
    | LongUnsigned
    | Long64
    | Long64Unsigned
    | Enumerated
    | Float32
    | Float64
    | DateTime
    | Date
    | Time
    | BitString
    | OctetString
    | VisibleString
    | Utf8String
    | Array
    | Structure
    | CompactArray
    | ProtectedContent
)

__all__ = [
    "INT_CLASSES",
    "NULL",
    "RAW_CLASSES",
    "STRING_CLASSES",
    "Array",
    "Bcd",
    "BitString",
    "Boolean",
    "CompactArray",
    "Data",
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
    "ProtectedContent",
    "Structure",
    "Time",
    "Unsigned",
    "Utf8String",
    "VisibleString",
    "encode_into",
    "fast_node",
    "read_length",
]
