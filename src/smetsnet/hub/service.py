"""The hub: the DUIS request lifecycle from a POSTed request to the signed responses users get.

``handle`` (one POST) runs access control (``access``), then by command variant:

- **CV 1 / 3** (non-critical, to a device): translate to GBCS (``translate``), MAC as the access
  control broker, send over the WAN to the device's comms hub, answer **I99** at once; the device's
  answer becomes an **I0** ResponseMessage (the GBCS response as ``GBCSPayload``) in the outbox.
  A request future-dated with a DSP-held pattern waits in the hub until its time.
- **CV 2 / 3** (local delivery): the MAC'd command is returned at once as ``LocalCommand``.
- **CV 4** (Transform, critical): the GBCS pre-command is returned at once (``PreCommand``); the
  hub remembers what it issued.
- **CV 5 / 6 / 7** (a signed pre-command): the hub checks it is one it issued, unaltered, signed by
  the user's GBCS signing key, then MACs it and sends it (CV 5/7) or returns it (CV 6/7).
- **CV 8** (non-device): answered by :class:`~smetsnet.hub.nondevice.NonDeviceServices`.

``advance`` runs the WAN to ``now``: responses are matched to their commands by (user, GBCS
counter), alerts go to the user the device addressed; a command with no answer by its deadline is
sent again (``max_attempts`` in all), then the user gets **E21** and a DCC alert with a
CommandFailure. Everything for users goes through the outbox: the durable
:class:`~smetsnet.hub.outbox.Outbox` with a state folder, else the same queue in memory.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from cryptography import x509

from smetsnet.duis import MessageId, Node, ResponseMessage
from smetsnet.duis.bodies import SignedPreCommand
from smetsnet.duis.catalogue import FutureDated
from smetsnet.duis.errors import (
    DeviceUnreachable,
    DuisRejected,
    DuisSchemaError,
    DuisXmlError,
    DuisXmlTooLarge,
)
from smetsnet.duis.execution import requested_execution
from smetsnet.duis.header import format_base64
from smetsnet.duis.responses import PreCommand
from smetsnet.duis.xmldsig import IssuerSerial
from smetsnet.errors import GbcsError, SmetsnetError
from smetsnet.gbcs.builders import apply_mac, build_message
from smetsnet.gbcs.dlms import AccessRequest
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.frame import Cra, GroupingHeader, decode_frame
from smetsnet.gbcs.keystore import KeyStore
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection
from smetsnet.hub.access import Accepted, AccessControl
from smetsnet.hub.alerts import AlertRouter, AlertThrottle
from smetsnet.hub.audit import AuditEntry, AuditLog, Check, Outcome
from smetsnet.hub.cos_gpf import GpfCosUpdates, GpfSettings
from smetsnet.hub.firmware_distribution import FirmwareDistributor, dcc_alert_sink
from smetsnet.hub.interface import TEXT, XML, Outbound, SyncAnswer
from smetsnet.hub.inventory_state import InventoryState
from smetsnet.hub.lifecycle_state import Counts, Held, HubConfig, Pending, Queued
from smetsnet.hub.outbox import MessageQueue
from smetsnet.hub.outbox_memory import MemoryOutbox
from smetsnet.hub.records import HubRecords
from smetsnet.hub.replies import Content, Replies, command_failure, power_outage_event
from smetsnet.hub.scheduled import ScheduledRuns, scheduled_message
from smetsnet.hub.schedules import ScheduleStore
from smetsnet.hub.smi_updates import SmiUpdates
from smetsnet.hub.traffic import TrafficMeter
from smetsnet.hub.translate import Command, Context, NotTranslatable, translate
from smetsnet.hub.translate.asn1 import HubContext, HubStateMissing
from smetsnet.hub.translate.dlms_settings import with_acb_counter
from smetsnet.inventory import DeviceType, Inventory, MeterKind, UserRole
from smetsnet.wan.errors import WanError
from smetsnet.wan.transport import Transport

#: [U] no public source ties a DCC alert code to CommandFailure; N999 is the catch-all code.
COMMAND_FAILURE_ALERT = "N999"
#: AD1: a comms hub's power outage, to the electricity distributor (DOMAIN.md §1.6 [inferred])
POWER_OUTAGE_ALERT = "AD1"
LOCAL_DELIVERY = frozenset({2, 3, 6, 7})
OVER_THE_WAN = frozenset({1, 3, 5, 7})
#: A schedule's run refused for these ends the schedule: its owner no longer may (E2, E3, E4)
#: or the device is gone (E5, E19). The DCC removes it and says so (DSPScheduleRemoval).
SCHEDULE_ENDING_CODES = frozenset({"E2", "E3", "E4", "E5", "E19"})


class Hub:
    """The DUIS service over an inventory, a WAN and an outbox (implements ``DuisService``)."""

    def __init__(
        self,
        *,
        inventory: Inventory,
        xml_certificates: Mapping[IssuerSerial, x509.Certificate],
        replies: Replies,
        hub_keys: KeyStore,
        wan: Transport,
        outbox: MessageQueue | None = None,
        response_urls: Mapping[bytes, str] | None = None,
        nondevice: NonDeviceAnswerer | None = None,
        certificates_by_eui: Mapping[bytes, list[x509.Certificate]] | None = None,
        config: HubConfig | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.inventory = inventory
        self.access = AccessControl(inventory, xml_certificates, audit=audit)
        self.replies = replies
        self.protection = Protection(hub_keys)
        self.wan = wan
        self.outbox = outbox if outbox is not None else MemoryOutbox()
        self.response_urls: dict[bytes, str] = dict(response_urls or {})
        self.nondevice = nondevice
        self.certificates_by_eui = certificates_by_eui or {}
        self.config = config or HubConfig()
        self._pending: dict[tuple[bytes, int], Pending] = {}
        self._deadlines: list[tuple[datetime, int, tuple[bytes, int]]] = []
        self._held: list[tuple[datetime, int, Held]] = []
        self._issued: dict[tuple[bytes, int], bytes] = {}  # (user, counter) -> pre-command
        self._done: set[tuple[bytes, int]] = set()
        self._chub: dict[bytes, bytes] = {}
        self._outstanding: Counter[bytes] = Counter()
        self._dcc_counter = 0
        self._waiting: dict[bytes, deque[Queued]] = {}
        self._order = itertools.count()
        self.counts = Counts()
        self._runs = ScheduledRuns()  # schedule runs' request templates (DUIS 5.1)
        self.traffic = TrafficMeter()
        self.records = HubRecords(self.access.audit, self.traffic)
        self.alerts = AlertRouter(
            self.inventory,
            self.replies,
            self.records,
            AlertThrottle(limit=self.config.alert_limit_per_hour),
        )
        # after a GSME's 6.23 its GPF gets the same supplier certificates [inferred]
        self.gpf_cos = GpfCosUpdates(
            inventory=self.inventory,
            wan=self.wan,
            protection=self.protection,
            counter=self.next_dcc_counter,
            comms_hub=self._comms_hub,
            records=self.records,
            alert=dcc_alert_sink(self.replies.dcc_alert, self._enqueue),
            settings=GpfSettings(
                timeout_s=self.config.response_timeout_s, attempts=self.config.max_attempts
            ),
        )
        # what the DCC does on devices' successful answers: SMI changes (8.1.1, 8.11, 8.7),
        # the ChangeOfSupplier alert to the losing supplier and the GSME's GPF (6.23)
        self.smi = SmiUpdates(
            self.inventory,
            self.access.audit,
            alert=dcc_alert_sink(self.replies.dcc_alert, self._enqueue),
            gpf=self.gpf_cos.follow,
            signed=self._signed_by_device,
        )
        # 11.1/11.4 images the non-device services recorded, sent once per comms hub in blocks
        self.firmware = FirmwareDistributor(
            wan=self.wan,
            records=lambda: getattr(self.nondevice, "records", None),
            comms_hub=self._comms_hub,
            alert=dcc_alert_sink(self.replies.dcc_alert, self._enqueue),
            traffic=self.traffic,
            audit=self.audit,
        )

    @property
    def audit(self) -> AuditLog:
        return self.access.audit

    def close(self) -> None:
        """Write what is pending (the outbox's noted deliveries and open batch, the audit file's
        buffer) and close them and the non-device records' file (``serve --state``): the HTTP
        edge calls this as it shuts down."""
        try:
            self.outbox.close()
        finally:
            self.audit.close()
            records = getattr(self.nondevice, "records", None)
            store = getattr(records, "store", None)
            if store is not None:
                store.close()

    def set_response_url(self, user: bytes, url: str) -> None:
        self.response_urls[user] = url
        self.outbox.set_url(user, url)

    # --- one POST ---------------------------------------------------------------------------

    def handle(self, body: bytes, *, endpoint: str, now: datetime) -> SyncAnswer:
        try:
            accepted = self.access.check(body, endpoint=endpoint, now=now)
        except DuisXmlTooLarge as exc:
            return _text(413, exc.reason)
        except (DuisXmlError, DuisSchemaError) as exc:
            return _text(400, exc.reason)
        except DuisRejected as exc:
            return self._refusal(exc, now)
        try:
            return self._dispatch(accepted, now)
        except DuisRejected as exc:
            check = Check.PRECOMMAND if isinstance(exc, PreCommandRejected) else Check.DISPATCH
            self.access.record_failure(accepted, check, exc, now)
            return self._xml(self._answer(accepted, exc.response_code or "E100", now))
        except DuisSchemaError as exc:
            return _text(400, exc.reason)
        except (NotTranslatable, HubStateMissing) as exc:
            return _text(501, str(exc))

    def _refusal(self, exc: DuisRejected, now: datetime) -> SyncAnswer:
        refused = self.access.refused
        code = exc.response_code or "E100"
        self.counts.by_code[code] += 1
        if refused is None:
            return _text(400, exc.reason)
        request_id, srv = refused
        xml = self.replies.answer(code=code, now=now, request_id=request_id, srv=srv)
        return self._xml(xml)

    def _dispatch(self, accepted: Accepted, now: datetime) -> SyncAnswer:
        header = accepted.request.header
        variant = header.command_variant
        if variant == 8:
            if self.nondevice is None:
                raise NotTranslatable(header.service_reference_variant, DeviceType.CHF)
            answer = self.nondevice.answer(accepted, now)
            self.counts.by_code[answer.response_code] += 1
            self.records.nondevice(now, header.service_reference_variant)
            return self._xml(
                self.replies.answer(
                    code=answer.response_code,
                    now=now,
                    request_id=header.request_id,
                    srv=header.service_reference_variant,
                    content=answer.message.content,
                )
            )
        if variant == 4:
            pre = self._precommand(accepted, now)
            return self._xml(
                self._answer(
                    accepted,
                    "I0",
                    now,
                    PreCommand(gbcs_version=self.config.gbcs_version, gbcs_payload=pre),
                )
            )
        if variant in (5, 6, 7):
            wire = self._signed_precommand(accepted)
        else:
            wire = self._command(accepted, now)
        return self._deliver(accepted, wire, variant, now)

    # --- building commands ------------------------------------------------------------------

    def _context(self, accepted: Accepted, now: datetime) -> Context:
        rid = accepted.request.header.request_id
        assert accepted.device is not None  # device SRs only
        return HubContext(
            srv=accepted.sr.srv,
            target=rid.target,
            device_type=accepted.device.type,
            originator=rid.originator,
            counter=rid.counter,
            now=now,
            state=InventoryState(self),
        )

    def next_dcc_counter(self) -> int:
        """The next originator counter of the DCC's own parties: above every one used and not
        below the clock in microseconds (so a restarted hub still counts upwards)."""
        self._dcc_counter = max(self._dcc_counter + 1, time.time_ns() // 1_000)
        return self._dcc_counter

    def _command(self, accepted: Accepted, now: datetime) -> bytes:
        ctx = self._context(accepted, now)
        command = translate(accepted.request, ctx)
        return self._build(ctx, command, precommand=False)

    def _precommand(self, accepted: Accepted, now: datetime) -> bytes:
        ctx = self._context(accepted, now)
        command = translate(accepted.request, ctx)
        pre = self._build(ctx, command, precommand=True)
        self._issued[(ctx.originator, ctx.counter)] = pre
        return pre

    def _build(self, ctx: Context, command: Command, *, precommand: bool) -> bytes:
        originator, counter, dcc = ctx.originator, ctx.counter, False
        state = ctx.state if isinstance(ctx, HubContext) else None
        reserved = state.reserved if isinstance(state, InventoryState) else None
        if reserved is not None:
            (originator, counter), dcc = reserved, True
        elif command.supplementary_remote_party_counter is not None:
            originator, counter, dcc = ACCESS_CONTROL_BROKER, self.next_dcc_counter(), True
            if isinstance(command.payload, AccessRequest):
                command = with_acb_counter(command, counter)
        message = build_message(
            payload=command.payload,
            originator=originator,
            recipient=ctx.target,
            counter=counter,
            message_code=command.message_code,
            date_time=command.date_time,
            supplementary_remote_party=command.supplementary_remote_party,
            supplementary_remote_party_counter=command.supplementary_remote_party_counter,
            supplementary_originator_counter=command.supplementary_originator_counter,
            certificate=command.certificate,
            protection=self.protection,
            # The DCC signs what it originates when GBCS says the use case is critical; a
            # user's command is signed by the user (the pre-command flow), never by the hub.
            sign=None if dcc else False,
            mac=not precommand,
            precommand=precommand and not dcc,
        )
        return message.frame.to_bytes()

    def _signed_precommand(self, accepted: Accepted) -> bytes:
        """Check a CV 5-7 request's signed pre-command and MAC it (issue 5 §2, critical SRs)."""
        body = accepted.request.body
        if not isinstance(body, SignedPreCommand):
            raise PreCommandRejected("command variant 5-7 needs a SignedPreCommand body")
        signed = body.gbcs_payload
        try:
            frame = decode_frame(signed)
        except GbcsError as exc:
            raise PreCommandRejected(f"the signed pre-command does not decode: {exc}") from None
        user = accepted.user.eui
        key = (frame.header.originator, frame.header.counter)
        issued = self._issued.get(key)
        if frame.header.originator != user or issued is None:
            raise PreCommandRejected("not a pre-command the hub issued to this user")
        if signed[: len(issued)] != issued or frame.mac is not None:
            raise PreCommandRejected("the pre-command was altered after the hub issued it")
        if accepted.device is None or frame.header.recipient != accepted.device.eui:
            raise PreCommandRejected("the pre-command is for another device than the request")
        verdict = self.protection.check_signature(frame)
        if verdict != "valid":
            raise PreCommandRejected(f"the user's signature on the pre-command is {verdict}")
        del self._issued[key]
        return apply_mac(signed, self.protection)

    # --- sending ----------------------------------------------------------------------------

    def _deliver(self, accepted: Accepted, wire: bytes, variant: int, now: datetime) -> SyncAnswer:
        header = accepted.request.header
        assert accepted.device is not None
        if variant in LOCAL_DELIVERY and variant not in OVER_THE_WAN:
            return self._xml(self._answer(accepted, "I0", now, _local(wire)))
        chub = self._comms_hub(accepted.device.eui)
        at = _held_until(accepted, now)
        if at is not None:
            held = Held(
                at=at,
                request_id=header.request_id,
                srv=accepted.sr.srv,
                device=accepted.device.eui,
                chub=chub,
                wire=wire,
                gas=accepted.device.type is DeviceType.GSME,
            )
            heapq.heappush(self._held, (at, next(self._order), held))
        else:
            self._send(
                header.request_id,
                accepted.sr.srv,
                accepted.device.eui,
                chub,
                wire,
                now,
                gas=accepted.device.type is DeviceType.GSME,
            )
        self.smi.expect(accepted, wire)
        self.counts.by_code["I99"] += 1
        return self._xml(self._answer(accepted, "I99", now))

    def _send(
        self,
        request_id: MessageId,
        srv: str,
        device: bytes,
        chub: bytes,
        wire: bytes,
        now: datetime,
        *,
        gas: bool = False,
        schedule_id: int | None = None,
    ) -> None:
        if gas and self._outstanding[device] >= self.config.gas_outstanding_limit:
            command = Queued(
                request_id=request_id,
                srv=srv,
                device=device,
                chub=chub,
                wire=wire,
                schedule_id=schedule_id,
            )
            self._waiting.setdefault(device, deque()).append(command)
            return
        try:
            self.wan.send(chub, wire, now)
        except WanError as exc:
            raise DeviceUnreachable(f"the WAN refused the command: {exc}") from None
        if gas:
            self._outstanding[device] += 1
        header = decode_frame(wire).header
        self.records.count(now, srv, header.message_code, device, "command")
        self.records.message(Check.SENT, now, request_id, wire, header.message_code, device)
        key = (header.originator, header.counter)
        timeout = self.config.gas_response_timeout_s if gas else self.config.response_timeout_s
        deadline = now + timedelta(seconds=timeout)
        self._pending[key] = Pending(
            request_id=request_id,
            srv=srv,
            device=device,
            chub=chub,
            wire=wire,
            deadline=deadline,
            timeout_s=timeout,
            gas=gas,
            schedule_id=schedule_id,
        )
        heapq.heappush(self._deadlines, (deadline, next(self._order), key))

    def _finished(self, pending: Pending, now: datetime) -> None:
        """A command is answered or given up: a gas meter's next held-back command may go."""
        if not pending.gas:
            return
        self._outstanding[pending.device] -= 1
        waiting = self._waiting.get(pending.device)
        if waiting:
            nxt = waiting.popleft()
            if not waiting:
                del self._waiting[pending.device]
            try:
                self._send(
                    nxt.request_id,
                    nxt.srv,
                    nxt.device,
                    nxt.chub,
                    nxt.wire,
                    now,
                    gas=True,
                    schedule_id=nxt.schedule_id,
                )
            except DuisRejected as exc:
                self._fail(nxt.request_id, nxt.srv, nxt.device, exc.response_code or "E20", now)

    def _comms_hub(self, device: bytes) -> bytes:
        chub = self._chub.get(device)
        if chub is not None:
            return chub
        found = self.inventory.find_device(device)
        if found is None or found.premises_id is None:
            raise DeviceUnreachable("the device is not installed at a premises")
        if found.type is DeviceType.CHF:
            chub = device
        else:
            hubs = [
                d.eui
                for d in self.inventory.store.devices_at(found.premises_id)
                if d.type is DeviceType.CHF
            ]
            if not hubs:
                raise DeviceUnreachable("no comms hub at the device's premises")
            chub = hubs[0]
        self._chub[device] = chub
        return chub

    def comms_hub_power_lost(self, chub: bytes, now: datetime) -> bytes | None:
        """The WAN provider reports a comms hub's last gasp (mains lost): the electricity
        distributor registered for the premises' import MPAN gets DCC alert AD1 with a
        PowerOutageEvent. Returns the distributor told, or None (no MPAN, no distributor)."""
        found = self.inventory.find_device(chub)
        if found is None or found.premises_id is None:
            return None
        point = next(
            (
                p
                for p in self.inventory.store.meter_points_at(found.premises_id)
                if p.kind is MeterKind.IMPORT_MPAN and p.device_eui is not None
            ),
            None,
        )
        if point is None or point.device_eui is None:
            return None
        try:
            distributor = self.inventory.who_holds(UserRole.ED, point.device_eui, now)
        except SmetsnetError:
            return None
        if distributor is None:
            return None
        mpan = point.mpxn
        alert = self.replies.dcc_alert(
            code=POWER_OUTAGE_ALERT, alert=power_outage_event(chub, now, mpan), now=now
        )
        self.records.count(now, None, 0, chub, "alert")
        self._enqueue(distributor, alert, now)
        return distributor

    # --- time -------------------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        # What this step puts in the outbox is one transaction, committed before it returns.
        with self.outbox.batch():
            self._advance(now)

    def _advance(self, now: datetime) -> None:
        self._run_schedules(now)
        while self._held and self._held[0][0] <= now:
            _, _, held = heapq.heappop(self._held)
            try:
                self._send(
                    held.request_id,
                    held.srv,
                    held.device,
                    held.chub,
                    held.wire,
                    now,
                    gas=held.gas,
                )
            except DuisRejected as exc:
                self._fail(held.request_id, held.srv, held.device, exc.response_code or "E20", now)
        deliveries = self.firmware.advance(now, self.wan.advance(now))
        for delivery in self.gpf_cos.advance(now, deliveries):
            self._arrived(delivery.message.wire, now)
        self._timeouts(now)

    def _schedules(self) -> ScheduleStore | None:
        store = getattr(self.nondevice, "schedules", None)
        return store if isinstance(store, ScheduleStore) else None

    def _run_schedules(self, now: datetime) -> None:
        """Send every DCC schedule run that is due (DUIS 5.1); a run its owner may no longer
        send (e.g. after a change of supplier) ends the schedule, and the owner is told."""
        store = self._schedules()
        if store is None:
            return
        for schedule in store.due(now):
            run_at = schedule.next_run or now
            store.advance(schedule.id, after=now)
            counter = self.access.reserve_counter(schedule.owner)
            request = self._runs.request(schedule, run_at, counter)
            rid = request.header.request_id
            try:
                accepted = self.access.check_scheduled(request, now=now)
                wire = self._command(accepted, now)
                assert accepted.device is not None
                self._send(
                    rid,
                    schedule.srv,
                    schedule.device,
                    self._comms_hub(schedule.device),
                    wire,
                    now,
                    gas=accepted.device.type is DeviceType.GSME,
                    schedule_id=schedule.id,
                )
                self.counts.schedule_runs += 1
                # the same entry as append(AuditEntry(...)); record builds it only when read
                step = (Check.SCHEDULE, Outcome.PASS, "", None, schedule.describe())
                self.audit.record(now, str(rid), schedule.owner, (step,))
            except DuisRejected as exc:
                if exc.response_code in SCHEDULE_ENDING_CODES:
                    store.remove(schedule.id)
                    self._runs.forget(schedule.id)
                    self.counts.schedules_removed += 1
                self._fail(rid, schedule.srv, schedule.device, exc.response_code or "E20", now)

    def next_due(self) -> datetime | None:
        times = [t for t in (self.wan.next_due(), self.outbox.next_due()) if t is not None]
        for own in (self.firmware.next_due(), self.gpf_cos.next_due()):
            if own is not None:
                times.append(own)
        store = self._schedules()
        due = store.next_due() if store is not None else None
        if due is not None:
            times.append(due)
        if self._held:
            times.append(self._held[0][0])
        if self._deadlines:
            times.append(self._deadlines[0][0])
        return min(times) if times else None

    def _arrived(self, wire: bytes, now: datetime) -> None:
        try:
            header = decode_frame(wire).header
        except GbcsError:
            self.counts.unmatched += 1
            return
        if header.cra is Cra.ALERT:
            self._alert(wire, header, now)
            return
        key = (header.recipient, header.counter)
        pending = self._pending.pop(key, None)
        if pending is None:
            duplicate = key in self._done
            if duplicate:
                self.counts.duplicates += 1
            else:
                self.counts.unmatched += 1
            reason = "a duplicate, dropped" if duplicate else "answers no command, dropped"
            self.records.message(
                Check.RECEIVED, now, None, wire, header.message_code, header.originator, reason
            )
            return
        self.records.message(
            Check.RECEIVED, now, pending.request_id, wire, header.message_code, pending.device
        )
        self._done.add(key)
        self._finished(pending, now)
        self.smi.answered(pending.request_id, wire, now)
        self.counts.responses += 1
        self.records.count(now, pending.srv, header.message_code, pending.device, "response")
        user = pending.request_id.originator  # the user, also when the DCC originated it
        content: Content = wire
        if pending.schedule_id is not None:
            content = scheduled_message(wire, pending.schedule_id)
        xml = self.replies.answer(
            code="I0",
            now=now,
            request_id=pending.request_id,
            srv=pending.srv,
            content=content,
            response_id=MessageId(
                originator=pending.device, target=user, counter=pending.request_id.counter
            ),
        )
        self._enqueue(user, xml, now)

    def _alert(self, wire: bytes, header: GroupingHeader, now: datetime) -> None:
        self.counts.alerts += 1
        routed = self.alerts.route(wire, header, now)
        if routed is not None:
            self._enqueue(*routed, now)
        self.smi.alerted(wire, header, now)  # a future-dated 6.23 carried out (0x00CB)

    def _signed_by_device(self, wire: bytes) -> bool:
        """The message carries a valid signature of its originator (SMKI key)."""
        try:
            return self.protection.check_signature(decode_frame(wire)) == "valid"
        except GbcsError:
            return False

    def _timeouts(self, now: datetime) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _, _, key = heapq.heappop(self._deadlines)
            pending = self._pending.get(key)
            if pending is None or pending.deadline > now:
                continue  # answered, or re-armed by a retry
            if pending.attempts < self.config.max_attempts:
                pending.attempts += 1
                self.counts.retries += 1
                pending.deadline = now + timedelta(seconds=pending.timeout_s)
                with contextlib.suppress(WanError):  # a lost attempt: the next deadline decides
                    self.wan.send(pending.chub, pending.wire, now)
                heapq.heappush(self._deadlines, (pending.deadline, next(self._order), key))
                continue
            del self._pending[key]
            self._done.add(key)
            self.counts.timeouts += 1
            self.audit.append(
                AuditEntry(
                    time=now,
                    request_id=str(pending.request_id),
                    user=pending.request_id.originator,
                    check=Check.TIMEOUT,
                    outcome=Outcome.FAIL,
                    reason=f"no answer after {pending.attempts} attempts",
                    response_code="E21",
                    detail=f"device {format_eui(pending.device)}",
                )
            )
            self._fail(pending.request_id, pending.srv, pending.device, "E21", now)
            self._finished(pending, now)

    def _fail(
        self, request_id: MessageId, srv: str, device: bytes, code: str, now: datetime
    ) -> None:
        """The user is told (the error code) and a DCC alert names the failed command."""
        user = request_id.originator
        self.smi.forget(request_id)
        self.counts.by_code[code] += 1
        self._enqueue(
            user, self.replies.answer(code=code, now=now, request_id=request_id, srv=srv), now
        )
        alert = self.replies.dcc_alert(
            code=COMMAND_FAILURE_ALERT, alert=command_failure(request_id, device), now=now
        )
        self._enqueue(user, alert, now)

    # --- the outbox -------------------------------------------------------------------------

    def _enqueue(self, user: bytes, xml: bytes, now: datetime) -> None:
        self.outbox.put(user, self.response_urls.get(user), xml, now)
        self.records.response(user, xml, now)

    def outbound_due(self, now: datetime, limit: int = 100) -> list[Outbound]:
        return self.outbox.due(now, limit)

    def delivered(self, outbound_id: int) -> None:
        self.outbox.delivered(outbound_id)

    def delivery_failed(self, outbound_id: int, now: datetime, reason: str) -> None:
        self.outbox.failed(outbound_id, now, reason)

    # --- look-ups and figures ---------------------------------------------------------------

    def certificates(
        self, *, eui: bytes | None = None, serial: int | None = None
    ) -> list[x509.Certificate]:
        if eui is not None:
            return list(self.certificates_by_eui.get(eui, []))
        if serial is not None:
            return [
                c
                for certs in self.certificates_by_eui.values()
                for c in certs
                if c.serial_number == serial
            ]
        return []

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {
            f'responses_by_code{{code="{code}"}}': float(n)
            for code, n in sorted(self.counts.by_code.items())
        }
        out.update(
            device_responses=self.counts.responses,
            device_alerts=self.counts.alerts,
            duplicates_dropped=self.counts.duplicates,
            alerts_held_back=self.alerts.throttle.held_back,
            unmatched=self.counts.unmatched,
            retries=self.counts.retries,
            schedule_runs=self.counts.schedule_runs,
            schedules_removed=self.counts.schedules_removed,
            timeouts=self.counts.timeouts,
            pending_commands=len(self._pending),
            held_requests=len(self._held),
            gas_commands_waiting=sum(len(q) for q in self._waiting.values()),
            outbox=len(self.outbox),
            firmware_transfers_in_progress=self.firmware.in_progress,
            firmware_transfers_finished=self.firmware.finished,
            firmware_transfers_given_up=self.firmware.given_up,
            firmware_blocks_sent=self.firmware.blocks_sent,
            gpf_cos_updates_sent=self.gpf_cos.sent,
            gpf_cos_updates_ok=self.gpf_cos.updated,
            gpf_cos_updates_failed=self.gpf_cos.failed,
            gpf_cos_updates_in_flight=self.gpf_cos.in_flight,
        )
        return out

    # --- helpers ----------------------------------------------------------------------------

    def _answer(
        self, accepted: Accepted, code: str, now: datetime, content: Content = None
    ) -> bytes:
        header = accepted.request.header
        if code != "I99":
            self.counts.by_code[code] += 1
        return self.replies.answer(
            code=code,
            now=now,
            request_id=header.request_id,
            srv=header.service_reference_variant,
            content=content,
        )

    @staticmethod
    def _xml(xml: bytes) -> SyncAnswer:
        return SyncAnswer(http_status=200, body=xml, content_type=XML)


class PreCommandRejected(DuisRejected):
    """A CV 5-7 request whose signed pre-command is not the one issued, altered, or not validly
    signed by the user: DUIS has no dedicated code, and E1 (not attributable to the user) is
    answered, as for a bad XML signature."""

    response_code = "E1"


class NonDeviceAnswer(Protocol):
    @property
    def response_code(self) -> str: ...

    @property
    def message(self) -> ResponseMessage: ...


class NonDeviceAnswerer(Protocol):
    """What ``smetsnet.hub.nondevice.NonDeviceServices`` provides to the engine."""

    def answer(self, accepted: Accepted, now: datetime) -> NonDeviceAnswer: ...


def _text(status: int, reason: str) -> SyncAnswer:
    return SyncAnswer(http_status=status, body=reason.encode(), content_type=TEXT)


def _local(wire: bytes) -> Node:
    return Node(name="LocalCommand", children=(Node(name="GBCSPayload", text=format_base64(wire)),))


def _held_until(accepted: Accepted, now: datetime) -> datetime | None:
    """A DSP-held future-dated request waits for its ExecutionDateTime."""
    at = requested_execution(accepted.request.body)
    if at is None or at <= now:
        return None
    # 6.23's "DSP and device" pattern is carried by the device: its translator puts the
    # execution time (or a cancellation's 3000-12-31) into the GBCS payload, so it goes now.
    return at if accepted.sr.future_dated is FutureDated.DSP else None


__all__ = ["Hub", "HubConfig", "NonDeviceAnswerer", "PreCommandRejected"]
