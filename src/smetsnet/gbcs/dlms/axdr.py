"""A-XDR ``Data`` decoder (GBCS-PAYLOADS §1.3, §1.4).

Hot path of every DLMS payload (~27 Data values each in the RTDS set), so it works on
``(bytes, position, end)`` with one bounds check per value, and shares immutable scalar nodes:
one-byte types come from prebuilt tables, other scalars and short strings from a bounded cache
keyed by their encoding (tag included). Nodes are frozen, so sharing is invisible to callers.

Errors are :class:`GbcsDecodeError` with the absolute offset and a field such as
``payload.data[0][1][3].length`` (containers add their index on the way out).
"""

from __future__ import annotations

from typing import Any

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.dlms import tags
from smetsnet.gbcs.dlms.compact import CompactArray, read_compact_array
from smetsnet.gbcs.dlms.data import (
    INT_CLASSES,
    NULL,
    RAW_CLASSES,
    STRING_CLASSES,
    Array,
    BitString,
    Boolean,
    Data,
    DataError,
    OctetString,
    Structure,
    Utf8String,
    VisibleString,
    _Container,
    _Deferred,
    fast_node,
    read_length,
)
from smetsnet.gbcs.dlms.scalars import _String, length_bytes
from smetsnet.gbcs.reader import Reader

#: Deepest nesting of arrays/structures accepted (GBCS payloads use at most 5).
MAX_DEPTH = 32

_new = object.__new__
_set = object.__setattr__
_FIXED = {t: s for t, s in tags.FIXED_SIZES.items() if s > 1}
_CACHE: dict[bytes, Data] = {}
_CACHE_MAX = 8192
#: Strings up to this length are shared through the cache (OBIS codes, date-times, titles).
_CACHED_STRING = 16


def _byte_nodes(tag: int) -> tuple[Any, ...]:
    if tag == tags.BOOLEAN:
        return tuple(
            fast_node(Boolean, value=b != 0, octet=None if b in (0, 1) else b) for b in range(256)
        )
    cls = INT_CLASSES[tag]
    signed = cls.SIGNED
    return tuple(fast_node(cls, value=b - 256 if signed and b > 127 else b) for b in range(256))


_BYTE_NODES: dict[int, tuple[Any, ...]] = {
    t: _byte_nodes(t) for t, s in tags.FIXED_SIZES.items() if s == 1
}


#: Per tag: the 256 shared nodes of a one-byte type, else None.
_BYTE_TABLE: list[tuple[Any, ...] | None] = [_BYTE_NODES.get(t) for t in range(256)]
#: Per tag: bytes of a cache key that starts at the tag: tag + content for fixed-size scalars,
#: tag + length byte for strings (their content is added); 0 when not keyed.
_KEY_SIZE: list[int] = [
    1 + _FIXED[t] if t in _FIXED else 2 if t in STRING_CLASSES else 0 for t in range(256)
]


def _keyed(t: int, key: bytes) -> Any:
    """The node for a cache key (tag + content, or tag + short length + content)."""
    if t in STRING_CLASSES:
        return fast_node(STRING_CLASSES[t], value=key[2:], width=None)
    return _fixed(t, key)


def _remember(key: bytes, node: Any) -> None:
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()  # adaptive and bounded: a burst of unique values cannot grow it
    _CACHE[key] = node


def _fixed(t: int, key: bytes) -> Any:
    cls = INT_CLASSES.get(t)
    if cls is not None:
        return fast_node(cls, value=int.from_bytes(key[1:], "big", signed=cls.SIGNED))
    return fast_node(RAW_CLASSES[t], raw=key[1:])


def _read(d: bytes, p: int, end: int, depth: int) -> tuple[Data, int]:
    """Decode the Data value whose tag is at ``d[p]``; return it and the next position."""
    if p >= end:
        raise DataError(p, "", "needs a Data tag but no bytes remain")
    t = d[p]
    q = p + 1
    table = _BYTE_NODES.get(t)
    if table is not None:
        if q >= end:
            raise DataError(p, "", f"{tags.TAG_NAMES[t]} needs 1 byte")
        return table[d[q]], q + 1
    if t == tags.STRUCTURE or t == tags.ARRAY:
        return _container(d, q, end, depth, t, True)
    if t in STRING_CLASSES:
        n, r, width = read_length(d, q, end, ".length")
        if n > end - r:
            raise DataError(q, ".length", f"{n} bytes announced, {end - r} remain")
        if n <= _CACHED_STRING and width is None:
            key = d[p : r + n]
            node = _CACHE.get(key)
            if node is None:
                node = fast_node(STRING_CLASSES[t], value=key[r - p :], width=None)
                _remember(key, node)
            return node, r + n
        return fast_node(STRING_CLASSES[t], value=d[r : r + n], width=width), r + n
    size = _FIXED.get(t)
    if size is not None:
        r = q + size
        if r > end:
            raise DataError(p, "", f"{tags.TAG_NAMES[t]} needs {size} bytes, {end - q} remain")
        key = d[p:r]
        node = _CACHE.get(key)
        if node is None:
            node = _fixed(t, key)
            _remember(key, node)
        return node, r
    if t == tags.NULL:
        return NULL, q
    if t == tags.COMPACT_ARRAY:
        return read_compact_array(d, q, end)
    if t == tags.BIT_STRING:
        n, r, width = read_length(d, q, end, ".length")
        size = (n + 7) // 8
        if size > end - r:
            raise DataError(q, ".length", f"{n} bits need {size} bytes, {end - r} remain")
        if width is not None:
            return fast_node(BitString, bits=n, data=d[r : r + size], width=width), r + size
        key = d[p : r + size]  # flags repeat: shared like the scalars
        node = _CACHE.get(key)
        if node is None:
            node = fast_node(BitString, bits=n, data=key[r - p :], width=None)
            _remember(key, node)
        return node, r + size
    raise DataError(p, "", f"unknown Data tag 0x{t:02X}")


_set_items = _Container.__dict__["items"].__set__
_set_width = _Container.__dict__["width"].__set__
_set_source = _Deferred.__dict__["_source"].__set__
_set_value = _String.__dict__["value"].__set__
_set_string_width = _String.__dict__["width"].__set__
#: Arrays at least this long are checked for uniform elements (and then built lazily).
_UNIFORM_MIN = 8


def _container(
    d: bytes, p: int, end: int, depth: int, tag: int, lazy: bool
) -> tuple[Array | Structure, int]:
    """The array or structure whose count is at ``d[p]`` (its ``tag`` was just read).

    Scalar elements (most of them) are decoded inline: a function call per element would cost a
    third of a large payload's decode. With ``lazy``, a long array whose elements all have the
    shape of the first is checked at once and its items are built on first access.
    """
    if p < end and d[p] < 0x80:
        n = d[p]
        q = p + 1
        width = None
    else:
        n, q, width = read_length(d, p, end, ".count")
    if n > end - q:  # every element takes at least its tag byte
        raise DataError(p, ".count", f"{n} elements announced, {end - q} bytes remain")
    if depth >= MAX_DEPTH:
        raise DataError(p - 1, "", f"nested deeper than {MAX_DEPTH}")
    items: list[Data] = []
    append = items.append
    node: Data
    uniform = lazy and n >= _UNIFORM_MIN and tag == tags.ARRAY and depth >= 0
    start = q
    i = 0
    try:
        for i in range(n):
            if uniform and i == 1:
                stop = start + n * (q - start)
                if stop <= end and _uniform(d, start, q - start, n, items[0]):
                    deferred: Array = _new(Array)
                    _set_width(deferred, width)
                    _set_source(deferred, (_build, (d, p, stop, n, depth)))
                    return deferred, stop
                uniform = False
            if q >= end:
                raise DataError(q, "", "needs a Data tag but no bytes remain")
            t = d[q]
            table = _BYTE_TABLE[t]
            if table is not None:
                if q + 1 < end:
                    append(table[d[q + 1]])
                    q += 2
                    continue
            elif t <= 2:
                if t:
                    node, q = _container(d, q + 1, end, depth + 1, t, lazy)
                    append(node)
                else:
                    append(NULL)
                    q += 1
                continue
            else:
                r = q + _KEY_SIZE[t]  # > q: a fixed-size scalar (>= 3) or a string header (2)
                if q < r <= end:
                    if r == q + 2:
                        m = d[q + 1]
                        if m <= _CACHED_STRING and r + m <= end:
                            r += m
                        elif m < 0x80 and r + m <= end:  # a longer short-form string: no cache
                            node = _new(STRING_CLASSES[t])
                            _set_value(node, d[r : r + m])
                            _set_string_width(node, None)
                            append(node)
                            q = r + m
                            continue
                        else:
                            r = q  # long form or truncated: the general path below
                    if r > q:
                        key = d[q:r]
                        hit = _CACHE.get(key)
                        if hit is None:
                            hit = _keyed(t, key)
                            _remember(key, hit)
                        append(hit)
                        q = r
                        continue
            if t == tags.COMPACT_ARRAY:  # profile data (ECS22b plaintext): skip _read's tests
                node, q = read_compact_array(d, q + 1, end)
            else:
                node, q = _read(d, q, end, depth + 1)
            append(node)
    except DataError as e:
        e.field = f"[{i}]{e.field}"
        raise
    cls: type[Structure | Array] = Structure if tag == tags.STRUCTURE else Array
    container = _new(cls)
    _set_items(container, tuple(items))
    _set_width(container, width)
    return container, q


def _build(d: bytes, p: int, stop: int, n: int, depth: int) -> tuple[Data, ...]:
    """The items of a deferred uniform array (known to decode: each has item 0's shape)."""
    return _container(d, p, stop, depth, tags.ARRAY, False)[0].items


def _uniform(d: bytes, start: int, size: int, n: int, first: Data) -> bool:
    """Do elements 1..n-1 have the shape (tags, lengths, counts) of element 0?

    Decoding accepts or rejects an element on its shape alone (value bytes are never checked),
    except inside compact arrays, so a shape match proves they all decode. One masked comparison
    of big integers checks all of them at C speed.
    """
    mask = bytearray()
    if not _shape(first, mask) or len(mask) != size:
        return False
    rest = (n - 1) * size
    m = int.from_bytes(mask, "big")
    template = (int.from_bytes(d[start : start + size], "big") & m).to_bytes(size, "big")
    body = int.from_bytes(d[start + size : start + size + rest], "big")
    return body & int.from_bytes(bytes(mask) * (n - 1), "big") == int.from_bytes(
        template * (n - 1), "big"
    )


def _shape(node: Data, out: bytearray) -> bool:
    """Append ``node``'s shape mask (FF: tag/length/count byte, 00: value byte) to ``out``."""
    tag = node.TAG
    if isinstance(node, (Structure, Array)):
        out += b"\xff" * (1 + len(length_bytes(len(node.items), node.width)))
        return all(_shape(item, out) for item in node.items)
    if isinstance(node, (OctetString, VisibleString, Utf8String)):
        out += b"\xff" * (1 + len(length_bytes(len(node.value), node.width)))
        out += bytes(len(node.value))
        return True
    if isinstance(node, BitString):
        out += b"\xff" * (1 + len(length_bytes(node.bits, node.width))) + bytes(len(node.data))
        return True
    size = tags.FIXED_SIZES.get(tag)
    if size is not None:
        out += b"\xff" + bytes(size)
        return True
    if tag == tags.NULL:
        out += b"\xff"
        return True
    return False  # compact array: its rows are checked by content, not shape


def read_at(d: bytes, p: int, end: int, depth: int = 0) -> tuple[Data, int]:
    """Decode at ``d[p]`` (internal callers): raises :class:`DataError` (relative offsets)."""
    if p < end and 0 < d[p] <= 2:
        return _container(d, p + 1, end, depth, d[p], True)
    return _read(d, p, end, depth)


def read_list(d: bytes, p: int, end: int) -> tuple[tuple[Data, ...], int, int | None]:
    """A SEQUENCE OF Data whose count is at ``d[p]`` (an APDU's data list): items, next
    position, count width if non-minimal. Errors name ``.count`` or ``[i]…``."""
    node, q = _container(d, p, end, -1, tags.ARRAY, True)
    return node.items, q, node.width


def read_data(r: Reader, field: str) -> Data:
    """Decode one Data value at the reader's position and advance past it."""
    try:
        node, r.pos = _read(r.data, r.pos, r.end, 0)
    except DataError as e:
        raise GbcsDecodeError(r.base + e.offset, field + e.field, e.reason) from None
    return node


def decode_data(data: bytes, *, base: int = 0, field: str = "data") -> Data:
    """Decode ``data`` as exactly one Data value (trailing bytes are an error)."""
    if type(data) is not bytes:  # deferred arrays and numpy columns keep views of the input
        data = bytes(data)
    r = Reader(data, base=base)
    node = read_data(r, field)
    r.expect_end(field)
    return node


__all__ = ["MAX_DEPTH", "CompactArray", "decode_data", "read_at", "read_data", "read_list"]
