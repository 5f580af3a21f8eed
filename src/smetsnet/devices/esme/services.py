"""The ESME's ASN.1 services: join/unjoin (CS03A1, CS04AC) and firmware (image receipt, CS06).

Join and unjoin keep the ESME's device log of (partner EUI, device type) (GBCS-PAYLOADS §3 codes:
join 3 incompatible entry, 4 log full; unjoin 1 not in log). Firmware (DOMAIN.md §6): the upgrade
image, parsed and checked in :mod:`smetsnet.devices.core.firmware`, is manufacturer image ‖
force-replace byte ‖ 0x40 ‖ 64-byte supplier ECDSA signature over the manufacturer image; the
manufacturer image is a ZigBee OTA file (magic 1E F1 EE 0B) whose file version (header bytes
14-17) is the firmware version. CS06 carries SHA-256 of the manufacturer image: activation runs
only on a match (codes 1 no image, 2 hash mismatch).
"""

from __future__ import annotations

from smetsnet.devices.core.firmware import split_image
from smetsnet.devices.esme.state import EsmeState
from smetsnet.gbcs.asn1 import (
    ActivationOutcome,
    JoinCommand,
    JoinMethod,
    JoinResponse,
    UnjoinCommand,
    UnjoinResponse,
)

#: Entries an ESME's device log holds [inferred: GBCS leaves the size to the device].
DEVICE_LOG_CAPACITY = 5
NO_IMAGE, HASH_MISMATCH = 1, 2


def join(state: EsmeState, command: JoinCommand) -> JoinResponse:
    if command.method != JoinMethod.METHOD_A_INITIATOR:
        return JoinResponse(code=2)  # invalid join method and role for CS03A1
    for eui, kind in state.device_log:
        if eui == command.partner_id:
            return JoinResponse(code=0 if kind == command.partner_type else 3)
    if len(state.device_log) >= DEVICE_LOG_CAPACITY:
        return JoinResponse(code=4)
    state.device_log.append((command.partner_id, command.partner_type))
    return JoinResponse(code=0)


def unjoin(state: EsmeState, command: UnjoinCommand) -> UnjoinResponse:
    keep = [e for e in state.device_log if e[0] != command.partner_id]
    if len(keep) == len(state.device_log):
        return UnjoinResponse(code=1)
    state.device_log[:] = keep
    return UnjoinResponse(code=0)


def activate(state: EsmeState, image_hash: bytes) -> ActivationOutcome:
    """Run the held image if its hash matches; the outcome carries the running version."""
    if state.firmware_image is None:
        return ActivationOutcome(code=NO_IMAGE, firmware_version=state.firmware)
    image = split_image(state.firmware_image)
    if image is None or image.hash != image_hash:
        return ActivationOutcome(code=HASH_MISMATCH, firmware_version=state.firmware)
    state.firmware = image.version
    return ActivationOutcome(code=0, firmware_version=state.firmware)
