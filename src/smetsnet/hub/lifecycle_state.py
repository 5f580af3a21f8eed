"""The hub engine's bookkeeping: its settings and what it holds while commands are out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from smetsnet.duis import MessageId

GBCS_VERSION = "4.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class HubConfig:
    """How long the hub waits for a device, and how often it tries."""

    response_timeout_s: float = 30.0  # GB's CSP round-trip target RTT4 is 25 s (DOMAIN.md §8)
    #: A battery gas meter takes its queued commands only when it wakes (about every 30 minutes,
    #: DOMAIN.md §2.4): commands to a GSME wait that long plus a round trip.
    gas_response_timeout_s: float = 2_400.0
    #: Commands a gas meter may have outstanding at once: its gas proxy queues them until the
    #: meter wakes and drops what does not fit (32 in our GPF), so the hub holds the rest back.
    gas_outstanding_limit: int = 16
    max_attempts: int = 3
    gbcs_version: str = GBCS_VERSION
    #: alert storm protection: alerts of one code from one device forwarded per hour
    alert_limit_per_hour: int = 10


@dataclass(slots=True, kw_only=True)
class Pending:
    """A command on the WAN, waiting for its device's answer."""

    request_id: MessageId
    srv: str
    device: bytes
    chub: bytes
    wire: bytes
    attempts: int = 1
    deadline: datetime
    timeout_s: float
    gas: bool = False
    schedule_id: int | None = None  # a DCC schedule's run: answered as DSPScheduledMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class Queued:
    """A command held back until its gas meter has room."""

    request_id: MessageId
    srv: str
    device: bytes
    chub: bytes
    wire: bytes
    schedule_id: int | None = None


@dataclass(slots=True, kw_only=True)
class Held:
    """A DSP-held future-dated request, sent at its execution time."""

    at: datetime
    request_id: MessageId
    srv: str
    device: bytes
    chub: bytes
    wire: bytes
    gas: bool


@dataclass(slots=True)
class Counts:
    by_code: Counter[str] = field(default_factory=Counter)
    responses: int = 0
    alerts: int = 0
    duplicates: int = 0
    retries: int = 0
    timeouts: int = 0
    unmatched: int = 0
    schedule_runs: int = 0
    schedules_removed: int = 0
