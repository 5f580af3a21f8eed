"""The hub's outbox: signed DUIS responses and alerts kept until the user's URL has taken them.

Every message is written before the hub reports it handled, and removed only when a delivery
succeeded, so a restart loses nothing: the next process hands out what the last one left. A
failed delivery is retried with exponential backoff (``BACKOFF_FIRST_S`` doubling up to
``BACKOFF_MAX_S``), without limit: DUIS responses are not discarded. A message handed out is
*leased* for ``lease_s``; if its outcome is never reported (the edge crashed mid-POST) it is
handed out again after the lease.

Messages for a user with no response URL wait (``url`` is NULL) until one is set.

The store is SQLite (a file for durability, ``:memory:`` for tests and benchmarks) in WAL mode;
SQLite is in the standard library and the outbox is local to one hub process. A commit to a file
costs far more than the statement, so writes are grouped:

* :meth:`Outbox.batch` groups the puts of one hub step (``Hub.advance``): the first commits by
  itself, the others in one transaction committed when the step ends (also when it fails: what
  was put stays put), before the step returns;
* :meth:`Outbox.delivered` only notes the id; the deletions are written together, in one
  transaction, before the outbox is next read (``due``, ``next_due``, ``len``...) or written, and
  on :meth:`Outbox.close`. A crash before then re-delivers those messages after their lease:
  at least once, never lost (as for a delivery the edge has not reported yet);
* :meth:`Outbox.due` leases what it hands out in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

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


class MessageQueue(Protocol):
    """What the hub needs of an outbox: :class:`Outbox` (SQLite) or, for a hub that keeps no
    state, ``outbox_memory.MemoryOutbox`` (the same queue in memory)."""

    def close(self) -> None: ...

    def batch(self) -> AbstractContextManager[None]: ...

    def put(self, user: bytes, url: str | None, body: bytes, now: datetime) -> int: ...

    def set_url(self, user: bytes, url: str) -> int: ...

    def due(self, now: datetime, limit: int = 100) -> list[Outbound]: ...

    def delivered(self, outbound_id: int) -> None: ...

    def failed(self, outbound_id: int, now: datetime, reason: str) -> None: ...

    def next_due(self) -> datetime | None: ...

    def __len__(self) -> int: ...

    def waiting_without_url(self) -> int: ...


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
        self._delivered: list[tuple[int]] = []  # deletions not yet written
        self._batch = 0  # depth of batch() blocks
        self._writes = 0  # writes in the current batch
        self._batcher = _Batch(self)  # one object: a generator-based manager per step costs more

    def close(self) -> None:
        """Write what is pending (deliveries, an open batch) and close the store."""
        try:
            self._flush()
        finally:
            try:
                self._commit()  # an open batch's puts are kept even if the flush failed
            finally:
                self._db.close()

    def batch(self) -> AbstractContextManager[None]:
        """Group the writes made inside: the first commits by itself (BEGIN and COMMIT would
        only add two statements to a lone write), the others in one transaction committed at
        the end, also when the block raises. Batches nest (the outermost commits)."""
        return self._batcher

    def _enter_batch(self) -> None:
        self._batch += 1

    def _exit_batch(self) -> None:
        self._batch -= 1
        if not self._batch:
            self._writes = 0
            self._commit()

    def _write(self) -> None:
        """Called before every write: flush pending deletions; in a batch, its second write
        opens the transaction."""
        if self._batch:
            self._writes += 1
            if self._writes > 1 and not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
        self._flush()

    def _commit(self) -> None:
        # A failed COMMIT leaves the transaction open: the next write or batch commits it.
        if self._db.in_transaction:
            self._db.execute("COMMIT")

    def _flush(self) -> None:
        """Write the noted deliveries (see the module docstring)."""
        if self._delivered:
            done, self._delivered = self._delivered, []
            try:
                self._many("DELETE FROM outbox WHERE id = ?", done)
            except BaseException:
                self._delivered[:0] = done  # kept for the next flush (a DELETE is idempotent)
                raise

    def _many(self, statement: str, rows: Sequence[tuple[float | int, ...]]) -> None:
        """``executemany`` as one transaction (the open one, or its own for several rows)."""
        if len(rows) == 1:
            self._db.execute(statement, rows[0])
            return
        if self._db.in_transaction:
            self._db.executemany(statement, rows)
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(statement, rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def put(self, user: bytes, url: str | None, body: bytes, now: datetime) -> int:
        """Keep ``body`` for ``user`` (at ``url``, or until a URL is set); returns its id."""
        self._write()
        cursor = self._db.execute(
            "INSERT INTO outbox (user, url, body, due) VALUES (?, ?, ?, ?)",
            (user, url, body, now.timestamp()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def set_url(self, user: bytes, url: str) -> int:
        """Point the user's waiting messages at ``url``; returns how many there are."""
        self._write()
        return self._db.execute("UPDATE outbox SET url = ? WHERE user = ?", (url, user)).rowcount

    def due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        """Up to ``limit`` messages due by ``now``, oldest first; each is leased (not handed out
        again) for ``lease_s`` unless its outcome is reported first."""
        self._flush()
        t = now.timestamp()
        rows = self._db.execute(
            "SELECT id, url, body, attempts FROM outbox WHERE url IS NOT NULL AND due <= ? "
            "ORDER BY due, id LIMIT ?",
            (t, limit),
        ).fetchall()
        if rows:
            self._many(
                "UPDATE outbox SET due = ? WHERE id = ?",
                [(t + self.lease_s, row[0]) for row in rows],
            )
        return [Outbound(id=i, url=u, body=b, attempts=a) for i, u, b, a in rows]

    def delivered(self, outbound_id: int) -> None:
        """The message reached its user: removed (written with the next read or write)."""
        self._delivered.append((outbound_id,))

    def failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        """Count the failure and wait ``backoff_s`` before handing the message out again."""
        self._write()
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
        self._flush()
        row = self._db.execute("SELECT MIN(due) FROM outbox WHERE url IS NOT NULL").fetchone()
        return None if row[0] is None else datetime.fromtimestamp(row[0], UTC)

    def __len__(self) -> int:
        self._flush()
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def waiting_without_url(self) -> int:
        self._flush()
        return int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE url IS NULL").fetchone()[0])


class _Batch:
    """What :meth:`Outbox.batch` returns (a plain class: it is entered on every hub step)."""

    __slots__ = ("_outbox",)

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def __enter__(self) -> None:
        self._outbox._enter_batch()

    def __exit__(self, *exc_info: object) -> None:
        self._outbox._exit_batch()
