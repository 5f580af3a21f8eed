"""The hub's audit trail: one frozen entry per check, decision and message (issue 6).

The log is append-only and hash-chained: each entry appended gets the next seq and a hash over
the previous hash and the entry (the encoding is ``audit_chain``'s). Entries stay in memory
(``keep``) and/or go, one JSON line each, to a sink such as ``audit_chain.AuditFile``, which
``smetsnet audit verify`` checks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from hashlib import sha256 as _sha256
from json.encoder import encode_basestring_ascii as _esc

from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.audit_chain import (
    GENESIS,
    AuditSink,
    chain_line,
    encoded_record,
    json_optional,
    json_string,
)


class Check(Enum):
    """The access-control checks, in the order they run (issue 5 §2)."""

    SHAPE = "shape"
    SIGNATURE = "signature"
    USER = "user"
    ROLE = "role"
    DEVICE = "device"
    DEVICE_TYPE = "device type"
    REGISTRATION = "registration"
    COMMAND_VARIANT = "command variant"
    COUNTER = "counter"
    PRECOMMAND = "pre-command"  # CV 5-7: the signed pre-command is the one issued, signed
    DISPATCH = "dispatch"  # after access control: translation and sending
    # What the hub records beyond access control (issue 6):
    SENT = "sent to device"
    RECEIVED = "received from device"
    ALERT = "alert"
    RESPONSE = "response to user"
    SCHEDULE = "schedule run"
    TIMEOUT = "timeout"
    REGISTRATION_CHANGE = "registration change"


class Outcome(Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable (device checks of a non-device SR)


#: One entry's own fields, as :meth:`AuditLog.record` takes them: check, outcome, reason,
#: response code (or None) and detail.
Step = tuple[Check, Outcome, str, str | None, str]
#: An entry kept as its fields until it is read: time, request id, user and its step.
_Kept = tuple[datetime, str | None, bytes | None, Step]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    time: datetime
    request_id: str | None  # None when the request never parsed
    user: bytes | None  # the RequestID's originator, once known
    check: Check
    outcome: Outcome
    reason: str = ""
    response_code: str | None = None  # the DUIS code answered on a failure, if any
    detail: str = ""  # short facts, e.g. "device 00-DB-.. code 0x0037 sha256 ab12.."


class AuditLog:
    """Append-only and hash-chained: entries can be added and read, never changed or removed.

    ``sink`` receives every entry as one chained line and sets where the chain starts (its
    head: a reopened file goes on from its last line). ``keep=False`` keeps nothing in memory
    (``entries`` is then empty) for long runs that only write to the sink. ``len`` counts the
    entries appended to this log, kept or not.
    """

    __slots__ = (
        "_built_upto",
        "_count",
        "_entries",
        "_hash",
        "_keep",
        "_lock",
        "_prev",
        "_request",
        "_seq",
        "_sink",
        "_time",
        "_users",
    )

    def __init__(self, sink: AuditSink | None = None, *, keep: bool = True) -> None:
        # Kept entries; an entry appended by :meth:`record` stays as its fields until read.
        self._entries: list[AuditEntry | _Kept] = []
        self._built_upto = 0  # entries before this index are AuditEntry objects
        self._sink = sink
        self._keep = keep
        self._count = 0
        self._seq, self._hash = sink.head if sink is not None else (0, GENESIS)
        self._prev = json_string(self._hash.hex())
        # Several threads may append (a server's workers); seq and hash must advance together.
        self._lock = threading.Lock()
        # The entries of one request share its time and id, and a user appends many: each is
        # encoded once (formatting and escaping them was half of an append).
        self._time: tuple[datetime | None, str] = (None, "")
        self._request: tuple[str | None, str] = (None, "null")
        self._users: dict[bytes, str] = {}

    @property
    def head(self) -> tuple[int, bytes]:
        """The seq and hash of the last entry (``(0, GENESIS)`` before the first)."""
        with self._lock:
            return self._seq, self._hash

    def received(
        self,
        now: datetime,
        request_id: str | None,
        user: bytes | None,
        outcome: Outcome,
        reason: str,
        detail: str,
    ) -> None:
        """Note what the hub made of a message from a device (check RECEIVED)."""
        self.append(
            AuditEntry(
                time=now,
                request_id=request_id,
                user=user,
                check=Check.RECEIVED,
                outcome=outcome,
                reason=reason,
                detail=detail,
            )
        )

    def append(self, entry: AuditEntry) -> None:
        step = (entry.check, entry.outcome, entry.reason, entry.response_code, entry.detail)
        with self._lock:
            self._chain(entry.time, entry.request_id, entry.user, (step,), (entry,))

    def record(
        self,
        time: datetime,
        request_id: str | None,
        user: bytes | None,
        steps: Sequence[Step],
    ) -> None:
        """Append one entry per step, all of the same time, request and user (e.g. one request's
        access-control checks), in order, under one lock: the same chain, entry for entry, as
        :meth:`append` of each. Entries kept in memory are built only when read."""
        with self._lock:
            self._chain(time, request_id, user, steps, None)

    def _chain(
        self,
        time: datetime,
        request_id: str | None,
        user: bytes | None,
        steps: Sequence[Step],
        entries: tuple[AuditEntry, ...] | None,
    ) -> None:
        """Encode, chain and write ``steps``, then move the head and keep them (``entries``, or
        their fields); called under the lock."""
        if self._time[0] != time:
            self._time = (time, json_string(_utc(time).isoformat()))
        if self._request[0] != request_id:
            self._request = (request_id, json_optional(request_id))
        encoded_time, encoded_request = self._time[1], self._request[1]
        encoded_user = self._user(user)
        seq, digest, prev, sink = self._seq, self._hash, self._prev, self._sink
        chained: list[tuple[int, bytes, str]] = []
        try:
            for check, outcome, reason, response_code, detail in steps:
                seq += 1
                record = encoded_record(
                    seq,
                    encoded_time,
                    encoded_request,
                    encoded_user,
                    _CHECKS[check._value_],
                    _OUTCOMES[outcome._value_],
                    _esc(reason) if reason else '""',
                    "null" if response_code is None else _esc(response_code),
                    _esc(detail) if detail else '""',
                    prev,
                )
                digest = _sha256(digest + record).digest()  # chain_hash, without its call
                hexed = digest.hex()
                if sink is not None:
                    # Written before the head moves on: a failed write leaves the chain as it
                    # was after the last line written.
                    sink.write(chain_line(record, digest, hexed))
                prev = f'"{hexed}"'  # json_string of hex digits: nothing to escape
                chained.append((seq, digest, prev))
        finally:
            if chained:
                n = len(chained)
                self._seq, self._hash, self._prev = chained[-1]
                self._count += n
                if self._keep:
                    if entries is not None:
                        self._entries.extend(entries[:n])
                    else:
                        self._entries.extend((time, request_id, user, s) for s in steps[:n])

    def _user(self, user: bytes | None) -> str:
        if user is None:
            return "null"
        encoded = self._users.get(user)
        if encoded is None:
            if len(self._users) >= _USERS_KEPT:
                self._users.clear()
            encoded = self._users[user] = json_string(format_eui(user))
        return encoded

    def flush(self) -> None:
        if self._sink is not None:
            self._sink.flush()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()

    def entries(self) -> tuple[AuditEntry, ...]:
        return self._built()

    def for_request(self, request_id: str) -> tuple[AuditEntry, ...]:
        return tuple(e for e in self._built() if e.request_id == request_id)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[AuditEntry]:
        return iter(self._built())

    def _built(self) -> tuple[AuditEntry, ...]:
        """The kept entries as :class:`AuditEntry`; those still held as their fields are built
        now, once (building a frozen entry cost more than chaining it, on every check)."""
        with self._lock:
            entries = self._entries
            for i in range(self._built_upto, len(entries)):
                kept = entries[i]
                if isinstance(kept, tuple):
                    time, request_id, user, (check, outcome, reason, code, detail) = kept
                    entries[i] = AuditEntry(
                        time=time,
                        request_id=request_id,
                        user=user,
                        check=check,
                        outcome=outcome,
                        reason=reason,
                        response_code=code,
                        detail=detail,
                    )
            self._built_upto = len(entries)
            return tuple(entries)  # type: ignore[arg-type]  # every one built just now


#: The checks and outcomes (by value) as the record encodes them. Looked up by ``_value_``: an
#: enum's ``.value`` and its hash are both Python-level and slow for a path taken 10 times a SR.
_CHECKS = {check.value: json_string(check.value) for check in Check}
_OUTCOMES = {outcome.value: json_string(outcome.value) for outcome in Outcome}
#: Users whose encoded EUI is kept (far more than a hub has; the cache starts again past it).
_USERS_KEPT = 4096


def _utc(moment: datetime) -> datetime:
    # The hub's clocks are UTC; a naive time is taken to be UTC rather than the machine's zone.
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
