"""A DCC schedule's run as the hub sends it (DUIS 5.1): the request the DCC builds on its owner's
behalf at each occurrence, and the ``DSPScheduledMessage`` its answer reaches the owner in.

The run is an ordinary non-critical request (command variant 1) of the scheduled SR variant to
the scheduled device, from the schedule's owner, with the owner's next RequestID counter (so the
GBCS originator counter keeps rising for the device whoever sent the command); its body is the
schedule's DSP element with each date offset turned into the run's date-times.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from smetsnet.duis import MessageId, Node, Request, RequestHeader
from smetsnet.duis.bodies import SR, GenericBody, RequestBody, read_body
from smetsnet.duis.catalogue import catalogue
from smetsnet.duis.header import format_base64
from smetsnet.hub.schedules import Schedule, ScheduleError

#: The command variant of a schedule's run: non-critical, over the WAN, answer to the user.
SCHEDULED_COMMAND_VARIANT = 1


def scheduled_request(schedule: Schedule, run_at: datetime, counter: int) -> Request:
    """The request of ``schedule``'s run at ``run_at`` with RequestID counter ``counter``."""
    info = catalogue().get(schedule.srv)
    if info is None:
        raise ScheduleError(f"{schedule.describe()}: SR {schedule.srv} is not in the catalogue")
    header = RequestHeader(
        request_id=MessageId(originator=schedule.owner, target=schedule.device, counter=counter),
        command_variant=SCHEDULED_COMMAND_VARIANT,
        service_reference=info.service_reference,
        service_reference_variant=info.srv,
    )
    return Request(header=header, body=_typed(schedule.request_body(run_at, info.body_element)))


def _typed(node: Node) -> RequestBody:
    """The body as parsing would model it (dedicated bodies for the SRs that have one), so
    translators see a schedule's run exactly as they see the same request from a user."""
    holder = etree.Element(SR + "Body")
    GenericBody(node=node).write(holder)
    return read_body(holder[0])


def scheduled_message(wire: bytes, schedule_id: int) -> Node:
    """``DSPScheduledMessage{GBCSPayload, DSPScheduleID}``: a run's device answer to its owner."""
    return Node(
        name="DSPScheduledMessage",
        children=(
            Node(name="GBCSPayload", text=format_base64(wire)),
            Node(name="DSPScheduleID", text=str(schedule_id)),
        ),
    )
