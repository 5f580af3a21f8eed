"""Firmware upgrade images as every simulated device takes them (DOMAIN.md §6).

An upgrade image is manufacturer image ‖ force-replace byte ‖ 0x40 ‖ 64-byte supplier ECDSA
signature over the manufacturer image; the manufacturer image is a ZigBee OTA file (magic
1E F1 EE 0B) whose file version (header bytes 14-17) is the firmware version, and whose SHA-256
is the image hash that receipt alerts carry and CS06 activates. A device checks the structure
and the signature of its supplier (its trust anchor for digital signing); ESME, GSME and PPMID
all use :func:`check_image`.

The OTA header may carry the hardware versions the image is for (field control bit 2; ZigBee OTA
header layout, little-endian, as :func:`smetsnet.sim.ops_firmware.manufacturer_image` writes
it): :func:`fits_hardware` tells whether a device of a given hardware version may take it. Our
simulated devices are all hardware version :data:`HARDWARE_VERSION` [inferred: none given].

:class:`Transfer` is what became of an image handed to one device over the HAN, coded as the
CCS08 firmware transfer alert codes (GBCS-PAYLOADS §1: 0 ok, 1 discarded, 2 hardware mismatch,
3 transfer failure; ``smetsnet.gbcs.asn1.firmware.TRANSFER_NAMES``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from smetsnet.devices.core.keys import Role, TrustAnchors
from smetsnet.gbcs import crypto
from smetsnet.gbcs.keystore import KeyUsage

OTA_MAGIC: Final = b"\x1e\xf1\xee\x0b"
SIGNATURE_MARK: Final = 0x40
SIGNATURE_BYTES: Final = 64
#: Receipt alert codes (DOMAIN.md §6): image verified / verification failed; running version
#: changed.
RECEIPT_VERIFIED: Final = 0x8F72
RECEIPT_FAILED: Final = 0x8F1C
VERSION_CHANGED: Final = 0x8F43
#: The hardware version of every simulated device [inferred].
HARDWARE_VERSION: Final = 1
_VERSION = slice(14, 18)
_OTA_HEADER_BYTES = 56  # up to and including the total image size
_FIELD_CONTROL = slice(8, 10)
_SECURITY_CREDENTIAL, _DESTINATION, _HARDWARE_VERSIONS = 0x01, 0x02, 0x04


class Transfer(IntEnum):
    """An image handed to one device over the HAN (the CCS08 transfer codes)."""

    SUCCESS = 0
    DISCARDED = 1
    HARDWARE_MISMATCH = 2
    FAILURE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class UpgradeImage:
    """An upgrade image split into its parts (not yet verified)."""

    manufacturer_image: bytes
    force_replace: int
    signature: bytes

    @property
    def version(self) -> bytes:
        """The OTA file version: the firmware version the image brings."""
        return self.manufacturer_image[_VERSION]

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.manufacturer_image).digest()


def split_image(image: bytes) -> UpgradeImage | None:
    """The parts of an upgrade image; None when its structure is wrong."""
    tail = 2 + SIGNATURE_BYTES
    if (
        len(image) < _VERSION.stop + tail
        or not image.startswith(OTA_MAGIC)
        or image[-SIGNATURE_BYTES - 1] != SIGNATURE_MARK
    ):
        return None
    return UpgradeImage(
        manufacturer_image=image[:-tail],
        force_replace=image[-tail],
        signature=image[-SIGNATURE_BYTES:],
    )


def make_image(manufacturer_image: bytes, signature: bytes, *, force_replace: int = 0) -> bytes:
    """Assemble an upgrade image (tests and tools; the signer signs ``manufacturer_image``)."""
    return manufacturer_image + bytes([force_replace, SIGNATURE_MARK]) + signature


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageCheck:
    """What a device made of an upgrade image: its parts (None: malformed), the hash it reports
    (of the manufacturer image, or of the whole image when malformed) and whether the supplier's
    signature verified."""

    parts: UpgradeImage | None
    digest: bytes
    verified: bool

    @property
    def receipt_code(self) -> int:
        """The receipt alert code: 0x8F72 verified, 0x8F1C verification failed."""
        return RECEIPT_VERIFIED if self.verified else RECEIPT_FAILED


def check_image(image: bytes, anchors: TrustAnchors) -> ImageCheck:
    """Check an upgrade image's structure and its supplier's signature over the manufacturer
    image against the device's supplier digital-signing anchor (none: not verified)."""
    parts = split_image(image)
    anchor = anchors.point(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE)
    verified = (
        parts is not None
        and anchor is not None
        and crypto.ecdsa_verify(
            crypto.public_key_from_point(anchor), parts.signature, parts.manufacturer_image
        )
    )
    digest = parts.hash if parts is not None else hashlib.sha256(image).digest()
    return ImageCheck(parts=parts, digest=digest, verified=verified)


def hardware_range(manufacturer_image: bytes) -> tuple[int, int] | None:
    """The (minimum, maximum) hardware version an OTA file names, None when it names none (or
    its header is too short to say)."""
    if len(manufacturer_image) < _OTA_HEADER_BYTES:
        return None
    control = int.from_bytes(manufacturer_image[_FIELD_CONTROL], "little")
    if not control & _HARDWARE_VERSIONS:
        return None
    at = _OTA_HEADER_BYTES
    at += 1 if control & _SECURITY_CREDENTIAL else 0
    at += 8 if control & _DESTINATION else 0
    if len(manufacturer_image) < at + 4:
        return None
    low = int.from_bytes(manufacturer_image[at : at + 2], "little")
    return low, int.from_bytes(manufacturer_image[at + 2 : at + 4], "little")


def fits_hardware(image: bytes, hardware_version: int = HARDWARE_VERSION) -> bool:
    """Whether a device of ``hardware_version`` may take ``image`` (an upgrade image, or bytes
    that are not one: those the device itself refuses, 0x8F1C)."""
    parts = split_image(image)
    bounds = hardware_range(parts.manufacturer_image) if parts is not None else None
    return bounds is None or bounds[0] <= hardware_version <= bounds[1]


__all__ = [
    "HARDWARE_VERSION",
    "OTA_MAGIC",
    "RECEIPT_FAILED",
    "RECEIPT_VERIFIED",
    "VERSION_CHANGED",
    "ImageCheck",
    "Transfer",
    "UpgradeImage",
    "check_image",
    "fits_hardware",
    "hardware_range",
    "make_image",
    "split_image",
]
