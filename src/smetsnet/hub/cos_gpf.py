"""After a gas change of supplier, the gas proxy function (GPF) follows its gas meter.

A 6.23 Update Security Credentials (CoS) targets a GSME (DUIS: ESME or GSME), and the GSME
replaces its supplier trust anchors (CS02b supplierByTransCoS, ``translate.asn1``). The GPF on
the comms hub is a device of its own with its own supplier cells (the RTDS 6.21 vector
CS02bSupplierBySupplierHandover replaces the supplier's three cells on the GPF ``…90A3``), and it
answers the gas supplier's GPF-served commands itself, from its mirror of the meter (4.1.1,
4.1.2, 4.3, 4.18 ... to the GPF's EUI; 4.17 and 3.2 go to the GPF only; DOMAIN.md §2.4). Left
alone it would still trust the losing supplier and refuse the gaining one (0x8F30).

No public source we have says how the DCC keeps the GPF in step. Ours [inferred]:

* When a GSME answered a 6.23 with every supplier cell replaced (``smi_updates``), the hub sends
  the GPF of the GSME's premises the same CS02b supplierByTransCoS (0x0107): the same
  certificates, certification path and supplier floors, originated and signed by the
  transitional CoS party that originated the GSME's, authorised by that party's next counter
  (:meth:`~smetsnet.hub.service.Hub.next_dcc_counter`, above any the GPF has seen from it), MAC'd
  by the access control broker, to be executed at once.
* The GPF's answer is the DCC's own business: the user already got the GSME's answer to its
  6.23, so nothing more is delivered to it. The answer is audited (sent / received, then the
  outcome), counted in the traffic account under SR 6.23 and in the figures of
  :class:`GpfCosUpdates` (the hub's ``gpf_cos_updates_*`` metrics).
* Success: the answer is signed by the GPF (checked with its SMKI key) and every cell was
  replaced. A command not answered within ``timeout_s`` is sent again, as a new command with
  the party's next counter (so a lost answer to an executed command cannot make the GPF refuse
  the retry as a replay), ``attempts`` sends in all.
* Failure (an answer that is not a success, or no answer after every send, or no way to reach
  the GPF): audited, and the gaining supplier (the 6.23's originator) gets the DCC alert
  ``CommandFailure`` naming its 6.23 and the GPF, under the hub's CommandFailure code
  :data:`GPF_UPDATE_FAILED_ALERT`, so that it can act (e.g. send the 6.23 again).

A future-dated 6.23 is followed when the GSME reports it carried it out (its 0x00CB alert,
``smi_updates``), not when it accepted it: the GPF's command is sent then, to be executed at
once (its execution time is left out), so the GPF changes supplier after its GSME, never before.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from smetsnet.duis import MessageId, Node
from smetsnet.errors import ConfigurationError, GbcsError, SmetsnetError
from smetsnet.gbcs.asn1 import ReplacementMode, UpdateSecurityCredentialsCommand
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.frame import Cra, decode_frame
from smetsnet.gbcs.protection import Protection
from smetsnet.hub.access import DEVICE_STATUSES_ALLOWED
from smetsnet.hub.audit import AuditLog, Check, Outcome
from smetsnet.hub.records import HubRecords
from smetsnet.hub.replies import command_failure
from smetsnet.hub.smi_updates import credentials_replaced
from smetsnet.inventory import DeviceType, Inventory
from smetsnet.wan.errors import WanError
from smetsnet.wan.transport import Delivery, Transport

SRV = "6.23"
#: CS02b supplierByTransCoS (0x0100 + mode 7)
SUPPLIER_BY_TRANS_COS = 0x0100 + ReplacementMode.SUPPLIER_BY_TRANS_COS
#: [U] no public source ties a DCC alert code to CommandFailure; the hub's CommandFailure code
#: (``service.COMMAND_FAILURE_ALERT``, the catch-all N999) is used for this one too.
GPF_UPDATE_FAILED_ALERT = "N999"
#: a DCC alert to a user: (user, DCCAlertCode, DCCAlert body, time); the hub signs and queues it
AlertSink = Callable[[bytes, str, Node, datetime], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class GpfSettings:
    """How long the hub waits for the GPF, and how often it sends ([inferred]: the hub's own
    ``response_timeout_s`` and ``max_attempts`` by default; a GPF is mains powered)."""

    timeout_s: float = 30.0
    attempts: int = 3

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("GPF credentials update: attempts must be at least 1")
        if not self.timeout_s > 0:
            raise ConfigurationError("GPF credentials update: timeout_s must be positive")


@dataclass(slots=True, kw_only=True)
class _Update:
    """One GPF being given the supplier certificates its GSME took."""

    request_id: MessageId  # the 6.23 the GSME carried out
    gsme: bytes
    gpf: bytes
    chub: bytes
    party: bytes  # the transitional CoS party that originated the GSME's command
    template: UpdateSecurityCredentialsCommand  # the GSME's command
    sends: int = 0
    key: tuple[bytes, int] = (b"", 0)  # (party, counter) of the command out now


class GpfCosUpdates:
    """The hub's CS02b supplierByTransCoS to GPFs after their GSME's 6.23 (module docstring)."""

    def __init__(
        self,
        *,
        inventory: Inventory,
        wan: Transport,
        protection: Protection,
        counter: Callable[[], int],
        comms_hub: Callable[[bytes], bytes],
        records: HubRecords,
        alert: AlertSink | None = None,
        settings: GpfSettings | None = None,
    ) -> None:
        self.inventory = inventory
        self.wan = wan
        self.protection = protection
        self.settings = settings or GpfSettings()
        self._counter = counter
        self._comms_hub = comms_hub
        self._records = records
        self._alert = alert
        self._out: dict[tuple[bytes, int], _Update] = {}
        #: commands answered, superseded or given up, kept until their answer can no longer
        #: come, so a late or duplicated answer is claimed (and dropped) here, not by the hub
        self._late: dict[tuple[bytes, int], tuple[datetime, _Update]] = {}
        self._timers: list[tuple[datetime, int, tuple[bytes, int]]] = []
        self._order = itertools.count()
        #: figures: commands sent (re-sends included), GPFs updated, updates failed, answers
        #: claimed late or twice
        self.sent = 0
        self.updated = 0
        self.failed = 0
        self.dropped = 0

    @property
    def audit(self) -> AuditLog:
        return self._records.audit

    @property
    def in_flight(self) -> int:
        return len(self._out)

    # --- driven by the hub ------------------------------------------------------------------

    def follow(
        self, gsme: bytes, gsme_command: bytes, request_id: MessageId, now: datetime
    ) -> None:
        """The GSME ``gsme`` carried out ``gsme_command`` (the hub's CS02b of the 6.23
        ``request_id``, every cell replaced): send its GPF the same certificates."""
        try:
            message = decode_message(gsme_command)
        except GbcsError as exc:
            self._record(now, request_id, Outcome.FAIL, f"6.23 command not decoded ({exc})")
            return
        template = message.payload
        if (
            not isinstance(template, UpdateSecurityCredentialsCommand)
            or message.header.message_code != SUPPLIER_BY_TRANS_COS
        ):
            what = f"6.23 to {format_eui(gsme)}: not a CS02b supplierByTransCoS, no GPF follows"
            self._record(now, request_id, Outcome.SKIP, what)
            return
        gpfs = self._gpfs_of(gsme)
        if not gpfs:
            what = f"6.23: no GPF in service at the premises of {format_eui(gsme)} to update"
            self._record(now, request_id, Outcome.SKIP, what)
            return
        for gpf in gpfs:
            try:
                chub = self._comms_hub(gpf)
            except SmetsnetError as exc:
                self._failed_update(request_id, gpf, f"no comms hub to reach it ({exc})", now)
                continue
            update = _Update(
                request_id=request_id,
                gsme=gsme,
                gpf=gpf,
                chub=chub,
                party=message.header.originator,
                template=template,
            )
            self._send(update, now)

    def advance(self, now: datetime, deliveries: list[Delivery]) -> list[Delivery]:
        """Take the GPFs' answers among ``deliveries``, re-send or give up what timed out;
        returns the deliveries that are not theirs."""
        rest = deliveries
        if self._out or self._late:
            rest = [d for d in deliveries if not self._claimed(d.message.wire, now)]
        self._expire(now)
        return rest

    def next_due(self) -> datetime | None:
        return self._timers[0][0] if self._timers else None

    # --- sending ----------------------------------------------------------------------------

    def _send(self, update: _Update, now: datetime) -> None:
        counter = self._counter()
        command = replace(
            update.template, authorising_seq_number=counter, execution_time=None, lw=()
        )
        wire = build_message(
            payload=command,
            originator=update.party,
            recipient=update.gpf,
            counter=counter,
            message_code=SUPPLIER_BY_TRANS_COS,
            protection=self.protection,
        ).frame.to_bytes()
        update.sends += 1
        update.key = (update.party, counter)
        self._out[update.key] = update
        deadline = now + timedelta(seconds=self.settings.timeout_s)
        heapq.heappush(self._timers, (deadline, next(self._order), update.key))
        try:
            self.wan.send(update.chub, wire, now)
        except WanError:
            return  # not sent (queue full, comms hub unknown): the timeout decides, as a loss
        self.sent += 1
        self._records.count(now, SRV, SUPPLIER_BY_TRANS_COS, update.gpf, "command")
        self._records.message(
            Check.SENT, now, update.request_id, wire, SUPPLIER_BY_TRANS_COS, update.gpf
        )

    # --- answers ----------------------------------------------------------------------------

    def _claimed(self, wire: bytes, now: datetime) -> bool:
        """Whether ``wire`` answers a command of ours (then it is handled here)."""
        try:
            frame = decode_frame(wire)
        except GbcsError:
            return False
        header = frame.header
        if header.cra is not Cra.RESPONSE:
            return False
        key = (header.recipient, header.counter)
        update = self._out.pop(key, None)
        if update is None:
            late = self._late.get(key)
            if late is None:
                return False
            self.dropped += 1
            why = "answers a GPF update no longer awaited, dropped"
            rid, code = late[1].request_id, header.message_code
            self._records.message(Check.RECEIVED, now, rid, wire, code, header.originator, why)
            return True
        self._retire(key, update, now)
        self._records.message(
            Check.RECEIVED, now, update.request_id, wire, header.message_code, update.gpf
        )
        self._records.count(now, SRV, header.message_code, update.gpf, "response")
        verdict = self.protection.check_signature(frame)
        if header.originator != update.gpf or verdict != "valid":
            why = f"its answer is not signed by the GPF (signature {verdict})"
            self._failed_update(update.request_id, update.gpf, why, now)
            return True
        try:
            payload: object = decode_message(wire).payload
        except GbcsError as exc:
            self._failed_update(update.request_id, update.gpf, f"answer not decoded ({exc})", now)
            return True
        if not credentials_replaced(payload):
            self._failed_update(update.request_id, update.gpf, "not every cell replaced", now)
            return True
        self.updated += 1
        what = (
            f"6.23: GPF {format_eui(update.gpf)} follows GSME {format_eui(update.gsme)}, "
            "its supplier cells replaced [inferred]"
        )
        self._record(now, update.request_id, Outcome.PASS, what)
        return True

    # --- time -------------------------------------------------------------------------------

    def _expire(self, now: datetime) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, key = heapq.heappop(self._timers)
            update = self._out.pop(key, None)
            if update is None:
                continue  # answered
            self._retire(key, update, now)
            if update.sends < self.settings.attempts:
                self._send(update, now)
                continue
            why = f"no answer after {update.sends} sends"
            self._failed_update(update.request_id, update.gpf, why, now)
        while self._late:
            key, (until, _) = next(iter(self._late.items()))
            if until > now:
                break
            del self._late[key]

    def _retire(self, key: tuple[bytes, int], update: _Update, now: datetime) -> None:
        """A command no longer awaited: its answer is claimed for one more timeout (the WAN's
        worst case is well inside it [inferred]). Entries are kept in the order they retire,
        all for the same span, so the oldest comes first."""
        self._late[key] = (now + timedelta(seconds=self.settings.timeout_s), update)

    # --- outcomes ---------------------------------------------------------------------------

    def _failed_update(self, rid: MessageId, gpf: bytes, why: str, now: datetime) -> None:
        self.failed += 1
        what = f"6.23: GPF {format_eui(gpf)} not updated: {why}"
        self._record(now, rid, Outcome.FAIL, what)
        if self._alert is None:
            return
        self._alert(rid.originator, GPF_UPDATE_FAILED_ALERT, command_failure(rid, gpf), now)
        what = (
            f"6.23: CommandFailure ({GPF_UPDATE_FAILED_ALERT}) for GPF {format_eui(gpf)} to "
            f"the gaining supplier {format_eui(rid.originator)}"
        )
        self._record(now, rid, Outcome.PASS, what, "DCC alert")

    def _record(
        self, now: datetime, rid: MessageId, outcome: Outcome, detail: str, reason: str = ""
    ) -> None:
        if not reason:
            reason = "GPF updated" if outcome is Outcome.PASS else "GPF not updated"
        self.audit.received(now, str(rid), rid.originator, outcome, reason, detail)

    def _gpfs_of(self, gsme: bytes) -> list[bytes]:
        """The GPFs in service at the GSME's premises (one comms hub: one GPF)."""
        meter = self.inventory.find_device(gsme)
        if meter is None or meter.premises_id is None:
            return []
        return [
            d.eui
            for d in self.inventory.store.devices_at(meter.premises_id)
            if d.type is DeviceType.GPF and d.status in DEVICE_STATUSES_ALLOWED
        ]


__all__ = ["GPF_UPDATE_FAILED_ALERT", "SUPPLIER_BY_TRANS_COS", "GpfCosUpdates", "GpfSettings"]
