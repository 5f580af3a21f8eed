"""Translators: auxiliary controllers (ECS46d calendar, ECS47a state) and the longer billing
periodicities (ECS30a), critical ESME commands (DUIS CV 4 → GBCS pre-command).

GBCS 7.3.6 numbers the auxiliary controller script table's scripts (0-0:10.0.103.255) by
controller and commanded state: ``direction × 0x1000 + n × 0x100 + 0x80 + level``, direction 1
for an output level and 2 for an input from the controlled load (the ECS46d vectors: 0x1180 is
controller 1 at 0 %, 0x21B2 controller 1 at 50 % input). ECS46d schedules those scripts in the
auxiliary controller calendar; ECS47a runs one at once, within a setting period.

Reuses the body readers and payload builders of :mod:`.dlms_commands` (same family, same
conventions: device-held future dating in the payload, header date-time empty).
"""

from __future__ import annotations

from datetime import datetime

from smetsnet.duis import Node, RequestBody
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_datetime
from smetsnet.gbcs.dlms import BitString, CosemDateTime, LongUnsigned, Structure, Unsigned
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node as _root
from smetsnet.hub.translate.body import child as _child
from smetsnet.hub.translate.dlms_commands import (
    ALCS_SCRIPT,
    ANY_WINDOW,
    DATA,
    ESME,
    GBCS_EXTENDED,
    SCHEDULE,
    SCRIPT_TABLE,
    SINGLE_ACTION_SCHEDULE,
    SPECIAL_DAYS,
    _action,
    _array,
    _attr_int,
    _bits,
    _children,
    _command,
    _execution,
    _flag,
    _int,
    _obis,
    _octets,
    _set,
    _struct,
    _time,
    _utc,
    _weekdays,
    _wild_date,
    update_billing_calendar,
)
from smetsnet.inventory.model import DeviceType

HCALCS = DeviceType.HCALCS

# -- the controller's commanded state (GBCS 7.3.6) -------------------------------------------------
#: Controllers 1..5 and levels 0..100 % (DUIS range_1_5, AuxiliaryControllerLevel).
CONTROLLERS, MAX_LEVEL = 5, 100
OUTPUT_LEVEL, INPUT_LEVEL = 0x1000, 0x2000
#: Bit set in every commanded-state script id (ECS46d vectors).
LEVEL_COMMANDED = 0x80


def _controller_state(action: Node) -> tuple[int, int]:
    """An ``AuxiliaryControllerAction`` / ``SetAuxiliaryControllerState`` → (controller number,
    commanded-state script id)."""
    number = _attr_int(action, "auxiliaryControllerN", 1, CONTROLLERS)
    level = _int(action, "CommandedStateLevel", 0, MAX_LEVEL)
    direction = INPUT_LEVEL if action.child("InputFromControlledLoad") is not None else OUTPUT_LEVEL
    return number, direction + (number << 8) + LEVEL_COMMANDED + level


# -- ECS46d: auxiliary controller calendar ---------------------------------------------------------
AUX_SPECIAL_DAYS = "0-1:11.0.3.255"
AUX_SCHEDULE = "0-1:12.0.2.255"
#: activate_passive_value_time of the schedule and of its special days (ECS46d use case rows
#: 1201, 1818).
AUX_SCHEDULE_ACTIVATION = "0-0:94.44.128.26"
AUX_SPECIAL_DAYS_ACTIVATION = "0-0:94.44.128.35"
#: DUIS caps: 20 special days, 120 schedule entries.
MAX_SPECIAL_DAYS, MAX_SCHEDULE_ENTRIES = 20, 120


def _special_day_bits(entry: Node, count: int) -> BitString:
    """Which special days an entry applies on: one bit per defined special day (the use case:
    the bit-string's length is the number of special days in the special days object)."""
    chosen = set()
    for applicability in _children(entry, "SpecialDaysApplicability"):
        identifier = _attr_int(applicability, "identifier", 1, MAX_SPECIAL_DAYS)
        if identifier > count:
            raise DuisSchemaError(
                f"SpecialDaysApplicability/@identifier: {identifier} names no special day "
                f"(only {count} defined)"
            )
        chosen.add(identifier)
    return _bits([i in chosen for i in range(1, count + 1)])


def _schedule_entry(index: int, entry: Node, special_days: int) -> Structure:
    when = _child(entry, "AuxiliaryControllerSchedulePeriodAndTime")
    _, script = _controller_state(_child(entry, "AuxiliaryControllerAction"))
    return _struct(
        LongUnsigned(value=index),
        _flag(True),
        _obis(ALCS_SCRIPT),
        LongUnsigned(value=script),
        _octets(_time(_child(when, "SwitchTime").text, "SwitchTime")),
        LongUnsigned(value=ANY_WINDOW),
        _weekdays(entry.child("DaysOfWeekApplicability")),
        _special_day_bits(entry, special_days),
        _octets(_wild_date(_child(when, "StartDate"))),
        _octets(_wild_date(_child(when, "EndDate"))),
    )


@translator("6.14.3", ESME, HCALCS)
def update_auxiliary_controller_scheduler(body: RequestBody, ctx: Context) -> Command:
    """ECS46d: the passive special days {index, date, day id} and schedule (entries numbered in
    body order, each running its controller's commanded-state script), then when both take
    effect (``now``, the execution date-time, or ``never`` for a cancellation)."""
    root = _root(body, "UpdateDeviceConfigurationAuxiliaryControllerScheduler")
    definitions = _children(
        _child(root, "AuxiliaryControllerSpecialDayDefinitions"),
        "AuxiliaryControllerSpecialDayDefinition",
    )
    special = []
    for day in definitions:
        identifier = _attr_int(day, "identifier", 1, MAX_SPECIAL_DAYS)
        special.append(
            _struct(
                LongUnsigned(value=identifier),
                _octets(_wild_date(day)),
                Unsigned(value=identifier),
            )
        )
    entries = _children(root, "AuxiliaryControllerSchedule")
    if len(entries) > MAX_SCHEDULE_ENTRIES:
        raise DuisSchemaError(
            f"AuxiliaryControllerSchedule: {len(entries)} entries, at most {MAX_SCHEDULE_ENTRIES}"
        )
    schedule = [_schedule_entry(i, e, len(definitions)) for i, e in enumerate(entries, 1)]
    when = _octets(_execution(root))
    return _command(
        "ECS46d",
        ctx,
        [
            _set(SPECIAL_DAYS, AUX_SPECIAL_DAYS, 2, _array(special)),
            _set(SCHEDULE, AUX_SCHEDULE, 2, _array(schedule)),
            _set(GBCS_EXTENDED, AUX_SCHEDULE_ACTIVATION, 6, when),
            _set(GBCS_EXTENDED, AUX_SPECIAL_DAYS_ACTIVATION, 6, when),
        ],
    )


# -- ECS47a: set auxiliary controller [n] state ----------------------------------------------------
def _setting_period(number: int) -> tuple[str, str]:
    """Controller n's settingPeriodStart/EndDateTime (use case rows 50-54, 60-64)."""
    return f"0-0:94.44.{116 + number}.1", f"0-0:94.44.{116 + number}.2"


def _date_time(node: Node, name: str) -> datetime:
    return _utc(parse_datetime(_child(node, name).text, name))


@translator("7.13", ESME)
def set_auxiliary_controller_state(body: RequestBody, ctx: Context) -> Command:
    """ECS47a (no vector; GBCS use-case table): controller n's setting period start and end
    (octet-string(12) date-times), then its commanded-state script."""
    root = _root(body, "SetAuxiliaryControllerState")
    start, end = _date_time(root, "StartDateTime"), _date_time(root, "EndDateTime")
    if end <= start:
        raise DuisSchemaError(f"EndDateTime: {end.isoformat()} is not after StartDateTime")
    number, state = _controller_state(root)
    start_obis, end_obis = _setting_period(number)
    return _command(
        "ECS47a",
        ctx,
        [
            _set(DATA, start_obis, 2, _octets(CosemDateTime.from_datetime(start).to_bytes())),
            _set(DATA, end_obis, 2, _octets(CosemDateTime.from_datetime(end).to_bytes())),
            _action(SCRIPT_TABLE, ALCS_SCRIPT, 1, LongUnsigned(value=state)),
        ],
    )


# -- ECS30a: billing calendar, longer periodicities ------------------------------------------------
BILLING_CALENDAR = "0-0:15.0.0.255"
#: Months between billing dates; one execution_time entry per billing date in a year.
LONGER_PERIODS = {"Quarterly": 3, "SixMonthly": 6, "Yearly": 12}
ANY = 0xFF


def _cosem_date(month: int, day: int, weekday: int = ANY) -> bytes:
    """A date(5) with any year: month and day-of-month ``ANY`` where they repeat."""
    return b"\xff\xff" + bytes((month, day, weekday))


@translator("6.8", ESME)
def billing_calendar_all_periodicities(body: RequestBody, ctx: Context) -> Command:
    """ECS30a (no vector): the billing single action schedule's execution_time, one
    {time, date} entry per billing date. Daily is any date, weekly any date on that weekday
    (COSEM date wildcards); quarterly, six-monthly and yearly list each billing date of the
    year from the start month on, as the ECS26l vector reads a quarterly calendar back
    (months 1, 4, 7, 10, day 1). A monthly calendar stays ECS30 (the vector DCC built), so
    this is SR 6.8's one translator for an ESME."""
    calendar = _child(
        _root(body, "UpdateDeviceConfigurationBillingCalendar"), "ElectricityBillingCalendar"
    )
    if calendar.child("Monthly") is not None:
        return update_billing_calendar(body, ctx)
    time = _octets(_time(_child(calendar, "BillingTime").text, "BillingTime"))
    dates: list[bytes]
    if calendar.child("Daily") is not None:
        dates = [_cosem_date(ANY, ANY)]
    elif calendar.child("Weekly") is not None:
        dates = [_cosem_date(ANY, ANY, _int(calendar, "Weekly", 1, 7))]
    else:
        present = [name for name in LONGER_PERIODS if calendar.child(name) is not None]
        if not present:
            raise DuisSchemaError(
                "ElectricityBillingCalendar: Daily, Weekly, Quarterly, SixMonthly or Yearly "
                "expected"
            )
        period = _child(calendar, present[0])
        day = _int(period, "DayOfMonth", 1, 28)
        first = _int(period, "BillingPeriodStartMonth", 1, 12)
        step = LONGER_PERIODS[present[0]]
        dates = [_cosem_date((first - 1 + k) % 12 + 1, day) for k in range(0, 12, step)]
    entries = [_struct(time, _octets(date)) for date in dates]
    return _command(
        "ECS30a", ctx, [_set(SINGLE_ACTION_SCHEDULE, BILLING_CALENDAR, 4, _array(entries))]
    )
