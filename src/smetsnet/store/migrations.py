"""Versioned schema migrations, numbered, recorded in ``schema_version``.

Each migration runs in one transaction with the row that records it, so a database is always at
exactly one version. Opening a store migrates it to :data:`LATEST`; a database newer than this
code is refused (SchemaVersionError) rather than misread.

1. the inventory: premises, devices (EUI as a signed 64-bit key), meter points, effective-dated
   registrations, service users, shared trust-anchor sets, anchor history, anti-replay counters;
2. per-device trust-anchor overrides (replacements on top of a shared set) and the region index
   of premises (network operators' aggregates).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from smetsnet.inventory.errors import SchemaVersionError
from smetsnet.store.db import Db


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]  # DDL templates, see Dialect.ddl


MIGRATIONS = (
    Migration(
        version=1,
        description="inventory: premises, devices, meter points, registrations, users, anchors",
        statements=(
            "CREATE TABLE premises (id {serial_pk}, region SMALLINT NOT NULL,"
            " han_log_max SMALLINT NOT NULL)",
            "CREATE TABLE device (eui {int64_pk}, device_type SMALLINT NOT NULL,"
            " status SMALLINT NOT NULL, prior_status SMALLINT, status_at BIGINT NOT NULL,"
            " premises_id BIGINT, on_han_log SMALLINT NOT NULL, anchor_set_id BIGINT)",
            "CREATE INDEX device_premises ON device (premises_id)",
            "CREATE TABLE meter_point (mpxn {key_text} PRIMARY KEY, kind SMALLINT NOT NULL,"
            " premises_id BIGINT NOT NULL, device_eui BIGINT){without_rowid}",
            "CREATE INDEX meter_point_premises ON meter_point (premises_id, kind)",
            "CREATE TABLE registration (mpxn {key_text} NOT NULL, role SMALLINT NOT NULL,"
            " valid_from BIGINT NOT NULL, valid_to BIGINT, user_eui BIGINT NOT NULL,"
            " PRIMARY KEY (mpxn, role, valid_from)){without_rowid}",
            "CREATE TABLE service_user (eui {int64_pk}, name TEXT NOT NULL,"
            " roles INTEGER NOT NULL, response_url TEXT NOT NULL, xml_cert_sha256 {blob},"
            " xml_cert_subject BIGINT, status SMALLINT NOT NULL)",
            "CREATE TABLE anchor_set (id {serial_pk}, name TEXT NOT NULL UNIQUE)",
            "CREATE TABLE anchor_set_member (set_id BIGINT NOT NULL, role SMALLINT NOT NULL,"
            " key_usage SMALLINT NOT NULL, cell_usage SMALLINT NOT NULL,"
            " cert_sha256 {blob} NOT NULL, subject_eui BIGINT NOT NULL,"
            " PRIMARY KEY (set_id, role, key_usage, cell_usage)){without_rowid}",
            "CREATE TABLE anchor_history (id {serial_pk}, device_eui BIGINT NOT NULL,"
            " role SMALLINT NOT NULL, key_usage SMALLINT NOT NULL, cell_usage SMALLINT NOT NULL,"
            " old_sha256 {blob}, old_subject BIGINT, new_sha256 {blob} NOT NULL,"
            " new_subject BIGINT NOT NULL, replaced_by BIGINT NOT NULL,"
            " changed_at BIGINT NOT NULL, reason TEXT NOT NULL)",
            "CREATE INDEX anchor_history_device ON anchor_history (device_eui, id)",
            "CREATE TABLE counter (device_eui BIGINT NOT NULL, party_eui BIGINT NOT NULL,"
            " last_counter BIGINT, floor_counter BIGINT NOT NULL,"
            " PRIMARY KEY (device_eui, party_eui)){without_rowid}",
        ),
    ),
    Migration(
        version=2,
        description="per-device trust-anchor overrides; region index of premises",
        statements=(
            "CREATE TABLE anchor_override (device_eui BIGINT NOT NULL, role SMALLINT NOT NULL,"
            " key_usage SMALLINT NOT NULL, cell_usage SMALLINT NOT NULL,"
            " cert_sha256 {blob} NOT NULL, subject_eui BIGINT NOT NULL,"
            " PRIMARY KEY (device_eui, role, key_usage, cell_usage)){without_rowid}",
            "CREATE INDEX premises_region ON premises (region)",
        ),
    ),
)
LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
    " applied_at BIGINT NOT NULL, description TEXT NOT NULL)"
)


def schema_version(db: Db) -> int:
    """The version of the database (0 when empty)."""
    db.run(_VERSION_TABLE)
    row = db.one("SELECT MAX(version) FROM schema_version")
    return 0 if row is None or row[0] is None else int(row[0])


def migrate(db: Db, target: int = LATEST) -> list[int]:
    """Bring the database to ``target``, one transaction per migration; the versions applied."""
    if schema_version(db) > LATEST:
        raise SchemaVersionError(
            f"database schema is version {schema_version(db)}; this code knows up to {LATEST}"
        )
    applied = []
    for migration in MIGRATIONS:
        if migration.version > target:
            break
        with db.transaction():
            if db.dialect.lock_schema:
                db.run(db.dialect.lock_schema)
            row = db.one("SELECT MAX(version) FROM schema_version")
            if row is not None and row[0] is not None and int(row[0]) >= migration.version:
                continue  # another process got there first
            for statement in migration.statements:
                db.run(db.dialect.ddl(statement))
            db.run(
                "INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)",
                (migration.version, int(time.time()), migration.description),
            )
        applied.append(migration.version)
    return applied
