"""The Smart Metering Inventory SRs: 8.2 Read Inventory, 8.3 Decommission Device, 8.4 Update
Inventory and 12.2 Device Pre-notification.

Our reading of the SR-specific codes (DUIS's texts were not available, see nondevice_common):

* E080201 nothing in the inventory matches the MPxN, UPRN or address asked for;
  E080202 more devices match than one DSPInventory carries (17, XSD ``maxOccurs``).
* E080301 the device is a comms hub function, which leaves the inventory by 8.14.3/8.14.4.
* E080405 UpdateDeviceStatusCH names a device that is no CHF/GPF; E080406 the reverse for
  UpdateDeviceStatusExceptCH; E080407 a detail that does not fit the device type (ESMEVariant
  on a non-ESME); E080408 UpdateMPxN names an MPxN the DCC does not know; E080409 an MPxN of
  the wrong kind for the device (an MPRN on an ESME, an export MPAN on a GSME); E080410 the
  MPxN is at another premises than the device.
* E120201 the CHF and its GPF have the same Device ID (DCC's own, SEC DP316); E120203 the
  device is in the inventory already (and not Withdrawn); E120204 the type-specific fields do
  not fit the device type (a CHF without its GPF, a GPF on its own, a GPF or ESMEVariant on
  another type); E120207 the CHF's GPF is in the inventory already.

8.2 shows every device's technical data to any user (the SR is open to all roles, including
prospective suppliers), but its MPxNs and address only to a user registered for a meter point
at its premises now or in future, or who pre-notified it.
"""

from __future__ import annotations

from smetsnet.duis import Node
from smetsnet.duis.bodies import DevicePrenotification
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_eui, parse_int
from smetsnet.hub.nondevice_common import (
    DONE,
    STATUS_FORBIDS,
    SUCCESS,
    Call,
    Refused,
    eui_text,
    leaf,
    need_eui,
    optional,
    tree,
)
from smetsnet.hub.nondevice_records import DeviceDetails
from smetsnet.inventory import (
    Device,
    DeviceStatus,
    DeviceType,
    HanLogError,
    IllegalTransition,
    MeterKind,
    Region,
)
from smetsnet.inventory.lifecycle import event_of
from smetsnet.inventory.model import HUB_TYPES

MAX_INVENTORY_DEVICES = 17  # XSD DSPInventory/Device maxOccurs

# GB distribution regions by CSP region [I: North = Scotland and the north of England
# (Arqiva); Central and South = Telefónica's two regions].
CSP_REGION: dict[Region, str] = {
    **dict.fromkeys(
        (
            Region.NORTH_SCOTLAND, Region.SOUTH_SCOTLAND, Region.NORTHERN,
            Region.NORTH_WESTERN, Region.YORKSHIRE,
        ),
        "North",
    ),
    **dict.fromkeys(
        (
            Region.MIDLANDS, Region.EAST_MIDLANDS, Region.EASTERN,
            Region.MERSEYSIDE_NORTH_WALES, Region.SOUTH_WALES,
        ),
        "Central",
    ),
    **dict.fromkeys(
        (Region.LONDON, Region.SOUTH_EASTERN, Region.SOUTHERN, Region.SOUTH_WESTERN), "South"
    ),
}  # fmt: skip


# --- 8.2 Read Inventory ------------------------------------------------------------------------


def read_inventory(call: Call) -> tuple[str, Node]:
    body = call.body()
    if len(body.children) != 1:
        raise DuisSchemaError("ReadInventory: one of UPRN, DeviceID, MPxN, PropertyFilter")
    choice = body.children[0]
    if choice.name == "DeviceID":
        devices = [call.device(parse_eui(choice.text.strip(), "DeviceID"))]
    else:
        devices = _devices_at(call, _premises_searched(call, choice))
    if len(devices) > MAX_INVENTORY_DEVICES:
        raise Refused("E080202", f"{len(devices)} devices match; a DSPInventory holds 17")
    return SUCCESS, tree("DSPInventory", *(_device_node(call, d) for d in devices))


def _premises_searched(call: Call, choice: Node) -> list[int]:
    store, records = call.inventory.store, call.records
    if choice.name == "MPxN":
        point = store.meter_point(choice.text.strip())
        found = [] if point is None else [point.premises_id]
    elif choice.name == "UPRN":
        premises = records.premises_with_uprn(parse_int(choice.text, "UPRN", 1, 10**12 - 1))
        found = [] if premises is None else [premises]
    elif choice.name == "PropertyFilter":
        postcode, ident = choice.child("PostCode"), choice.child("AddressIdentifier")
        if postcode is None or ident is None:
            raise DuisSchemaError("PropertyFilter: PostCode and AddressIdentifier expected")
        found = records.premises_at(postcode.text, ident.text)
    else:
        raise DuisSchemaError(f"ReadInventory: unexpected {choice.name}")
    if not found:
        raise Refused("E080201", f"no premises in the inventory matches {choice.name}")
    return found


def _devices_at(call: Call, premises: list[int]) -> list[Device]:
    devices = [d for p in premises for d in call.inventory.store.devices_at(p)]
    if not devices:
        raise Refused("E080201", "no device is installed at the premises asked for")
    return sorted(devices, key=lambda d: (d.premises_id, d.type, d.eui))


def _device_node(call: Call, device: Device) -> Node:
    details = call.records.details_of(device.eui)
    visible = _related(call, device)
    mpxns = _mpxns(call, device) if visible else {}
    address = (
        call.records.addresses.get(device.premises_id)
        if visible and device.premises_id is not None
        else None
    )
    commissioned = device.status is DeviceStatus.Commissioned
    return tree(
        "Device",
        leaf("DeviceID", eui_text(device.eui)),
        leaf("DeviceType", device.type.name),
        leaf("DeviceStatus", device.status.name),
        leaf("DeviceManufacturer", details.manufacturer),
        leaf("DeviceModel", details.model),
        optional("SMETSCHTSVersion", details.smets_chts_version),
        optional("DeviceFirmwareVersion", details.firmware_version),
        optional("DateCommissioned", device.status_at.date().isoformat() if commissioned else None),
        optional("ImportMPxN", mpxns.get("ImportMPxN")),
        optional("SecondaryImportMPAN", mpxns.get("SecondaryImportMPAN")),
        optional("ExportMPAN", mpxns.get("ExportMPAN")),
        optional("ESMEVariant", details.esme_variant),
        optional("UPRN", None if address is None or address.uprn is None else str(address.uprn)),
        None
        if address is None
        else tree(
            "PropertyFilter",
            leaf("PostCode", address.postcode),
            leaf("AddressIdentifier", address.address_identifier),
        ),
        optional("CSPRegion", _csp_region(call, device)),
    )


def _csp_region(call: Call, device: Device) -> str | None:
    if device.premises_id is None:
        return None
    return CSP_REGION[call.inventory.premises(device.premises_id).region]


def _mpxns(call: Call, device: Device) -> dict[str, str]:
    """The MPxNs the device measures, by the DSPInventory element that carries each."""
    out: dict[str, str] = {}
    if device.premises_id is None:
        return out
    for point in sorted(
        call.inventory.store.meter_points_at(device.premises_id), key=lambda p: p.mpxn
    ):
        if point.device_eui != device.eui:
            continue
        if point.kind is MeterKind.EXPORT_MPAN:
            out.setdefault("ExportMPAN", point.mpxn)
        elif "ImportMPxN" in out:
            out.setdefault("SecondaryImportMPAN", point.mpxn)
        else:
            out["ImportMPxN"] = point.mpxn
    return out


def _related(call: Call, device: Device) -> bool:
    """Is the user registered (now or from a future date) for an MPxN at the device's
    premises, or did it pre-notify the device?"""
    if call.records.details_of(device.eui).notified_by == call.user:
        return True
    if device.premises_id is None:
        return False
    for point in call.inventory.store.meter_points_at(device.premises_id):
        for role in call.accepted.user.roles:
            for reg in call.inventory.registrations(point.mpxn, role):
                if reg.user == call.user and (reg.covers(call.now) or reg.valid_from > call.now):
                    return True
    return False


# --- 8.3 Decommission Device -------------------------------------------------------------------


def decommission_device(call: Call) -> tuple[str, None]:
    device = call.device(need_eui(call.body(), "DeviceID"))
    if device.type in HUB_TYPES:
        raise Refused("E080301", f"{device.label} leaves the inventory by 8.14.3/8.14.4")
    call.acting_role(device)
    _change(call, device, DeviceStatus.Decommissioned)
    for schedule in call.schedules.on_device(device.eui):
        call.records.schedule_removals.append(call.schedules.remove(schedule.id))
    return DONE, None


def _change(call: Call, device: Device, target: DeviceStatus) -> None:
    try:
        call.inventory.change_status(device.eui, target, at=call.now)
    except IllegalTransition as exc:
        raise Refused(STATUS_FORBIDS, str(exc)) from exc


# --- 8.4 Update Inventory ----------------------------------------------------------------------


def update_inventory(call: Call) -> tuple[str, None]:
    body = call.body()
    device = call.device(need_eui(body, "DeviceID"))
    _may_update(call, device)
    if len(body.children) != 2:
        raise DuisSchemaError("UpdateInventory: DeviceID and one update expected")
    update = body.children[1]
    if update.name == "UpdateDeviceStatusExceptCH":
        if device.type in HUB_TYPES:
            raise Refused("E080406", f"{device.label}: a comms hub takes UpdateDeviceStatusCH")
        _change(call, device, DeviceStatus[update.text.strip()])
    elif update.name == "UpdateDeviceStatusCH":
        if device.type not in HUB_TYPES:
            raise Refused("E080405", f"{device.label} is not part of a comms hub")
        target = DeviceStatus[update.text.strip()]
        parts = _hub_parts(call, device)
        try:  # both parts or neither: check all before the first changes
            for part in parts:
                event_of(part.eui, part.type, part.status, target)
        except IllegalTransition as exc:
            raise Refused(STATUS_FORBIDS, str(exc)) from exc
        for part in parts:
            _change(call, part, target)
    elif update.name == "UpdateDeviceDetails":
        _update_details(call, device, update)
    elif update.name == "DeleteDevice":
        # The lifecycle table's reading of DUIS: 8.4 takes a device that never went live out
        # of use (Withdrawn); a later 12.2 may notify it again.
        _change(call, device, DeviceStatus.Withdrawn)
    elif update.name == "UpdateMPxN":
        _update_mpxn(call, device, update)
    else:
        raise DuisSchemaError(f"UpdateInventory: unexpected {update.name}")
    return DONE, None


def _may_update(call: Call, device: Device) -> None:
    """A device at a premises: the user must be registered for it. A device not installed
    yet: the user who pre-notified it (any supplier when that is not known)."""
    if device.premises_id is not None:
        call.acting_role(device)
        return
    notifier = call.records.details_of(device.eui).notified_by
    suppliers = {"IS", "ES", "GS"}
    allowed = (
        notifier == call.user
        if notifier is not None
        else any(r.name in suppliers for r in call.accepted.user.roles)
    )
    if not allowed:
        raise Refused("E4", f"{device.label} was pre-notified by another user")


def _hub_parts(call: Call, device: Device) -> list[Device]:
    """A CHF and its GPF change status together (one physical comms hub)."""
    chf = device.eui
    if device.type is DeviceType.GPF:
        chf = next((c for c, g in call.records.gpf_of.items() if g == device.eui), device.eui)
    parts = [call.device(chf)] if chf != device.eui else [device]
    gpf = call.records.gpf_of.get(chf)
    if gpf is not None and gpf != device.eui:
        found = call.inventory.find_device(gpf)
        if found is not None:
            parts.append(found)
    if device not in parts:
        parts.append(device)
    return parts


def _update_details(call: Call, device: Device, update: Node) -> None:
    old = call.records.details_of(device.eui)
    values = {c.name: c.text for c in update.children}
    variant = values.get("ESMEVariant")
    if variant is not None and device.type is not DeviceType.ESME:
        raise Refused("E080407", f"{device.label}: ESMEVariant applies to an ESME only")
    call.records.details[device.eui] = DeviceDetails(
        manufacturer=values.get("DeviceManufacturer", old.manufacturer),
        model=values.get("DeviceModel", old.model),
        smets_chts_version=values.get("SMETSCHTSVersion", old.smets_chts_version),
        firmware_version=values.get("FirmwareVersion", old.firmware_version),
        esme_variant=variant if variant is not None else old.esme_variant,
        notified_by=old.notified_by,
    )


# Which MPxN kinds each UpdateMPxN element may name, per meter type.
_MPXN_KINDS: dict[tuple[DeviceType, str], MeterKind] = {
    (DeviceType.ESME, "ImportMPxN"): MeterKind.IMPORT_MPAN,
    (DeviceType.ESME, "SecondaryImportMPAN"): MeterKind.IMPORT_MPAN,
    (DeviceType.ESME, "ExportMPAN"): MeterKind.EXPORT_MPAN,
    (DeviceType.GSME, "ImportMPxN"): MeterKind.MPRN,
}


def _update_mpxn(call: Call, device: Device, update: Node) -> None:
    if len(update.children) != 1:
        raise DuisSchemaError("UpdateMPxN: one of ImportMPxN, SecondaryImportMPAN, ExportMPAN")
    item = update.children[0]
    point = call.inventory.store.meter_point(item.text.strip())
    if point is None:
        raise Refused("E080408", f"no meter point {item.text.strip()}")
    wanted = _MPXN_KINDS.get((device.type, item.name))
    if wanted is not point.kind:
        raise Refused("E080409", f"{item.name} {point.mpxn} ({point.kind.name}) on {device.label}")
    try:
        call.inventory.link_meter(point.mpxn, device.eui)
    except HanLogError as exc:
        raise Refused("E080410", str(exc)) from exc


# --- 12.2 Device Pre-notification --------------------------------------------------------------


def prenotify_device(call: Call) -> tuple[str, None]:
    body = call.accepted.request.body
    if not isinstance(body, DevicePrenotification):
        raise DuisSchemaError("12.2: DevicePrenotification expected")
    try:
        kind = DeviceType[body.device_type.strip()]
    except KeyError:
        raise DuisSchemaError(
            f"DeviceType: {body.device_type!r} is not a DUIS device type"
        ) from None
    gpf = body.associated_gpf_device_id
    if gpf is not None and gpf == body.device_id:
        raise Refused("E120201", f"CHF and GPF share the Device ID {eui_text(gpf)}")
    _check_type_fields(body, kind)
    _notifiable(call, body.device_id, kind, "E120203")
    if gpf is not None:
        _notifiable(call, gpf, DeviceType.GPF, "E120207")
    details = DeviceDetails(
        manufacturer=body.device_manufacturer,
        model=body.device_model,
        smets_chts_version=body.smets_chts_version,
        firmware_version=body.firmware_version,
        esme_variant=body.esme_variant,
        notified_by=call.user,
    )
    _enter(call, body.device_id, kind, details)
    if gpf is not None:
        _enter(call, gpf, DeviceType.GPF, details)
        call.records.gpf_of[body.device_id] = gpf
    return DONE, None


def _check_type_fields(body: DevicePrenotification, kind: DeviceType) -> None:
    gpf = body.associated_gpf_device_id
    if kind is DeviceType.GPF:
        raise Refused("E120204", "a GPF is pre-notified with its CHF (AssociatedGPFDeviceID)")
    if kind is DeviceType.CHF and gpf is None:
        raise Refused("E120204", "a CHF needs its AssociatedGPFDeviceID")
    if kind is not DeviceType.CHF and gpf is not None:
        raise Refused("E120204", f"AssociatedGPFDeviceID applies to a CHF, not an {kind.name}")
    if body.esme_variant is not None and kind is not DeviceType.ESME:
        raise Refused("E120204", f"ESMEVariant applies to an ESME, not a {kind.name}")


def _notifiable(call: Call, eui: bytes, kind: DeviceType, code: str) -> None:
    found = call.inventory.find_device(eui)
    if found is None:
        return
    if found.status is not DeviceStatus.Withdrawn or found.type is not kind:
        raise Refused(code, f"{found.label} is in the inventory already ({found.status.name})")


def _enter(call: Call, eui: bytes, kind: DeviceType, details: DeviceDetails) -> None:
    """Add the device as Pending, or bring a Withdrawn one back to Pending (lifecycle)."""
    if call.inventory.find_device(eui) is None:
        call.inventory.add_device(eui, kind, at=call.now)
    else:
        call.inventory.apply(eui, "pre_notify", at=call.now)
    call.records.details[eui] = details
