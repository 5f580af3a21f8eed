"""A simulated premises as the in-memory WAN's endpoint (see :class:`PremisesEndpoint`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from smetsnet.devices.premises import Premises
from smetsnet.wan.firmware import (
    FirmwareBlock,
    FirmwareReceiver,
    TransferStatus,
    decode,
    is_firmware,
)

_log = logging.getLogger(__name__)


class PremisesEndpoint:
    """A premises as the WAN sees it: its clock moves to each message's arrival first (the
    half-hours in between are recorded, and any alerts they raise go up with the answer).

    Firmware blocks (``smetsnet.wan.firmware``) go to the comms hub's :class:`FirmwareReceiver`,
    which hands the whole image to the premises' devices; a comms hub without mains power (a
    power cut) handles no block, so the DCC's block times out and it tries again later."""

    __slots__ = ("chub", "failures", "firmware", "on_delivery", "premises")

    def __init__(self, premises: Premises, chub: bytes = b"") -> None:
        self.premises = premises
        self.chub = chub
        self.failures = 0
        #: told the comms hub after each delivery (the served network re-plans the premises)
        self.on_delivery: Callable[[bytes], None] | None = None
        self.firmware = FirmwareReceiver(self._hand_over)

    def __call__(self, wire: bytes, now: datetime) -> list[bytes]:
        try:
            if is_firmware(wire) and self.premises.outage_since is not None:
                return []
            alerts = self.premises.advance(now) if now > self.premises.clock else []
            if is_firmware(wire):
                block = decode(wire)
                out = self.firmware.receive(block, now) if isinstance(block, FirmwareBlock) else []
            else:
                out = self.premises.deliver(wire, now)
            out += alerts
            if self.on_delivery is not None:
                self.on_delivery(self.chub)
            return out
        except Exception:
            # A simulated device must never take the WAN down: the message is lost (the hub
            # times out, as for a device that crashed) and the failure is logged with its cause.
            self.failures += 1
            _log.exception("simulated premises failed on a message at %s", now.isoformat())
            return []

    def _hand_over(
        self, image: bytes, targets: tuple[bytes, ...], now: datetime
    ) -> tuple[dict[bytes, TransferStatus], list[bytes]]:
        outcomes, alerts = self.premises.hand_over_firmware(image, targets, now)
        return {eui: TransferStatus.from_code(code) for eui, code in outcomes.items()}, alerts
