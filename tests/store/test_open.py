"""Opening stores by URL, and what the two back-ends share."""

from __future__ import annotations

from pathlib import Path

import pytest

from smetsnet.inventory import InvalidIdentifier, StoreError
from smetsnet.store import PostgresStore, SqliteStore, open_store
from smetsnet.store.dialect import POSTGRES, SQLITE
from smetsnet.store.sqlite import SqliteDb
from tests.store.backends import PG_DSN, pg_unavailable


def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = open_store(":memory:")
    assert isinstance(memory, SqliteStore) and memory.sqlite.path == ":memory:"
    memory.close()
    absolute = open_store(f"sqlite:///{tmp_path}/a.db")  # sqlite:////abs/a.db
    assert isinstance(absolute, SqliteStore) and absolute.sqlite.path == f"{tmp_path}/a.db"
    absolute.close()
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///b.db")
    assert isinstance(relative, SqliteStore) and relative.sqlite.path == "b.db"
    relative.close()
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()
    with pytest.raises(StoreError, match="cannot open SQLite database"):
        SqliteDb(tmp_path / "missing" / "dir" / "c.db")


def test_postgres_url_and_schema_names() -> None:
    with pytest.raises(InvalidIdentifier, match="not a plain PostgreSQL schema name"):
        PostgresStore(PG_DSN, schema="x; DROP TABLE device")
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    store = open_store(PG_DSN, schema="smetsnet_test_open_url")
    try:
        assert isinstance(store, PostgresStore) and store.migrated == [1, 2]
    finally:
        store.db.run("DROP SCHEMA smetsnet_test_open_url CASCADE")
        store.close()


def test_one_body_of_sql() -> None:
    statement = "SELECT eui FROM device WHERE eui = ? AND status = ?"
    assert SQLITE.sql(statement) == statement
    assert POSTGRES.sql(statement) == "SELECT eui FROM device WHERE eui = %s AND status = %s"
    ddl = "CREATE TABLE t (id {serial_pk}, k {key_text}, b {blob}){without_rowid}"
    assert (
        SQLITE.ddl(ddl) == "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, b BLOB) WITHOUT ROWID"
    )
    assert "BYTEA" in POSTGRES.ddl(ddl) and 'COLLATE "C"' in POSTGRES.ddl(ddl)
