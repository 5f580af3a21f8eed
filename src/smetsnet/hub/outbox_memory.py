"""The outbox of a hub that keeps no state folder: the same queue as :class:`~.outbox.Outbox`,
in this process's memory.

A hub without ``--state`` loses its outbox when it stops whatever holds it; an in-memory SQLite
database only cost a handful of statements a request (put, hand out, lease, delete, next due).
This keeps the messages in a dict and the messages with a URL in a heap ordered as the SQL is
(``ORDER BY due, id``); a heap entry whose message is gone or due at another time since is
stale and skipped. Ids, ordering, leases, backoff and counts are :class:`~.outbox.Outbox`'s
(``tests/hub/test_outbox_memory.py`` runs both side by side).
"""

from __future__ import annotations

import heapq
import itertools
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smetsnet.errors import ConfigurationError
from smetsnet.hub.interface import Outbound
from smetsnet.hub.outbox import DEFAULT_LEASE_S, backoff_s


@dataclass(slots=True)
class _Message:
    user: bytes
    url: str | None
    body: bytes
    due: float  # epoch seconds, as the SQL outbox keeps it
    attempts: int = 0
    last_error: str | None = None


class MemoryOutbox:
    """:class:`~.outbox.Outbox`'s interface and behaviour, without a database (see above)."""

    def __init__(self, *, lease_s: float = DEFAULT_LEASE_S) -> None:
        if lease_s <= 0:
            raise ConfigurationError(f"outbox lease must be positive, got {lease_s}")
        self.lease_s = lease_s
        self._messages: dict[int, _Message] = {}
        self._queue: list[tuple[float, int]] = []  # (due, id) of messages with a URL
        self._ids = itertools.count(1)  # as AUTOINCREMENT: from 1, never reused
        self._batch: AbstractContextManager[None] = nullcontext()

    def close(self) -> None:
        """Nothing to write: the messages go with the process."""

    def batch(self) -> AbstractContextManager[None]:
        """Nothing to group (no commits); kept so the hub drives either outbox alike."""
        return self._batch

    def put(self, user: bytes, url: str | None, body: bytes, now: datetime) -> int:
        """Keep ``body`` for ``user`` (at ``url``, or until a URL is set); returns its id."""
        message_id = next(self._ids)
        message = _Message(user=user, url=url, body=body, due=now.timestamp())
        self._messages[message_id] = message
        if url is not None:
            heapq.heappush(self._queue, (message.due, message_id))
        return message_id

    def set_url(self, user: bytes, url: str) -> int:
        """Point the user's waiting messages at ``url``; returns how many there are."""
        n = 0
        for message_id, message in self._messages.items():
            if message.user == user:
                if message.url is None:
                    heapq.heappush(self._queue, (message.due, message_id))
                message.url = url
                n += 1
        return n

    def due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        """Up to ``limit`` messages due by ``now``, oldest first (due, then id); each is leased
        for ``lease_s`` unless its outcome is reported first."""
        t = now.timestamp()
        queue, messages = self._queue, self._messages
        taken: list[tuple[int, _Message]] = []
        seen: set[int] = set()
        while queue and len(taken) < limit and queue[0][0] <= t:
            due, message_id = heapq.heappop(queue)
            message = messages.get(message_id)
            if message is None or message.url is None or message.due != due:
                continue  # delivered, or due at another time since (stale)
            if message_id not in seen:  # the same (due, id) pushed twice
                seen.add(message_id)
                taken.append((message_id, message))
        leased = t + self.lease_s
        out = []
        for message_id, message in taken:
            assert message.url is not None
            out.append(
                Outbound(
                    id=message_id, url=message.url, body=message.body, attempts=message.attempts
                )
            )
            message.due = leased
            heapq.heappush(queue, (leased, message_id))
        return out

    def delivered(self, outbound_id: int) -> None:
        """The message reached its user: removed."""
        self._messages.pop(outbound_id, None)

    def failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        """Count the failure and wait ``backoff_s`` before handing the message out again."""
        message = self._messages.get(outbound_id)
        if message is None:
            return  # already delivered by an earlier lease: nothing to retry
        message.attempts += 1
        message.due = (now + timedelta(seconds=backoff_s(message.attempts))).timestamp()
        message.last_error = reason[:500]
        if message.url is not None:
            heapq.heappush(self._queue, (message.due, outbound_id))

    def next_due(self) -> datetime | None:
        queue, messages = self._queue, self._messages
        while queue:
            due, message_id = queue[0]
            message = messages.get(message_id)
            if message is not None and message.url is not None and message.due == due:
                return datetime.fromtimestamp(due, UTC)
            heapq.heappop(queue)  # stale
        return None

    def __len__(self) -> int:
        return len(self._messages)

    def waiting_without_url(self) -> int:
        return sum(message.url is None for message in self._messages.values())
