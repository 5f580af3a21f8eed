"""The default store: SQLite (a file, or ``:memory:``) with the standard library's ``sqlite3``.

The connection runs in autocommit mode and every transaction is ``BEGIN IMMEDIATE``: the write
lock is taken up front, so two processes never both read and then both write (the lost-update
race), and a waiting writer is retried by SQLite's busy timeout instead of failing with a
deadlock. Files use WAL, so readers never wait for the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from smetsnet.inventory.errors import AlreadyExists, StoreError
from smetsnet.store.base import SqlStore
from smetsnet.store.db import Params, Row
from smetsnet.store.dialect import SQLITE

BUSY_TIMEOUT_S = 60.0
CACHE_KIB = 65_536  # page cache per connection (the default 2 MiB makes cold look-ups slow)


class SqliteDb:
    dialect = SQLITE

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False
            )
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._conn.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        self._depth = 0

    def one(self, statement: str, params: Params = ()) -> Row | None:
        try:
            row: Row | None = self._conn.execute(statement, params).fetchone()
        except sqlite3.Error as exc:
            raise _translate(exc, statement) from exc
        return row

    def all(self, statement: str, params: Params = ()) -> list[Row]:
        try:
            return self._conn.execute(statement, params).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, statement) from exc

    def run(self, statement: str, params: Params = ()) -> int:
        try:
            return self._conn.execute(statement, params).rowcount
        except sqlite3.Error as exc:
            raise _translate(exc, statement) from exc

    def many(self, statement: str, rows: Iterable[Params]) -> None:
        try:
            self._conn.executemany(statement, rows)
        except sqlite3.Error as exc:
            raise _translate(exc, statement) from exc

    def bulk_insert(self, table: str, columns: str, rows: Iterable[Params]) -> None:
        marks = ", ".join("?" * (columns.count(",") + 1))
        self.many(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    def after_bulk_load(self, tables: Iterable[str]) -> None:
        # The load went through the write-ahead log; copy it into the database and empty it
        # now rather than leave a log as big as the data. (No statistics: the planner does
        # well on these indexes without them.)
        if self.path != ":memory:":
            self.one("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1  # joins the outer transaction
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.run("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            self.run("COMMIT")
        except StoreError:
            self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._conn.close()


def _translate(exc: sqlite3.Error, statement: str) -> Exception:
    if isinstance(exc, sqlite3.IntegrityError):
        return AlreadyExists(f"duplicate key: {exc}")
    return StoreError(f"SQLite: {exc} (in {statement.split('(')[0].strip()[:60]})")


class SqliteStore(SqlStore):
    """The inventory on SQLite: ``SqliteStore()`` in memory, ``SqliteStore("inv.db")`` a file.

    One connection, used by one thread at a time; open one store per thread or process (each
    process's writes are serialised by SQLite's write lock).
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.sqlite = SqliteDb(path)
        super().__init__(self.sqlite)
