"""Declarative field layouts of ZCL command payloads and the one engine that reads and writes them.

A layout is written as a short text (parsed once, at import), e.g.::

    "provider_id:u32 start_time:utc label:text prices[*]{tier:u8 price:u32} ? extra:u8"

- ``name:type`` a field; types are ZCL types (``u8 u16 u24 u32 u48 i8 i16 i32 map8 map16 map32
  enum8 enum16 utc date octstr text``; ``text`` is a 1-byte-length string holding characters,
  written on the wire exactly like ``octstr``).
- ``name[count]{...}`` a repeated group of plain fields, decoded COLUMNAR (one numpy array per
  numeric field, a tuple per string field): ``count`` is ``*`` (repeat to the end of the payload),
  or an earlier field's name, optionally masked (``tier_and_count&0x0F``).
- ``?`` the fields after it are present only when bytes remain (optional trailing fields).
- :class:`Variant` (built in Python) picks more fields by the value of an earlier field.

:mod:`.engine` compiles a layout into a plan and reads/writes payloads with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.gbz import zcl_types as t
from smetsnet.gbcs.payload import JsonValue

#: Layout type words -> ZCL data type id.
TYPE_WORDS: Final = {
    "u8": t.U8,
    "u16": t.U16,
    "u24": t.U24,
    "u32": t.U32,
    "u48": t.U48,
    "i8": t.I8,
    "i16": t.I16,
    "i32": t.I32,
    "map8": t.MAP8,
    "map16": t.MAP16,
    "map32": t.MAP32,
    "enum8": t.ENUM8,
    "enum16": t.ENUM16,
    "utc": t.UTC,
    "date": t.DATE,
    "octstr": t.OCTSTR,
    "text": t.CHARSTR,
}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Group:
    """A repeated group of fields, decoded columnar."""

    name: str
    fields: tuple[Field, ...]
    count: str | None = None  # earlier field holding the item count; None: to the end
    count_mask: int = -1


@dataclass(frozen=True, slots=True)
class Tail:
    """Optional trailing items: present only when bytes remain."""

    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Variant:
    """More items chosen by the value of an earlier field; no case: the rest stays undecoded."""

    on: str
    cases: tuple[tuple[int, tuple[Item, ...]], ...]


Item: TypeAlias = Field | Group | Tail | Variant
Layout: TypeAlias = tuple[Item, ...]


def parse_layout(text: str) -> Layout:
    """Parse the layout mini-language described in the module docstring."""
    items: list[Item] = []
    tokens = text.split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "?":
            return (*items, Tail(parse_layout(" ".join(tokens[i + 1 :]))))
        if "[" in token:
            name, rest = token.split("[", 1)
            count_text, first = rest.split("]{", 1)
            body: list[str] = [first] if first else []
            while not body or not body[-1].endswith("}"):
                i += 1
                body.append(tokens[i])
            body[-1] = body[-1][:-1]
            fields = tuple(_field(word) for word in body if word)
            items.append(_group(name, count_text, fields))
        else:
            items.append(_field(token))
        i += 1
    return tuple(items)


def _field(word: str) -> Field:
    name, type_word = word.split(":")
    return Field(name, TYPE_WORDS[type_word])


def _group(name: str, count_text: str, fields: tuple[Field, ...]) -> Group:
    if count_text == "*":
        return Group(name, fields)
    if "&" in count_text:
        count, mask = count_text.split("&")
        return Group(name, fields, count, int(mask, 0))
    return Group(name, fields, count_text)


# -- columns -------------------------------------------------------------------------------------
Column: TypeAlias = "np.ndarray[Any, Any] | tuple[bytes | None, ...]"


def column_dtype(type_id: int) -> np.dtype[Any]:
    size, signed, _ = t.FIXED[type_id]
    width = {1: 1, 2: 2, 3: 4, 4: 4}.get(size, 8)
    return np.dtype(f"{'i' if signed else 'u'}{width}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Columns:
    """A repeated group as columns: ``columns[field]`` is a numpy array (or tuple of bytes)."""

    group: Group
    columns: Mapping[str, Column]

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), ())
        return len(first)

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Columns) or other.group != self.group:
            return NotImplemented
        return all(
            np.array_equal(np.asarray(self.columns[f.name]), np.asarray(other.columns[f.name]))
            if f.type in t.FIXED
            else self.columns[f.name] == other.columns[f.name]
            for f in self.group.fields
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def of(cls, group: Group, **columns: Sequence[Any]) -> Columns:
        """Build from sequences (lists, arrays): numeric fields become arrays of the right type."""
        names = {f.name for f in group.fields}
        if set(columns) != names:
            raise GbcsEncodeError(group.name, f"columns must be exactly {sorted(names)}")
        built: dict[str, Column] = {}
        for f in group.fields:
            values = columns[f.name]
            if f.type in t.FIXED:
                built[f.name] = np.asarray(values, dtype=column_dtype(f.type))
            else:
                built[f.name] = tuple(values)
        if len({len(c) for c in built.values()}) > 1:
            raise GbcsEncodeError(group.name, "columns of different lengths")
        return cls(group=group, columns=built)

    def to_json(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {"count": len(self)}
        for f in self.group.fields:
            column = self.columns[f.name]
            if isinstance(column, tuple):
                out[f.name] = [t.value_json(f.type, v) for v in column]
                continue
            ints = column.tolist()
            if f.type == t.DATE:
                out[f.name] = [t.date_text(v) for v in ints]
            else:
                out[f.name] = ints
            if f.type == t.UTC:
                out[f.name + "_iso"] = [t.utc_iso(v) for v in ints]
        return out
