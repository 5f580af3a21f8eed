"""One reader, writer and JSON view for the typed SEQUENCEs of the GBCS ASN.1 payloads.

Most GBCS ASN.1 nodes are a SEQUENCE of a few elements (GBCS-PAYLOADS §3): the alerts are
``{alert code, date-time, ...}``, the outcomes and responses ``{code, id, ...}``. A node class
lists its elements once, in wire order, as ``PARTS`` (one :class:`Part` each); :class:`Sequence`
then reads it, writes it back byte-exact (the non-minimal widths of its own headers kept in
``lw``: "" for its SEQUENCE, the part's name for a SEQUENCE OF or an inline SEQUENCE) and shows it
as JSON, one key per part, in wire order.

Every dataclass field of such a node is named by exactly one part, except ``lw``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Final, NoReturn, Self

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader

#: ``Part.when`` of an OPTIONAL part that is present exactly when elements remain after it.
AT_END: Final = -1

_new = object.__new__
_set = object.__setattr__


def _inline(*args: object) -> NoReturn:
    raise AssertionError("an inline part is read, written and shown through its parts")


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One element of a typed SEQUENCE: the field it fills, and how it is read, written, shown.

    With ``many`` the part is a SEQUENCE OF (carrying ``tag``) and the functions handle one item.
    ``when`` marks it OPTIONAL: present while elements remain (:data:`AT_END`) or when the next
    element carries the tag ``when``; absent, the field is None and JSON leaves the key out
    (``hide``) or shows null. With ``parts`` it is a nested SEQUENCE (:func:`inline`).
    """

    name: str
    read: Callable[[Reader, str], Any] = _inline
    write: Callable[[Any, str], bytes] = _inline
    show: Callable[[Any], JsonValue] = _inline
    key: str = ""
    many: bool = False
    tag: int = der.TAG_SEQUENCE
    when: int | None = None
    hide: bool = True
    parts: tuple[Part, ...] = ()

    @property
    def json_key(self) -> str:
        return self.key or self.name


def _same(value: JsonValue) -> JsonValue:
    return value


def _hex(value: bytes) -> JsonValue:
    return value.hex()


def integer(name: str, names: dict[int, str] | None = None, *, tag: int = der.TAG_INTEGER) -> Part:
    """An INTEGER (or ENUMERATED, or implicitly tagged INTEGER); JSON shows its name in
    ``names`` (the number itself when it has none)."""
    read: Callable[[Reader, str], int] = der.read_int
    if tag != der.TAG_INTEGER:

        def read(r: Reader, field: str) -> int:
            return der.read_int(r, field, tag)

    return Part(
        name=name,
        read=read,
        write=lambda value, field: der.encode_int(value, field, tag),
        show=_same if names is None else lambda value: names.get(value, value),
    )


def enumerated(name: str, names: dict[int, str]) -> Part:
    return integer(name, names, tag=der.TAG_ENUMERATED)


def u64(name: str, *, tag: int = der.TAG_INTEGER) -> Part:
    """An INTEGER that must be a 64-bit unsigned number (counters, sequence numbers)."""
    return replace(integer(name, tag=tag), read=lambda r, field: read_u64(r, field, tag))


def read_u64(r: Reader, field: str, tag: int = der.TAG_INTEGER) -> int:
    value = der.read_int(r, field, tag)
    if not 0 <= value < 1 << 64:
        raise der.mismatch(r, field, "not a 64-bit unsigned number")
    return value


def octets(name: str, size: int | None = None, *, tag: int = der.TAG_OCTET_STRING) -> Part:
    """An OCTET STRING (of exactly ``size`` octets when given), shown as hex."""
    read: Callable[[Reader, str], bytes] = der.read_octets
    if size is not None or tag != der.TAG_OCTET_STRING:

        def read(r: Reader, field: str) -> bytes:
            return der.read_octets(r, field, size, tag)

    return Part(
        name=name,
        read=read,
        write=lambda value, field: der.encode_octets(value, field, size, tag),
        show=_hex,
    )


def node(name: str, kind: type[Any], *, tag: int | None = None) -> Part:
    """A nested element read by ``kind.read(r, field)``, written and shown by the value itself;
    ``tag`` implicitly tags a :class:`Sequence` kind (its ``read`` and ``to_bytes`` take it)."""
    if tag is None:
        return Part(
            name=name,
            read=kind.read,
            write=lambda value, field: value.to_bytes(),
            show=lambda value: value.to_json(),
        )
    return Part(
        name=name,
        read=lambda r, field: kind.read(r, field, tag),
        write=lambda value, field: value.to_bytes(tag),
        show=lambda value: value.to_json(),
    )


def seq_of(item: Part, *, tag: int = der.TAG_SEQUENCE) -> Part:
    """SEQUENCE OF ``item`` (the field holds a tuple; JSON a list)."""
    return replace(item, many=True, tag=tag)


def optional(part: Part, *, when: int = AT_END, shown: bool = False) -> Part:
    """``part`` made OPTIONAL; ``shown``: an absent part is ``null`` in JSON (else left out)."""
    return replace(part, when=when, hide=not shown)


def inline(name: str, parts: tuple[Part, ...]) -> Part:
    """A nested SEQUENCE whose parts are fields of the enclosing node (CS02b's
    authorisingRemotePartyControl, flattened into the command); ``name`` names its header."""
    return Part(name=name, parts=parts)


class Sequence:
    """Mixin of a frozen slotted dataclass whose fields are its ``PARTS`` (and ``lw``).

    ``read`` builds the node without ``__init__`` (so without ``__post_init__``): the parts'
    readers check what the constructors check, and these nodes are most of the ASN.1 decode time
    (house speed budget).
    """

    __slots__ = ()
    PARTS: ClassVar[tuple[Part, ...]]
    lw: der.Widths

    @classmethod
    def read(cls, r: Reader, field: str = "", tag: int = der.TAG_SEQUENCE) -> Self:
        try:
            s, w = der.seq(r, "", tag)
            node: Self = _new(cls)
            lw = _read_parts(node, s, cls.PARTS, (("", w),) if w else ())
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        _set(node, "lw", lw)
        return node

    def to_bytes(self, tag: int = der.TAG_SEQUENCE) -> bytes:
        return der.constructed(_write_parts(self, self.PARTS), self.lw, tag=tag)

    def to_json(self) -> JsonValue:
        return self.put_json({})

    def put_json(self, out: dict[str, JsonValue], parts: tuple[Part, ...] = ()) -> JsonValue:
        """Add one key per part (default: ``PARTS``) to ``out``, in wire order; return ``out``."""
        for part in parts or self.PARTS:
            if part.parts:
                self.put_json(out, part.parts)
                continue
            value = getattr(self, part.name)
            if value is None and part.when is not None:
                if not part.hide:
                    out[part.json_key] = None
            elif part.many:
                show = part.show
                out[part.json_key] = [show(item) for item in value]
            else:
                out[part.json_key] = part.show(value)
        return out


def _read_parts(node: Sequence, s: Reader, parts: tuple[Part, ...], lw: der.Widths) -> der.Widths:
    """Read ``parts`` (the whole content of ``s``) into ``node``; return ``lw`` with the
    non-minimal widths met on the way added."""
    for part in parts:
        name = part.name
        when = part.when
        if when is not None and (s.pos >= s.end or (when != AT_END and s.data[s.pos] != when)):
            _set(node, name, None)
        elif part.many:
            items, width = der.read_seq_of(s, name, part.read, part.tag)
            _set(node, name, items)
            if width:
                lw = (*lw, (name, width))
        elif part.parts:
            try:
                inner, width = der.seq(s, "")
                lw = _read_parts(node, inner, part.parts, (*lw, (name, width)) if width else lw)
            except der.FAILURES as exc:
                raise der.nest(exc, name) from None
        else:
            _set(node, name, part.read(s, name))
    der.done(s, "")
    return lw


def _write_parts(node: Sequence, parts: tuple[Part, ...]) -> list[bytes]:
    lw = node.lw
    out = []
    for part in parts:
        name = part.name
        if part.parts:
            out.append(der.constructed(_write_parts(node, part.parts), lw, name))
            continue
        value = getattr(node, name)
        if value is None and part.when is not None:
            continue
        if part.many:
            write = part.write
            items = (write(item, f"{name}[{i}]") for i, item in enumerate(value))
            out.append(der.constructed(items, lw, name, part.tag))
        else:
            out.append(part.write(value, name))
    return out


__all__ = [
    "AT_END",
    "Part",
    "Sequence",
    "enumerated",
    "inline",
    "integer",
    "node",
    "octets",
    "optional",
    "read_u64",
    "seq_of",
    "u64",
]
