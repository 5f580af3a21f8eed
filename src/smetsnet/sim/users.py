"""A simulated service user: it signs DUIS requests, checks every answer the hub signs, opens the
GBCS payloads with its own keys, and keeps what it learns (readings, alerts, latencies).

Nothing is taken on trust for speed: every DUIS answer's XML signature is verified against the
DSP's certificate, every GBCS payload's MAC (and signature, where it has one) is checked with the
user's keys, and sensitive data is decrypted. :class:`Checks` counts both sides of each check, so
the report can show that the verified equal the carried.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.client.session import (
    Answer,
    ClientError,
    build_request,
    endpoint_for,
    signed_xml,
    verify_response,
)
from smetsnet.duis import (
    Node,
    Request,
    RequestBody,
    Response,
    ResponseMessage,
)
from smetsnet.duis.bodies import SignedPreCommand
from smetsnet.duis.execution import requested_execution
from smetsnet.duis.responses import DCCAlertMessage, DeviceAlertMessage, PreCommand
from smetsnet.duis.xmldsig import IssuerSerial
from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.builders import sign_precommand
from smetsnet.gbcs.codec import GbcsMessage, decode_and_verify
from smetsnet.gbcs.protection import Protection
from smetsnet.hub.interface import SyncAnswer

Handle = Callable[[bytes, str, datetime], SyncAnswer]
#: The SR classes of the report's latency table (the SEC's TRT classes, DOMAIN.md §8).
ON_DEMAND, SCHEDULED, FUTURE_DATED, NON_DEVICE, TRANSFORM = (
    "on-demand",
    "scheduled",
    "future-dated",
    "non-device",
    "transform",
)


class SimUserError(SmetsnetError):
    """A simulated user met something a real one would refuse (bad signature, bad MAC)."""


#: Counters left free after each of a user's own requests for the DCC's runs of its schedules
#: (more than the runs a user's schedules make between two of its requests).
SCHEDULE_RUNS_GAP = 1 << 20


@dataclass(slots=True)
class Checks:
    """Protections carried by what users received, and how many were verified."""

    messages_with_signature: int = 0  # XML signatures (DUIS) and GBCS signatures
    signatures_verified: int = 0
    messages_with_mac: int = 0
    macs_verified: int = 0

    def merge(self, other: Checks) -> None:
        self.messages_with_signature += other.messages_with_signature
        self.signatures_verified += other.signatures_verified
        self.messages_with_mac += other.messages_with_mac
        self.macs_verified += other.macs_verified


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """One verified asynchronous message, with its GBCS payload opened when it has one."""

    at: datetime
    response: Response
    gbcs: GbcsMessage | None
    schedule_id: int | None = None


@dataclass(slots=True)
class _Sent:
    at: datetime
    sr_class: str
    srv: str


@dataclass(kw_only=True)
class SimUser:
    """One service user of the simulation (see the module docstring)."""

    eui: bytes
    name: str
    xml_key: ec.EllipticCurvePrivateKey = field(repr=False)
    xml_certificate: x509.Certificate = field(repr=False)
    protection: Protection = field(repr=False)
    hub_certificates: Mapping[IssuerSerial, x509.Certificate] = field(repr=False)
    checks: Checks = field(default_factory=Checks)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    codes: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    on_message: Callable[[SimUser, Received], None] | None = None
    _last: int = 0
    _sent: dict[tuple[bytes, int], _Sent] = field(default_factory=dict)

    # --- requests ---------------------------------------------------------------------------

    def next_counter(self, now: datetime, *, top_up: bool = False) -> int:
        """Above every counter used or seen by :data:`SCHEDULE_RUNS_GAP`, not below the clock in
        microseconds; a top-up's has its low 32 bits zero (GBCS UTRN, DOMAIN.md §5).

        The gap: the hub takes the counters of a schedule's runs from this user's sequence
        (``AccessControl.reserve_counter``), and the user sees them only in the runs' answers,
        which a gas meter gives at its next wake, up to half an hour later. A request of ours
        sent meanwhile with the next counter would repeat one of them and be refused (E1)."""
        counter = max(self._last + SCHEDULE_RUNS_GAP, int(now.timestamp() * 1_000_000))
        if top_up:
            counter = ((counter + 0xFFFFFFFF) >> 32) << 32
        self._last = counter
        return counter

    def request(
        self,
        srv: str,
        body: RequestBody,
        *,
        target: bytes,
        now: datetime,
        command_variant: int | None = None,
        top_up: bool = False,
    ) -> Request:
        counter = self.next_counter(now, top_up=top_up)
        return build_request(self.eui, srv, body, target, counter, command_variant)

    def sign(self, request: Request) -> bytes:
        return signed_xml(request, self.xml_key, self.xml_certificate)

    def send(
        self, handle: Handle, request: Request, now: datetime, *, sr_class: str = ON_DEMAND
    ) -> Answer:
        """Sign, send, verify the synchronous answer; remember the request for its response."""
        header = request.header
        answer = self._post(handle, self.sign(request), endpoint_for(header.command_variant), now)
        self.codes[answer.code] += 1
        if answer.code == "I99":
            key = (header.request_id.target, header.request_id.counter)
            self._sent[key] = _Sent(at=now, sr_class=sr_class, srv=header.service_reference_variant)
        elif sr_class in (NON_DEVICE, TRANSFORM):
            self.latencies.setdefault(sr_class, []).append(0.0)
        return answer

    def send_critical(self, handle: Handle, request: Request, now: datetime) -> Answer:
        """Transform (CV 4), sign the pre-command with our GBCS key, send it (CV 5)."""
        transformed = self.send(handle, request, now, sr_class=TRANSFORM)
        body = transformed.response.body
        if transformed.code != "I0" or not isinstance(body, ResponseMessage):
            return transformed
        if not isinstance(body.content, PreCommand):
            raise SimUserError("the transform answer carries no pre-command")
        signed = sign_precommand(body.content.gbcs_payload, self.protection)
        follow = self.request(
            request.header.service_reference_variant,
            SignedPreCommand(gbcs_payload=signed),
            target=request.header.request_id.target,
            now=now,
            command_variant=5,
        )
        sr_class = FUTURE_DATED if _future_dated(request, now) else ON_DEMAND
        return self.send(handle, follow, now, sr_class=sr_class)

    def _post(self, handle: Handle, xml: bytes, endpoint: str, now: datetime) -> Answer:
        sync = handle(xml, endpoint, now)
        if sync.content_type != "application/xml":
            raise SimUserError(f"the hub answered HTTP {sync.http_status}: {sync.body[:200]!r}")
        return self._verified(sync.body)

    # --- what arrives -----------------------------------------------------------------------

    def _verified(self, xml: bytes) -> Answer:
        self.checks.messages_with_signature += 1
        try:
            answer = verify_response(xml, self.hub_certificates)
        except ClientError as exc:
            raise SimUserError(f"{self.name}: {exc}") from None
        self.checks.signatures_verified += 1
        return answer

    def receive(self, xml: bytes, now: datetime) -> Received:
        """One asynchronous message from the hub: verified, matched, opened, recorded."""
        response = self._verified(xml).response
        body = response.body
        payload, schedule_id = _payload(body)
        gbcs = None if payload is None else self._open(payload)
        header = response.header
        self.codes[header.response_code] += 1
        if isinstance(body, DeviceAlertMessage):
            self.alerts[f"0x{body.alert_code:04X}"] += 1
        elif isinstance(body, DCCAlertMessage):
            self.alerts[body.code] += 1
        rid = header.request_id
        if rid is not None and rid.originator == self.eui:
            self._last = max(self._last, rid.counter)
            sent = self._sent.pop((rid.target, rid.counter), None)
            if sent is not None:
                seconds = (now - sent.at).total_seconds()
                self.latencies.setdefault(sent.sr_class, []).append(seconds * 1000.0)
        received = Received(at=now, response=response, gbcs=gbcs, schedule_id=schedule_id)
        if self.on_message is not None:
            self.on_message(self, received)
        return received

    def _open(self, payload: bytes) -> GbcsMessage:
        message, verdict = decode_and_verify(payload, self.protection)
        for kind in ("mac", "signature"):
            outcome = getattr(verdict, kind)
            if outcome == "absent":
                continue
            if kind == "mac":
                self.checks.messages_with_mac += 1
            else:
                self.checks.messages_with_signature += 1
            if outcome != "valid":
                raise SimUserError(f"{self.name}: GBCS {message.use_case} {kind} is {outcome}")
            if kind == "mac":
                self.checks.macs_verified += 1
            else:
                self.checks.signatures_verified += 1
        return message


def _payload(body: object) -> tuple[bytes | None, int | None]:
    """The GBCS payload a response or alert carries, and the schedule it answers (if any)."""
    if isinstance(body, DeviceAlertMessage):
        return body.gbcs_payload, None
    if not isinstance(body, ResponseMessage):
        return None, None
    content = body.content
    if isinstance(content, bytes):
        return content, None
    if isinstance(content, Node) and content.name == "DSPScheduledMessage":
        payload, schedule = content.child("GBCSPayload"), content.child("DSPScheduleID")
        if payload is None or schedule is None:
            raise SimUserError("a DSPScheduledMessage without GBCSPayload or DSPScheduleID")
        return base64.b64decode(payload.text), int(schedule.text)
    return None, None


def _future_dated(request: Request, now: datetime) -> bool:
    at = requested_execution(request.body)
    return at is not None and at > now


__all__ = [
    "FUTURE_DATED",
    "NON_DEVICE",
    "ON_DEMAND",
    "SCHEDULED",
    "TRANSFORM",
    "Checks",
    "Received",
    "SimUser",
    "SimUserError",
]


def answer_to(pending: set[tuple[bytes, int]], received: Received) -> object | None:
    """The GBCS payload of a device's answer to one of ``pending``'s requests (device,
    RequestID counter), which is then no longer pending; None for anything else."""
    rid = received.response.header.request_id
    if rid is None or (rid.target, rid.counter) not in pending:
        return None
    pending.discard((rid.target, rid.counter))
    return received.gbcs.payload if received.gbcs is not None else None
