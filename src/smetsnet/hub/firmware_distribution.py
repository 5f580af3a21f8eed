"""The DCC's firmware distribution (11.1 Update Firmware, 11.4 Update PPMID Firmware; DOMAIN.md §6).

``nondevice_firmware`` records an accepted request; :class:`FirmwareDistributor`, advanced with the
hub, carries it out as the DCC does: the devices are grouped by the comms hub that serves them
and the image goes **once per comms hub** over the WAN, in blocks (``smetsnet.wan.firmware``:
512-byte blocks, stop-and-wait, each acknowledged; our protocol [inferred]). Each block and each
acknowledgement is a WAN message with its link's latency and loss, counted in the traffic
account (category firmware, kinds ``block`` and ``ack``) and in the audit log.

Our pacing and patience [inferred: the DCC publishes neither]: at most ``max_concurrent``
transfers at once (the rest wait their turn); a block not acknowledged within
``block_timeout_s`` is sent again, ``block_sends`` times in all; then the comms hub counts as
unreachable or without power for this attempt, and the transfer resumes from that block after
``retry_after_s`` (hourly), ``attempts`` attempts in all, then it is given up.

The comms hub hands the whole image to its target devices, which report receipt to the supplier
themselves (0x00CE: 0x8F72 verified, 0x8F1C verification failed); its last acknowledgement says
per device whether the hand-over worked. The requesting user is told the outcome per device by
DCC alert (our mapping of N60/N61, whose meaning DOMAIN.md §1.6 leaves [unconfirmed] beyond
"firmware delivered vs failed"):

- **N60** delivered: one ``CSPFirmwareDeliveryStatus`` per device (UpdateFirmwareRequestID,
  CommsHubDeviceID, TargetDeviceID, FirmwareVersion, TimeStamp, CommsHubTransferStatus Success);
- **N61** failed: one ``FirmwareDistributionFailure`` (UpdateFirmwareRequestID, MeterIDs) per
  comms hub, listing its devices that did not get the image (comms hub given up, device not on
  its HAN or taking no image); devices with no comms hub at all get one for the request.

When every device of a request is served or given up, the record is marked done (its devices
are free for another distribution).

**Across a restart** (``serve --state``: the records have a
:class:`~smetsnet.hub.records_store.RecordsStore`), each transfer's state, the first block its
comms hub has not acknowledged and its attempt are checkpointed at the end of every
:meth:`FirmwareDistributor.advance` that changed them (one transaction), with the next transfer
number. The next process reloads them: a transfer resumes from its first unacknowledged block
under the same number (a comms hub keeps a transfer's blocks, ``wan.firmware``); a waiting
one at its retry time; a finished one is not told again; an accepted request not yet planned is
planned. A comms hub that no longer holds the earlier blocks (a restarted simulated network)
answers the last block without outcomes: a resumed transfer then starts again from block 0,
once. A crash (not a close) between this checkpoint and the outbox's commit of the same hub
step can lose that step's N60/N61 or, if the outbox's commit came first, repeat them [inferred
trade-off: the two are separate SQLite files].
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from smetsnet.duis import Node
from smetsnet.duis.header import format_datetime
from smetsnet.errors import ConfigurationError, SmetsnetError
from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.audit import AuditEntry, AuditLog, Check, Outcome
from smetsnet.hub.nondevice_records import FirmwareRequest, NonDeviceRecords, RecordNotFound
from smetsnet.hub.records_store import RecordsStore, SavedTransfer
from smetsnet.hub.replies import dcc_alert
from smetsnet.hub.traffic import TrafficMeter, category_of
from smetsnet.wan.errors import WanError
from smetsnet.wan.firmware import (
    BLOCK_BYTES,
    FirmwareAck,
    FirmwareBlock,
    TransferStatus,
    decode,
    is_firmware,
    split_blocks,
)
from smetsnet.wan.transport import Delivery, Transport

DELIVERED_ALERT = "N60"
FAILED_ALERT = "N61"

#: Where a DCC alert goes: ``(user, DCCAlertCode, DCCAlert tree, now)``.
AlertSink = Callable[[bytes, str, Node, datetime], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionSettings:
    """The distributor's pacing and patience (module docstring; all ours [inferred])."""

    block_bytes: int = BLOCK_BYTES
    block_timeout_s: float = 60.0
    block_sends: int = 4
    retry_after_s: float = 3600.0
    attempts: int = 3
    max_concurrent: int = 100

    def __post_init__(self) -> None:
        for name in ("block_bytes", "block_sends", "attempts", "max_concurrent"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"firmware distribution: {name} must be at least 1")
        for name in ("block_timeout_s", "retry_after_s"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"firmware distribution: {name} must be positive")


class _State(Enum):
    QUEUED = "queued"  # waiting for a free slot
    SENDING = "sending"  # a block is out, its acknowledgement awaited
    WAITING = "waiting"  # an attempt failed: the next one is due later
    DONE = "done"


@dataclass(slots=True)
class _Job:
    """One 11.1/11.4 request being distributed."""

    request: FirmwareRequest
    seq: int  # its position among the records' firmware requests
    blocks: list[bytes] = field(repr=False)
    open: int = 0  # transfers not finished yet


@dataclass(slots=True)
class _Transfer:
    """The image going to one comms hub for its target devices."""

    id: int
    job: _Job
    chub: bytes
    targets: tuple[bytes, ...]
    state: _State = _State.QUEUED
    index: int = 0  # the block being sent
    sends: int = 0  # how often, in this attempt
    attempt: int = 1
    timer: int = 0  # the live timer's number: older heap entries are stale
    retry_at: datetime | None = None  # when waiting: the next attempt
    resumed: bool = False  # resumed mid-image after a restart (module docstring)


class FirmwareDistributor:
    """Carries out recorded firmware requests over the WAN (module docstring)."""

    def __init__(
        self,
        *,
        wan: Transport,
        records: Callable[[], NonDeviceRecords | None],
        comms_hub: Callable[[bytes], bytes],
        alert: AlertSink,
        traffic: TrafficMeter,
        audit: AuditLog,
        settings: DistributionSettings | None = None,
    ) -> None:
        self.wan = wan
        self.settings = settings or DistributionSettings()
        self._requests = records
        self._comms_hub = comms_hub
        self._alert = alert
        self._traffic = traffic
        self._audit = audit
        self._seen = 0  # records taken so far (new ones are appended)
        self._transfers: dict[int, _Transfer] = {}
        self._queue: deque[_Transfer] = deque()
        self._active = 0
        self._timers: list[tuple[datetime, int, int, int]] = []  # (due, order, transfer, timer)
        self._order = itertools.count()
        self._ids = itertools.count(1)
        # with a records store: its saved transfers by request (until taken), what to checkpoint
        self._store: RecordsStore | None = None
        self._saved: dict[int, list[SavedTransfer]] = {}
        self._dirty: dict[int, _Transfer] = {}
        self._cleared: list[int] = []  # requests done: their transfers leave the store
        self._next_id = 1
        #: figures: transfers finished / given up, blocks sent (re-sends included)
        self.finished = 0
        self.given_up = 0
        self.blocks_sent = 0

    # --- driven by the hub ------------------------------------------------------------------

    def advance(self, now: datetime, deliveries: list[Delivery]) -> list[Delivery]:
        """Take the acknowledgements among ``deliveries``, start new requests, re-send or give
        up what timed out, fill free slots; returns the deliveries that are not firmware."""
        rest = deliveries
        if any(is_firmware(d.message.wire) for d in deliveries):
            rest = []
            for delivery in deliveries:
                if is_firmware(delivery.message.wire):
                    self._acknowledged(delivery.message.chub, delivery.message.wire, now)
                else:
                    rest.append(delivery)
        self._take_new(now)
        self._expire(now)
        self._start(now)
        if self._store is not None and (self._dirty or self._cleared):
            self._checkpoint(self._store)
        return rest

    def next_due(self) -> datetime | None:
        """When the distributor next has something to do (a request not yet taken: at once)."""
        times = [self._timers[0][0]] if self._timers else []
        records = self._records()
        if records is not None and len(records.firmware) > self._seen:
            times.append(min(r.at for r in records.firmware[self._seen :]))
        return min(times) if times else None

    @property
    def in_progress(self) -> int:
        """Transfers not finished (queued, sending or waiting for their next attempt)."""
        return sum(1 for t in self._transfers.values() if t.state is not _State.DONE)

    # --- requests ---------------------------------------------------------------------------

    def _records(self) -> NonDeviceRecords | None:
        records = self._requests()
        return records if isinstance(records, NonDeviceRecords) else None

    def _take_new(self, now: datetime) -> None:
        records = self._records()
        if records is None:
            return
        if records.store is not None and records.store is not self._store:
            self._attach(records.store)
        start = min(self._seen, len(records.firmware))
        new = records.firmware[start:]
        self._seen = len(records.firmware)
        for seq, request in enumerate(new, start):
            saved = self._saved.pop(seq, None)
            if request.done:
                if saved and self._store is not None:  # done before its last checkpoint
                    self._cleared.append(seq)
                continue
            if saved:
                self._resume(seq, request, saved, now)
            else:
                self._plan(seq, request, now)

    def _attach(self, store: RecordsStore) -> None:
        """Take up what the last process checkpointed in ``store`` (module docstring)."""
        self._store = store
        self._saved = {}
        for saved in store.saved_transfers():
            self._saved.setdefault(saved.request, []).append(saved)
        self._next_id = max(self._next_id, store.next_transfer_id())
        self._ids = itertools.count(self._next_id)

    def _new_id(self) -> int:
        tid = next(self._ids)
        self._next_id = tid + 1
        return tid

    def _plan(self, seq: int, request: FirmwareRequest, now: datetime) -> None:
        """One transfer per comms hub of the request's devices."""
        job = _Job(
            request=request, seq=seq, blocks=split_blocks(request.image, self.settings.block_bytes)
        )
        by_hub: dict[bytes, list[bytes]] = {}
        homeless: list[bytes] = []
        for device in request.devices:
            try:
                by_hub.setdefault(self._comms_hub(device), []).append(device)
            except SmetsnetError:
                homeless.append(device)
        if homeless:
            self._alert(request.by, FAILED_ALERT, _failure(request, homeless), now)
        job.open = len(by_hub)
        for chub, targets in by_hub.items():
            transfer = _Transfer(id=self._new_id(), job=job, chub=chub, targets=tuple(targets))
            self._transfers[transfer.id] = transfer
            self._queue.append(transfer)
            self._touch(transfer)
        if not by_hub:
            self._job_done(job)

    def _resume(
        self, seq: int, request: FirmwareRequest, saved: list[SavedTransfer], now: datetime
    ) -> None:
        """The request's transfers as checkpointed: the unfinished ones go on."""
        job = _Job(
            request=request, seq=seq, blocks=split_blocks(request.image, self.settings.block_bytes)
        )
        for row in saved:
            if row.blocks != len(job.blocks):
                raise ConfigurationError(
                    f"{self._store.path if self._store else 'records'}: firmware transfer "
                    f"{row.id} was saved in {row.blocks} blocks, block_bytes "
                    f"{self.settings.block_bytes} makes {len(job.blocks)}: restart with the "
                    "block size it began with"
                )
            if row.state == _State.DONE.value:
                continue  # its devices were told
            transfer = _Transfer(
                id=row.id,
                job=job,
                chub=row.chub,
                targets=row.targets,
                index=row.next_block,
                attempt=row.attempt,
                resumed=row.next_block > 0,
            )
            self._transfers[transfer.id] = transfer
            job.open += 1
            if row.state == _State.WAITING.value and row.retry_at is not None:
                transfer.state, transfer.retry_at = _State.WAITING, row.retry_at
                self._arm(transfer, row.retry_at)
            else:
                self._queue.append(transfer)
        if job.open == 0:
            self._job_done(job)

    def _job_done(self, job: _Job) -> None:
        records = self._records()
        if records is not None:
            with contextlib.suppress(RecordNotFound):  # finished already
                records.firmware_done(job.request.request_id)
        if self._store is not None:
            self._cleared.append(job.seq)

    # --- the checkpoint ---------------------------------------------------------------------

    def _touch(self, transfer: _Transfer) -> None:
        """``transfer`` changed: checkpointed at the end of this step (with a store)."""
        if self._store is not None:
            self._dirty[transfer.id] = transfer

    def _checkpoint(self, store: RecordsStore) -> None:
        cleared = set(self._cleared)
        changed = [
            SavedTransfer(
                id=t.id,
                request=t.job.seq,
                chub=t.chub,
                targets=t.targets,
                state=t.state.value,
                next_block=t.index,
                blocks=len(t.job.blocks),
                attempt=t.attempt,
                retry_at=t.retry_at if t.state is _State.WAITING else None,
            )
            for t in self._dirty.values()
            if t.job.seq not in cleared
        ]
        store.checkpoint(changed, self._cleared, self._next_id)
        self._dirty.clear()
        self._cleared.clear()

    # --- blocks -----------------------------------------------------------------------------

    def _start(self, now: datetime) -> None:
        while self._queue and self._active < self.settings.max_concurrent:
            transfer = self._queue.popleft()
            transfer.state = _State.SENDING
            transfer.sends = 0
            self._active += 1
            self._send_block(transfer, now)

    def _send_block(self, transfer: _Transfer, now: datetime) -> None:
        blocks = transfer.job.blocks
        wire = FirmwareBlock(
            transfer=transfer.id,
            index=transfer.index,
            count=len(blocks),
            targets=transfer.targets,
            data=blocks[transfer.index],
        ).encode()
        transfer.sends += 1
        try:
            self.wan.send(transfer.chub, wire, now)
        except WanError:
            pass  # not sent (queue full, no such comms hub): the timeout decides, as for a loss
        else:
            self.blocks_sent += 1
            what = f"firmware block {transfer.index + 1}/{len(blocks)}"
            self._account(transfer, "block", Check.SENT, wire, what, now)
        self._arm(transfer, now + timedelta(seconds=self.settings.block_timeout_s))

    def _acknowledged(self, chub: bytes, wire: bytes, now: datetime) -> None:
        try:
            ack = decode(wire)
        except WanError as exc:
            self._dropped(None, chub, wire, f"unreadable firmware message: {exc}", now)
            return
        transfer = self._transfers.get(ack.transfer)
        if not isinstance(ack, FirmwareAck) or transfer is None or transfer.chub != chub:
            self._dropped(None, chub, wire, "acknowledges no firmware transfer, dropped", now)
            return
        if transfer.state is not _State.SENDING or ack.index != transfer.index:
            self._dropped(transfer, chub, wire, "acknowledges no block awaited, dropped", now)
            return
        what = f"firmware ack {ack.index + 1}/{ack.count}"
        self._account(transfer, "ack", Check.RECEIVED, wire, what, now)
        if ack.final and transfer.resumed and not ack.results:
            # the comms hub lost the blocks sent before the restart: all again, once
            transfer.resumed = False
            transfer.index = 0
        elif ack.final:
            self._finish(transfer, dict(ack.results), now)
            return
        else:
            transfer.index += 1
        transfer.sends = 0
        self._touch(transfer)
        self._send_block(transfer, now)

    # --- time -------------------------------------------------------------------------------

    def _arm(self, transfer: _Transfer, due: datetime) -> None:
        transfer.timer += 1
        heapq.heappush(self._timers, (due, next(self._order), transfer.id, transfer.timer))

    def _expire(self, now: datetime) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, tid, timer = heapq.heappop(self._timers)
            transfer = self._transfers[tid]
            if timer != transfer.timer:
                continue  # acknowledged since, or re-armed
            if transfer.state is _State.WAITING:
                transfer.state = _State.QUEUED
                self._queue.appendleft(transfer)  # a retry goes before transfers not begun
            elif transfer.state is _State.SENDING:
                self._timed_out(transfer, now)

    def _timed_out(self, transfer: _Transfer, now: datetime) -> None:
        if transfer.sends < self.settings.block_sends:
            self._send_block(transfer, now)
            return
        self._active -= 1
        self._touch(transfer)
        if transfer.attempt < self.settings.attempts:
            transfer.attempt += 1
            transfer.state = _State.WAITING
            transfer.retry_at = now + timedelta(seconds=self.settings.retry_after_s)
            self._arm(transfer, transfer.retry_at)
            return
        self.given_up += 1
        transfer.state = _State.DONE
        self._audit.append(
            AuditEntry(
                time=now,
                request_id=transfer.job.request.request_id,
                user=transfer.job.request.by,
                check=Check.TIMEOUT,
                outcome=Outcome.FAIL,
                reason=f"no acknowledgement after {transfer.attempt} attempts: given up",
                detail=f"comms hub {format_eui(transfer.chub)} firmware block {transfer.index + 1}",
            )
        )
        self._told(transfer, {}, now)

    def _finish(
        self, transfer: _Transfer, results: dict[bytes, TransferStatus], now: datetime
    ) -> None:
        self._active -= 1
        self.finished += 1
        transfer.state = _State.DONE
        self._touch(transfer)
        self._told(transfer, results, now)

    def _told(
        self, transfer: _Transfer, results: dict[bytes, TransferStatus], now: datetime
    ) -> None:
        """The requesting user hears the outcome per device; the request may be done."""
        request = transfer.job.request
        failed = []
        for target in transfer.targets:
            if results.get(target) is TransferStatus.SUCCESS:
                node = _delivered(request, transfer.chub, target, now)
                self._alert(request.by, DELIVERED_ALERT, node, now)
            else:
                failed.append(target)
        if failed:
            self._alert(request.by, FAILED_ALERT, _failure(request, failed), now)
        transfer.job.open -= 1
        if transfer.job.open == 0:
            self._job_done(transfer.job)

    # --- records ----------------------------------------------------------------------------

    def _account(
        self, transfer: _Transfer, kind: str, check: Check, wire: bytes, what: str, now: datetime
    ) -> None:
        request = transfer.job.request
        self._count(request, transfer.chub, kind, now)
        self._audit.append(
            AuditEntry(
                time=now,
                request_id=request.request_id,
                user=request.by,
                check=check,
                outcome=Outcome.PASS,
                detail=_detail(transfer.chub, what, wire),
            )
        )

    def _count(self, request: FirmwareRequest, chub: bytes, kind: str, now: datetime) -> None:
        """One block or acknowledgement of ``request``'s distribution to ``chub``: a WAN
        transfer unit of its SR (``traffic``)."""
        self._traffic.count(
            day=now.date(),
            srv=request.srv,
            use_case=None,
            category=category_of(request.srv),
            meter=chub,
            kind=kind,
        )

    def _dropped(
        self, transfer: _Transfer | None, chub: bytes, wire: bytes, reason: str, now: datetime
    ) -> None:
        """A firmware message that moves nothing on: still a message the hub handled."""
        if transfer is not None:
            self._count(transfer.job.request, chub, "ack", now)
        request = None if transfer is None else transfer.job.request
        self._audit.received(
            now,
            None if request is None else request.request_id,
            None if request is None else request.by,
            Outcome.FAIL,
            reason,
            _detail(chub, "firmware message", wire),
        )


def dcc_alert_sink(
    sign: Callable[..., bytes], enqueue: Callable[[bytes, bytes, datetime], None]
) -> AlertSink:
    """An :data:`AlertSink` that signs a DCC alert (``Replies.dcc_alert``) and queues it for
    the user (the hub's outbox), as the hub's other DCC alerts go."""

    def send(user: bytes, code: str, alert: Node, now: datetime) -> None:
        enqueue(user, sign(code=code, alert=alert, now=now), now)

    return send


def _delivered(request: FirmwareRequest, chub: bytes, target: bytes, now: datetime) -> Node:
    """DCCAlert/CSPFirmwareDeliveryStatus: the comms hub handed the image to ``target``."""
    return dcc_alert(
        "CSPFirmwareDeliveryStatus",
        ("UpdateFirmwareRequestID", request.request_id),
        ("CommsHubDeviceID", format_eui(chub)),
        ("TargetDeviceID", format_eui(target)),
        ("FirmwareVersion", request.version),
        ("TimeStamp", format_datetime(now)),
        ("CommsHubTransferStatus", "Success"),
    )


def _failure(request: FirmwareRequest, devices: list[bytes]) -> Node:
    """DCCAlert/FirmwareDistributionFailure: the request's devices that did not get the image."""
    return dcc_alert(
        "FirmwareDistributionFailure",
        ("UpdateFirmwareRequestID", request.request_id),
        ("MeterIDs", ",".join(format_eui(d) for d in devices)),
    )


def _detail(chub: bytes, what: str, wire: bytes) -> str:
    return f"comms hub {format_eui(chub)} {what} sha256 {hashlib.sha256(wire).hexdigest()[:32]}"


__all__ = [
    "DELIVERED_ALERT",
    "FAILED_ALERT",
    "AlertSink",
    "DistributionSettings",
    "FirmwareDistributor",
    "dcc_alert_sink",
]
