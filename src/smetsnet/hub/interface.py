"""What the HTTP edge (``smetsnet.api``) needs of the hub: one synchronous call per request, a
clock to advance, and an outbox of signed messages for users' response URLs.

The hub never does I/O itself: the edge hands it request bytes and the time, sends the
synchronous answer back, and POSTs what :meth:`DuisService.outbound_due` returns, reporting each
outcome so the hub can retry with backoff (nothing is dropped until delivered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography import x509

XML = "application/xml"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncAnswer:
    """The HTTP answer to one POST: a signed DUIS response (status 200, even for an E-code) or,
    for bytes that never became a DUIS request, a plain-text reason (400 malformed, 413 too
    large, 501 a request the hub cannot carry out)."""

    http_status: int
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbound:
    """A signed DUIS response or alert waiting for delivery to a user's response URL."""

    id: int
    url: str
    body: bytes
    attempts: int  # deliveries tried so far


class DuisService(Protocol):
    def handle(self, body: bytes, *, endpoint: str, now: datetime) -> SyncAnswer:
        """One POST to ``/api/v1/<endpoint>`` (``serviceS``, ``serviceT`` or ``serviceD``)."""
        ...

    def advance(self, now: datetime) -> None:
        """Run the WAN, devices' answers, timeouts, retries and schedules up to ``now``."""
        ...

    def next_due(self) -> datetime | None:
        """When :meth:`advance` next has work (``None``: nothing pending)."""
        ...

    def outbound_due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        """Messages to POST now (each is handed out again only after a failure's backoff)."""
        ...

    def delivered(self, outbound_id: int) -> None: ...

    def delivery_failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        """The POST failed (connection error or a non-2xx status): retry later with backoff."""
        ...

    def certificates(
        self, *, eui: bytes | None = None, serial: int | None = None
    ) -> list[x509.Certificate]:
        """SMKI look-up: the certificates of a party or device, or the one with a serial."""
        ...

    def metrics(self) -> Mapping[str, float]:
        """Counters and gauges for ``/metrics`` (requests by code, queue depths, ...)."""
        ...

    def close(self) -> None:
        """Persist what is pending and release the stores (the edge is shutting down)."""
        ...
