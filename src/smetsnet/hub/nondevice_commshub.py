"""8.14 Communications Hub Status Update: install (with or without SM WAN), fault return and
no-fault return. A comms hub is one box with two devices, its CHF and its GPF (the GPF known
from the CHF's 12.2 pre-notification); both change status together.

* 8.14.1/8.14.2: the supplier registered for the MPxN installs the hub at that MPxN's premises
  (Pending -> InstalledNotCommissioned, lifecycle ``ch_install``); 8.14.2 records that the
  premises has no SM WAN coverage yet.
* 8.14.3: a fault found before installation withdraws the hub; after installation it is
  decommissioned. 8.14.4: a hub that never went live is withdrawn, a live one decommissioned.
  A returned hub leaves its premises, so a replacement can be installed there.

Our reading of the SR-specific codes: E081401 the Device ID is not a CHF; E081402 no GPF is
known for the CHF (it was not pre-notified with AssociatedGPFDeviceID); E081405 the MPxN is not
in the inventory; E081406 the premises has a comms hub already. Generic: E4 the user is not the
MPxN's (or the hub's) registered supplier, E5 the hub's status does not allow the change.
"""

from __future__ import annotations

from smetsnet.hub.nondevice_common import (
    DONE,
    STATUS_FORBIDS,
    Call,
    Refused,
    need,
    need_eui,
    text,
)
from smetsnet.hub.nondevice_records import CommsHubInstall, CommsHubReturn
from smetsnet.inventory import (
    Device,
    DeviceStatus,
    DeviceType,
    HanLogError,
    IllegalTransition,
    MeterKind,
    UserRole,
)
from smetsnet.inventory.lifecycle import event_of

S = DeviceStatus
_NOT_LIVE = frozenset({S.Pending, S.Whitelisted, S.InstalledNotCommissioned})


def install_sm_wan(call: Call) -> tuple[str, None]:
    return _install(call, sm_wan=True)


def install_no_sm_wan(call: Call) -> tuple[str, None]:
    return _install(call, sm_wan=False)


def fault_return(call: Call) -> tuple[str, None]:
    body = call.body()
    kind = need(body, "CHFFaultReturnType")
    before_install = "prior to installation" in kind
    return _return(call, fault=True, kind=kind, before_install=before_install)


def no_fault_return(call: Call) -> tuple[str, None]:
    return _return(call, fault=False, kind=need(call.body(), "CHFNoFaultReturnType"))


def _chf(call: Call) -> tuple[Device, Device]:
    chf = call.device(need_eui(call.body(), "DeviceID"))
    if chf.type is not DeviceType.CHF:
        raise Refused("E081401", f"{chf.label} is not a comms hub function")
    gpf = call.records.gpf_of.get(chf.eui)
    if gpf is None:
        raise Refused("E081402", f"no GPF is known for {chf.label} (12.2 names it)")
    return chf, call.device(gpf)


def _install(call: Call, *, sm_wan: bool) -> tuple[str, None]:
    body = call.body()
    chf, gpf = _chf(call)
    mpxn = need(body, "MPxN").strip()
    point = call.inventory.store.meter_point(mpxn)
    if point is None:
        raise Refused("E081405", f"no meter point {mpxn}")
    role = UserRole.GS if point.kind is MeterKind.MPRN else UserRole.IS
    registered = role in call.accepted.user.roles and any(
        r.user == call.user and r.covers(call.now)
        for r in call.inventory.registrations(point.mpxn, role)
    )
    if not registered:
        raise Refused("E4", f"the user is not {point.mpxn}'s {role.name} at {call.now}")
    if chf.status is not S.Pending:
        raise Refused(STATUS_FORBIDS, f"{chf.label} is {chf.status.name}, not Pending")
    try:
        call.inventory.install_comms_hub(point.premises_id, chf.eui, gpf.eui, at=call.now)
    except HanLogError as exc:
        raise Refused("E081406", str(exc)) from exc
    except IllegalTransition as exc:
        raise Refused(STATUS_FORBIDS, str(exc)) from exc
    call.records.installs[chf.eui] = CommsHubInstall(
        chf=chf.eui,
        gpf=gpf.eui,
        premises_id=point.premises_id,
        mpxn=point.mpxn,
        install_type=need(body, "CHFInstallType"),
        location=need(body, "CHFLocation"),
        aerial=need(body, "AerialInstall").strip() in ("true", "1"),
        sm_wan=sm_wan,
        by=call.user,
        at=call.now,
    )
    return DONE, None


def _return(
    call: Call, *, fault: bool, kind: str, before_install: bool | None = None
) -> tuple[str, None]:
    chf, gpf = _chf(call)
    if chf.premises_id is not None:
        call.acting_role(chf)
    elif not {r.name for r in call.accepted.user.roles} & {"IS", "GS"}:
        raise Refused("E4", f"{chf.label} is not installed; only a supplier returns it")
    if before_install is None:
        before_install = chf.status in _NOT_LIVE
    target = S.Withdrawn if before_install else S.Decommissioned
    try:
        for part in (chf, gpf):  # both or neither: check the GPF before the CHF changes
            event_of(part.eui, part.type, part.status, target)
        for part in (chf, gpf):
            call.inventory.change_status(part.eui, target, at=call.now)
    except IllegalTransition as exc:
        raise Refused(STATUS_FORBIDS, str(exc)) from exc
    _leave_premises(call, chf, gpf)
    call.records.returns.append(
        CommsHubReturn(
            chf=chf.eui,
            fault=fault,
            return_type=kind,
            reason=text(call.body(), "CHFFaultReason"),
            by=call.user,
            at=call.now,
        )
    )
    return DONE, None


def _leave_premises(call: Call, *parts: Device) -> None:
    """A returned hub is no longer at its premises (so a replacement can be installed).

    The inventory service has no call for this yet; its store's writer does it in one
    transaction, and the lookup cache is cleared so no stale placement is answered."""
    placed = [p for p in parts if p.premises_id is not None]
    if not placed:
        return
    with call.inventory.store.transaction() as tx:
        for part in placed:
            tx.set_placement(part.eui, None, False)
    if call.inventory.cache is not None:
        call.inventory.cache.clear()
