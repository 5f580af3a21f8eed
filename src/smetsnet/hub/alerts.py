"""Device alerts on their way to users: :class:`AlertRouter` sends each to the user entitled to
it, through :class:`AlertThrottle`.

Alert storm protection: the hub forwards at most ``limit`` alerts of one code from one device
per window; the rest are counted, and the next alert forwarded says how many were held back
(DUIS ``ThrottledAlertSequenceId``/``ThrottledAlertCount``, DOMAIN.md §1.6; SECMP0062 brought
throttling in, and its Traffic Management Mechanism Document lists codes never throttled).

Exempt codes here are the security-critical ones our devices raise: a failed authentication or
anti-replay check, and tamper (GBCS alerts 0x8F1E, 0x8F30, 0x8F3D, 0x8F3F).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smetsnet.errors import GbcsError, SmetsnetError
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.frame import GroupingHeader
from smetsnet.hub.audit import Check
from smetsnet.hub.inventory_state import DCC_PARTIES
from smetsnet.hub.records import HubRecords
from smetsnet.hub.replies import Replies
from smetsnet.inventory import DeviceType, Inventory, UserRole

EXEMPT = frozenset({0x8F1E, 0x8F30, 0x8F3D, 0x8F3F})


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    forward: bool
    sequence_id: int | None = None  # set on the first alert forwarded after some were held
    held_back: int | None = None


@dataclass(slots=True)
class _Window:
    started: datetime
    forwarded: int = 0
    held: int = 0


class AlertThrottle:
    """Per (device, alert code): ``limit`` alerts forwarded per ``window``, the rest held."""

    def __init__(self, *, limit: int = 10, window: timedelta = timedelta(hours=1)) -> None:
        if limit < 1:
            raise ValueError(f"alert throttle limit must be at least 1, not {limit}")
        self.limit = limit
        self.window = window
        self._windows: dict[tuple[bytes, int], _Window] = {}
        self._sequence = 0
        self.held_back = 0

    def admit(self, device: bytes, code: int, now: datetime) -> Admission:
        if code in EXEMPT:
            return Admission(forward=True)
        key = (device, code)
        state = self._windows.get(key)
        if state is None or now - state.started >= self.window:
            held = state.held if state is not None else 0
            self._windows[key] = _Window(started=now, forwarded=1)
            return self._forward(held)
        if state.forwarded >= self.limit:
            state.held += 1
            self.held_back += 1
            return Admission(forward=False)
        state.forwarded += 1
        return Admission(forward=True)

    def _forward(self, held: int) -> Admission:
        if not held:
            return Admission(forward=True)
        self._sequence += 1
        return Admission(forward=True, sequence_id=self._sequence, held_back=held)


class AlertRouter:
    """Counts, audits and throttles a device's alert, and says who gets it (and the signed
    DeviceAlertMessage) or None when it is held back."""

    __slots__ = ("inventory", "records", "replies", "throttle")

    def __init__(
        self,
        inventory: Inventory,
        replies: Replies,
        records: HubRecords,
        throttle: AlertThrottle,
    ) -> None:
        self.inventory = inventory
        self.replies = replies
        self.records = records
        self.throttle = throttle

    def route(
        self, wire: bytes, header: GroupingHeader, now: datetime
    ) -> tuple[bytes, bytes] | None:
        """``header``: the alert's grouping header, already read by the hub."""
        device, addressed, counter = header.originator, header.recipient, header.counter
        message_code = header.message_code
        try:
            code = int(getattr(decode_message(wire).payload, "alert_code", 0) or 0)
        except GbcsError:
            code = 0
        self.records.count(now, None, message_code, device, "alert")
        admission = self.throttle.admit(device, code, now)
        verdict = "forwarded" if admission.forward else "held back (alert storm)"
        self.records.message(
            Check.ALERT, now, None, wire, message_code, device, f"alert 0x{code:04X} {verdict}"
        )
        if not admission.forward:
            return None
        recipient = self.recipient(device, addressed, now)
        xml = self.replies.device_alert(
            device=device,
            user=recipient,
            counter=counter,
            alert_code=code,
            wire=wire,
            now=now,
            throttled_sequence_id=admission.sequence_id,
            throttled_count=admission.held_back,
        )
        return recipient, xml

    def recipient(self, device: bytes, addressed: bytes, now: datetime) -> bytes:
        """The user a device alert goes to: the party the device addressed when that is a
        service user (GBCS gives each alert its remote party: outage and restore to the
        network operator, billing and credit to the supplier, ...); an alert addressed to
        the DCC's own parties goes to the device's registered supplier (IS or GS)."""
        if addressed not in DCC_PARTIES.values() and self.inventory.store.user(addressed):
            return addressed
        found = self.inventory.find_device(device)
        role = UserRole.GS if found is not None and found.type is DeviceType.GSME else UserRole.IS
        try:
            holder = self.inventory.who_holds(role, device, now)
        except SmetsnetError:
            holder = None
        return holder or addressed
