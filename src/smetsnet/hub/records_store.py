"""The hub's non-device records and firmware distribution progress on disk (``serve --state``).

:class:`RecordsStore` is one SQLite file (``state/records.sqlite``), in WAL mode as the outbox
(``hub/outbox.py``) is: SQLite is in the standard library and the file is local to one hub
process. It holds

* the records of :class:`~smetsnet.hub.nondevice_records.NonDeviceRecords`, one row per record
  (``kind``, ``key``, the record as JSON), through :class:`StoredMapping` and
  :class:`StoredList`: containers that write each change before they hold it, so a request the
  hub answered is on disk already (one commit per accepted request);
* the firmware distributor's transfers (:class:`SavedTransfer`: state, the next block to send,
  the attempt), checkpointed in one transaction per distributor step
  (:meth:`RecordsStore.checkpoint`), and the next transfer number, so a restarted hub never
  gives a new transfer the number of one a comms hub may still remember.

Every write is committed when the call returns: nothing waits for a close. A file that is not
such a store, or a row that does not read back, raises :class:`~smetsnet.errors.ConfigurationError`
naming the file (and the row).

Without a state folder none of this is used: the records are plain dicts and lists.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing
from collections.abc import Iterable, Iterator, MutableMapping, MutableSequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

from smetsnet.errors import ConfigurationError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (kind, key)
);
CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY,
    request INTEGER NOT NULL,
    chub BLOB NOT NULL,
    targets BLOB NOT NULL,
    state TEXT NOT NULL,
    next_block INTEGER NOT NULL,
    blocks INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    retry_at REAL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_EUI = 8
_NEXT_TRANSFER = "next_transfer_id"
TRANSFER_STATES = frozenset({"queued", "sending", "waiting", "done"})
K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SavedTransfer:
    """One comms hub's transfer of a firmware request as last checkpointed.

    ``request`` is the request's position among the records' firmware requests; ``next_block``
    the first block the comms hub has not acknowledged; ``retry_at`` when a waiting transfer's
    next attempt is due."""

    id: int
    request: int
    chub: bytes
    targets: tuple[bytes, ...]
    state: str
    next_block: int
    blocks: int
    attempt: int
    retry_at: datetime | None = None


class RecordsStore:
    """The SQLite file behind a served hub's records (module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute("SELECT seq, kind, key, value FROM records LIMIT 0")
            self._db.execute(
                "SELECT id, request, chub, targets, state, next_block, blocks, attempt, retry_at "
                "FROM transfers LIMIT 0"
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(f"{path}: not a readable hub records store ({exc})") from None

    def close(self) -> None:
        self._db.close()

    # --- records ----------------------------------------------------------------------------

    def mapping(self, kind: str, key_type: type, value_type: type) -> StoredMapping[Any, Any]:
        """The records of ``kind`` as a mapping that writes every change here."""
        held: dict[Any, Any] = {}
        for key, value in self._rows(kind):
            held[self._decoded(kind, key, key, key_type)] = self._value(
                kind, key, value, value_type
            )
        return StoredMapping(self, kind, held)

    def sequence(self, kind: str, value_type: type) -> StoredList[Any]:
        """The records of ``kind`` as an append-only list that writes every change here."""
        held: list[Any] = []
        for key, value in self._rows(kind):
            if key != str(len(held)):
                raise self._unreadable(kind, key, f"expected position {len(held)}")
            held.append(self._value(kind, key, value, value_type))
        return StoredList(self, kind, held)

    def put(self, kind: str, key: str, value: object) -> None:
        """Write (or replace) one record; committed on return."""
        self._db.execute(
            "INSERT INTO records (kind, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
            (kind, key, json.dumps(encode(value), separators=(",", ":"))),
        )

    def delete(self, kind: str, key: str) -> None:
        self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))

    def _rows(self, kind: str) -> list[tuple[str, str]]:
        try:
            return self._db.execute(
                "SELECT key, value FROM records WHERE kind = ? ORDER BY seq", (kind,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise ConfigurationError(f"{self.path}: records unreadable ({exc})") from None

    def _value(self, kind: str, key: str, text: str, value_type: type) -> Any:
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise self._unreadable(kind, key, f"not JSON: {exc}") from None
        return self._decoded(kind, key, data, value_type)

    def _decoded(self, kind: str, key: str, data: object, value_type: type) -> Any:
        try:
            return decode(data, value_type)
        except (TypeError, ValueError, KeyError) as exc:
            raise self._unreadable(kind, key, str(exc)) from None

    def _unreadable(self, kind: str, key: str, why: str) -> ConfigurationError:
        return ConfigurationError(f"{self.path}: record {kind} {key!r} unreadable: {why}")

    # --- firmware transfers -----------------------------------------------------------------

    def saved_transfers(self) -> list[SavedTransfer]:
        """Every transfer checkpointed and not yet cleared, by number."""
        try:
            rows = self._db.execute(
                "SELECT id, request, chub, targets, state, next_block, blocks, attempt, retry_at "
                "FROM transfers ORDER BY id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise ConfigurationError(
                f"{self.path}: firmware transfers unreadable ({exc})"
            ) from None
        return [self._transfer(row) for row in rows]

    def next_transfer_id(self) -> int:
        """The number the next new transfer takes (1 on a new store)."""
        row = self._db.execute(
            "SELECT value FROM counters WHERE name = ?", (_NEXT_TRANSFER,)
        ).fetchone()
        saved = max((t.id for t in self.saved_transfers()), default=0) + 1
        return max(saved, row[0] if row is not None and isinstance(row[0], int) else 1)

    def checkpoint(
        self, changed: Iterable[SavedTransfer], finished: Iterable[int], next_id: int
    ) -> None:
        """In one transaction: write ``changed``, clear the transfers of the ``finished``
        requests, note ``next_id``."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO transfers (id, request, chub, targets, state, "
                "next_block, blocks, attempt, retry_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.id,
                        t.request,
                        t.chub,
                        b"".join(t.targets),
                        t.state,
                        t.next_block,
                        t.blocks,
                        t.attempt,
                        None if t.retry_at is None else t.retry_at.timestamp(),
                    )
                    for t in changed
                ],
            )
            self._db.executemany(
                "DELETE FROM transfers WHERE request = ?", [(seq,) for seq in finished]
            )
            self._db.execute(
                "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                (_NEXT_TRANSFER, next_id),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _transfer(self, row: tuple[Any, ...]) -> SavedTransfer:
        tid, request, chub, targets, state, next_block, blocks, attempt, retry_at = row
        problem = None
        if not isinstance(chub, bytes) or len(chub) != _EUI:
            problem = "comms hub is not an 8-byte EUI"
        elif not isinstance(targets, bytes) or not targets or len(targets) % _EUI:
            problem = "targets are not a list of 8-byte EUIs"
        elif state not in TRANSFER_STATES:
            problem = f"unknown state {state!r}"
        elif not (isinstance(blocks, int) and 0 <= next_block < blocks) or attempt < 1:
            problem = f"block {next_block} of {blocks}, attempt {attempt}"
        elif state == "waiting" and not isinstance(retry_at, float | int):
            problem = "a waiting transfer without its retry time"
        if problem is not None:
            raise ConfigurationError(f"{self.path}: firmware transfer {tid} unreadable: {problem}")
        return SavedTransfer(
            id=tid,
            request=request,
            chub=chub,
            targets=tuple(targets[i : i + _EUI] for i in range(0, len(targets), _EUI)),
            state=state,
            next_block=next_block,
            blocks=blocks,
            attempt=attempt,
            retry_at=None if retry_at is None else datetime.fromtimestamp(retry_at, UTC),
        )


class StoredMapping(MutableMapping[K, V]):
    """A dict whose changes are written to the store first (keys: bytes as hex, ints)."""

    def __init__(self, store: RecordsStore, kind: str, held: dict[K, V]) -> None:
        self._store = store
        self._kind = kind
        self._held = held

    def __getitem__(self, key: K) -> V:
        return self._held[key]

    def __setitem__(self, key: K, value: V) -> None:
        self._store.put(self._kind, _key_text(key), value)
        self._held[key] = value

    def __delitem__(self, key: K) -> None:
        if key not in self._held:
            raise KeyError(key)
        self._store.delete(self._kind, _key_text(key))
        del self._held[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, key: object) -> bool:
        return key in self._held


class StoredList(MutableSequence[T]):
    """An append-only list whose changes are written to the store first (key: the position).

    Records are appended and replaced, never removed or inserted before others (their
    positions are their keys): those raise :class:`TypeError`."""

    def __init__(self, store: RecordsStore, kind: str, held: list[T]) -> None:
        self._store = store
        self._kind = kind
        self._held = held

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> MutableSequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | MutableSequence[T]:
        return self._held[index]

    @overload
    def __setitem__(self, index: int, value: T) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[T]) -> None: ...
    def __setitem__(self, index: int | slice, value: T | Iterable[T]) -> None:
        if isinstance(index, slice):
            raise TypeError(f"stored {self._kind} records are replaced one at a time")
        position = range(len(self._held))[index]  # IndexError when out of range
        self._store.put(self._kind, str(position), value)
        self._held[position] = typing.cast(T, value)

    def __delitem__(self, index: int | slice) -> None:
        raise TypeError(f"stored {self._kind} records are never removed")

    def __len__(self) -> int:
        return len(self._held)

    def __iter__(self) -> Iterator[T]:
        return iter(self._held)

    def insert(self, index: int, value: T) -> None:
        if index != len(self._held):
            raise TypeError(f"stored {self._kind} records are only appended")
        self._store.put(self._kind, str(index), value)
        self._held.append(value)


def _key_text(key: object) -> str:
    if isinstance(key, bytes):
        return key.hex()
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"a stored record's key is bytes or an int, not {type(key).__name__}")


# --- the JSON form of a record --------------------------------------------------------------


def encode(value: object) -> object:
    """A record (a dataclass of str, int, bool, bytes, date, datetime, tuples of those, None)
    as JSON data: bytes as hex, dates and times as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a record")


def decode(data: object, kind: Any) -> Any:
    """The value of type ``kind`` that :func:`encode` made ``data`` from; :class:`ValueError`
    or :class:`TypeError` naming what does not fit."""
    origin = typing.get_origin(kind)
    if origin is types.UnionType or origin is typing.Union:
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return decode(data, inner)
    if origin is tuple:
        inner, *_ = typing.get_args(kind)
        return tuple(decode(v, inner) for v in _typed(data, list, "a list"))
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        fields = _typed(data, dict, "an object")
        hints = typing.get_type_hints(kind)
        return kind(
            **{f.name: decode(fields[f.name], hints[f.name]) for f in dataclasses.fields(kind)}
        )
    if kind is bytes:
        return bytes.fromhex(_typed(data, str, "hex"))
    if kind is datetime:
        return datetime.fromisoformat(_typed(data, str, "an ISO 8601 time"))
    if kind is date:
        return date.fromisoformat(_typed(data, str, "an ISO 8601 date"))
    if kind is int and isinstance(data, str):  # a key
        return int(data)
    if kind in (str, int, bool, float):
        ok = isinstance(data, kind) and (kind is bool or not isinstance(data, bool))
        if not ok:
            raise TypeError(f"expected {kind.__name__}, got {data!r}")
        return data
    raise TypeError(f"no stored form for {kind!r}")


def _typed(data: object, kind: type[T], what: str) -> T:
    if not isinstance(data, kind):
        raise TypeError(f"expected {what}, got {data!r}")
    return data


__all__ = ["RecordsStore", "SavedTransfer", "StoredList", "StoredMapping", "decode", "encode"]
