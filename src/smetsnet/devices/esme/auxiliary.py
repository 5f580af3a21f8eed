"""The auxiliary load control switch (HCALCS-type auxiliary controller) behind the ESME.

RTDS 4.5.0 addresses device ``…90A6`` with ECS46d (0x011A, set auxiliary controller calendar)
and CS02f (0x011B), and has it send ECS100 (0x0120, command not supported) and ECS102 alerts
(GBCS-PAYLOADS §0, §5; the device type is [inferred]). It speaks the ESME's DLMS, so it reuses
the ESME's COSEM object server and future-dated handling and only narrows what it accepts:

- ECS46d SETs the auxiliary special days table (class 11, 0-1:11.0.3.255) and schedule (class
  10, 0-1:12.0.2.255) with class 9000 attribute 6 activation times, so the calendar is held
  until its activation date (0x00CC alert when it runs) and an all-0xFF date cancels it
  (6.14.3_ECS46d FUTURE_DATED / CANCELLATION vectors);
- ECS61d/e (0x011C/0x011D) read its configuration and operational data;
- the CS02 family runs in the core (:meth:`SimulatedDevice.execute_security`); CS02f may be
  signed by the transitional CoS party (NA_CS02fSignature: authorising cell transitionalCoS);
- anything else raises :class:`UnsupportedCommand`: as on every device, the core answers it with
  the ECS100 alert 0x8F85 (NA_ECS100) instead of a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from smetsnet.devices.core.device import (
    SIGNER_ROLES,
    Execution,
    UnsupportedCommand,
)
from smetsnet.devices.core.keys import Role
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.esme.cosem import _name
from smetsnet.devices.esme.meter import Esme
from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.dlms import Data, decode_data
from smetsnet.inventory.model import DeviceType

SET_CALENDAR, READ_CONFIGURATION, READ_OPERATIONAL = 0x011A, 0x011C, 0x011D
#: DLMS use cases the auxiliary controller executes (GBCS-PAYLOADS §5, [ESME/A6] codes).
AUXILIARY_CODES = frozenset({SET_CALENDAR, READ_CONFIGURATION, READ_OPERATIONAL})
CS02F = 0x011B
#: (class, OBIS, attribute) of the auxiliary calendar that ECS46d sets.
SPECIAL_DAYS = (11, "0-1:11.0.3.255", 2)
SCHEDULE = (10, "0-1:12.0.2.255", 2)
#: CS02f is signed by the party whose cell authorises it; the RTDS vector has the transitional
#: CoS party ask the auxiliary controller.
CS02F_SIGNERS = frozenset({Role.SUPPLIER, Role.NETWORK_OPERATOR, Role.TRANSITIONAL_COS})


class Hcalcs(Esme):
    """An auxiliary load control switch: the ESME's object server, a narrower command set."""

    __slots__ = ()
    SIGNERS: ClassVar[Mapping[int, frozenset[Role]]] = {**SIGNER_ROLES, CS02F: CS02F_SIGNERS}
    UNKNOWN_PARTY_CODES: ClassVar[frozenset[int]] = frozenset()
    DEVICE_TYPE = DeviceType.HCALCS

    # -- commands -------------------------------------------------------------------------------
    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        if message.header.message_code not in AUXILIARY_CODES:
            raise UnsupportedCommand(f"{message.use_case} is not supported by the HCALCS")
        return super().execute(message, now, protection)

    # -- the auxiliary calendar -----------------------------------------------------------------
    @property
    def special_days(self) -> Data | None:
        """The active special days table (None until an ECS46d calendar has taken effect)."""
        return self._stored(SPECIAL_DAYS)

    @property
    def schedule(self) -> Data | None:
        """The active switching schedule: one structure per switching time (index, enabled,
        script, selector, time, validity, weekdays, special days, begin and end dates)."""
        return self._stored(SCHEDULE)

    def _stored(self, key: tuple[int, str, int]) -> Data | None:
        stored = self.state.objects.get(_name(key))
        return None if stored is None else decode_data(stored)


__all__ = ["Hcalcs"]
