"""The DCC's own answers to the 16 non-device service requests (CommandVariant 8, endpoint
``/api/v1/serviceD``): requests addressed to the DCC, answered synchronously, never sent to a
device.

:meth:`NonDeviceServices.answer` takes a request that passed access control and returns the
response code and the ``ResponseMessage`` to sign and send back. Each SR has one handler:

=========  ==============================  ====================================  ============
SRV        SR                              answer (success)                      module
=========  ==============================  ====================================  ============
5.1        Create Schedule                 I0 + DSPScheduleID                    _schedules
5.2        Read Schedule                   I0 + DSPSchedulesRead                 _schedules
5.3        Delete Schedule                 I99                                   _schedules
8.2        Read Inventory                  I0 + DSPInventory                     _inventory
8.3        Decommission Device             I99                                   _inventory
8.4        Update Inventory                I99                                   _inventory
8.6        Service Opt In                  I0 + DSPOptIn                         _local
8.13       Return Local Command Response   I99                                   _local
8.14.1-4   Comms Hub Status Update         I99                                   _commshub
11.1       Update Firmware                 I99, or W110101 + warning lists       _firmware
11.4       Update PPMID Firmware           I99, or W110401 + warning lists       _firmware
12.1       Request WAN Matrix              I0 + DSPWANMatrix                     _wan
12.2       Device Pre-notification         I99                                   _inventory
=========  ==============================  ====================================  ============

I99 answers a success with nothing to return (SR-CATALOGUE.md §3). Refusals carry a DUIS code;
how codes are chosen is in ``nondevice_common`` and each module names its own. A refusal changes
nothing: every check runs before the first change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from smetsnet.duis import Node, ResponseMessage
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.hub.access import Accepted
from smetsnet.hub.nondevice_common import Call, Refused
from smetsnet.hub.nondevice_commshub import (
    fault_return,
    install_no_sm_wan,
    install_sm_wan,
    no_fault_return,
)
from smetsnet.hub.nondevice_firmware import update_firmware
from smetsnet.hub.nondevice_inventory import (
    decommission_device,
    prenotify_device,
    read_inventory,
    update_inventory,
)
from smetsnet.hub.nondevice_local import (
    AcbCredentials,
    return_local_command_response,
    service_opt_in,
)
from smetsnet.hub.nondevice_records import NonDeviceRecords
from smetsnet.hub.nondevice_schedules import create_schedule, delete_schedule, read_schedule
from smetsnet.hub.nondevice_wan import request_wan_matrix
from smetsnet.hub.schedules import ScheduleStore
from smetsnet.inventory import Inventory

Content = Node | int | None
Handler = Callable[[Call], tuple[str, Content]]


@dataclass(frozen=True, slots=True, kw_only=True)
class NonDeviceAnswer:
    """The DCC's answer: the header's ResponseCode and the body's ResponseMessage.

    ``response_code`` is I0/I99, an SR-specific warning (W…) with the answer, or an error code
    (E…) with an empty ResponseMessage; ``reason`` says why in words (for the audit log)."""

    response_code: str
    message: ResponseMessage
    reason: str = ""


class NonDeviceServices:
    """Answers non-device SRs over the inventory, the DCC schedules and the records.

    ``acb`` are the Access Control Broker's certificates an 8.6 answer carries (None: 8.6 is
    refused with E080607)."""

    def __init__(
        self,
        inventory: Inventory,
        schedules: ScheduleStore,
        *,
        records: NonDeviceRecords | None = None,
        acb: AcbCredentials | None = None,
    ) -> None:
        self.inventory = inventory
        self.schedules = schedules
        self.records = records if records is not None else NonDeviceRecords()
        self.acb = acb
        self._handlers: dict[str, Handler] = {
            "5.1": create_schedule,
            "5.2": read_schedule,
            "5.3": delete_schedule,
            "8.2": read_inventory,
            "8.3": decommission_device,
            "8.4": update_inventory,
            "8.6": lambda call: service_opt_in(call, self.acb),
            "8.13": return_local_command_response,
            "8.14.1": install_sm_wan,
            "8.14.2": install_no_sm_wan,
            "8.14.3": fault_return,
            "8.14.4": no_fault_return,
            "11.1": update_firmware,
            "11.4": update_firmware,
            "12.1": request_wan_matrix,
            "12.2": prenotify_device,
        }

    @property
    def variants(self) -> frozenset[str]:
        """The SR variants answered here."""
        return frozenset(self._handlers)

    def answer(self, accepted: Accepted, now: datetime) -> NonDeviceAnswer:
        """The answer to one accepted non-device request at ``now``.

        A request whose body does not fit its SR (a shape the parser let through) raises
        :class:`DuisSchemaError`, as for any malformed request."""
        sr = accepted.sr
        handler = self._handlers.get(sr.srv)
        if handler is None:
            raise DuisSchemaError(f"SR {sr.srv} is not a non-device SR")
        call = Call(
            accepted=accepted,
            now=now,
            inventory=self.inventory,
            schedules=self.schedules,
            records=self.records,
        )
        content: Content = None
        reason = ""
        try:
            code, content = handler(call)
        except Refused as refused:
            code, reason = str(refused.response_code), refused.reason
        message = ResponseMessage(
            service_reference=sr.service_reference,
            service_reference_variant=sr.srv,
            content=content,
        )
        return NonDeviceAnswer(response_code=code, message=message, reason=reason)
