"""11.1 Update Firmware and 11.4 Update PPMID Firmware: the DCC takes an image and a device
list, keeps the devices it can distribute to, and records the request; the hub's
``FirmwareDistributor`` (``hub/firmware_distribution.py``) then sends the image once per comms hub
over the WAN and tells the user per device (DCC alerts N60/N61, DOMAIN.md §6); devices it cannot
take are answered in the warning lists of ``DSPUpdateFirmwareWarning``.

Per device, first match wins: not in the inventory, of a type the SR does not serve (11.1:
ESME, GSME, HCALCS; 11.4: PPMID) or not registered to the user -> InvalidDeviceIDList; not
Commissioned -> NotCommissionedDeviceIDList; already on that firmware version ->
NotApplicableFirmwareDeviceIDList; in a distribution not yet finished ->
OtherRequestInProgressList. (InvalidGBCSVersionList is never used: the inventory holds no GBCS
version per device.)

Our reading of the SR-specific codes: E110101/E110401 the image is not a ZigBee OTA upgrade
file (it must start with the OTA file identifier 1E F1 EE 0B, DOMAIN.md §6); E110102/E110402 no
device of the list can take the image; W110101/W110401 the request is taken for some devices,
the warning lists name the others. Taken for every device: I99 (nothing to return).
"""

from __future__ import annotations

from smetsnet.duis import Node
from smetsnet.duis.bodies import UpdateFirmware
from smetsnet.duis.header import parse_base64
from smetsnet.hub.nondevice_common import (
    DONE,
    Call,
    Refused,
    eui_list,
    eui_text,
    holder_role,
    need,
    tree,
)
from smetsnet.hub.nondevice_records import FirmwareRequest
from smetsnet.inventory import DeviceStatus, DeviceType

OTA_FILE_IDENTIFIER = bytes.fromhex("1EF1EE0B")
_SERVED = {
    "11.1": frozenset({DeviceType.ESME, DeviceType.GSME, DeviceType.HCALCS}),
    "11.4": frozenset({DeviceType.PPMID}),
}
_CODES = {"11.1": ("E110101", "E110102", "W110101"), "11.4": ("E110401", "E110402", "W110401")}
_WARNING_ELEMENT = {"11.1": "DSPUpdateFirmwareWarning", "11.4": "DSPUpdatePPMIDFirmwareWarning"}
# The warning lists in XSD order.
_LISTS = (
    "InvalidDeviceIDList",
    "NotCommissionedDeviceIDList",
    "NotApplicableFirmwareDeviceIDList",
    "OtherRequestInProgressList",
)


def update_firmware(call: Call) -> tuple[str, Node | None]:
    srv = call.accepted.sr.srv
    image, version, devices = _read(call)
    bad_image, none_taken, partly = _CODES[srv]
    if not image.startswith(OTA_FILE_IDENTIFIER):
        raise Refused(bad_image, "FirmwareImage is not a ZigBee OTA upgrade file (1E F1 EE 0B)")
    warned: dict[str, list[bytes]] = {name: [] for name in _LISTS}
    taken: list[bytes] = []
    for eui in dict.fromkeys(devices):  # a device listed twice is judged once
        verdict = _verdict(call, srv, eui, version)
        if verdict is None:
            taken.append(eui)
        else:
            warned[verdict].append(eui)
    if not taken:
        raise Refused(none_taken, f"no device of the list can take firmware {version}")
    call.records.firmware.append(
        FirmwareRequest(
            request_id=call.request_id,
            srv=srv,
            by=call.user,
            version=version,
            image=image,
            devices=tuple(taken),
            at=call.now,
        )
    )
    if not any(warned.values()):
        return DONE, None
    lists = (
        Node(name, text=",".join(eui_text(e) for e in euis)) if euis else None
        for name, euis in warned.items()
    )
    return partly, tree(_WARNING_ELEMENT[srv], *lists)


def _read(call: Call) -> tuple[bytes, str, tuple[bytes, ...]]:
    body = call.accepted.request.body
    if isinstance(body, UpdateFirmware):
        return body.firmware_image, body.firmware_version, body.device_ids
    node = call.body()
    image = parse_base64(need(node, "FirmwareImage"), "FirmwareImage")
    return (
        image,
        need(node, "FirmwareVersion"),
        eui_list(need(node, "DeviceIDList"), "DeviceIDList"),
    )


def _verdict(call: Call, srv: str, eui: bytes, version: str) -> str | None:
    """The warning list a device goes on, or None when it takes the image."""
    device = call.inventory.find_device(eui)
    if (
        device is None
        or device.type not in _SERVED[srv]
        or holder_role(call.inventory, call.accepted, device, call.now) is None
    ):
        return "InvalidDeviceIDList"
    if device.status is not DeviceStatus.Commissioned:
        return "NotCommissionedDeviceIDList"
    if call.records.details_of(eui).firmware_version == version:
        return "NotApplicableFirmwareDeviceIDList"
    if call.records.distributing(eui):
        return "OtherRequestInProgressList"
    return None
