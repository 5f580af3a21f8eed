"""Tests of the HTTP edge against :class:`FakeHub`, a small in-memory :class:`DuisService` that
also checks how the edge uses it: never two calls at once, and every message it hands out
reported exactly once before it is handed out again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509

from smetsnet.hub.interface import TEXT, XML, Outbound, SyncAnswer


@dataclass
class _Message:
    url: str
    body: bytes
    attempts: int = 0
    due: datetime | None = None  # None: handed out, waiting for its outcome
    delivered: bool = False


@dataclass
class FakeHub:
    """Answers every request with a canned XML body; the test queues outbound messages."""

    backoff: timedelta = timedelta(milliseconds=20)
    handle_seconds: float = 0.0  # CPU-bound work, simulated by sleeping while "busy"
    certs: list[x509.Certificate] = field(default_factory=list)
    queue_on_request: str | None = None  # URL to queue a response to after each request
    answer: SyncAnswer = field(
        default_factory=lambda: SyncAnswer(http_status=200, body=b"<ok/>", content_type=XML)
    )
    fail_advance: bool = False
    due_at: datetime | None = None  # what next_due() says

    def __post_init__(self) -> None:
        self.messages: dict[int, _Message] = {}
        self.requests: list[tuple[bytes, str, datetime]] = []
        self.failures: list[tuple[int, str]] = []
        self.violations: list[str] = []
        self.advanced: list[datetime] = []
        self.handed_out_limits: list[int] = []
        self.closed = False
        self.closed_with_unreported: list[int] = []
        self._busy = threading.Lock()
        self._guard = threading.Lock()

    @contextmanager
    def _one_at_a_time(self, name: str) -> Iterator[None]:
        if not self._busy.acquire(blocking=False):
            self.violations.append(f"{name} called while another call was running")
            yield
            return
        try:
            yield
        finally:
            self._busy.release()

    def queue(self, url: str, body: bytes, now: datetime) -> int:
        with self._guard:
            ident = len(self.messages) + 1
            self.messages[ident] = _Message(url, body, due=now)
            return ident

    # DuisService -------------------------------------------------------------------------------

    def handle(self, body: bytes, *, endpoint: str, now: datetime) -> SyncAnswer:
        with self._one_at_a_time("handle"):
            if body == b"<boom/>":
                raise RuntimeError("the fake hub was told to fail")
            if self.handle_seconds:
                time.sleep(self.handle_seconds)
            self.requests.append((body, endpoint, now))
            if self.queue_on_request is not None:
                self.queue(self.queue_on_request, b"<response>" + body + b"</response>", now)
            return self.answer

    def advance(self, now: datetime) -> None:
        with self._one_at_a_time("advance"):
            self.advanced.append(now)
            if self.fail_advance:
                raise RuntimeError("the fake hub cannot advance")

    def next_due(self) -> datetime | None:
        with self._one_at_a_time("next_due"):
            return self.due_at

    def outbound_due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        with self._one_at_a_time("outbound_due"), self._guard:
            self.handed_out_limits.append(limit)
            out: list[Outbound] = []
            for ident, message in self.messages.items():
                if len(out) >= limit:
                    break
                if message.due is not None and message.due <= now and not message.delivered:
                    message.due = None
                    out.append(
                        Outbound(
                            id=ident, url=message.url, body=message.body, attempts=message.attempts
                        )
                    )
            return out

    def delivered(self, outbound_id: int) -> None:
        with self._one_at_a_time("delivered"), self._guard:
            message = self.messages[outbound_id]
            if message.due is not None or message.delivered:
                self.violations.append(f"{outbound_id} reported delivered but not handed out")
            message.delivered = True
            message.attempts += 1

    def delivery_failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        with self._one_at_a_time("delivery_failed"), self._guard:
            message = self.messages[outbound_id]
            if message.due is not None or message.delivered:
                self.violations.append(f"{outbound_id} reported failed but not handed out")
            message.attempts += 1
            message.due = now + self.backoff
            self.failures.append((outbound_id, reason))

    def certificates(
        self, *, eui: bytes | None = None, serial: int | None = None
    ) -> list[x509.Certificate]:
        with self._one_at_a_time("certificates"):
            found = []
            for cert in self.certs:
                cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
                if (eui is not None and cn == eui.hex().upper()) or cert.serial_number == serial:
                    found.append(cert)
            return found

    def metrics(self) -> Mapping[str, float]:
        with self._one_at_a_time("metrics"):
            return {
                "requests_total": float(len(self.requests)),
                'duis_responses_total{code="I0"}': 3.0,
                "outbox depth": float(sum(1 for m in self.messages.values() if not m.delivered)),
            }

    def close(self) -> None:
        with self._one_at_a_time("close"):
            # every delivery the edge took must have been reported before the hub is closed
            self.closed_with_unreported = [
                i for i, m in self.messages.items() if m.due is None and not m.delivered
            ]
            self.closed = True

    # Checks ------------------------------------------------------------------------------------

    def undelivered(self) -> list[int]:
        with self._guard:
            return [i for i, m in self.messages.items() if not m.delivered]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; undelivered {self.undelivered()}")
            time.sleep(0.005)


TEXT_ANSWER = SyncAnswer(http_status=400, body=b"not a DUIS request", content_type=TEXT)
