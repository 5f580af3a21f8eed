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
  DCCAlertCode is :data:`CHANGE_OF_SUPPLIER_ALERT`. A future-dated 6.23 (answered without an
  outcome; the outcome comes later in the device's alert) sends nothing here.
  [inferred] On a GSME, the GPF of its comms hub follows: the hub sends it the same
  certificates (``cos_gpf``, through :data:`GpfSink`), whether or not a supplier lost the meter
  (the GPF must hold what its GSME holds).

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
    JoinCommand,
    JoinResponse,
    SetClockResponse,
    TimeStatus,
    UpdateSecurityCredentialsResponse,
)
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessResponse
from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.access import Accepted
from smetsnet.hub.audit import AuditEntry, AuditLog, Check, Outcome
from smetsnet.hub.replies import change_of_supplier
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
    outcomes = payload.outcome.outcomes
    return bool(outcomes) and all(o.status == 0 for o in outcomes)


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
    ) -> None:
        self.inventory = inventory
        self.audit = audit
        self.alert = alert  # None: DCC alerts are not sent (a hub without users' outbox)
        self.gpf = gpf  # None: a GSME's GPF is not updated after its 6.23
        self._expected: dict[MessageId, Expected] = {}

    def __len__(self) -> int:
        return len(self._expected)

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
        if not rule.succeeded(payload):
            what = f"{expected.srv}: the device answered a failure, the SMI is not changed"
            self.record(now, rid, Outcome.SKIP, what)
            return
        rule.update(self, expected, payload, now, request_id)

    def forget(self, request_id: MessageId) -> None:
        """The request failed (refused, or no answer): it changes nothing."""
        self._expected.pop(request_id, None)

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
        self.audit.append(
            AuditEntry(
                time=now,
                request_id=str(rid),
                user=rid.originator,
                check=Check.RECEIVED,
                outcome=outcome,
                reason=reason,
                detail=detail,
            )
        )


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
    smi: SmiUpdates, e: Expected, payload: Payload, now: datetime, rid: MessageId
) -> None:
    assert isinstance(payload, UpdateSecurityCredentialsResponse) and payload.outcome is not None
    device = smi.inventory.find_device(e.device)
    role = SUPPLIER_ROLE_OF.get(device.type) if device is not None else None
    if device is None or role is None or device.premises_id is None or smi.alert is None:
        return
    replaced = {
        o.existing_subject_unique_id
        for o in payload.outcome.outcomes
        if o.existing_subject_unique_id != o.replacing_subject_unique_id
    }
    holder = smi.inventory.who_holds(role, device.eui, now)
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
    _tell_losing_supplier(smi, e, payload, now, rid)
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
    if srv == "6.23" and accepted.device.type is DeviceType.GSME:
        return Expected(srv=srv, device=device, command=wire)
    if srv in ("8.1.1", "6.23"):
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
    "CHANGE_OF_SUPPLIER_ALERT",
    "CONSUMER_TYPES",
    "RULES",
    "AlertSink",
    "Expected",
    "GpfSink",
    "Rule",
    "SmiUpdates",
]
