"""A simulated premises as the in-memory WAN's endpoint (see :class:`PremisesEndpoint`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from smetsnet.devices.premises import Premises

_log = logging.getLogger(__name__)


class PremisesEndpoint:
    """A premises as the WAN sees it: its clock moves to each message's arrival first (the
    half-hours in between are recorded, and any alerts they raise go up with the answer)."""

    __slots__ = ("chub", "failures", "on_delivery", "premises")

    def __init__(self, premises: Premises, chub: bytes = b"") -> None:
        self.premises = premises
        self.chub = chub
        self.failures = 0
        #: told the comms hub after each delivery (the served network re-plans the premises)
        self.on_delivery: Callable[[bytes], None] | None = None

    def __call__(self, wire: bytes, now: datetime) -> list[bytes]:
        try:
            alerts = self.premises.advance(now) if now > self.premises.clock else []
            out = self.premises.deliver(wire, now) + alerts
            if self.on_delivery is not None:
                self.on_delivery(self.chub)
            return out
        except Exception:
            # A simulated device must never take the WAN down: the message is lost (the hub
            # times out, as for a device that crashed) and the failure is logged with its cause.
            self.failures += 1
            _log.exception("simulated premises failed on a message at %s", now.isoformat())
            return []
