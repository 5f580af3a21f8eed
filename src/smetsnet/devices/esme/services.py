"""The ESME's ASN.1 services: join/unjoin (CS03A1, CS04AC) and firmware (image receipt, CS06).

Join and unjoin keep the ESME's device log of (partner EUI, device type) (GBCS-PAYLOADS §3 codes:
join 3 incompatible entry, 4 log full; unjoin 1 not in log). Firmware (DOMAIN.md §6): the upgrade
image is manufacturer image ‖ force-replace byte ‖ 0x40 ‖ 64-byte supplier ECDSA signature over
the manufacturer image; the manufacturer image is a ZigBee OTA file (magic 1E F1 EE 0B) whose file
version (header bytes 14-17) is the firmware version. CS06 carries SHA-256 of the manufacturer
image: activation runs only on a match (codes 1 no image, 2 hash mismatch).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from smetsnet.devices.esme.state import EsmeState
from smetsnet.gbcs.asn1 import (
    ActivationOutcome,
    JoinCommand,
    JoinMethod,
    JoinResponse,
    UnjoinCommand,
    UnjoinResponse,
)

OTA_MAGIC = b"\x1e\xf1\xee\x0b"
SIGNATURE_MARK = 0x40
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


@dataclass(frozen=True, slots=True, kw_only=True)
class UpgradeImage:
    """An upgrade image split into its parts (not yet verified)."""

    manufacturer_image: bytes
    force_replace: int
    signature: bytes

    @property
    def version(self) -> bytes:
        return self.manufacturer_image[14:18]

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.manufacturer_image).digest()


def split_image(image: bytes) -> UpgradeImage | None:
    """The parts of an upgrade image; None when its structure is wrong."""
    if len(image) < 18 + 66 or not image.startswith(OTA_MAGIC) or image[-65] != SIGNATURE_MARK:
        return None
    return UpgradeImage(
        manufacturer_image=image[:-66], force_replace=image[-66], signature=image[-64:]
    )


def make_image(manufacturer_image: bytes, signature: bytes, *, force_replace: int = 0) -> bytes:
    """Assemble an upgrade image (tests and tools; the signer signs ``manufacturer_image``)."""
    return manufacturer_image + bytes([force_replace, SIGNATURE_MARK]) + signature


def activate(state: EsmeState, image_hash: bytes) -> ActivationOutcome:
    """Run the held image if its hash matches; the outcome carries the running version."""
    if state.firmware_image is None:
        return ActivationOutcome(code=NO_IMAGE, firmware_version=state.firmware)
    image = split_image(state.firmware_image)
    if image is None or image.hash != image_hash:
        return ActivationOutcome(code=HASH_MISMATCH, firmware_version=state.firmware)
    state.firmware = image.version
    return ActivationOutcome(code=0, firmware_version=state.firmware)
