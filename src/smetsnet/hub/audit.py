"""The access-control audit trail: one frozen entry per check run on a request (sans-I/O).

The log is append-only and in memory; a store that persists it can drain :meth:`AuditLog.entries`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


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


class Outcome(Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable (device checks of a non-device SR)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    time: datetime
    request_id: str | None  # None when the request never parsed
    user: bytes | None  # the RequestID's originator, once known
    check: Check
    outcome: Outcome
    reason: str = ""
    response_code: str | None = None  # the DUIS code answered on a failure, if any


class AuditLog:
    """Append-only: entries can be added and read, never changed or removed."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self._entries.append(entry)

    def entries(self) -> tuple[AuditEntry, ...]:
        return tuple(self._entries)

    def for_request(self, request_id: str) -> tuple[AuditEntry, ...]:
        return tuple(e for e in self._entries if e.request_id == request_id)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[AuditEntry]:
        return iter(tuple(self._entries))
