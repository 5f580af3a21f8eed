"""What the DCC does itself when a device answers an SR well: Smart Metering Inventory updates
(and the ChangeOfSupplier alert).

A user installs and commissions through SRs; the DCC keeps the SMI in step from the devices'
answers (the users never write the SMI directly). The hub notes, when it sends a command of an
SR variant in :data:`RULES`, what that command would change (:meth:`SmiUpdates.expect`); when
the device's response arrives it decodes the GBCS payload, and only a successful one changes
the inventory (:meth:`SmiUpdates.answered`). A failed answer, a command that times out or is
refused, changes nothing. Every change (and every refusal by the inventory) is an audit entry.

The rules, by SR variant (what "success" is comes from the GBCS response of the use case,
GBCS-PAYLOADS.md §1.2 (DLMS access results) and §3 (ASN.1), checked against the RTDS
SUCCESS/ERROR response vectors by the tests):

* **8.1.1 Commission Device** (ECS70 on an ESME: every DLMS result ``success``; GCS28 on a
  GSME: the device time status ``reliable``, the RTDS ERROR_RESPONSE vector being status 2
  ``unreliable``): the meter, InstalledNotCommissioned, becomes Commissioned (DOMAIN.md §1.5:
  8.1.1 Commission Device; the lifecycle table's ``commission``). [inferred] The comms hub
  function on its side becomes Commissioned with it, if still InstalledNotCommissioned: the CHF
  with the ESME, the GPF with the GSME (no SR commissions a CHF or GPF, and a hub function
  never answers 8.1.1 itself).
* **8.11 Update HAN Device Log** (CCS01 Add / CCS02 Remove on the CHF: every DLMS result
  ``success``): Add puts the device on the comms hub's device log (Pending -> Whitelisted, the
  lifecycle table's ``add_to_han_log``); Remove takes it off (``remove_from_han_log``).
  [inferred] On Add, the MPxNs of ``AddDeviceToCHFWhitelist`` (ImportMPxN, SecondaryImportMPAN,
  ExportMPAN, DUIS XSD) are linked to the meter: CCS01 does not carry them to the CHF, so they
  are the DCC's, for the SMI. The device's HAN join is no SR and stays with whoever joins it.
* **8.7.1 / 8.7.2 Join Service** (CS03: response code 0 ``ok``): [inferred, as the
  simulation's installs had it] the consumer device of the pair (PPMID, IHD, HCALCS, CAD),
  InstalledNotCommissioned, becomes Commissioned once it joined a meter: a consumer device
  has no 8.1.1 of its own (8.1.1 is ESME/GSME only, DUIS SR catalogue).
* **6.23 Update Security Credentials (CoS)** (CS02b: the execution outcome present and every
  replacement's status 0): no SMI change, but the DCC tells the losing supplier with a DCC alert
  ``ChangeOfSupplier`` (body ``DeviceChangeOfSupplier{DeviceID, DeviceType, MPxNs}``, DUIS XSD).
  When, and to whom, is ours [inferred]: DOMAIN.md §4 lists the alert with its recipients
  unconfirmed and says the effect of a change is that the old supplier's keys no longer
  validate on the device, which is when the 6.23 succeeds, not when the registration data
  changes (the device still trusts the old supplier until then). The losing supplier is the
  party the device's answer names as the replaced cells' existing subject (the supplier whose
  certificate the device held), so no registration look-up can pick the wrong one, and only
  if the registration data no longer names it as the meter's supplier (IS for an ESME, GS for
  a GSME): a supplier that replaces its own certificates has lost nothing. Its
  DCCAlertCode is :data:`CHANGE_OF_SUPPLIER_ALERT`.
  [inferred] On a GSME, the GPF of its comms hub follows: the hub sends it the same
  certificates (``cos_gpf``, through :data:`GpfSink`), whether or not a supplier lost the meter
  (the GPF must hold what its GSME holds).

  A **future-dated 6.23** (DUIS "DSP and device": the device holds the CS02b) is answered at
  once without an outcome, which changes nothing yet: the hub keeps the 6.23 by its device and
  the CS02b's authorising counter (:meth:`SmiUpdates.answered`). When the device carries it out
  it raises the future-dated CS02b alert 0x00CB (critical; GBCS-PAYLOADS §3: alert code 0x8F66
  actioned / 0x8F67 not, the execution time, the ExecutionOutcome, whose authorising seq number
  is that counter). The hub hands every device alert to :meth:`SmiUpdates.alerted`; a 0x00CB
  naming a kept 6.23, actioned with every cell replaced, is followed as an immediate success
  is: ChangeOfSupplier and the GPF. [inferred] The registration data is read at the execution
  time the hub put in the CS02b (when the device stopped trusting the losing supplier), not when
  the alert arrives (a GSME reports at its next wake). An accepted cancellation (executionDateTime
  9999-12-31T23:59:59Z, ``translate.asn1.GBCS_CANCEL``) drops the device's held CS02b of that
  originator, so the hub forgets its kept 6.23s of that device and originator: nothing follows.

8.3 Decommission Device and 8.4 Update Inventory are non-device SRs: the non-device services
change the SMI when they answer (``nondevice_inventory``); they are not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from smetsnet.duis import GenericBody, MessageId, Node
from smetsnet.errors import GbcsError
from smetsnet.gbcs.asn1 import (
    ExecutionOutcome,
    JoinCommand,
    JoinResponse,
    ReplacementMode,
    SetClockResponse,
    TimeStatus,
    UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
)
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessResponse
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.frame import GroupingHeader
from smetsnet.hub.access import Accepted
from smetsnet.hub.audit import AuditLog, Outcome
from smetsnet.hub.replies import change_of_supplier
from smetsnet.hub.translate.asn1 import GBCS_CANCEL
from smetsnet.inventory import (
    DeviceStatus,
    DeviceType,
    Inventory,
    InventoryError,
    MeterKind,
    UserRole,
)

S = DeviceStatus
#: devices commissioned by joining a meter (8.7), not by 8.1.1
CONSUMER_TYPES = frozenset({DeviceType.PPMID, DeviceType.IHD, DeviceType.HCALCS, DeviceType.CAD})
#: the comms hub function commissioned with each meter (module docstring, [inferred])
HUB_FUNCTION_OF = {DeviceType.ESME: DeviceType.CHF, DeviceType.GSME: DeviceType.GPF}
#: the MPxN elements of an 8.11 AddDeviceToCHFWhitelist, in XSD order
WHITELIST_MPXNS = ("ImportMPxN", "SecondaryImportMPAN", "ExportMPAN")
#: [U] no source read ties a DCCAlertCode to ChangeOfSupplier (SR-CATALOGUE.md §4.1: codes AD1,
#: N1-N31, N33-N65, N999 with no meanings); N42 is our choice, unused by the hub's other alerts.
CHANGE_OF_SUPPLIER_ALERT = "N42"
#: a DCC alert to a user: (user, DCCAlertCode, DCCAlert body, time); the hub signs and queues it
AlertSink = Callable[[bytes, str, Node, datetime], None]
#: [inferred] the GSME carried out a 6.23: (GSME, the hub's CS02b command to it, the 6.23's
#: RequestID, time); the hub gives the GSME's GPF the same certificates (``cos_gpf``)
GpfSink = Callable[[bytes, bytes, MessageId, datetime], None]
#: the supplier role whose holder a meter's 6.23 changes
SUPPLIER_ROLE_OF = {DeviceType.ESME: UserRole.IS, DeviceType.GSME: UserRole.GS}
#: MeterMPxNs elements by the kind of meter point linked to the device, in XSD order
_MPXN_ELEMENTS = (
    (MeterKind.IMPORT_MPAN, "ImportMPxN"),
    (MeterKind.MPRN, "ImportMPxN"),
    (MeterKind.EXPORT_MPAN, "ExportMPAN"),
)
#: requests still waiting for an answer are forgotten beyond this many (the oldest first)
MAX_EXPECTED = 100_000
#: future-dated 6.23s held by their devices are forgotten beyond this many (the oldest first)
MAX_HELD = 100_000
#: the future-dated CS02b outcome alert (GBCS-PAYLOADS §3, ASN.1 alerts: critical)
CS02B_OUTCOME_ALERT = 0x00CB
#: its alert code when the held command was carried out (0x8F67: it was not)
FUTURE_DATED_ACTIONED = 0x8F66
#: the CS02b execution time that cancels the device's held command of the same originator
CANCEL_AT = GBCS_CANCEL.to_datetime()


@dataclass(frozen=True, slots=True, kw_only=True)
class Cs02b:
    """The CS02b a 6.23 became: its originator (the transitional CoS party), its authorising
    counter (a future-dated one's 0x00CB alert repeats it) and when it runs."""

    originator: bytes
    counter: int
    execution: datetime | None  # None: at once; CANCEL_AT: cancels the device's held one

    @property
    def cancels(self) -> bool:
        return self.execution is not None and self.execution >= CANCEL_AT


@dataclass(frozen=True, slots=True, kw_only=True)
class Expected:
    """What a sent command changes in the SMI if its device answers well."""

    srv: str
    device: bytes  # the SR's target
    #: 8.11: the device added to / removed from the log; 8.7: the join partner
    other: bytes | None = None
    remove: bool = False  # 8.11 Remove
    mpxns: tuple[str, ...] = ()  # 8.11 Add
    command: bytes | None = None  # 6.23 to a GSME: the CS02b sent (its GPF gets the same)
    cs02b: Cs02b | None = None  # 6.23: what the device's answer or later alert refers to


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldCos:
    """A future-dated 6.23 its device accepted and holds: followed when it reports."""

    request_id: MessageId
    expected: Expected
    execution: datetime


Payload = object
Updater = Callable[["SmiUpdates", Expected, Payload, datetime, MessageId], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One SR variant: when its response is a success, and what it changes then."""

    succeeded: Callable[[Payload], bool]
    update: Updater


def all_results_ok(payload: Payload) -> bool:
    """A DLMS response (ECS70, CCS01, CCS02): every access result is ``success``."""
    return (
        isinstance(payload, AccessResponse)
        and bool(payload.results)
        and all(r.ok for r in payload.results)
    )


def clock_set(payload: Payload) -> bool:
    """8.1.1's answer: ECS70 (DLMS) on an ESME, GCS28 (time status reliable) on a GSME."""
    if isinstance(payload, SetClockResponse):
        return payload.time_status == TimeStatus.RELIABLE
    return all_results_ok(payload)


def credentials_replaced(payload: Payload) -> bool:
    """CS02b (6.23): executed now (the outcome is present) and every replacement succeeded."""
    if not isinstance(payload, UpdateSecurityCredentialsResponse) or payload.outcome is None:
        return False
    return every_cell_replaced(payload.outcome)


def every_cell_replaced(outcome: ExecutionOutcome) -> bool:
    """A CS02b's ExecutionOutcome (response or 0x00CB alert): every replacement status 0."""
    return bool(outcome.outcomes) and all(o.status == 0 for o in outcome.outcomes)


def held_or_cancelled(payload: Payload, expected: Expected) -> bool:
    """A future-dated (or cancelling) CS02b's answer: accepted, no outcome yet."""
    return (
        isinstance(payload, UpdateSecurityCredentialsResponse)
        and payload.outcome is None
        and expected.cs02b is not None
        and expected.cs02b.execution is not None
    )


def joined(payload: Payload) -> bool:
    """CS03: response code 0 is ``ok``; 1-13 are the join's failures."""
    return isinstance(payload, JoinResponse) and payload.code == 0


class SmiUpdates:
    """The hub's SMI bookkeeping of device answers (module docstring)."""

    def __init__(
        self,
        inventory: Inventory,
        audit: AuditLog,
        *,
        alert: AlertSink | None = None,
        gpf: GpfSink | None = None,
        signed: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.inventory = inventory
        self.audit = audit
        self.alert = alert  # None: DCC alerts are not sent (a hub without users' outbox)
        self.gpf = gpf  # None: a GSME's GPF is not updated after its 6.23
        #: whether a device's alert carries its originator's valid signature (None: not checked)
        self.signed = signed
        self._expected: dict[MessageId, Expected] = {}
        #: future-dated 6.23s their devices hold, by (device, the CS02b's authorising counter)
        self._held: dict[tuple[bytes, int], HeldCos] = {}

    def __len__(self) -> int:
        return len(self._expected)

    @property
    def held(self) -> int:
        """Future-dated 6.23s accepted by their devices and not yet reported."""
        return len(self._held)

    # --- the hub's two hooks ------------------------------------------------------------

    def expect(self, accepted: Accepted, wire: bytes) -> None:
        """The command ``wire`` of ``accepted`` went to its device: note what it changes."""
        srv = accepted.sr.srv
        if srv not in RULES or accepted.device is None:
            return
        expected = _expected(srv, accepted, wire)
        if expected is None:
            return
        if len(self._expected) >= MAX_EXPECTED:
            del self._expected[next(iter(self._expected))]
        self._expected[accepted.request.header.request_id] = expected

    def answered(self, request_id: MessageId, wire: bytes, now: datetime) -> None:
        """The device answered ``request_id`` with ``wire``: update the SMI if it succeeded."""
        expected = self._expected.pop(request_id, None)
        if expected is None:
            return
        rule, rid = RULES[expected.srv], request_id
        try:
            payload: Payload = decode_message(wire).payload
        except GbcsError as exc:
            self.record(now, rid, Outcome.SKIP, f"{expected.srv}: response not decoded ({exc})")
            return
        if held_or_cancelled(payload, expected):
            self._device_holds(expected, now, rid)
            return
        if not rule.succeeded(payload):
            what = f"{expected.srv}: the device answered a failure, the SMI is not changed"
            self.record(now, rid, Outcome.SKIP, what)
            return
        rule.update(self, expected, payload, now, request_id)

    def forget(self, request_id: MessageId) -> None:
        """The request failed (refused, or no answer): it changes nothing."""
        self._expected.pop(request_id, None)

    def alerted(self, wire: bytes, header: GroupingHeader, now: datetime) -> None:
        """A device alert reached the hub (``header`` already read): a 0x00CB reporting a kept
        future-dated 6.23 carried out is followed as an immediate success (module docstring)."""
        if header.message_code != CS02B_OUTCOME_ALERT or not self._held:
            return
        try:
            payload = decode_message(wire).payload
        except GbcsError:
            return
        if not isinstance(payload, UpdateSecurityCredentialsAlert):
            return
        outcome = payload.outcome
        if outcome.replacement_mode != ReplacementMode.SUPPLIER_BY_TRANS_COS:
            return
        key = (header.originator, outcome.authorising_seq_number)
        held = self._held.get(key)
        if held is None:
            return
        if self.signed is not None and not self.signed(wire):  # a forgery leaves it kept
            what = f"6.23: 0x{CS02B_OUTCOME_ALERT:04X} not validly signed by its device, ignored"
            self.record(now, held.request_id, Outcome.SKIP, what)
            return
        del self._held[key]
        rid, expected = held.request_id, held.expected
        if payload.alert_code != FUTURE_DATED_ACTIONED or not every_cell_replaced(outcome):
            what = (
                f"6.23: {format_eui(expected.device)} reports the future-dated CS02b not carried "
                f"out (alert 0x{payload.alert_code:04X}), nothing follows"
            )
            self.record(now, rid, Outcome.SKIP, what)
            return
        _follow_cos(self, expected, outcome, rid, at=held.execution, now=now)

    def _device_holds(self, expected: Expected, now: datetime, rid: MessageId) -> None:
        """The device accepted a future-dated 6.23 (kept until it reports) or a cancellation
        (its held CS02b of that originator is gone: the kept 6.23s are forgotten)."""
        cs02b, device = expected.cs02b, expected.device
        assert cs02b is not None and cs02b.execution is not None  # held_or_cancelled
        name = format_eui(device)
        if cs02b.cancels:
            gone = [
                key
                for key, held in self._held.items()
                if key[0] == device
                and held.expected.cs02b is not None
                and held.expected.cs02b.originator == cs02b.originator
            ]
            for key in gone:
                del self._held[key]
            what = f"6.23: {name} cancelled its held CS02b ({len(gone)} future-dated 6.23 dropped)"
            self.record(now, rid, Outcome.SKIP, what, "6.23 cancelled")
            return
        if len(self._held) >= MAX_HELD:
            del self._held[next(iter(self._held))]
        key = (device, cs02b.counter)
        self._held[key] = HeldCos(request_id=rid, expected=expected, execution=cs02b.execution)
        what = (
            f"6.23: {name} holds the CS02b until {cs02b.execution.isoformat()}; followed when "
            f"it reports the execution (alert 0x{CS02B_OUTCOME_ALERT:04X})"
        )
        self.record(now, rid, Outcome.SKIP, what, "6.23 held by the device")

    # --- the changes --------------------------------------------------------------------

    def commission(self, eui: bytes, now: datetime, rid: MessageId, why: str) -> None:
        """InstalledNotCommissioned -> Commissioned; a device already past it is left alone."""
        device = self.inventory.find_device(eui)
        if device is None or device.status is not S.InstalledNotCommissioned:
            return
        self.change(now, rid, why, lambda: self.inventory.commission(eui, at=now))

    def change(self, now: datetime, rid: MessageId, why: str, change: Callable[[], object]) -> None:
        """Make one change; the audit says it was made, or why the inventory refused it."""
        try:
            change()
        except InventoryError as exc:
            self.record(now, rid, Outcome.FAIL, f"{why}: {exc}")
            return
        self.record(now, rid, Outcome.PASS, why)

    def record(
        self, now: datetime, rid: MessageId, outcome: Outcome, detail: str, reason: str = ""
    ) -> None:
        if not reason:
            reason = "SMI update" if outcome is Outcome.PASS else "SMI not updated"
        self.audit.received(now, str(rid), rid.originator, outcome, reason, detail)


# --- what each SR variant changes ------------------------------------------------------------


def _commission_meter(
    smi: SmiUpdates, e: Expected, payload: Payload, now: datetime, rid: MessageId
) -> None:
    meter = smi.inventory.find_device(e.device)
    if meter is None:
        return
    smi.commission(meter.eui, now, rid, f"8.1.1: {meter.label} Commissioned")
    hub_type = HUB_FUNCTION_OF.get(meter.type)
    if hub_type is None or meter.premises_id is None:
        return
    for part in smi.inventory.store.devices_at(meter.premises_id):
        if part.type is hub_type:
            why = f"8.1.1: {part.label} Commissioned with {meter.label}"
            smi.commission(part.eui, now, rid, why)


def _device_log(
    smi: SmiUpdates, e: Expected, payload: Payload, now: datetime, rid: MessageId
) -> None:
    assert e.other is not None  # _expected sets it for 8.11
    chf, device, inventory = e.device, e.other, smi.inventory
    name = format_eui(device)
    if e.remove:
        why = f"8.11: {name} off the device log of CHF {format_eui(chf)}"
        smi.change(now, rid, why, lambda: inventory.remove_from_han_log(chf, device, at=now))
        return
    why = f"8.11: {name} on the device log of CHF {format_eui(chf)}"
    smi.change(now, rid, why, lambda: inventory.add_to_han_log(chf, device, at=now))
    for mpxn in e.mpxns:
        why = f"8.11: {mpxn} measured by {name}"
        smi.change(now, rid, why, partial(inventory.link_meter, mpxn, device))


def _commission_consumer(
    smi: SmiUpdates, e: Expected, payload: Payload, now: datetime, rid: MessageId
) -> None:
    if e.other is None:
        return
    pair = [smi.inventory.find_device(e.device), smi.inventory.find_device(e.other)]
    devices = [d for d in pair if d is not None]
    meters = [d for d in devices if d.type in HUB_FUNCTION_OF]
    if not meters:
        return
    for d in devices:
        if d.type in CONSUMER_TYPES:
            why = f"{e.srv}: {d.label} Commissioned, joined with {meters[0].label}"
            smi.commission(d.eui, now, rid, why)


def _tell_losing_supplier(
    smi: SmiUpdates,
    e: Expected,
    outcome: ExecutionOutcome,
    rid: MessageId,
    *,
    at: datetime,
    now: datetime,
) -> None:
    """``at``: when the device replaced the cells (the registration data is read then)."""
    device = smi.inventory.find_device(e.device)
    role = SUPPLIER_ROLE_OF.get(device.type) if device is not None else None
    if device is None or role is None or device.premises_id is None or smi.alert is None:
        return
    replaced = {
        o.existing_subject_unique_id
        for o in outcome.outcomes
        if o.existing_subject_unique_id != o.replacing_subject_unique_id
    }
    holder = smi.inventory.who_holds(role, device.eui, at)
    # a supplier that still holds the role has lost nothing (e.g. it renewed its certificates)
    losing = sorted(u for u in replaced if u != holder and smi.inventory.store.user(u) is not None)
    if not losing:
        return
    mpxns = [
        (element, p.mpxn)
        for kind, element in _MPXN_ELEMENTS
        for p in smi.inventory.store.meter_points_at(device.premises_id)
        if p.kind is kind and p.device_eui == device.eui
    ]
    if not mpxns or mpxns[0][0] != "ImportMPxN":
        what = f"6.23: no ChangeOfSupplier alert, {device.label} measures no import MPxN"
        smi.record(now, rid, Outcome.SKIP, what, "DCC alert")
        return
    body = change_of_supplier(device.eui, device.type.name, mpxns)
    for user in losing:
        smi.alert(user, CHANGE_OF_SUPPLIER_ALERT, body, now)
        what = (
            f"6.23: ChangeOfSupplier ({CHANGE_OF_SUPPLIER_ALERT}) of {device.label} to the "
            f"losing supplier {format_eui(user)}"
        )
        smi.record(now, rid, Outcome.PASS, what, "DCC alert")


def _supplier_changed(
    smi: SmiUpdates, e: Expected, payload: Payload, now: datetime, rid: MessageId
) -> None:
    assert isinstance(payload, UpdateSecurityCredentialsResponse) and payload.outcome is not None
    _follow_cos(smi, e, payload.outcome, rid, at=now, now=now)


def _follow_cos(
    smi: SmiUpdates,
    e: Expected,
    outcome: ExecutionOutcome,
    rid: MessageId,
    *,
    at: datetime,
    now: datetime,
) -> None:
    """A 6.23 carried out (now, or at ``at`` when future-dated): the losing supplier is told
    and a GSME's GPF follows."""
    _tell_losing_supplier(smi, e, outcome, rid, at=at, now=now)
    if e.command is not None and smi.gpf is not None:
        smi.gpf(e.device, e.command, rid, now)


RULES: dict[str, Rule] = {
    "8.1.1": Rule(succeeded=clock_set, update=_commission_meter),
    "8.11": Rule(succeeded=all_results_ok, update=_device_log),
    "8.7.1": Rule(succeeded=joined, update=_commission_consumer),
    "8.7.2": Rule(succeeded=joined, update=_commission_consumer),
    "6.23": Rule(succeeded=credentials_replaced, update=_supplier_changed),
}


def _expected(srv: str, accepted: Accepted, wire: bytes) -> Expected | None:
    assert accepted.device is not None
    device = accepted.device.eui
    if srv == "6.23":
        command = wire if accepted.device.type is DeviceType.GSME else None
        return Expected(srv=srv, device=device, command=command, cs02b=_cs02b(wire))
    if srv == "8.1.1":
        return Expected(srv=srv, device=device)
    if srv == "8.11":
        return _device_log_expected(accepted.request.body, device)
    try:
        payload = decode_message(wire).payload
    except GbcsError:
        return None
    if not isinstance(payload, JoinCommand):
        return None
    return Expected(srv=srv, device=device, other=payload.partner_id)


def _cs02b(wire: bytes) -> Cs02b | None:
    """The 6.23's CS02b as sent (None: not one, then only an immediate answer is followed)."""
    try:
        message = decode_message(wire)
    except GbcsError:
        return None
    command = message.payload
    if not isinstance(command, UpdateSecurityCredentialsCommand):
        return None
    at = command.execution_time
    return Cs02b(
        originator=message.header.originator,
        counter=command.authorising_seq_number,
        execution=None if at is None else at.to_datetime(),
    )


def _device_log_expected(body: object, chf: bytes) -> Expected | None:
    node = body.node if isinstance(body, GenericBody) else None
    if node is None or node.name != "UpdateHANDeviceLog":
        return None
    device = _leaf(node, "DeviceID")
    kind = _leaf(node, "RequestType")
    if not isinstance(device, bytes) or kind not in ("Add", "Remove"):
        return None
    whitelist = node.child("AddDeviceToCHFWhitelist")
    mpxns = tuple(
        child.text.strip()
        for name in WHITELIST_MPXNS
        if whitelist is not None and (child := whitelist.child(name)) is not None
    )
    remove = kind == "Remove"
    return Expected(
        srv="8.11", device=chf, other=device, remove=remove, mpxns=() if remove else mpxns
    )


def _leaf(node: Node, name: str) -> object:
    found = node.child(name)
    return None if found is None else found.value


__all__ = [
    "CANCEL_AT",
    "CHANGE_OF_SUPPLIER_ALERT",
    "CONSUMER_TYPES",
    "CS02B_OUTCOME_ALERT",
    "RULES",
    "AlertSink",
    "Cs02b",
    "Expected",
    "GpfSink",
    "HeldCos",
    "Rule",
    "SmiUpdates",
]
