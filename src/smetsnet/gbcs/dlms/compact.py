"""Compact arrays (A-XDR tag 0x13; GBCS-PAYLOADS §1.4), decoded column by column.

``13`` | type-description | contents length | contents. The type description is a bare tag for a
simple type, ``02 n`` + n descriptions for a structure, ``01 nnnn`` + one description for an array
of nnnn elements. Contents are the rows back to back without tags; strings keep their length.

Rows are flattened into *leaf columns* (one per simple type in the description, in order). When
every leaf has a fixed size the contents are read in one ``np.frombuffer`` with a big-endian
structured dtype (cached per description) and each column is a zero-copy view of it: profile data
(ECS22b: 49 × (u32, u32)) costs a few microseconds and no per-row objects. A description with a
string or bit-string (event logs, ECS35a: u32, u16, octet-string) takes a per-row path: fixed
columns are still numpy arrays, string columns are tuples of string nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import numpy as np
import numpy.typing as npt

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.dlms import tags
from smetsnet.gbcs.dlms.scalars import (
    BitString,
    DataError,
    OctetString,
    Utf8String,
    VisibleString,
    fast_node,
    read_length,
)
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import encode_length

#: Nesting cap of type descriptions (same as for Data) and cap on leaf columns per row.
MAX_DEPTH = 32
MAX_LEAVES = 1024

#: numpy formats of fixed-size leaves. Booleans and BCD stay raw bytes (any octet is valid);
#: dates and times are opaque void fields (wildcards make them unfit for datetime64).
LEAF_FORMATS: dict[int, str] = {
    tags.BOOLEAN: "u1",
    tags.DOUBLE_LONG: ">i4",
    tags.DOUBLE_LONG_UNSIGNED: ">u4",
    tags.BCD: "u1",
    tags.INTEGER: "i1",
    tags.LONG: ">i2",
    tags.UNSIGNED: "u1",
    tags.LONG_UNSIGNED: ">u2",
    tags.LONG64: ">i8",
    tags.LONG64_UNSIGNED: ">u8",
    tags.ENUM: "u1",
    tags.FLOAT32: ">f4",
    tags.FLOAT64: ">f8",
    tags.DATE_TIME: "V12",
    tags.DATE: "V5",
    tags.TIME: "V4",
}
_VAR_CLASSES: dict[int, type[OctetString | VisibleString | Utf8String]] = {
    tags.OCTET_STRING: OctetString,
    tags.VISIBLE_STRING: VisibleString,
    tags.UTF8_STRING: Utf8String,
}
VarNode: TypeAlias = OctetString | VisibleString | Utf8String | BitString
Column: TypeAlias = "npt.NDArray[Any] | tuple[VarNode, ...]"


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeDescription:
    """``tag`` simple, or STRUCTURE with ``elements``, or ARRAY of ``count`` × ``elements[0]``."""

    tag: int
    elements: tuple[TypeDescription, ...] = ()
    count: int = 0
    width: int | None = None  # a structure's member-count length, when non-minimal

    @classmethod
    def simple(cls, tag: int) -> TypeDescription:
        if tag not in LEAF_FORMATS and tag not in tags.VARIABLE_TAGS:
            raise GbcsEncodeError("type_description", f"{tags.tag_name(tag)} cannot be a leaf")
        return cls(tag=tag)

    @classmethod
    def structure(cls, *elements: TypeDescription) -> TypeDescription:
        return cls(tag=tags.STRUCTURE, elements=elements)

    @classmethod
    def array(cls, count: int, element: TypeDescription) -> TypeDescription:
        return cls(tag=tags.ARRAY, elements=(element,), count=count)

    def leaves(self) -> tuple[int, ...]:
        """The simple tags of one row, flattened in wire order."""
        if self.tag == tags.STRUCTURE:
            return tuple(t for e in self.elements for t in e.leaves())
        if self.tag == tags.ARRAY:
            return self.elements[0].leaves() * self.count
        return (self.tag,)

    def to_bytes(self) -> bytes:
        if self.tag == tags.STRUCTURE:
            head = b"\x02" + encode_length(len(self.elements), self.width)
            return head + b"".join(e.to_bytes() for e in self.elements)
        if self.tag == tags.ARRAY:
            if not 0 <= self.count <= 0xFFFF or len(self.elements) != 1:
                raise GbcsEncodeError("type_description", "array needs count 0..65535, one type")
            return b"\x01" + self.count.to_bytes(2, "big") + self.elements[0].to_bytes()
        return bytes((self.tag,))

    def to_json(self) -> JsonValue:
        if self.tag == tags.STRUCTURE:
            return {"structure": [e.to_json() for e in self.elements]}
        if self.tag == tags.ARRAY:
            return {"array": {"count": self.count, "type": self.elements[0].to_json()}}
        return tags.tag_name(self.tag)


#: (run size or 0, run dtype, column names, string tag or -1).
_Segment: TypeAlias = "tuple[int, np.dtype[Any] | None, tuple[str, ...], int]"


@dataclass(frozen=True, slots=True)
class _Plan:
    """What decoding rows of one description needs (cached by the description's bytes)."""

    description: TypeDescription
    leaves: tuple[int, ...]
    sizes: tuple[int, ...]  # 0 for a variable leaf
    dtype: np.dtype[Any] | None  # the row dtype when every leaf is fixed
    names: tuple[str, ...]
    row_size: int
    segments: tuple[_Segment, ...]  # when some leaf is a string


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CompactArray:
    """A compact array as columns: ``columns[i]`` holds leaf ``i`` of every row.

    Fixed-size columns are numpy arrays (big-endian views of the message when decoded); string
    columns are tuples of string nodes. Equality compares the encoding.
    """

    TAG: ClassVar[int] = tags.COMPACT_ARRAY
    description: TypeDescription
    columns: tuple[Column, ...]
    width: int | None = None  # the contents length, when non-minimal

    def __post_init__(self) -> None:
        leaves = self.description.leaves()
        if len(self.columns) != len(leaves):
            raise GbcsEncodeError(
                "compact_array", f"{len(leaves)} leaves, {len(self.columns)} cols"
            )
        if len({len(c) for c in self.columns}) > 1:
            raise GbcsEncodeError("compact_array", "columns differ in length")

    @classmethod
    def from_columns(
        cls, description: TypeDescription, columns: Sequence[Sequence[Any] | npt.ArrayLike]
    ) -> CompactArray:
        """Build from plain sequences: numbers for fixed leaves, string nodes for strings."""
        plan = _plan_for(description)
        cols: list[Column] = []
        for tag, col in zip(plan.leaves, columns, strict=False):
            if tag in LEAF_FORMATS:
                try:
                    cols.append(np.asarray(col, dtype=LEAF_FORMATS[tag]))
                except (OverflowError, ValueError, TypeError) as exc:
                    msg = f"bad {tags.tag_name(tag)}: {exc}"
                    raise GbcsEncodeError("compact_array", msg) from None
            else:
                cols.append(tuple(col))  # type: ignore[arg-type]
        return cls(description=description, columns=tuple(cols))

    @property
    def row_count(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def contents_bytes(self) -> bytes:
        plan = _plan_for(self.description)
        n = self.row_count
        if plan.dtype is not None:
            rows = np.empty(n, plan.dtype)
            for name, col in zip(plan.names, self.columns, strict=True):
                rows[name] = col
            return rows.tobytes()
        raw: list[bytes | tuple[VarNode, ...]] = []
        for tag, col in zip(plan.leaves, self.columns, strict=True):
            if isinstance(col, tuple):
                raw.append(col)
            else:
                raw.append(np.ascontiguousarray(col, dtype=LEAF_FORMATS[tag]).tobytes())
        out: list[bytes] = []
        for i in range(n):
            for size, col_raw in zip(plan.sizes, raw, strict=True):
                if isinstance(col_raw, tuple):
                    out.append(col_raw[i].content_bytes())
                else:
                    out.append(col_raw[i * size : (i + 1) * size])
        return b"".join(out)

    def to_bytes(self) -> bytes:
        contents = self.contents_bytes()
        return (
            b"\x13"
            + self.description.to_bytes()
            + encode_length(len(contents), self.width)
            + contents
        )

    def to_json(self) -> JsonValue:
        cols: list[JsonValue] = []
        for col in self.columns:
            if isinstance(col, tuple):
                cols.append([_var_json(v) for v in col])
            elif col.dtype.kind == "V":
                cols.append([bytes(v).hex() for v in col.tolist()])
            else:
                cols.append(col.tolist())
        return {
            "type": "compact-array",
            "description": self.description.to_json(),
            "rows": self.row_count,
            "columns": cols,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactArray):
            return NotImplemented
        return self.description == other.description and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def _var_json(node: VarNode) -> JsonValue:
    if isinstance(node, BitString):
        bits = format(int.from_bytes(node.data, "big"), f"0{len(node.data) * 8}b")
        return bits[: node.bits]
    if isinstance(node, OctetString):
        return node.value.hex()
    return node.text


# -- decoding --------------------------------------------------------------------------------------
_PLANS: dict[bytes, _Plan] = {}
_MAX_PLANS = 512
#: Lengths of the descriptions in ``_PLANS`` (a handful), to find a known one without a scan.
_DESCRIPTION_SIZES: list[int] = []
#: Short strings of string columns, shared like scalar nodes in :mod:`.axdr` (event logs: empty).
_VAR_CACHE: dict[tuple[int, bytes], VarNode] = {}
_VAR_CACHE_MAX = 4096
_new = object.__new__
_set = object.__setattr__


def _scan(d: bytes, p: int, end: int, depth: int) -> tuple[int, int]:
    """Validate a type description at ``p``; return ``(next position, leaf count)``."""
    if depth > MAX_DEPTH:
        raise DataError(p, ".type_description", f"nested deeper than {MAX_DEPTH}")
    if p >= end:
        raise DataError(p, ".type_description", "truncated")
    t = d[p]
    if t == tags.STRUCTURE:
        n, p, _ = read_length(d, p + 1, end, ".type_description.count")
        if n > end - p:
            raise DataError(p, ".type_description.count", f"{n} members, {end - p} bytes left")
        leaves = 0
        for _ in range(n):
            p, k = _scan(d, p, end, depth + 1)
            leaves += k
            if leaves > MAX_LEAVES:
                raise DataError(p, ".type_description", f"more than {MAX_LEAVES} leaves per row")
        return p, leaves
    if t == tags.ARRAY:
        if p + 3 > end:
            raise DataError(p, ".type_description.count", "array count truncated")
        count = (d[p + 1] << 8) | d[p + 2]
        p, k = _scan(d, p + 3, end, depth + 1)
        if count * k > MAX_LEAVES:
            raise DataError(p, ".type_description", f"more than {MAX_LEAVES} leaves per row")
        return p, count * k
    if t in LEAF_FORMATS or t in tags.VARIABLE_TAGS:
        return p + 1, 1
    raise DataError(p, ".type_description", f"{tags.tag_name(t)} is not a compact-array type")


def _parse(d: bytes, p: int) -> tuple[TypeDescription, int]:
    """Build nodes for a description already validated by :func:`_scan`."""
    t = d[p]
    if t == tags.STRUCTURE:
        n, p, width = read_length(d, p + 1, len(d), "")
        elements = []
        for _ in range(n):
            e, p = _parse(d, p)
            elements.append(e)
        return TypeDescription(tag=t, elements=tuple(elements), width=width), p
    if t == tags.ARRAY:
        element, q = _parse(d, p + 3)
        return TypeDescription(tag=t, elements=(element,), count=(d[p + 1] << 8) | d[p + 2]), q
    return TypeDescription(tag=t), p + 1


def _plan_for(description: TypeDescription, key: bytes | None = None) -> _Plan:
    key = description.to_bytes() if key is None else key
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    leaves = description.leaves()
    sizes = tuple(tags.FIXED_SIZES.get(t, 0) if t in LEAF_FORMATS else 0 for t in leaves)
    names = tuple(f"c{i}" for i in range(len(leaves)))
    dtype = None
    if all(sizes):
        offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        formats = [LEAF_FORMATS[t] for t in leaves]
        spec = {"names": list(names), "formats": formats, "offsets": offsets}
        dtype = np.dtype(spec | {"itemsize": sum(sizes)})  # type: ignore[call-overload]
    segments = () if dtype is not None else _segments(leaves, sizes)
    plan = _Plan(description, leaves, sizes, dtype, names, sum(sizes), segments)
    if len(_PLANS) < _MAX_PLANS:
        _PLANS[key] = plan
        if len(key) not in _DESCRIPTION_SIZES:
            _DESCRIPTION_SIZES.append(len(key))
    return plan


def read_compact_array(d: bytes, p: int, end: int) -> tuple[CompactArray, int]:
    """Decode a compact array whose tag is at ``d[p - 1]``; return it and the next position."""
    plan = None
    for size in _DESCRIPTION_SIZES:
        # Descriptions are self-delimiting, so bytes equal to a known one *are* that one.
        plan = _PLANS.get(d[p : p + size])
        if plan is not None:
            q = p + size
            break
    else:
        q, _ = _scan(d, p, end, 0)
        key = d[p:q]
        plan = _plan_for(_parse(key, 0)[0], key)
    if q < end and d[q] < 0x80:
        n, p, width = d[q], q + 1, None
    else:
        n, p, width = read_length(d, q, end, ".contents.length")
    if n > end - p:
        raise DataError(q, ".contents.length", f"{n} bytes announced, {end - p} remain")
    if plan.dtype is not None:
        columns = _fixed_rows(d, p, n, plan)
    else:
        columns = _variable_rows(d, p, p + n, plan)
    node = _new(CompactArray)
    _set(node, "description", plan.description)
    _set(node, "columns", columns)
    _set(node, "width", width)
    return node, p + n


def _fixed_rows(d: bytes, p: int, n: int, plan: _Plan) -> tuple[Column, ...]:
    size = plan.row_size
    if size == 0 or n % size:
        if n == 0:
            return tuple(np.empty(0, LEAF_FORMATS[t]) for t in plan.leaves)
        raise DataError(p, ".contents", f"{n} bytes is not a whole number of {size}-byte rows")
    assert plan.dtype is not None
    rows = np.frombuffer(d, plan.dtype, n // size, p)
    return tuple([rows[name] for name in plan.names])


def _segments(leaves: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[_Segment, ...]:
    """Group a row into runs of fixed leaves (one slice per run per row) and string leaves."""
    out: list[_Segment] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            fmt = {
                "names": [f"c{i}" for i in run],
                "formats": [LEAF_FORMATS[leaves[i]] for i in run],
                "offsets": [sum(sizes[run[0] : i]) for i in run],
            }
            size = sum(sizes[i] for i in run)
            dtype = np.dtype(fmt | {"itemsize": size})  # type: ignore[call-overload]
            out.append((size, dtype, tuple(f"c{i}" for i in run), -1))
            run.clear()

    for i, (tag, size) in enumerate(zip(leaves, sizes, strict=True)):
        if size:
            run.append(i)
        else:
            flush()
            out.append((0, None, (f"c{i}",), tag))
    flush()
    return tuple(out)


def _variable_rows(d: bytes, p: int, end: int, plan: _Plan) -> tuple[Column, ...]:
    """Row by row (each row holds at least one length byte, so this ends within n rows): one
    slice per run of fixed leaves, split into columns by numpy at the end."""
    segments = plan.segments
    parts: list[list[Any]] = [[] for _ in segments]
    program = tuple(
        (size, tag, out) for (size, _, _, tag), out in zip(segments, parts, strict=True)
    )
    cache = _VAR_CACHE
    row = 0
    while p < end:
        for size, tag, out in program:
            if size:
                r = p + size
                if r > end:
                    raise DataError(p, f".contents[{row}]", "row truncated")
                out.append(d[p:r])
                p = r
                continue
            m = d[p] if p < end else 0x80
            r = p + 1 + m
            if m < 0x80 and tag != tags.BIT_STRING and r <= end:
                key = d[p:r]
                node = cache.get((tag, key))
                if node is None:
                    node = fast_node(_VAR_CLASSES[tag], value=key[1:], width=None)
                    if len(cache) < _VAR_CACHE_MAX:
                        cache[(tag, key)] = node
                out.append(node)
                p = r
            else:
                var, p = _read_var(d, p, end, tag, row)
                out.append(var)
        row += 1
    columns: dict[str, Column] = {}
    for (size, dtype, names, _), out in zip(segments, parts, strict=True):
        if size:
            rows = np.frombuffer(b"".join(out), dtype)
            columns.update((name, rows[name]) for name in names)
        else:
            columns[names[0]] = tuple(out)
    return tuple(columns[name] for name in plan.names)


def _read_var(d: bytes, p: int, end: int, tag: int, row: int) -> tuple[VarNode, int]:
    field = f".contents[{row}]"
    n, q, width = read_length(d, p, end, field)
    size = (n + 7) // 8 if tag == tags.BIT_STRING else n
    if size > end - q:
        raise DataError(p, field, f"{tags.tag_name(tag)} of {size} bytes, {end - q} remain")
    value = d[q : q + size]
    if tag == tags.BIT_STRING:
        return fast_node(BitString, bits=n, data=value, width=width), q + size
    return fast_node(_VAR_CLASSES[tag], value=value, width=width), q + size
