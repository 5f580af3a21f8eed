"""The PostgreSQL store, with psycopg 3: the same SQL as SQLite, ``COPY`` for bulk loads.

The connection runs in autocommit mode (each read is its own snapshot); ``transaction()`` is a
real transaction in which the ``lock_*`` reads take row locks (``FOR UPDATE``), and the device
status change is a compare-and-set, so concurrent writers serialise on what they share. A store
can live in a schema of its own (``schema=``), which is how the tests isolate each run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql as pgsql

from smetsnet.inventory.errors import AlreadyExists, InvalidIdentifier, StoreError
from smetsnet.store.base import SqlStore
from smetsnet.store.db import Params, Row
from smetsnet.store.dialect import POSTGRES

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresDb:
    dialect = POSTGRES

    def __init__(self, dsn: str, schema: str | None = None, *, connect_timeout: int = 5) -> None:
        if schema is not None and not _SCHEMA.match(schema):
            raise InvalidIdentifier(f"{schema!r} is not a plain PostgreSQL schema name")
        try:
            self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
            if schema is not None:
                name = pgsql.Identifier(schema)
                self._conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
                self._conn.execute(pgsql.SQL("SET search_path TO {}").format(name))
        except psycopg.Error as exc:
            raise StoreError(f"cannot open PostgreSQL database: {exc}") from exc
        self.schema = schema

    @property
    def connection(self) -> psycopg.Connection[tuple[object, ...]]:
        return self._conn

    def one(self, statement: str, params: Params = ()) -> Row | None:
        try:
            return self._conn.execute(POSTGRES.sql(statement), params).fetchone()
        except psycopg.Error as exc:
            raise _translate(exc, statement) from exc

    def all(self, statement: str, params: Params = ()) -> list[Row]:
        try:
            return self._conn.execute(POSTGRES.sql(statement), params).fetchall()
        except psycopg.Error as exc:
            raise _translate(exc, statement) from exc

    def run(self, statement: str, params: Params = ()) -> int:
        try:
            return self._conn.execute(POSTGRES.sql(statement), params).rowcount
        except psycopg.Error as exc:
            raise _translate(exc, statement) from exc

    def many(self, statement: str, rows: Iterable[Params]) -> None:
        try:
            with self._conn.cursor() as cur:
                cur.executemany(POSTGRES.sql(statement), rows)
        except psycopg.Error as exc:
            raise _translate(exc, statement) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # A nested block becomes a savepoint; its exception still ends the outer transaction.
        try:
            with self._conn.transaction():
                yield
        except psycopg.Error as exc:  # raised by COMMIT itself
            raise _translate(exc, "COMMIT") from exc

    def bulk_insert(self, table: str, columns: str, rows: Iterable[Params]) -> None:
        statement = f"COPY {table} ({columns}) FROM STDIN"
        try:
            with self._conn.cursor() as cur, cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise _translate(exc, statement) from exc

    def after_bulk_load(self, tables: Iterable[str]) -> None:
        # Premises ids were given explicitly: move the identity past them for add_premises.
        self.run("SELECT setval(pg_get_serial_sequence('premises', 'id'), MAX(id)) FROM premises")
        for table in tables:
            self.run(f"ANALYZE {table}")  # fresh planner statistics for the look-up queries

    def close(self) -> None:
        self._conn.close()


def _translate(exc: psycopg.Error, statement: str) -> Exception:
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return AlreadyExists(f"duplicate key: {exc.diag.message_detail or exc}")
    return StoreError(f"PostgreSQL: {exc} (in {statement.split('(')[0].strip()[:60]})")


class PostgresStore(SqlStore):
    """The inventory on PostgreSQL, e.g. ``PostgresStore("postgresql://postgres@127.0.0.1/test")``."""

    def __init__(self, dsn: str, *, schema: str | None = None) -> None:
        self.pg = PostgresDb(dsn, schema)
        super().__init__(self.pg)
