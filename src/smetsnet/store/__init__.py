"""Persistence adapters: the inventory repositories on SQLite (the default) and PostgreSQL.

``open_store(url)`` picks one: ``":memory:"``, ``"sqlite:///relative.db"``,
``"sqlite:////abs/path.db"`` or a plain file path for SQLite;
``"postgresql://user@host:port/db"`` for PostgreSQL, optionally in a schema of its own.
Both run the same SQL (``store.sql``) and the same numbered migrations.
"""

from __future__ import annotations

from pathlib import Path

from smetsnet.store.base import SqlStore
from smetsnet.store.migrations import LATEST, MIGRATIONS, migrate, schema_version
from smetsnet.store.postgres import PostgresStore
from smetsnet.store.readings import ReadingsError, ReadingsStore
from smetsnet.store.sqlite import SqliteStore

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "PostgresStore",
    "ReadingsError",
    "ReadingsStore",
    "SqlStore",
    "SqliteStore",
    "migrate",
    "open_store",
    "schema_version",
]


def open_store(url: str | Path = ":memory:", *, schema: str | None = None) -> SqlStore:
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresStore(text, schema=schema)
    if text.startswith("sqlite://"):  # sqlite:///relative.db, sqlite:////absolute.db
        text = text.removeprefix("sqlite://").removeprefix("/") if text != "sqlite://" else ""
        text = text or ":memory:"
    return SqliteStore(text)
