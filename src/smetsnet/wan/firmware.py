"""Firmware blocks on the WAN: how the DCC carries an 11.1/11.4 image to a comms hub.

DUIS says only that the DCC distributes an image "efficiently" (once per comms hub, not a copy per
meter; DOMAIN.md §6); the CSP's block protocol is not public. Ours [inferred]: the image goes in
blocks of :data:`BLOCK_BYTES`, stop-and-wait, each block acknowledged by the comms hub; the last
block's acknowledgement carries, per target device, what the comms hub made of handing the
whole image over (the XSD's ``TransferResponseCode`` values). Blocks and acknowledgements are
ordinary WAN messages (each leg has its link's latency and loss), told apart from GBCS frames by
:data:`MAGIC`, which no GBCS frame starts with (those start 0xDD, 0xDF or 0xD9...).

Wire form (ours, big-endian)::

    block: MAGIC | 0x01 | transfer u32 | index u16 | count u16 | n u8 | n x target EUI | data
    ack:   MAGIC | 0x02 | transfer u32 | index u16 | count u16 | n u8 | n x (EUI | status u8)

No checksum: the WAN's own link layer is trusted for content, and the image's integrity is the
supplier's signature, which the device checks (a corruption the WAN missed ends there, 0x8F1C).

:class:`FirmwareReceiver` is the comms hub's side: it keeps the blocks of each transfer,
acknowledges every block (again, when one is re-sent), and hands the image over exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from smetsnet.wan.errors import WanError

#: Our firmware block size in bytes [inferred: the DCC publishes none].
BLOCK_BYTES = 512
#: The first bytes of every firmware block or acknowledgement ("SNFW", ours).
MAGIC = b"SNFW"
_BLOCK, _ACK = 0x01, 0x02
_EUI = 8
_HEAD = len(MAGIC) + 1 + 4 + 2 + 2 + 1


class TransferStatus(Enum):
    """What became of the image for one target device (XSD ``TransferResponseCode``); its
    :attr:`code` is the GBCS CCS08 transfer code (0 ok, 1 discarded, 2 hardware mismatch,
    3 transfer failure: ``smetsnet.gbcs.asn1.firmware.TRANSFER_NAMES``), also its status byte
    in an acknowledgement."""

    SUCCESS = "FileTransferSuccess"
    DISCARDED = "FirmwareImageDiscarded"
    HARDWARE_MISMATCH = "HardwareVersionMismatch"
    FAILURE = "FileTransferFailure"

    @property
    def code(self) -> int:
        return _STATUS_CODES[self]

    @classmethod
    def from_code(cls, code: int) -> TransferStatus:
        """The status of a CCS08 transfer code; :class:`WanError` for an unknown one."""
        if not 0 <= code < len(_STATUSES):
            raise WanError(f"unknown transfer status {code} (CCS08 codes 0-3)")
        return _STATUSES[code]


_STATUSES = list(TransferStatus)  # in CCS08 code order
_STATUS_CODES = {status: i for i, status in enumerate(_STATUSES)}


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareBlock:
    """Block ``index`` of ``count`` of transfer ``transfer``, for ``targets`` behind the hub."""

    transfer: int
    index: int
    count: int
    targets: tuple[bytes, ...]
    data: bytes = field(repr=False)

    def encode(self) -> bytes:
        return _head(_BLOCK, self.transfer, self.index, self.count, len(self.targets)) + (
            b"".join(_eui(t) for t in self.targets) + self.data
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareAck:
    """The comms hub has block ``index``; on the last block, each target's outcome."""

    transfer: int
    index: int
    count: int
    results: tuple[tuple[bytes, TransferStatus], ...] = ()

    @property
    def final(self) -> bool:
        return self.index == self.count - 1

    def encode(self) -> bytes:
        return _head(_ACK, self.transfer, self.index, self.count, len(self.results)) + b"".join(
            _eui(eui) + bytes([status.code]) for eui, status in self.results
        )


def is_firmware(wire: bytes) -> bool:
    """Whether ``wire`` is a firmware block or acknowledgement (not a GBCS message)."""
    return wire.startswith(MAGIC)


def decode(wire: bytes) -> FirmwareBlock | FirmwareAck:
    """A block or acknowledgement; :class:`WanError` naming what is wrong otherwise."""
    if len(wire) < _HEAD or not is_firmware(wire):
        raise WanError(f"firmware message: {len(wire)} bytes without the {MAGIC!r} header")
    kind = wire[len(MAGIC)]
    at = len(MAGIC) + 1
    transfer = int.from_bytes(wire[at : at + 4], "big")
    index = int.from_bytes(wire[at + 4 : at + 6], "big")
    count = int.from_bytes(wire[at + 6 : at + 8], "big")
    n = wire[at + 8]
    if not index < count:
        raise WanError(f"firmware message: block {index} of {count}")
    body = wire[_HEAD:]
    if kind == _BLOCK:
        if len(body) < n * _EUI:
            raise WanError(f"firmware block: {n} targets announced, {len(body)} bytes follow")
        targets = tuple(body[i * _EUI : (i + 1) * _EUI] for i in range(n))
        return FirmwareBlock(
            transfer=transfer, index=index, count=count, targets=targets, data=body[n * _EUI :]
        )
    if kind == _ACK:
        if len(body) != n * (_EUI + 1):
            raise WanError(f"firmware ack: {n} results announced, {len(body)} bytes follow")
        results = []
        for i in range(n):
            item = body[i * (_EUI + 1) : (i + 1) * (_EUI + 1)]
            results.append((item[:_EUI], TransferStatus.from_code(item[_EUI])))
        return FirmwareAck(transfer=transfer, index=index, count=count, results=tuple(results))
    raise WanError(f"firmware message: unknown kind 0x{kind:02X}")


def split_blocks(image: bytes, block_bytes: int = BLOCK_BYTES) -> list[bytes]:
    """``image`` cut into blocks of ``block_bytes`` (the last one shorter)."""
    if block_bytes < 1:
        raise WanError(f"firmware block size must be at least 1 byte, not {block_bytes}")
    if not image:
        raise WanError("firmware image is empty: nothing to distribute")
    count = math.ceil(len(image) / block_bytes)
    if count > 0xFFFF:
        raise WanError(f"firmware image of {len(image)} bytes needs {count} blocks (max 65535)")
    return [image[i * block_bytes : (i + 1) * block_bytes] for i in range(count)]


#: The premises' hand-over of a whole image: ``(image, targets, now) -> (outcome per target,
#: messages the devices send back, e.g. their receipt alerts)``.
HandOver = Callable[
    [bytes, tuple[bytes, ...], datetime], tuple[Mapping[bytes, TransferStatus], list[bytes]]
]


@dataclass(slots=True)
class _Partial:
    count: int
    blocks: dict[int, bytes] = field(default_factory=dict)
    results: tuple[tuple[bytes, TransferStatus], ...] | None = None  # set once handed over


class FirmwareReceiver:
    """The comms hub's side of a transfer (module docstring). A transfer's blocks survive a
    failed attempt (the hub resumes from the first block not acknowledged)."""

    __slots__ = ("_hand_over", "_transfers")

    def __init__(self, hand_over: HandOver) -> None:
        self._hand_over = hand_over
        self._transfers: dict[int, _Partial] = {}

    def receive(self, block: FirmwareBlock, now: datetime) -> list[bytes]:
        """The acknowledgement of ``block`` (and, when it completes the image, what the
        devices sent on taking it)."""
        partial = self._transfers.setdefault(block.transfer, _Partial(count=block.count))
        if partial.count != block.count:
            raise WanError(
                f"firmware transfer {block.transfer}: block of {block.count}, "
                f"expected {partial.count}"
            )
        partial.blocks.setdefault(block.index, block.data)
        out: list[bytes] = []
        if partial.results is None and len(partial.blocks) == partial.count:
            image = b"".join(partial.blocks[i] for i in range(partial.count))
            outcome, sent = self._hand_over(image, block.targets, now)
            partial.results = tuple(
                (t, outcome.get(t, TransferStatus.FAILURE)) for t in block.targets
            )
            partial.blocks.clear()  # the image is with the devices now
            out = sent
        results = partial.results if block.index == block.count - 1 and partial.results else ()
        ack = FirmwareAck(
            transfer=block.transfer, index=block.index, count=block.count, results=results
        )
        return [ack.encode(), *out]


def _head(kind: int, transfer: int, index: int, count: int, n: int) -> bytes:
    if not (0 <= transfer <= 0xFFFFFFFF and 0 <= index < count <= 0xFFFF and 0 <= n <= 0xFF):
        raise WanError(f"firmware message: transfer {transfer} block {index}/{count} n {n}")
    return (
        MAGIC
        + bytes([kind])
        + transfer.to_bytes(4, "big")
        + index.to_bytes(2, "big")
        + count.to_bytes(2, "big")
        + bytes([n])
    )


def _eui(eui: bytes) -> bytes:
    if len(eui) != _EUI:
        raise WanError(f"a device EUI is {_EUI} bytes, got {eui!r}")
    return eui


__all__ = [
    "BLOCK_BYTES",
    "MAGIC",
    "FirmwareAck",
    "FirmwareBlock",
    "FirmwareReceiver",
    "HandOver",
    "TransferStatus",
    "decode",
    "is_firmware",
    "split_blocks",
]
