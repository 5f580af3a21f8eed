"""The hub's outbox: signed DUIS responses and alerts kept until the user's URL has taken them.

Every message is written before the hub reports it handled, and removed only when a delivery
succeeded, so a restart loses nothing: the next process hands out what the last one left. A
failed delivery is retried with exponential backoff (``BACKOFF_FIRST_S`` doubling up to
``BACKOFF_MAX_S``), without limit: DUIS responses are not discarded. A message handed out is
*leased* for ``lease_s``; if its outcome is never reported (the edge crashed mid-POST) it is
handed out again after the lease.

Messages for a user with no response URL wait (``url`` is NULL) until one is set.

The store is SQLite (a file for durability, ``:memory:`` for tests and benchmarks) in WAL mode;
SQLite is in the standard library and the outbox is local to one hub process.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smetsnet.errors import ConfigurationError
from smetsnet.hub.interface import Outbound

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 300.0
DEFAULT_LEASE_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user BLOB NOT NULL,
    url TEXT,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due) WHERE url IS NOT NULL;
"""


def backoff_s(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed delivery (1, 2, 4, ... capped)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


class Outbox:
    """A durable queue of messages for users' response URLs (see the module docstring)."""

    def __init__(self, path: Path | str = ":memory:", *, lease_s: float = DEFAULT_LEASE_S) -> None:
        if lease_s <= 0:
            raise ConfigurationError(f"outbox lease must be positive, got {lease_s}")
        self.lease_s = lease_s
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def put(self, user: bytes, url: str | None, body: bytes, now: datetime) -> int:
        """Keep ``body`` for ``user`` (at ``url``, or until a URL is set); returns its id."""
        cursor = self._db.execute(
            "INSERT INTO outbox (user, url, body, due) VALUES (?, ?, ?, ?)",
            (user, url, body, now.timestamp()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def set_url(self, user: bytes, url: str) -> int:
        """Point the user's waiting messages at ``url``; returns how many there are."""
        return self._db.execute("UPDATE outbox SET url = ? WHERE user = ?", (url, user)).rowcount

    def due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        """Up to ``limit`` messages due by ``now``, oldest first; each is leased (not handed out
        again) for ``lease_s`` unless its outcome is reported first."""
        t = now.timestamp()
        rows = self._db.execute(
            "SELECT id, url, body, attempts FROM outbox WHERE url IS NOT NULL AND due <= ? "
            "ORDER BY due, id LIMIT ?",
            (t, limit),
        ).fetchall()
        if rows:
            self._db.executemany(
                "UPDATE outbox SET due = ? WHERE id = ?",
                [(t + self.lease_s, row[0]) for row in rows],
            )
        return [Outbound(id=i, url=u, body=b, attempts=a) for i, u, b, a in rows]

    def delivered(self, outbound_id: int) -> None:
        self._db.execute("DELETE FROM outbox WHERE id = ?", (outbound_id,))

    def failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        """Count the failure and wait ``backoff_s`` before handing the message out again."""
        row = self._db.execute(
            "SELECT attempts FROM outbox WHERE id = ?", (outbound_id,)
        ).fetchone()
        if row is None:
            return  # already delivered by an earlier lease: nothing to retry
        attempts = row[0] + 1
        due = now + timedelta(seconds=backoff_s(attempts))
        self._db.execute(
            "UPDATE outbox SET attempts = ?, due = ?, last_error = ? WHERE id = ?",
            (attempts, due.timestamp(), reason[:500], outbound_id),
        )

    def next_due(self) -> datetime | None:
        row = self._db.execute("SELECT MIN(due) FROM outbox WHERE url IS NOT NULL").fetchone()
        return None if row[0] is None else datetime.fromtimestamp(row[0], UTC)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def waiting_without_url(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE url IS NULL").fetchone()[0])
