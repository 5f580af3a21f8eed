"""Translators: critical ESME commands (DUIS CV 4 → GBCS pre-command), DLMS access-requests.

Supply switching (ECS42-44), balance and debt (ECS04a/b, ECS05, ECS07, ECS09), payment mode
(ECS02/03), prepayment settings (ECS08), load limiting (ECS28a), billing calendar (ECS30),
randomised offset (ECS38), switch labels and boosts (ECS46a, ECS47), clock (ECS70) and tamper
(ECS81). Tariffs (ECS01a-d) live in ``dlms_tariffs``, which reuses the helpers below. Not yet
here: the auxiliary controller scheduler (ECS46d), ECS47a/e.

Layouts are the RTDS 4.5.0 pre-commands DCC built from the DUIS templates (GBCS-PAYLOADS §1);
where no vector exists, the GBCS use-case object tables (HenryGiraldo/gbcs-parser-js, facts
only). Device-held future dating lives in the payload, not the grouping header: each passive
value is followed by its activation time (``now`` when immediate, ``never`` for the DUIS
cancellation date 3000-12-31, else the execution date-time); the header date-time stays empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from smetsnet.duis import Node, RequestBody
from smetsnet.duis.bodies import CommissionDeviceSynchroniseClock
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.execution import DUIS_CANCEL
from smetsnet.duis.header import leaf_value, parse_datetime
from smetsnet.gbcs.dlms import NULL as DLMS_NULL
from smetsnet.gbcs.dlms import (
    AccessRequest,
    ActionSpec,
    Array,
    BitString,
    Boolean,
    CosemDateTime,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enumerated,
    GetSpec,
    Integer,
    Long,
    LongUnsigned,
    Obis,
    OctetString,
    RequestSpec,
    SetSpec,
    Structure,
    Unsigned,
    VisibleString,
)
from smetsnet.gbcs.registry import message_code_for
from smetsnet.hub.translate import Command, Context, NotTranslatable, Translator, translator
from smetsnet.hub.translate.body import body_node as _root
from smetsnet.hub.translate.body import child as _child
from smetsnet.inventory.model import DeviceType

ESME = DeviceType.ESME
Item = tuple[RequestSpec, Data]

# -- COSEM classes (IEC 62056-6-2 / GBCS) ----------------------------------------------------------
DATA, CLOCK, SCRIPT_TABLE, SCHEDULE, SPECIAL_DAYS = 1, 8, 9, 10, 11
ACTIVITY_CALENDAR, REGISTER_MONITOR, SINGLE_ACTION_SCHEDULE = 20, 21, 22
ACCOUNT, CREDIT, CHARGE, GBCS_EXTENDED = 111, 112, 113, 9000

NOW = CosemDateTime.now_marker().to_bytes()
NEVER = CosemDateTime.never_marker().to_bytes()


# -- reading the body ------------------------------------------------------------------------------


def _children(node: Node, name: str) -> list[Node]:
    return [c for c in node.children if c.name == name]


def _int_text(text: str, field: str, low: int, high: int) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise DuisSchemaError(f"{field}: {text!r} is not an integer") from None
    if not low <= number <= high:
        raise DuisSchemaError(f"{field}: {number} is outside {low}..{high}")
    return number


def _int(node: Node, name: str, low: int, high: int) -> int:
    return _int_text(_child(node, name).text, name, low, high)


def _attr_int(node: Node, attribute: str, low: int, high: int) -> int:
    text = dict(node.attributes).get(attribute)
    if text is None:
        raise DuisSchemaError(f"{node.name}: attribute {attribute} expected")
    return _int_text(text, f"{node.name}/@{attribute}", low, high)


def _bool(node: Node, name: str) -> bool:
    value = leaf_value(name, _child(node, name).text)
    if not isinstance(value, bool):
        raise DuisSchemaError(f"{name}: {value!r} is not an xs:boolean")
    return value


def _choice(node: Node, name: str, options: dict[str, int]) -> int:
    text = _child(node, name).text.strip()
    if text not in options:
        raise DuisSchemaError(f"{name}: {text!r} is not one of {', '.join(options)}")
    return options[text]


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _execution(node: Node) -> bytes:
    """The activation time of a device-held future-dated command (GBCS-PAYLOADS §0 "Times")."""
    found = node.child("ExecutionDateTime")
    if found is None:
        return NOW
    when = _utc(parse_datetime(found.text, "ExecutionDateTime"))
    if when == DUIS_CANCEL:
        return NEVER
    return CosemDateTime.from_datetime(when).to_bytes()


def _time(text: str, field: str) -> bytes:
    """xs:time ``HH:MM:SS[.ff]Z`` → COSEM time octet-string(4) (hundredths 0)."""
    core = text.strip().removesuffix("Z")
    try:
        hh, mm, rest = core.split(":")
        ss = rest.split(".")[0]
        hour, minute, second = int(hh), int(mm), int(ss)
    except ValueError:
        raise DuisSchemaError(f"{field}: {text!r} is not an xs:time") from None
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise DuisSchemaError(f"{field}: {text!r} is not a time of day")
    return bytes((hour, minute, second, 0))


# -- building the payload --------------------------------------------------------------------------
def _set(class_id: int, obis: str, attribute: int, value: Data) -> Item:
    return SetSpec(class_id=class_id, instance=Obis.of(obis), attribute_id=attribute), value


def _action(class_id: int, obis: str, method: int, parameter: Data) -> Item:
    return ActionSpec(class_id=class_id, instance=Obis.of(obis), method_id=method), parameter


def _get(class_id: int, obis: str, attribute: int) -> Item:
    return GetSpec(class_id=class_id, instance=Obis.of(obis), attribute_id=attribute), DLMS_NULL


def _command(use_case: str, ctx: Context, items: Iterable[Item]) -> Command:
    payload = AccessRequest.build(list(items), invoke_id=ctx.counter)
    return Command(use_case=use_case, message_code=message_code_for(use_case), payload=payload)


def _octets(raw: bytes) -> OctetString:
    return OctetString(value=raw)


def _obis(text: str) -> OctetString:
    return OctetString(value=Obis.of(text).code)


def _struct(*items: Data) -> Structure:
    return Structure(items=items)


def _array(items: Sequence[Data]) -> Array:
    return Array(items=tuple(items))


def _bits(flags: Sequence[bool]) -> BitString:
    number = 0
    for flag in flags:
        number = (number << 1) | int(flag)
    size = (len(flags) + 7) // 8
    number <<= size * 8 - len(flags)
    return BitString(bits=len(flags), data=number.to_bytes(size, "big"))


def _flag(value: bool) -> Boolean:
    """GBCS writes TRUE as 0xFF (ECS28a, ECS81 vectors)."""
    return Boolean(value=True, octet=0xFF) if value else Boolean(value=False)


I32 = (-(1 << 31), (1 << 31) - 1)
U32 = (0, (1 << 32) - 1)
U16 = (0, 0xFFFF)


# -- supply (ECS42/43/44) and block counters (ECS05): one script each ------------------------------
SUPPLY_SCRIPT = "0-0:10.0.106.255"
BLOCK_COUNTER_RESET_SCRIPT = "0-0:10.0.100.255"


def _script(use_case: str, element: str, obis: str, script_id: int) -> Translator:
    def translate(body: RequestBody, ctx: Context) -> Command:
        _root(body, element)
        return _command(
            use_case, ctx, [_action(SCRIPT_TABLE, obis, 1, LongUnsigned(value=script_id))]
        )

    translate.__doc__ = f"{use_case}: execute script {script_id} of {obis} (no body values)."
    return translate


# Script identifiers of the supply state script table (ECS42/43/44 vectors) and of the tariff
# block counter reset script (ECS05 vector).
translator("7.1", ESME)(_script("ECS42", "EnableSupply", SUPPLY_SCRIPT, 51))
translator("7.2", ESME)(_script("ECS43", "DisableSupply", SUPPLY_SCRIPT, 52))
translator("7.3", ESME)(_script("ECS44", "ArmSupply", SUPPLY_SCRIPT, 54))
translator("1.7", ESME)(
    _script("ECS05", "ResetTariffBlockCounterMatrix", BLOCK_COUNTER_RESET_SCRIPT, 99)
)


# -- balance, emergency credit, settings -----------------------------------------------------------
METER_BALANCE = "0-0:19.10.0.255"
EMERGENCY_CREDIT = "0-0:19.10.1.255"
ACCUMULATED_DEBT = "0-0:19.10.2.255"


@translator("1.5", ESME)
def update_meter_balance(body: RequestBody, ctx: Context) -> Command:
    """ECS04a (prepayment: add to the meter balance) or ECS04b (credit: reset the balances)."""
    root = _root(body, "UpdateMeterBalance")
    prepayment = root.child("PrepaymentMode")
    if prepayment is not None:
        amount = DoubleLong(value=_int(prepayment, "AdjustMeterBalance", *I32))
        return _command("ECS04a", ctx, [_action(CREDIT, METER_BALANCE, 1, amount)])
    _child(_child(root, "CreditMode"), "ResetMeterBalance")
    zero = DoubleLong(value=0)
    registers = (METER_BALANCE, EMERGENCY_CREDIT, ACCUMULATED_DEBT)
    return _command("ECS04b", ctx, [_action(CREDIT, r, 2, zero) for r in registers])


@translator("2.5", ESME)
def activate_emergency_credit(body: RequestBody, ctx: Context) -> Command:
    """ECS09: invoke_credit (method 3) on the emergency credit (use-case table; no vector)."""
    _root(body, "ActivateEmergencyCredit")
    return _command("ECS09", ctx, [_action(CREDIT, EMERGENCY_CREDIT, 3, Integer(value=0))])


@translator("7.12", ESME)
def set_randomised_offset_limit(body: RequestBody, ctx: Context) -> Command:
    """ECS38: the randomised offset limit in seconds (DUIS 0..1799)."""
    limit = _int(_root(body, "SetRandomisedOffsetLimit"), "RandomisedOffsetLimit", 0, 1799)
    return _command("ECS38", ctx, [_set(DATA, "0-0:94.44.0.1", 2, LongUnsigned(value=limit))])


@translator("6.25", ESME)
def set_supply_tamper_state(body: RequestBody, ctx: Context) -> Command:
    """ECS81: lock the supply on tamper (``Locked``) or leave it (``Unchanged``)."""
    root = _root(body, "SetElectricitySupplyTamperState")
    locked = _choice(root, "SupplyTamperState", {"Unchanged": 0, "Locked": 1})
    return _command("ECS81", ctx, [_set(DATA, "0-0:94.44.0.4", 2, _flag(bool(locked)))])


#: DUIS SwitchDescription maxLength.
DESCRIPTION_LENGTH = 22


@translator("6.14.1", ESME)
def update_alcs_descriptions(body: RequestBody, ctx: Context) -> Command:
    """ECS46a: switch n's label goes to 0-0:94.44.0.(10+n) (n = 1..5, only those given)."""
    items = []
    for entry in _children(
        _root(body, "UpdateDeviceConfigurationALCDescriptions"), "ALCSHCALCSDescription"
    ):
        index = _attr_int(entry, "index", 1, 5)
        text = _child(entry, "SwitchDescription").text
        raw = text.encode("ascii", "replace")
        if len(raw) > DESCRIPTION_LENGTH:
            raise DuisSchemaError(f"SwitchDescription: longer than {DESCRIPTION_LENGTH}")
        items.append(_set(DATA, f"0-0:94.44.0.{10 + index}", 2, VisibleString(value=raw)))
    if not items:
        raise DuisSchemaError(
            "UpdateDeviceConfigurationALCDescriptions: ALCSHCALCSDescription expected"
        )
    return _command("ECS46a", ctx, items)


# -- auxiliary load switches (ECS47) ---------------------------------------------------------------
ALCS_SCRIPT = "0-0:10.0.103.255"
#: Low byte of the ALCS script id per action (ECS47Activate/Reset vectors: 0x0111, 0x0520); the
#: high byte is the switch number.
ALCS_ACTIVATE, ALCS_RESET = 0x11, 0x20


@translator("7.5", ESME)
def activate_auxiliary_load(body: RequestBody, ctx: Context) -> Command:
    """ECS47: the switch's boost duration (minutes), then the activate script for that switch."""
    switch = _child(_root(body, "ActivateAuxiliaryLoad"), "ActivateALCSHCALCS")
    index = _attr_int(switch, "index", 1, 5)
    duration = LongUnsigned(value=_int(switch, "Duration", *U16))
    script = LongUnsigned(value=(index << 8) | ALCS_ACTIVATE)
    return _command(
        "ECS47",
        ctx,
        [
            _set(DATA, f"0-0:94.44.117.{index}", 2, duration),
            _action(SCRIPT_TABLE, ALCS_SCRIPT, 1, script),
        ],
    )


@translator("7.8", ESME)
def reset_auxiliary_load(body: RequestBody, ctx: Context) -> Command:
    """ECS47: the reset script for one switch."""
    switch = _child(_root(body, "ResetAuxiliaryLoad"), "ResetALCSHCALCS")
    script = LongUnsigned(value=(_attr_int(switch, "index", 1, 5) << 8) | ALCS_RESET)
    return _command("ECS47", ctx, [_action(SCRIPT_TABLE, ALCS_SCRIPT, 1, script)])


# -- clock (ECS70) ---------------------------------------------------------------------------------
CLOCK_OBIS = "0-0:1.0.0.255"
#: Clock time source written before the preset (ECS70 vectors).
CLOCK_TIME_SOURCE = 5


def _clock_command(ctx: Context, current: datetime, tolerance: int) -> Command:
    """Preset the clock to be valid between ``current`` and ``current + tolerance`` s, adjust to
    the preset, then read back the time and status (ECS70 vectors)."""
    start = _utc(current)
    window = _struct(
        _octets(NEVER),
        _octets(CosemDateTime.from_datetime(start).to_bytes()),
        _octets(CosemDateTime.from_datetime(start + timedelta(seconds=tolerance)).to_bytes()),
    )
    return _command(
        "ECS70",
        ctx,
        [
            _set(CLOCK, CLOCK_OBIS, 9, Enumerated(value=CLOCK_TIME_SOURCE)),
            _action(CLOCK, CLOCK_OBIS, 5, window),
            _action(CLOCK, CLOCK_OBIS, 4, Integer(value=0)),
            _get(CLOCK, CLOCK_OBIS, 2),
            _get(CLOCK, CLOCK_OBIS, 4),
        ],
    )


@translator("6.11", ESME)
def synchronise_clock(body: RequestBody, ctx: Context) -> Command:
    root = _root(body, "SynchroniseClock")
    current = parse_datetime(_child(root, "CurrentDateTime").text, "CurrentDateTime")
    return _clock_command(ctx, current, _int(root, "TolerancePeriod", 0, 86400))


@translator("8.1.1", ESME)
def commission_synchronise_clock(body: RequestBody, ctx: Context) -> Command:
    if not isinstance(body, CommissionDeviceSynchroniseClock):
        raise DuisSchemaError("Body: CommissionDeviceSynchroniseClock expected")
    return _clock_command(ctx, body.current_datetime, body.tolerance_period)


# -- load limiting (ECS28a) ------------------------------------------------------------------------
@translator("6.4.1", ESME)
def update_load_limiting(body: RequestBody, ctx: Context) -> Command:
    """ECS28a: passive values (attr 4) of supply-disable flag, threshold, period, restoration
    period, then each one's activation time (attr 6)."""
    root = _root(body, "UpdateDeviceConfigurationLoadLimitingGeneralSettings")
    disable = _choice(root, "LoadLimitSupplyState", {"Unchanged": 0, "Disable": 1})
    values: list[tuple[str, Data]] = [
        ("0-0:94.44.0.3", _flag(bool(disable))),
        ("0-0:94.44.128.7", DoubleLongUnsigned(value=_int(root, "LoadLimitPowerThreshold", *U32))),
        ("0-0:94.44.128.6", DoubleLongUnsigned(value=_int(root, "LoadLimitPeriod", *U32))),
        (
            "0-0:94.44.128.8",
            DoubleLongUnsigned(value=_int(root, "LoadLimitRestorationPeriod", *U32)),
        ),
    ]
    when = _octets(_execution(root))
    items = [_set(GBCS_EXTENDED, obis, 4, value) for obis, value in values]
    items += [_set(GBCS_EXTENDED, obis, 6, when) for obis, _ in values]
    return _command("ECS28a", ctx, items)


# -- billing calendar (ECS30) ----------------------------------------------------------------------
def update_billing_calendar(body: RequestBody, ctx: Context) -> Command:
    """ECS30: a monthly billing date: execution_time = [{time, date *-*-day}]."""
    calendar = _child(
        _root(body, "UpdateDeviceConfigurationBillingCalendar"), "ElectricityBillingCalendar"
    )
    time = _time(_child(calendar, "BillingTime").text, "BillingTime")
    if calendar.child("Monthly") is None:
        raise NotTranslatable(ctx.srv, ctx.device_type)
    day = _int(calendar, "Monthly", 1, 28)
    date = bytes((0xFF, 0xFF, 0xFF, day, 0xFF))
    entry = _struct(_octets(time), _octets(date))
    return _command(
        "ECS30", ctx, [_set(SINGLE_ACTION_SCHEDULE, "0-0:15.0.0.255", 4, _array([entry]))]
    )


# -- debt (ECS07) ----------------------------------------------------------------------------------
#: Seconds per DUIS DebtRecoveryRatePeriod (the Charge object's period attribute, ECS07 vector).
RECOVERY_PERIODS = {"HOURLY": 3600, "DAILY": 86400}
DEBT_RATES = ("0-0:19.20.1.255", "0-0:19.20.2.255")
DEBT_PER_PAYMENT = "0-0:19.20.3.255"


def _recovery_charge(recovery: Node) -> tuple[Structure, int]:
    """A Charge unit_charge {scaling{commodity 0, price scale}, commodity none, [{"", rate}]}."""
    rate = _int(recovery, "DebtRecoveryRate", -0x8000, 0x7FFF)
    scale = _int(recovery, "DebtRecoveryRatePriceScale", -128, 127)
    period = _choice(recovery, "DebtRecoveryRatePeriod", RECOVERY_PERIODS)
    charge = _struct(
        _struct(Integer(value=0), Integer(value=scale)),
        _struct(LongUnsigned(value=0), _octets(bytes(6)), Integer(value=0)),
        _array([_struct(_octets(b""), Long(value=rate))]),
    )
    return charge, period


@translator("2.3", ESME)
def update_debt(body: RequestBody, ctx: Context) -> Command:
    """ECS07: both time-debt recovery rates (passive charge + period, activated), the payment
    debt recovery share, then the three debt registers (method 4, set total amount)."""
    root = _root(body, "UpdateDebt")
    time_debts = [_int(root, f"TimeDebtRegister{i}", *I32) for i in (1, 2)]
    payment_debt = _int(root, "PaymentDebtRegister", *I32)
    per_payment = _int(root, "DebtRecoveryPerPayment", 0, 10000)
    charges = [_recovery_charge(_child(root, f"ElecDebtRecovery{i}")) for i in (1, 2)]
    items = [
        _set(CHARGE, obis, 6, charge) for obis, (charge, _) in zip(DEBT_RATES, charges, strict=True)
    ]
    items.append(_set(CHARGE, DEBT_PER_PAYMENT, 13, LongUnsigned(value=per_payment)))
    items += [
        _set(CHARGE, obis, 8, DoubleLongUnsigned(value=period))
        for obis, (_, period) in zip(DEBT_RATES, charges, strict=True)
    ]
    items += [_action(CHARGE, obis, 2, Integer(value=0)) for obis in DEBT_RATES]
    items.append(_action(CHARGE, DEBT_PER_PAYMENT, 4, DoubleLong(value=payment_debt)))
    items += [
        _action(CHARGE, obis, 4, DoubleLong(value=debt))
        for obis, debt in zip(DEBT_RATES, time_debts, strict=True)
    ]
    return _command("ECS07", ctx, items)


# -- payment mode (ECS02 credit, ECS03 prepayment) -------------------------------------------------
PAYMENT_ACCOUNT = "0-1:19.0.0.255"
DISABLEMENT_THRESHOLD = "0-0:94.44.128.22"
CREDIT_MODE, PREPAYMENT_MODE = 1, 2
#: account_status "new (inactive)" written with each mode change (ECS02/03 vectors).
ACCOUNT_STATUS = 1
_CREDIT = "0-0:19.10.{}.255"
_CHARGE = "0-0:19.20.{}.255"


def _credit_charge_table(
    prepayment: bool, *, suspend_when_disabled: bool, suspend_debt_emergency: bool, twin: bool
) -> Array:
    """The account's credit_charge_configuration (attr 11): which credit pays which charge, with
    3 collection flags (GBCS §18.2.1; the five allowed tables are the ECS02/03 vectors').

    Credit 0 meter balance, 1 emergency credit, 2 accumulated debt; charge 0 consumption, 1/2
    time-debt recovery, 3 payment-debt recovery, 4 standing charge, 5 the secondary element's
    consumption (twin-element meters only). Time-debt recovery drops its third flag when debt is
    suspended while the supply is disabled; the accumulated debt register pays its rows only when
    DUIS SuspendDebtEmergency is true (so the ECS03 vectors show; the fourth combination, both
    false, is composed from the same two rules).
    """
    on, off_when_disabled = (True, True, True), (True, True, not suspend_when_disabled)
    pairs: list[tuple[int, int, tuple[bool, bool, bool]]] = [(0, 0, on), (0, 4, on)]
    if prepayment:
        pairs += [(0, 1, off_when_disabled), (0, 2, off_when_disabled), (0, 3, on)]
        pairs += [(1, 3, on), (1, 0, on), (1, 4, on), (1, 1, off_when_disabled)]
        pairs += [(1, 2, off_when_disabled)]
        if suspend_debt_emergency:
            pairs += [(2, 4, on), (2, 1, on), (2, 2, on)]
    if twin:
        pairs += [(0, 5, on)] + ([(1, 5, on)] if prepayment else [])
    return _array(
        [
            _struct(_obis(_CREDIT.format(c)), _obis(_CHARGE.format(k)), _bits(flags))
            for c, k, flags in pairs
        ]
    )


def _payment_mode(mode: int) -> Item:
    status = _struct(Enumerated(value=mode), Enumerated(value=ACCOUNT_STATUS))
    return _set(ACCOUNT, PAYMENT_ACCOUNT, 2, status)


def payment_mode_command(body: RequestBody, ctx: Context, *, twin: bool) -> Command:
    """ECS02 (``Credit``) or ECS03 (``Prepayment``); ``twin`` for a twin-element ESME, whose
    secondary element is charged too (TWIN vectors). The hub knows the variant from the SMI."""
    root = _root(body, "UpdatePaymentMode")
    when = _octets(_execution(root))
    prepay = root.child("Prepayment")
    if prepay is None:
        _child(root, "Credit")
        table = _credit_charge_table(
            False, suspend_when_disabled=False, suspend_debt_emergency=False, twin=twin
        )
        items = [_payment_mode(CREDIT_MODE), _set(ACCOUNT, PAYMENT_ACCOUNT, 11, table)]
        items.append(_set(ACCOUNT, PAYMENT_ACCOUNT, 13, when))
        return _command("ECS02", ctx, items)
    table = _credit_charge_table(
        True,
        suspend_when_disabled=_bool(prepay, "SuspendDebtDisabled"),
        suspend_debt_emergency=_bool(prepay, "SuspendDebtEmergency"),
        twin=twin,
    )
    threshold = DoubleLong(value=_int(prepay, "DisablementThreshold", *I32))
    items = [
        _payment_mode(PREPAYMENT_MODE),
        _set(GBCS_EXTENDED, DISABLEMENT_THRESHOLD, 4, threshold),
        _set(ACCOUNT, PAYMENT_ACCOUNT, 11, table),
        _set(GBCS_EXTENDED, DISABLEMENT_THRESHOLD, 6, when),
        _set(ACCOUNT, PAYMENT_ACCOUNT, 13, when),
    ]
    return _command("ECS03", ctx, items)


@translator("1.6", ESME)
def update_payment_mode(body: RequestBody, ctx: Context) -> Command:
    """ECS02/ECS03 for a single-element ESME (the Context carries no ESME variant yet)."""
    return payment_mode_command(body, ctx, twin=False)


# -- calendars: dates, days of week, special days --------------------------------------------------
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekdays(node: Node | None) -> BitString:
    """DaysOfWeekApplicability → 7 bits, Monday first (ECS08 vectors)."""
    chosen = set()
    for entry in () if node is None else _children(node, "DayOfWeekApplicability"):
        day = _child(entry, "DayOfWeekID").text.strip()
        if day not in DAYS:
            raise DuisSchemaError(f"DayOfWeekID: {day!r} is not a day of the week")
        chosen.add(day)
    return _bits([d in chosen for d in DAYS])


def _special_days(ids: Iterable[int], count: int) -> BitString:
    chosen = set(ids)
    return _bits([i in chosen for i in range(1, count + 1)])


def _iso_date(text: str, field: str) -> bytes:
    """``YYYY-MM-DD[Z]`` → COSEM date(5), year 65535 = any year (DUIS without wildcards)."""
    core = text.strip().removesuffix("Z")
    try:
        year, month, day = (int(p) for p in core.split("-"))
    except ValueError:
        raise DuisSchemaError(f"{field}: {text!r} is not YYYY-MM-DD") from None
    if not (0 <= year <= 0xFFFF and 1 <= month <= 12 and 1 <= day <= 31):
        raise DuisSchemaError(f"{field}: {text!r} is not a date")
    return year.to_bytes(2, "big") + bytes((month, day, 0xFF))


def _part(node: Node, name: str, specified: str, low: int, high: int) -> int | None:
    """One DUIS date part: ``<name><Specified…>v</…></name>`` or ``<NonSpecified…/>`` (None)."""
    part = _child(node, name)
    value = part.child(specified)
    return None if value is None else _int_text(value.text, specified, low, high)


def _wild_date(node: Node) -> bytes:
    """A DUIS date with wildcards (Year/Month/DayOfMonth[/DayOfWeek]) → COSEM date(5)."""
    year = _part(node, "Year", "SpecifiedYear", 0, 0xFFFE)
    month = _part(node, "Month", "SpecifiedMonth", 1, 12)
    day = _part(node, "DayOfMonth", "SpecifiedDayOfMonth", 1, 31)
    weekday = None
    if node.child("DayOfWeek") is not None:
        weekday = _part(node, "DayOfWeek", "SpecifiedDayOfWeek", 1, 7)
    return (0xFFFF if year is None else year).to_bytes(2, "big") + bytes(
        0xFF if v is None else v for v in (month, day, weekday)
    )


# -- prepayment configuration (ECS08) --------------------------------------------------------------
NON_DISABLEMENT_SPECIAL_DAYS = "0-1:11.0.2.255"
NON_DISABLEMENT_SCHEDULE = "0-1:12.0.1.255"
#: Script selectors of the supply state script table for the non-disablement periods.
NON_DISABLEMENT_SCRIPTS = {"START": 32, "STOP": 33}
#: Special days a non-disablement schedule entry can name (DUIS SpecialDayID 1..5? bit-string 5).
PREPAY_SPECIAL_DAYS = 5
#: The debt recovery rate cap's period: one week (GBCS fixes it; ECS08 vectors).
DEBT_CAP_PERIOD = 604800
#: "any" validity window of a schedule entry (minutes).
ANY_WINDOW = 0xFFFF


def _non_disablement_entry(index: int, entry: Node) -> Structure:
    script = _choice(entry, "NonDisablementScript", NON_DISABLEMENT_SCRIPTS)
    special = _child(entry, "SpecialDaysApplicability")
    ids = [
        _int(s, "SpecialDayID", 1, PREPAY_SPECIAL_DAYS)
        for s in _children(special, "SpecialDayApplicability")
    ]
    when = _child(entry, "ScheduleDatesAndTime")
    return _struct(
        LongUnsigned(value=index),
        _flag(True),
        _obis(SUPPLY_SCRIPT),
        LongUnsigned(value=script),
        _octets(_time(_child(when, "SwitchTime").text, "SwitchTime")),
        LongUnsigned(value=ANY_WINDOW),
        _weekdays(entry.child("DaysOfWeekApplicability")),
        _special_days(ids, PREPAY_SPECIAL_DAYS),
        _octets(_iso_date(_child(when, "StartDate").text, "StartDate")),
        _octets(_iso_date(_child(when, "EndDate").text, "EndDate")),
    )


@translator("2.1", ESME)
def update_prepay_configuration(body: RequestBody, ctx: Context) -> Command:
    """ECS08: special days and schedule of the non-disablement calendar, balance limits, credit
    thresholds and the debt cap; each passive value then its activation time."""
    root = _root(body, "UpdatePrepayConfiguration")
    when = _octets(_execution(root))
    elec = _child(root, "UpdatePrepayConfigElectricity")
    calendar = _child(elec, "ElectricityNonDisablementCalendar")
    special = [
        _struct(
            LongUnsigned(value=i),
            _octets(_wild_date(_child(day, "Date"))),
            Unsigned(value=i),
        )
        for day in _children(_child(calendar, "ElectricitySpecialDays"), "SpecialDay")
        for i in (_attr_int(day, "index", 1, PREPAY_SPECIAL_DAYS),)
    ]
    schedule = [
        _non_disablement_entry(i, entry)
        for i, entry in enumerate(_children(calendar, "ElectricityNonDisablementSchedule"), 1)
    ]
    ext = GBCS_EXTENDED
    limits: list[tuple[str, Data]] = [
        ("0-0:94.44.128.12", LongUnsigned(value=_int(elec, "DebtRecoveryRateCap", *U16))),
        ("0-0:94.44.128.13", DoubleLong(value=DEBT_CAP_PERIOD)),
        ("0-0:94.44.128.9", DoubleLong(value=_int(elec, "LowCreditThreshold", *I32))),
        ("0-0:94.44.128.2", DoubleLong(value=_int(elec, "EmergencyCreditLimit", *I32))),
    ]
    ec_threshold = DoubleLong(value=_int(elec, "EmergencyCreditThreshold", *I32))
    items = [
        _set(SPECIAL_DAYS, NON_DISABLEMENT_SPECIAL_DAYS, 2, _array(special)),
        _set(ext, "0-0:94.44.2.20", 2, DoubleLong(value=_int(elec, "MaxMeterBalance", *I32))),
        _set(ext, "0-0:94.44.2.10", 4, DoubleLong(value=_int(elec, "MaxCreditThreshold", *I32))),
        _set(SCHEDULE, NON_DISABLEMENT_SCHEDULE, 2, _array(schedule)),
        *(_set(ext, obis, 4, value) for obis, value in limits),
        _set(ext, "0-0:94.44.128.31", 6, when),
        _set(ext, "0-0:94.44.128.3", 4, ec_threshold),
        _set(ext, "0-0:94.44.2.20", 6, when),
        _set(ext, "0-0:94.44.2.10", 6, when),
        *(_set(ext, obis, 6, when) for obis, _ in limits),
        _set(ext, "0-0:94.44.128.3", 6, when),
        _set(ext, "0-0:94.44.128.28", 6, when),
    ]
    return _command("ECS08", ctx, items)
