"""The two back-ends as one parametrised fixture, so the same tests run on SQLite and PostgreSQL.

PostgreSQL: 127.0.0.1:5432, user postgres, database ``test`` (``SMETSNET_PG_DSN`` overrides);
each test gets a schema of its own, ``smetsnet_test_<random>``, dropped afterwards. Where no
server answers the PostgreSQL half is skipped with the reason, except on CI (``CI`` set), where
that is a failure.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from smetsnet.inventory import Inventory, LookupCache
from smetsnet.store import PostgresStore, SqliteStore, SqlStore
from smetsnet.store.db import Db
from smetsnet.store.postgres import PostgresDb
from smetsnet.store.sqlite import SqliteDb

PG_DSN = os.environ.get("SMETSNET_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Backend:
    """Where a test's store lives; picklable, so worker processes can open it too."""

    name: str
    location: str  # SQLite file path, or PostgreSQL DSN
    schema: str | None = None

    def open(self) -> SqlStore:
        if self.name == "sqlite":
            return SqliteStore(self.location)
        return PostgresStore(self.location, schema=self.schema)

    def raw_db(self) -> Db:
        """A connection with no migration run (for the migration tests)."""
        if self.name == "sqlite":
            return SqliteDb(self.location)
        return PostgresDb(self.location, self.schema)


@functools.cache
def pg_unavailable() -> str | None:
    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at {PG_DSN}: {str(exc).strip()}"
    return None


def _drop_schema(schema: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "inventory.db"))
        return
    reason = pg_unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"smetsnet_test_{secrets.token_hex(6)}"
    try:
        yield Backend("postgres", PG_DSN, schema)
    finally:
        _drop_schema(schema)


@pytest.fixture
def store(backend: Backend) -> Iterator[SqlStore]:
    opened = backend.open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def inventory(store: SqlStore) -> Inventory:
    return Inventory(store, cache=LookupCache(), clock=lambda: NOW)
