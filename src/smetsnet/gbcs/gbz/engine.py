"""The layout engine: compile a :mod:`.layout` into a plan, then read and write payloads with it.

Speed: consecutive fixed-size fields are read with one precompiled :class:`struct.Struct`; a
fixed-size group is one ``numpy.frombuffer`` with a packed record dtype, whose 1/2/4/8-byte
fields become read-only column views (no copy).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.gbz import zcl_types as t
from smetsnet.gbcs.gbz.layout import (
    Column,
    Columns,
    Field,
    Group,
    Layout,
    Tail,
    column_dtype,
)

# -- compiled plans --------------------------------------------------------------------------
_RUN, _STR, _GROUP, _TAIL, _VARIANT = range(5)
_new = object.__new__
_set = object.__setattr__
_STRUCT_CODES: Final = {1: "B", 2: "H", 4: "I", 8: "Q"}
Values: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Run:
    names: tuple[str, ...]
    types: tuple[int, ...]
    codec: struct.Struct
    odd: tuple[tuple[int, int, bool], ...]  # (index, size, signed) of 3/5/6/7-byte fields

    def which(self, available: int) -> str:
        """Name of the first field that does not fit in ``available`` bytes."""
        offset = 0
        for name, type_id in zip(self.names, self.types, strict=True):
            offset += t.FIXED[type_id][0]
            if offset > available:
                return name
        return self.names[-1]


@dataclass(frozen=True, slots=True)
class _GroupPlan:
    group: Group
    item_size: int  # 0 when an item has a variable size
    record: np.dtype[Any] | None
    # Per field: (name, column dtype, size, signed); sizes 1/2/4/8 are plain record views.
    columns: tuple[tuple[str, np.dtype[Any], int, bool], ...] = ()


Plan: TypeAlias = tuple[tuple[int, Any], ...]


def compile_layout(layout: Layout) -> Plan:
    steps: list[tuple[int, Any]] = []
    run: list[Field] = []

    def flush() -> None:
        if run:
            steps.append((_RUN, _make_run(run)))
            run.clear()

    for item in layout:
        if isinstance(item, Field) and item.type in t.FIXED:
            run.append(item)
            continue
        flush()
        if isinstance(item, Field):
            steps.append((_STR, item))
        elif isinstance(item, Group):
            steps.append((_GROUP, _group_plan(item)))
        elif isinstance(item, Tail):
            steps.append((_TAIL, compile_layout(item.items)))
        else:
            cases = {value: compile_layout(items) for value, items in item.cases}
            steps.append((_VARIANT, (item.on, cases)))
    flush()
    return tuple(steps)


def single_run(plan: Plan) -> _Run | None:
    """The plan's only step when it is one run with no 3/5/6/7-byte field, else None."""
    if len(plan) == 1 and plan[0][0] == _RUN and not plan[0][1].odd:
        run: _Run = plan[0][1]
        return run
    return None


def _make_run(fields: list[Field]) -> _Run:
    codes = ["<"]
    odd: list[tuple[int, int, bool]] = []
    for index, f in enumerate(fields):
        size, signed, _ = t.FIXED[f.type]
        code = _STRUCT_CODES.get(size)
        if code is None:
            codes.append(f"{size}s")
            odd.append((index, size, signed))
        else:
            codes.append(code.lower() if signed else code)
    return _Run(
        names=tuple(f.name for f in fields),
        types=tuple(f.type for f in fields),
        codec=struct.Struct("".join(codes)),
        odd=tuple(odd),
    )


def _group_plan(group: Group) -> _GroupPlan:
    if not all(f.type in t.FIXED for f in group.fields):
        return _GroupPlan(group, 0, None)
    parts: list[tuple[Any, ...]] = []
    for f in group.fields:
        size, signed, _ = t.FIXED[f.type]
        if size in _STRUCT_CODES:
            parts.append((f.name, f"<{'i' if signed else 'u'}{size}"))
        else:
            parts.append((f.name, "u1", (size,)))
    record = np.dtype(parts)
    columns = tuple(
        (f.name, column_dtype(f.type), t.FIXED[f.type][0], t.FIXED[f.type][1]) for f in group.fields
    )
    return _GroupPlan(group, record.itemsize, record, columns)


# -- decode ----------------------------------------------------------------------------------
def decode(
    plan: Plan, data: bytes, pos: int, end: int, base: int, where: str, values: Values
) -> tuple[int, str | None]:
    """Read ``plan`` from ``data[pos:end]`` into ``values``; return (pos, why it stopped early).

    ``why`` is set when the layout could not describe what follows (a Variant with no case);
    the caller keeps the bytes from ``pos`` as an explicit unknown node.
    """
    for kind, step in plan:
        if kind == _RUN:
            size = step.codec.size
            if pos + size > end:
                raise GbcsDecodeError(
                    base + pos,
                    f"{where}.{step.which(end - pos)}",
                    f"needs {size} byte(s) but only {end - pos} remain",
                )
            got = step.codec.unpack_from(data, pos)
            if step.odd:
                got = list(got)
                for index, _, signed in step.odd:
                    got[index] = int.from_bytes(got[index], "little", signed=signed)
            values.update(zip(step.names, got, strict=True))
            pos += size
        elif kind == _STR:
            value = t.read_value(data, pos, end, step.type)
            if isinstance(value, str):
                raise GbcsDecodeError(base + pos, f"{where}.{step.name}", value)
            values[step.name], pos = value
        elif kind == _GROUP:
            pos = _decode_group(step, data, pos, end, base, where, values)
        elif kind == _TAIL:
            if pos < end:
                return decode(step, data, pos, end, base, where, values)
        else:
            on, cases = step
            case = cases.get(values[on])
            if case is None:
                return pos, f"{on} {values[on]} has no known layout"
            return decode(case, data, pos, end, base, where, values)
    return pos, None


def _decode_group(
    step: _GroupPlan, data: bytes, pos: int, end: int, base: int, where: str, values: Values
) -> int:
    group = step.group
    size = step.item_size
    count: int | None = None
    if group.count is not None:
        count = values[group.count] & group.count_mask
    elif size:
        count = (end - pos) // size
    if not size:
        columns, pos = _decode_variable_group(group, count, data, pos, end, base, where)
        values[group.name] = _columns(group, columns)
        return pos
    assert count is not None and step.record is not None
    if pos + count * size > end:
        raise GbcsDecodeError(
            base + pos,
            f"{where}.{group.name}",
            f"{count} item(s) of {size} byte(s) but only {end - pos} byte(s) remain",
        )
    built: dict[str, Column] = {}
    if count:
        # Read-only views into the payload for 1/2/4/8-byte fields: no copy, and immutable.
        record = np.frombuffer(data, step.record, count, pos)
        for name, dtype, field_size, signed in step.columns:
            if field_size in _STRUCT_CODES:
                built[name] = record[name]
            else:
                built[name] = _widen(record[name], dtype, field_size, signed, count)
    else:
        for name, dtype, _, _ in step.columns:
            built[name] = np.zeros(0, dtype)
    values[group.name] = _columns(group, built)
    return pos + count * size


def _columns(group: Group, built: dict[str, Column]) -> Columns:
    """Decoder's constructor (no __init__ call: the columns match the group by construction)."""
    columns = _new(Columns)
    _set(columns, "group", group)
    _set(columns, "columns", built)
    return columns


def _widen(
    raw: np.ndarray[Any, Any], dtype: np.dtype[Any], size: int, signed: bool, count: int
) -> np.ndarray[Any, Any]:
    """3/5/6/7-byte little-endian integers (as ``(count, size)`` bytes) -> a 4/8-byte column."""
    padded = np.zeros((count, dtype.itemsize), np.uint8)
    padded[:, :size] = raw
    column = padded.view(dtype.newbyteorder("<")).reshape(count).astype(dtype)
    if signed:
        bits = 8 * size
        column = np.where(column >= 1 << (bits - 1), column - (1 << bits), column).astype(dtype)
    return column


def _decode_variable_group(
    group: Group, count: int | None, data: bytes, pos: int, end: int, base: int, where: str
) -> tuple[dict[str, Column], int]:
    lists: list[list[Any]] = [[] for _ in group.fields]
    done = 0
    while (pos < end) if count is None else (done < count):
        for f, column in zip(group.fields, lists, strict=True):
            got = t.read_value(data, pos, end, f.type)
            if isinstance(got, str):
                raise GbcsDecodeError(base + pos, f"{where}.{group.name}[{done}].{f.name}", got)
            value, pos = got
            column.append(value)
        done += 1
    columns: dict[str, Column] = {}
    for f, column in zip(group.fields, lists, strict=True):
        if f.type in t.FIXED:
            columns[f.name] = np.array(column, dtype=column_dtype(f.type))
        else:
            columns[f.name] = tuple(column)
    return columns, pos


# -- encode ----------------------------------------------------------------------------------
def encode(plan: Plan, values: Mapping[str, Any], out: list[bytes], where: str) -> None:
    """Append the bytes of ``values`` laid out by ``plan`` to ``out``."""
    for kind, step in plan:
        if kind == _RUN:
            out.append(_encode_run(step, values, where))
        elif kind == _STR:
            out.append(t.write_value(step.type, _get(values, step.name, where), where))
        elif kind == _GROUP:
            out.append(_encode_group(step, values, where))
        elif kind == _TAIL:
            first = _first_name(step)
            if first is not None and first in values:
                encode(step, values, out, where)
        else:
            on, cases = step
            case = cases.get(_get(values, on, where))
            if case is not None:
                encode(case, values, out, where)


def _first_name(plan: Plan) -> str | None:
    if not plan:
        return None
    kind, step = plan[0]
    if kind == _RUN:
        return str(step.names[0])
    if kind == _STR:
        return str(step.name)
    if kind == _GROUP:
        return str(step.group.name)
    return None


def _get(values: Mapping[str, Any], name: str, where: str) -> Any:
    try:
        return values[name]
    except KeyError:
        raise GbcsEncodeError(f"{where}.{name}", "missing value") from None


def _encode_run(step: _Run, values: Mapping[str, Any], where: str) -> bytes:
    got = [_get(values, name, where) for name in step.names]
    try:
        for index, size, signed in step.odd:
            got[index] = int(got[index]).to_bytes(size, "little", signed=signed)
        return step.codec.pack(*got)
    except (struct.error, OverflowError, TypeError) as exc:
        raise GbcsEncodeError(f"{where}.{'/'.join(step.names)}", str(exc)) from None


def _encode_group(step: _GroupPlan, values: Mapping[str, Any], where: str) -> bytes:
    group = step.group
    columns = _get(values, group.name, where)
    if not isinstance(columns, Columns) or columns.group != group:
        raise GbcsEncodeError(f"{where}.{group.name}", "needs Columns of this group")
    count = len(columns)
    if group.count is not None:
        declared = _get(values, group.count, where) & group.count_mask
        if declared != count:
            raise GbcsEncodeError(
                f"{where}.{group.name}", f"{count} item(s) but {group.count} says {declared}"
            )
    if step.record is None:
        lists = [_as_list(columns[f.name]) for f in group.fields]
        parts = [
            t.write_value(f.type, column[i], f"{where}.{group.name}[{i}].{f.name}")
            for i in range(count)
            for f, column in zip(group.fields, lists, strict=True)
        ]
        return b"".join(parts)
    record = np.zeros(count, step.record)
    for f in group.fields:
        record[f.name] = _field_bytes(f, np.asarray(columns[f.name]), f"{where}.{group.name}")
    return record.tobytes()


def _as_list(column: Column) -> list[Any]:
    return column.tolist() if isinstance(column, np.ndarray) else list(column)


def _field_bytes(f: Field, column: np.ndarray[Any, Any], where: str) -> np.ndarray[Any, Any]:
    size, signed, _ = t.FIXED[f.type]
    bits = 8 * size
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if column.size and (int(column.min()) < low or int(column.max()) > high):
        raise GbcsEncodeError(f"{where}.{f.name}", f"a value does not fit {t.type_name(f.type)}")
    if size in _STRUCT_CODES:
        return column
    wide = column.astype("<i8" if signed else "<u8")
    return wide.view(np.uint8).reshape(len(column), 8)[:, :size]
