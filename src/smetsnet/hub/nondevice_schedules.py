"""5.1 Create Schedule, 5.2 Read Schedule, 5.3 Delete Schedule: DCC schedules over the
:class:`~smetsnet.hub.schedules.ScheduleStore`. A user sees and deletes only its own schedules;
someone else's id is answered as an unknown one, so ids reveal nothing.

The scheduled request must be one the user could send itself: a DCC-schedulable SR (catalogue)
whose roles include one of the user's, on a device of a type it applies to, in service, and
(for roles held per MPxN) registered to the user now.

Our reading of the SR-specific codes: E050101 the scheduled SR is not DCC-schedulable or its
ServiceReference or DSP element does not match the variant; E050103 the start date is in the
past; E050105 the end date is before the start date; E050107 the execution start time is not a
time; E050108 the user has the most schedules one DSPSchedulesRead can list (99) on the device.
E050201/E050301 no schedule of the user's with that id; E050202/E050302 the user has no
schedule on that device; W050201 more than 99 match (the first 99 are answered). Generic: E2 no
role of the user may send the scheduled SR, E4 not registered, E5 device status, E11 device
type, E19 unknown device.
"""

from __future__ import annotations

from smetsnet.duis import Node
from smetsnet.duis.bodies import CreateSchedule
from smetsnet.duis.catalogue import catalogue
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import format_base64, parse_eui, parse_int
from smetsnet.hub.access import DEVICE_STATUSES_ALLOWED
from smetsnet.hub.nondevice_common import (
    DONE,
    ROLE_NOT_ELIGIBLE,
    STATUS_FORBIDS,
    SUCCESS,
    WRONG_DEVICE_TYPE,
    Call,
    Refused,
    eui_text,
    holder_role,
    leaf,
    optional,
    tree,
)
from smetsnet.hub.schedules import MAX_SCHEDULE_ID, Frequency, Schedule, ScheduleError, parse_time
from smetsnet.inventory import UserRole

MAX_READ = 99  # XSD DSPSchedulesRead/DSPSchedules maxOccurs


def create_schedule(call: Call) -> tuple[str, int]:
    body = call.accepted.request.body
    if not isinstance(body, CreateSchedule):
        raise DuisSchemaError("5.1: CreateSchedule expected")
    info = catalogue().get(body.service_reference_variant)
    if info is None or not info.dcc_schedulable or info.service_reference != body.service_reference:
        raise Refused("E050101", f"{body.service_reference_variant} is not a DCC-schedulable SR")
    if body.scheduled.name != "DSP" + info.body_element:
        raise Refused("E050101", f"{info.srv} is scheduled as DSP{info.body_element}")
    device = call.device(body.device_id)
    if info.target_types and device.type.name not in info.target_types:
        raise Refused(WRONG_DEVICE_TYPE, f"SR {info.srv} does not apply to {device.label}")
    if device.status not in DEVICE_STATUSES_ALLOWED:
        raise Refused(STATUS_FORBIDS, f"{device.label} is {device.status.name}")
    eligible = frozenset(
        r for r in call.accepted.user.roles if r.name in {x.name for x in info.roles}
    )
    if not eligible:
        raise Refused(ROLE_NOT_ELIGIBLE, f"no role of the user may send SR {info.srv}")
    # An Other User acts with the consumer's consent, not per registration (as in access).
    role = holder_role(call.inventory, call.accepted, device, call.now, eligible)
    if role is None:
        if UserRole.OU not in eligible:
            call.acting_role(device, eligible)  # raises E4, naming the device
        role = UserRole.OU
    if body.start_date < call.now.date():
        raise Refused("E050103", f"start date {body.start_date} is in the past")
    if body.end_date is not None and body.end_date < body.start_date:
        raise Refused("E050105", f"end date {body.end_date} is before {body.start_date}")
    if body.execution_start_time is not None:
        try:
            parse_time(body.execution_start_time)
        except ScheduleError as exc:
            raise Refused("E050107", str(exc)) from exc
    if len(call.schedules.of_owner(call.user, device.eui)) >= MAX_READ:
        raise Refused("E050108", f"the user has {MAX_READ} schedules on {device.label}")
    schedule = call.schedules.add(
        owner=call.user,
        role=role,
        srv=info.srv,
        service_reference=info.service_reference,
        device=device.eui,
        frequency=Frequency.parse(body.frequency),
        start_date=body.start_date,
        end_date=body.end_date,
        execution_start_time=body.execution_start_time,
        ka_credential=body.ka_public_security_credential,
        scheduled=body.scheduled,
        now=call.now,
    )
    return SUCCESS, schedule.id


def read_schedule(call: Call) -> tuple[str, Node]:
    found = _own(call, "E050201", "E050202")
    code = SUCCESS
    if len(found) > MAX_READ:
        code, found = "W050201", found[:MAX_READ]
    entries = (tree("DSPSchedules", leaf("DSPScheduleID", str(s.id)), _details(s)) for s in found)
    return code, tree("DSPSchedulesRead", *entries)


def delete_schedule(call: Call) -> tuple[str, None]:
    for schedule in _own(call, "E050301", "E050302"):
        call.schedules.remove(schedule.id)
    return DONE, None


def _own(call: Call, unknown_id: str, none_on_device: str) -> list[Schedule]:
    """The user's schedules the body names (by DSPScheduleID or DeviceID)."""
    body = call.body()
    if len(body.children) != 1:
        raise DuisSchemaError(f"{body.name}: one of DSPScheduleID, DeviceID expected")
    choice = body.children[0]
    if choice.name == "DSPScheduleID":
        wanted = parse_int(choice.text, "DSPScheduleID", 0, MAX_SCHEDULE_ID)
        found = call.schedules.find(wanted)
        if found is None or found.owner != call.user:
            raise Refused(unknown_id, f"the user has no schedule {wanted}")
        return [found]
    if choice.name == "DeviceID":
        device = parse_eui(choice.text.strip(), "DeviceID")
        mine = call.schedules.of_owner(call.user, device)
        if not mine:
            raise Refused(none_on_device, f"the user has no schedule on {eui_text(device)}")
        return mine
    raise DuisSchemaError(f"{body.name}: unexpected {choice.name}")


def _details(s: Schedule) -> Node:
    """XSD ``DSPSchedule``: the schedule as the user created it."""
    return tree(
        "DSPScheduleDetails",
        leaf("ScheduleFrequency", s.frequency.value),
        leaf("ScheduleStartDate", s.start_date.isoformat()),
        optional("ScheduleEndDate", None if s.end_date is None else s.end_date.isoformat()),
        optional("ScheduleExecutionStartTime", s.execution_start_time),
        optional(
            "KAPublicSecurityCredential",
            None if s.ka_credential is None else format_base64(s.ka_credential),
        ),
        leaf("DSPScheduledServiceReference", s.service_reference),
        leaf("DSPScheduledServiceReferenceVariant", s.srv),
        leaf("DeviceID", eui_text(s.device)),
        s.scheduled,
    )
