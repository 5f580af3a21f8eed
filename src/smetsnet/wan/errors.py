"""Errors of the WAN transport (a branch of :class:`~smetsnet.errors.SmetsnetError`).

::

    SmetsnetError
    └── WanError                 anything the WAN refuses to do
        ├── WanQueueFull         the in-flight bound is reached: back off and send later
        └── UnknownCommsHub      no premises was ever attached for that comms hub EUI

A message that the network loses (random loss, a premises switched off) is *not* an error: it is
a normal outcome the hub notices by a missing answer, and it is counted in the statistics.
"""

from __future__ import annotations

from smetsnet.errors import SmetsnetError


class WanError(SmetsnetError):
    """The WAN refuses a request (bad address, full queue, bad configuration)."""


class WanQueueFull(WanError):
    """The in-flight queue holds ``limit`` messages; nothing more is accepted until some land."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"WAN in-flight queue is full ({limit} messages); retry after advance()")


class UnknownCommsHub(WanError):
    """No premises was attached for this comms hub EUI (a wiring mistake, not a lost message)."""

    def __init__(self, chub: bytes) -> None:
        self.chub = chub
        super().__init__(f"no premises attached for comms hub {chub.hex('-').upper()}")
