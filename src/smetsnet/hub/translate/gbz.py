"""Translators: DUIS requests to gas devices (GSME, GPF) and ZigBee logs → GBZ (ZCL) payloads.

Covers the GCS use cases, CS01b (top-up), CS10a/b (event/security log) and CS11 (clear log), and
the ASN.1 GCS28 clock commands. Each command's fixed fields (cluster, command id, attribute ids,
controls) are GBCS facts from the use-case message templates (as published in HenryGiraldo
``gbcs-use-cases.html``, checked on the RTDS 4.5.0 vectors); every other value comes from the
request body, or from the hub's clock where GBCS says "current UTC time" (issuer event ids).

Times in ZCL are UTC seconds since 2000-01-01. A device-held future-dated GBZ command carries its
execution time inside the payload (start / implementation time), not in the grouping header;
DUIS's cancellation date 3000-12-31 becomes GBCS's "cancel" value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from smetsnet.duis.bodies import (
    CommissionDeviceSynchroniseClock,
    GenericBody,
    Node,
    ReadActiveImportProfileData,
    TopUpDevice,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_base64, parse_datetime, parse_int
from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.asn1.misc import SetClockCommand
from smetsnet.gbcs.asn1.types import GeneralizedTime
from smetsnet.gbcs.codec import Payload
from smetsnet.gbcs.gbz import (
    C2S,
    S2C,
    ClusterCommand,
    Columns,
    GbzComponent,
    GbzMessage,
    ReadAttributes,
    cluster_command,
    consumer_top_up,
    select_available_emergency_credit,
)
from smetsnet.gbcs.gbz.spec import (
    BASIC,
    DEVICE_MANAGEMENT,
    EVENTS,
    MESSAGING,
    METERING,
    PREPAYMENT,
    PRICE,
    lookup,
)
from smetsnet.gbcs.gbz.zcl_types import make_date
from smetsnet.gbcs.registry import message_code_for
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.inventory.model import DeviceType

GSME, GPF, PPMID, HCALCS = DeviceType.GSME, DeviceType.GPF, DeviceType.PPMID, DeviceType.HCALCS
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: DUIS's ExecutionDateTime that cancels a pending future-dated command.
DUIS_CANCEL: Final = datetime(3000, 12, 31, tzinfo=UTC)
#: GBCS "cancel" start / implementation time.
CANCEL: Final = 0xFFFFFFFF
_U32: Final = 0xFFFFFFFF

Component = tuple[int, Any]  # (cluster id, ZCL command)


# -- building blocks -------------------------------------------------------------------------
def zcl_time(when: datetime, field: str) -> int:
    """``when`` as ZCL UTC time (seconds since 2000); DuisSchemaError naming ``field`` if it
    does not fit 32 bits. A time without a zone is UTC (DUIS times are UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((when - _EPOCH).total_seconds())
    if not 0 <= seconds < _U32:
        raise DuisSchemaError(f"{field}: {when.isoformat()} is outside the ZCL UTC time range")
    return seconds


def issuer_event_id(ctx: Context) -> int:
    """GBCS: "Issuer Event ID = current UTC time" (the hub's clock)."""
    return zcl_time(ctx.now, "now")


def gbz(*components: Component) -> GbzMessage:
    """A GBZ payload: components numbered 0, 1, ... (the ZCL sequence), the last one flagged."""
    return GbzMessage.of(
        components=[
            GbzComponent.of(cluster_id=cluster, command=command, sequence=i)
            for i, (cluster, command) in enumerate(components)
        ]
    )


def read(cluster: int, *attribute_ids: int) -> Component:
    return cluster, ReadAttributes(attribute_ids=attribute_ids)


def command(use_case: str, payload: Payload) -> Command:
    return Command(use_case=use_case, message_code=message_code_for(use_case), payload=payload)


def zcl(cluster: int, command_id: int, *, server_to_client: bool, **values: Any) -> Component:
    """A cluster command; an out-of-range value becomes a DuisSchemaError naming the field."""
    try:
        built: ClusterCommand = cluster_command(
            cluster, command_id, server_to_client=server_to_client, **values
        )
    except GbcsEncodeError as exc:
        raise DuisSchemaError(f"{exc}") from None
    return cluster, built


# -- body access -----------------------------------------------------------------------------
def body_node(body: object, element: str) -> Node:
    """The generic body's tree, which must be ``element``."""
    if not isinstance(body, GenericBody) or body.node.name != element:
        got = body.node.name if isinstance(body, GenericBody) else type(body).__name__
        raise DuisSchemaError(f"Body: {element} expected, not {got}")
    return body.node


def child(node: Node, name: str) -> Node:
    found = node.child(name)
    if found is None:
        raise DuisSchemaError(f"{node.name}: {name} expected")
    return found


def text(node: Node, name: str) -> str:
    return child(node, name).text.strip()


def integer(node: Node, name: str, low: int, high: int) -> int:
    return parse_int(text(node, name), name, low, high)


def date_time(node: Node, name: str) -> datetime:
    return parse_datetime(text(node, name), name)


def decimal(node: Node, name: str) -> Decimal:
    raw = text(node, name)
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise DuisSchemaError(f"{name}: {raw!r} is not a decimal") from None
    if not value.is_finite():
        raise DuisSchemaError(f"{name}: {raw!r} is not a decimal")
    return value


def choice(node: Node, name: str, options: dict[str, int]) -> int:
    value = text(node, name)
    if value not in options:
        raise DuisSchemaError(f"{name}: {value!r} is not one of {', '.join(options)}")
    return options[value]


def start_time(node: Node, cancel: int = CANCEL) -> int:
    """A device-held future-dated command's start: 0 = now, ``cancel`` for DUIS's 3000-12-31."""
    found = node.child("ExecutionDateTime")
    if found is None:
        return 0
    when = parse_datetime(found.text.strip(), "ExecutionDateTime")
    return cancel if when == DUIS_CANCEL else zcl_time(when, "ExecutionDateTime")


def end_time(end: datetime) -> int:
    """A log read's latest end time; DUIS's 3000-12-31 ("no end") is GBCS's 0xFFFFFFFF."""
    return CANCEL if end == DUIS_CANCEL else zcl_time(end, "EndDateTime")


def log_period(node: Node) -> tuple[datetime, datetime]:
    period = child(node, "ReadLogPeriod")
    start, end = date_time(period, "StartDateTime"), date_time(period, "EndDateTime")
    if end != DUIS_CANCEL and zcl_time(end, "EndDateTime") < zcl_time(start, "StartDateTime"):
        raise DuisSchemaError("EndDateTime: before StartDateTime")
    return start, end


def ka_credentials(node: Node) -> bytes | None:
    """The unknown remote party's KA certificate (DER), when the request carries one."""
    found = node.child("KAPublicSecurityCredentials")
    return (
        None if found is None else parse_base64(found.text.strip(), "KAPublicSecurityCredentials")
    )


def fixed_point(value: Decimal, field: str, digits: int, high: int) -> int:
    """``value`` × 10^digits, which must be a whole number in 0..high."""
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= high:
        raise DuisSchemaError(f"{field}: {value} does not fit {digits} decimal place(s)")
    return int(scaled)


def decimals(value: Decimal) -> int:
    """Decimal places written in the request (40.0 → 1, 1.02264 → 5)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# -- attribute reads (constant commands) -------------------------------------------------------
def _reads(use_case: str, *components: Component) -> Callable[[object, Context], Command]:
    message = gbz(*components)

    def translate(body: object, ctx: Context) -> Command:
        return command(use_case, message)

    translate.__doc__ = f"{use_case}: attribute reads fixed by GBCS (the body has no values)."
    return translate


_DIVISOR_MULTIPLIER_UNIT: Final = (0x0302, 0x0301, 0x0300)
translator("4.1.1", GSME, GPF)(_reads("GCS13a", read(METERING, *_DIVISOR_MULTIPLIER_UNIT, 0x0000)))
translator("4.1.2", GSME, GPF)(
    _reads("GCS13c", read(METERING, *_DIVISOR_MULTIPLIER_UNIT, 0x0100, 0x0102, 0x0104, 0x0106))
)
translator("4.1.4", GSME, GPF)(
    _reads("GCS13b", read(METERING, 0x0700, 0x0701, 0x0702, 0x0703, *_DIVISOR_MULTIPLIER_UNIT))
)
translator("4.3", GSME, GPF)(
    _reads(
        "GCS14",
        read(PRICE, 0x0617, 0x0616),
        read(PREPAYMENT, 0x0005, 0x0002, 0x0001, 0x0231, 0x0211, 0x0221),
    )
)
translator("4.18", GSME, GPF)(_reads("GCS60a", read(METERING, 0x0A00), read(PREPAYMENT, 0x0001)))
translator("7.4", GSME, GPF)(_reads("GCS33", read(METERING, 0x0205, 0x0014)))
translator("11.2", GSME, GPF)(_reads("GCS38", read(METERING, 0x0206)))
translator("6.2.7", GSME, GPF)(_reads("GCS46", read(METERING, 0x0307)))
translator("6.2.9", GSME, GPF)(_reads("GCS21j", read(PREPAYMENT, 0x0000)))
translator("6.2.8", GSME)(
    _reads(
        "GCS21a",
        read(PRICE, 0x0306, 0x0305, 0x0304, 0x0303, 0x0302),
        read(METERING, 0x0B13, 0x0B12, 0x0B11, 0x0B10, 0x0B14, 0x0B15),
    )
)
translator("6.2.4", GSME)(
    _reads("GCS21e", read(BASIC, 0x0004, 0x0005, 0x0003), read(METERING, 0x0608, 0x0607))
)
translator("6.2.3", GSME)(
    _reads(
        "GCS21d",
        zcl(
            PRICE,
            0x0B,
            server_to_client=C2S,
            earliest_start_time=0,  # the billing calendar in force
            min_issuer_event_id=_U32,  # not used
            number_of_commands=1,
            tariff_type=0,
        ),
    )
)
translator("6.2.10", GSME)(
    _reads(
        "GCS20r",
        zcl(DEVICE_MANAGEMENT, 0x05, server_to_client=S2C, event_id=0x81FF),
    )
)


def _calendar_reads(issuer_calendar_id: int, calendar_type: int) -> list[Component]:
    """Get Day Profiles / Week Profiles / Seasons / Special Days of one calendar (all of each)."""
    cal = {"provider_id": 0, "issuer_calendar_id": issuer_calendar_id}
    return [
        zcl(0x0707, 0x01, server_to_client=C2S, **cal, start_day_id=1, number_of_days=0),
        zcl(0x0707, 0x02, server_to_client=C2S, **cal, start_week_id=1, number_of_weeks=0),
        zcl(0x0707, 0x03, server_to_client=C2S, **cal),
        zcl(
            0x0707,
            0x04,
            server_to_client=C2S,
            start_time=0,
            number_of_events=0,
            calendar_type=calendar_type,
            **cal,
        ),
    ]


#: Issuer calendar ids GBCS uses to name "the current tariff calendar" (0xFFFFFFFF) and "the
#: current friendly-credit (non-disablement) calendar" (0xFFFFFFFE).
CURRENT_TARIFF_CALENDAR: Final = 0xFFFFFFFF
CURRENT_FRIENDLY_CREDIT_CALENDAR: Final = 0xFFFFFFFE
FRIENDLY_CREDIT_CALENDAR_TYPE: Final = 3

translator("4.13", GSME, GPF)(
    _reads(
        "GCS21b",
        read(
            PREPAYMENT,
            0x0239,
            0x0006,
            0x0216,
            0x0226,
            0x0040,
            0x0010,
            0x0011,
            0x0031,
            0x0021,
            0x0022,
            0x0217,
            0x0227,
        ),
        read(PRICE, 0x0617),
        *_calendar_reads(CURRENT_FRIENDLY_CREDIT_CALENDAR, FRIENDLY_CREDIT_CALENDAR_TYPE),
    )
)
translator("4.11.1", GSME, GPF)(
    _reads(
        "GCS21f",
        read(
            PRICE,
            0x0203,
            0x0202,
            0x0100,
            0x0101,
            0x0102,
            0x0615,
            0x0400,
            0x0401,
            0x0402,
            0x0403,
            0x0410,
            0x0420,
            0x0430,
            0x0440,
            0x0616,
            0x0617,
            0x0301,
        ),
        *_calendar_reads(CURRENT_TARIFF_CALENDAR, 0),
        zcl(PRICE, 0x00, server_to_client=C2S, command_options=0),
    )
)


# -- logs ------------------------------------------------------------------------------------
#: Get Event Log "event control / log id": 0x13 = general event log (full detail), 0x04 =
#: security log (GBCS CS10a / CS10b).
EVENT_LOG: Final = 0x13
SECURITY_LOG: Final = 0x04
#: Clear Event Log Request log id: the general event log (CS11).
GENERAL_EVENT_LOG: Final = 0x03


@translator("6.13", GSME, GPF, PPMID, HCALCS)
def read_event_or_security_log(body: object, ctx: Context) -> Command:
    """CS10a (LogToRead Event) / CS10b (Security): Get Event Log over the requested period."""
    node = body_node(body, "ReadEventOrSecurityLog")
    log = choice(node, "LogToRead", {"Event": EVENT_LOG, "Security": SECURITY_LOG})
    start, end = log_period(node)
    get_log = zcl(
        EVENTS,
        0x00,
        server_to_client=C2S,
        event_control_log_id=log,
        event_id=0,  # all events
        start_time=zcl_time(start, "StartDateTime"),
        end_time=zcl_time(end, "EndDateTime"),
        number_of_events=0,  # all
        event_offset=0,
    )
    return command("CS10a" if log == EVENT_LOG else "CS10b", gbz(get_log))


@translator("3.3", GSME, GPF)
def clear_event_log(body: object, ctx: Context) -> Command:
    """CS11: Clear Event Log Request for the general event log (the body has no values)."""
    body_node(body, "ClearEventLog")
    clear = zcl(EVENTS, 0x01, server_to_client=C2S, log_id=GENERAL_EVENT_LOG)
    return command("CS11", gbz(clear))


def _sampled(sample_id: int, start: datetime, count: int) -> Component:
    if not 1 <= count <= 0xFFFF:
        raise DuisSchemaError(f"ReadLogPeriod: {count} samples do not fit one Get Sampled Data")
    return zcl(
        METERING,
        0x08,
        server_to_client=C2S,
        sample_id=sample_id,
        earliest_sample_time=zcl_time(start, "StartDateTime"),
        sample_type=0,  # consumption delivered
        number_of_samples=count,
    )


def _samples(start: datetime, end: datetime, interval_s: int) -> int:
    """Samples from ``start`` to ``end`` inclusive, one every ``interval_s`` seconds."""
    return (zcl_time(end, "EndDateTime") - zcl_time(start, "StartDateTime")) // interval_s + 1


#: Sample ids of the GSME/GPF sampled-data logs (GBCS GCS17, GCS61, GCS18).
PROFILE_DATA_LOG, DAILY_CONSUMPTION_LOG, NETWORK_DATA_LOG = 0, 1, 2


@translator("4.8.1", GSME)
def read_profile_data(body: object, ctx: Context) -> Command:
    """GCS17: the half-hourly profile data log over the period (both ends included)."""
    if not isinstance(body, ReadActiveImportProfileData):
        raise DuisSchemaError("Body: ReadActiveImportProfileData expected")
    count = _samples(body.start, body.end, 1800)
    return command("GCS17", gbz(_sampled(PROFILE_DATA_LOG, body.start, count)))


@translator("4.17", GPF)
def read_daily_consumption_log(body: object, ctx: Context) -> Command:
    """GCS61: the GPF's daily consumption log over the period (one sample a day, ends included)."""
    node = body_node(body, "RetrieveDailyConsumptionLog")
    start, end = log_period(node)
    count = _samples(start, end, 86400)
    built = command("GCS61", gbz(_sampled(DAILY_CONSUMPTION_LOG, start, count)))
    return _on_behalf(built, ctx, ka_credentials(node))


@translator("4.10", GSME)
def read_network_data(body: object, ctx: Context) -> Command:
    """GCS18: the network data log (6-minute samples, started by GCS31) over the period."""
    start, end = log_period(body_node(body, "ReadNetworkData"))
    count = _samples(start, end, 360)
    return command("GCS18", gbz(_sampled(NETWORK_DATA_LOG, start, count)))


#: Snapshot causes (ZSE map32): general (daily), end of billing period, and GCS15b's change of
#: tariff information | change of supplier | change of meter mode.
CAUSE_GENERAL, CAUSE_BILLING_PERIOD, CAUSE_MODE_OR_TARIFF = 0x00000001, 0x00000002, 0x00006008


def _snapshots(
    cluster: int, command_id: int, start: datetime, end: datetime, count: int, cause: int
) -> list[Component]:
    """``count`` Get (Prepay) Snapshot commands, offsets 0..count-1, over one period."""
    earliest, latest = zcl_time(start, "StartDateTime"), zcl_time(end, "EndDateTime")
    return [
        zcl(
            cluster,
            command_id,
            server_to_client=C2S,
            earliest_start_time=earliest,
            latest_end_time=latest,
            snapshot_offset=offset,
            snapshot_cause=cause,
        )
        for offset in range(count)
    ]


@translator("4.6.1", GSME)
def read_daily_read_log(body: object, ctx: Context) -> Command:
    """GCS16a: 31 daily (general) snapshots."""
    start, end = log_period(body_node(body, "RetrieveImportDailyReadLog"))
    return command("GCS16a", gbz(*_snapshots(METERING, 0x06, start, end, 31, CAUSE_GENERAL)))


@translator("4.14", GSME, GPF)
def read_prepayment_daily_read_log(body: object, ctx: Context) -> Command:
    """GCS16b: 31 daily (general) prepayment snapshots."""
    node = body_node(body, "ReadPrepaymentDailyReadLog")
    start, end = log_period(node)
    built = command("GCS16b", gbz(*_snapshots(PREPAYMENT, 0x07, start, end, 31, CAUSE_GENERAL)))
    return _on_behalf(built, ctx, ka_credentials(node))


def _billing_log(start: datetime, end: datetime, cause: int) -> GbzMessage:
    """12 metering snapshots then 12 prepayment snapshots of one cause (GCS15b / GCS15c)."""
    return gbz(
        *_snapshots(METERING, 0x06, start, end, 12, cause),
        *_snapshots(PREPAYMENT, 0x07, start, end, 12, cause),
    )


@translator("4.4.3", GSME)
def read_billing_calendar_log(body: object, ctx: Context) -> Command:
    """GCS15c: billing-calendar-triggered billing data log."""
    start, end = log_period(body_node(body, "RetrieveBillingCalendarTriggeredBillingDataLog"))
    return command("GCS15c", _billing_log(start, end, CAUSE_BILLING_PERIOD))


@translator("4.4.2", GSME)
def read_mode_or_tariff_log(body: object, ctx: Context) -> Command:
    """GCS15b: billing data log triggered by change of mode, supplier or tariff."""
    start, end = log_period(body_node(body, "RetrieveCoMOrTariffTriggeredBillingDataLog"))
    return command("GCS15b", _billing_log(start, end, CAUSE_MODE_OR_TARIFF))


def _from(component: Component, start: datetime) -> GbzComponent:
    cluster, built = component
    return GbzComponent.of(
        cluster_id=cluster, command=built, from_date_time=zcl_time(start, "StartDateTime")
    )


#: Get Debt Repayment Log: the last 10 payments of debt 3 (payment-based debt), GCS15d.
DEBT_LOG_ENTRIES, PAYMENT_BASED_DEBT = 10, 2
#: Get Top Up Log: at most 5 entries, GCS15e.
TOP_UP_LOG_ENTRIES: Final = 5


@translator("4.4.4", GSME, GPF)
def read_debt_payments(body: object, ctx: Context) -> Command:
    """GCS15d: debt repayment log between the period's ends (from-date-time = start)."""
    start, end = log_period(body_node(body, "RetrieveBillingDataLogDebtPayments"))
    get = zcl(
        PREPAYMENT,
        0x0A,
        server_to_client=C2S,
        latest_end_time=end_time(end),
        number_of_debts=DEBT_LOG_ENTRIES,
        debt_type=PAYMENT_BASED_DEBT,
    )
    return _on_behalf(command("GCS15d", GbzMessage.of(components=[_from(get, start)])), ctx)


@translator("4.4.5", GSME, GPF)
def read_prepayment_credits(body: object, ctx: Context) -> Command:
    """GCS15e: top-up log between the period's ends (from-date-time = start)."""
    start, end = log_period(body_node(body, "RetrieveBillingDataLogPrepaymentCredits"))
    get = zcl(
        PREPAYMENT,
        0x08,
        server_to_client=C2S,
        latest_end_time=end_time(end),
        number_of_records=TOP_UP_LOG_ENTRIES,
    )
    return command("GCS15e", GbzMessage.of(components=[_from(get, start)]))


# -- prepayment ------------------------------------------------------------------------------
@translator("2.2", GSME)
def top_up(body: object, ctx: Context) -> Command:
    """CS01b: Consumer Top Up with the UTRN, originating device 0 (energy service interface)."""
    if not isinstance(body, TopUpDevice):
        raise DuisSchemaError("Body: TopUpDevice expected")
    return command("CS01b", gbz((PREPAYMENT, consumer_top_up(body.utrn))))


@translator("2.5", GSME)
def activate_emergency_credit(body: object, ctx: Context) -> Command:
    """GCS06: Select Available Emergency Credit (issue time 0, originating device 0)."""
    body_node(body, "ActivateEmergencyCredit")
    return command("GCS06", gbz((PREPAYMENT, select_available_emergency_credit())))


#: Credit Adjustment types and GBCS use cases, by (payment mode element, action element).
_ADJUSTMENTS: Final = {
    ("PrepaymentMode", "AdjustMeterBalance"): ("GCS40a", 0),  # incremental
    ("PrepaymentMode", "ResetMeterBalance"): ("GCS40b", 1),  # absolute
    ("CreditMode", "AdjustMeterBalance"): ("GCS40c", 3),
    ("CreditMode", "ResetMeterBalance"): ("GCS40d", 2),
}


@translator("1.5", GSME)
def update_meter_balance(body: object, ctx: Context) -> Command:
    """GCS40a-d: Credit Adjustment, chosen by payment mode and adjust / reset (reset = value 0)."""
    node = body_node(body, "UpdateMeterBalance")
    if len(node.children) != 1 or len(node.children[0].children) != 1:
        raise DuisSchemaError("UpdateMeterBalance: one mode with one action expected")
    mode = node.children[0]
    action = mode.children[0]
    chosen = _ADJUSTMENTS.get((mode.name, action.name))
    if chosen is None:
        raise DuisSchemaError(f"UpdateMeterBalance: {mode.name}/{action.name} is not known")
    use_case, adjustment_type = chosen
    value = 0
    if action.name == "AdjustMeterBalance":
        value = parse_int(action.text.strip(), "AdjustMeterBalance", -(2**31), 2**31 - 1)
    adjust = zcl(
        PREPAYMENT,
        0x05,
        server_to_client=C2S,
        issuer_event_id=issuer_event_id(ctx),
        start_time=0,
        credit_adjustment_type=adjustment_type,
        credit_adjustment_value=value,
    )
    return command(use_case, gbz(adjust))


#: Payment control configuration of prepayment mode (GCS03), before the debt flags: bits
#: 0,1,2,4,7 (disconnection, prepayment, credit management, credit display, contactor fitted).
PREPAYMENT_CONFIGURATION: Final = 0x0097
#: Bit 10 set = suspend debt collection when disabled; bit 11 set = collect debt during
#: emergency credit (cleared when SuspendDebtEmergency).
SUSPEND_DEBT_DISABLED, COLLECT_DEBT_IN_EMERGENCY = 0x0400, 0x0800
#: GCS02 (credit mode): GBCS's fixed configuration and "cut-off value unchanged".
CREDIT_CONFIGURATION, CUT_OFF_UNCHANGED = 0x0C94, -1


def _bool(node: Node, name: str) -> bool:
    value = text(node, name)
    if value not in ("true", "false", "1", "0"):
        raise DuisSchemaError(f"{name}: {value!r} is not a boolean")
    return value in ("true", "1")


@translator("1.6", GSME)
def update_payment_mode(body: object, ctx: Context) -> Command:
    """GCS02 (Credit) / GCS03 (Prepayment): Change Payment Mode, device-held future-dated."""
    node = body_node(body, "UpdatePaymentMode")
    when = start_time(node)
    prepayment = node.child("Prepayment")
    if prepayment is not None:
        configuration = PREPAYMENT_CONFIGURATION
        if _bool(prepayment, "SuspendDebtDisabled"):
            configuration |= SUSPEND_DEBT_DISABLED
        if not _bool(prepayment, "SuspendDebtEmergency"):
            configuration |= COLLECT_DEBT_IN_EMERGENCY
        cut_off = integer(prepayment, "DisablementThreshold", -(2**31), 2**31 - 1)
        use_case = "GCS03"
    elif node.child("Credit") is not None:
        configuration, cut_off, use_case = CREDIT_CONFIGURATION, CUT_OFF_UNCHANGED, "GCS02"
    else:
        raise DuisSchemaError("UpdatePaymentMode: Credit or Prepayment expected")
    change = zcl(
        PREPAYMENT,
        0x06,
        server_to_client=C2S,
        provider_id=0,
        issuer_event_id=issuer_event_id(ctx),
        implementation_date_time=when,
        proposed_payment_control_configuration=configuration,
        cut_off_value=cut_off,
    )
    return command(use_case, gbz(change))


#: Debt recovery frequency (ZSE enum8) by DUIS DebtRecoveryRatePeriod.
_RECOVERY_PERIODS: Final = {"HOURLY": 0, "DAILY": 1}
#: Debt amount types (incremental) of time debts 1, 2 and payment-based debt 3.
TIME_DEBT_1, TIME_DEBT_2, PAYMENT_DEBT = 1, 3, 5
_I32: Final = (-(2**31), 2**31 - 1)


def _change_debt(
    ctx: Context,
    amount: int,
    amount_type: int,
    *,
    method: int = 0,
    frequency: int = 1,
    recovery: int = 0,
    percentage: int = 0,
) -> Component:
    return zcl(
        PREPAYMENT,
        0x02,
        server_to_client=C2S,
        issuer_event_id=issuer_event_id(ctx),
        debt_label=b"",
        debt_amount=amount,
        debt_recovery_method=method,
        debt_amount_type=amount_type,
        debt_recovery_start_time=0,
        debt_recovery_collection_time=0,
        debt_recovery_frequency=frequency,
        debt_recovery_amount=recovery,
        debt_recovery_balance_percentage=percentage,
    )


@translator("2.3", GSME)
def update_debt(body: object, ctx: Context) -> Command:
    """GCS04: Change Debt per debt register given (time debts 1, 2; payment debt)."""
    node = body_node(body, "UpdateDebt")
    parts: list[Component] = []
    for register, recovery_name, amount_type in (
        ("TimeDebtRegister1", "GasDebtRecovery1", TIME_DEBT_1),
        ("TimeDebtRegister2", "GasDebtRecovery2", TIME_DEBT_2),
    ):
        if node.child(register) is None:
            continue
        recovery = child(node, recovery_name)
        parts.append(
            _change_debt(
                ctx,
                integer(node, register, *_I32),
                amount_type,
                frequency=choice(recovery, "DebtRecoveryRatePeriod", _RECOVERY_PERIODS),
                recovery=integer(recovery, "DebtRecoveryRate", *_I32),
            )
        )
    if node.child("PaymentDebtRegister") is not None:
        parts.append(
            _change_debt(
                ctx,
                integer(node, "PaymentDebtRegister", *_I32),
                PAYMENT_DEBT,
                method=1,  # percentage based
                percentage=integer(node, "DebtRecoveryPerPayment", 0, 0xFFFF),
            )
        )
    if not parts:
        raise DuisSchemaError("UpdateDebt: no debt register given")
    return command("GCS04", gbz(*parts))


# -- configuration, supply, clock ------------------------------------------------------------
@translator("3.1", GSME)
def send_message(body: object, ctx: Context) -> Command:
    """GCS07: Display Message (id = now, normal/low importance, from now, until changed)."""
    message = text(body_node(body, "DisplayMessage"), "SupplierMessage")
    if not 1 <= len(message.encode("utf-8")) <= 116:
        raise DuisSchemaError("SupplierMessage: 1 to 116 characters expected")
    display = zcl(
        MESSAGING,
        0x00,
        server_to_client=S2C,
        message_id=issuer_event_id(ctx),
        message_control=0,
        start_time=0,
        duration_minutes=0xFFFF,  # until changed
        message=message.encode("utf-8"),
    )
    return command("GCS07", gbz(display))


#: Publish Change of Tenancy control (GCS09, as DCC sends it): bit 9.
TENANCY_CHANGE_CONTROL: Final = 0x00000200


@translator("3.2", GPF)
def restrict_access_for_change_of_tenancy(body: object, ctx: Context) -> Command:
    """GCS09: Publish Change of Tenancy at the restriction date-time."""
    node = body_node(body, "RestrictAccessForChangeOfTenancy")
    when = zcl_time(date_time(node, "RestrictionDateTime"), "RestrictionDateTime")
    publish = zcl(
        DEVICE_MANAGEMENT,
        0x00,
        server_to_client=S2C,
        provider_id=0,
        issuer_event_id=issuer_event_id(ctx),
        tariff_type=0,
        implementation_date_time=when,
        proposed_tenancy_change_control=TENANCY_CHANGE_CONTROL,
    )
    return command("GCS09", gbz(publish))


#: Request New Password Response password type 2 (consumer menu access), GCS11.
CONSUMER_MENU_PASSWORD: Final = 2


@translator("3.5", GSME)
def disable_privacy_pin(body: object, ctx: Context) -> Command:
    """GCS11: an empty consumer-menu password, valid until changed, from now."""
    body_node(body, "DisablePrivacyPIN")
    response = zcl(
        DEVICE_MANAGEMENT,
        0x02,
        server_to_client=S2C,
        issuer_event_id=issuer_event_id(ctx),
        implementation_date_time=0,
        duration_minutes=0,
        password_type=CONSUMER_MENU_PASSWORD,
        password=b"",
    )
    return command("GCS11", gbz(response))


#: Event configuration bits (ZSE Set Event Configuration): log (0b011), WAN, HAN, alarm.
_LOG, _WAN, _HAN, _ALARM = 0x03, 0x08, 0x10, 0x40
_SETTINGS: Final = (("EventLog", _LOG), ("WANAlert", _WAN), ("HANAlert", _HAN), ("Alarm", _ALARM))


@translator("6.22", GSME)
def configure_alert_behaviour(body: object, ctx: Context) -> Command:
    """GCS20: one Set Event Configuration (apply by list) per distinct configuration, listing
    the event codes that share it, in the order the request first names them."""
    settings = child(body_node(body, "ConfigureAlertBehaviour"), "GasSupplierAlertEventSettings")
    groups: dict[int, list[int]] = {}
    for event in settings.children:
        if not (event.name.startswith("x") and len(event.name) == 5):
            raise DuisSchemaError(f"GasSupplierAlertEventSettings: {event.name} is not an event")
        code = int(event.name[1:], 16)
        configuration = 0
        for name, bit in _SETTINGS:
            if choice(event, name, {"Enable": 1, "Disable": 0}):
                configuration |= bit
        groups.setdefault(configuration, []).append(code)
    if not groups:
        raise DuisSchemaError("GasSupplierAlertEventSettings: no event given")
    parts = []
    for configuration, codes in groups.items():
        if len(codes) > 0xFF:
            raise DuisSchemaError("GasSupplierAlertEventSettings: too many events")
        parts.append(
            zcl(
                DEVICE_MANAGEMENT,
                0x04,
                server_to_client=S2C,
                issuer_event_id=issuer_event_id(ctx),
                start_date_time=0,
                event_configuration=configuration,
                configuration_control=0,  # apply by list
                number_of_events=len(codes),
                events=_event_ids(codes),
            )
        )
    return command("GCS20", gbz(*parts))


def _event_ids(codes: Sequence[int]) -> Any:

    spec = lookup(DEVICE_MANAGEMENT, S2C, 0x04)
    assert spec is not None
    return Columns.of(spec.group("events"), event_id=codes)


#: Calorific value unit 1 = MJ/m³ (GCS23).
MJ_PER_M3: Final = 1


@translator("6.6", GSME)
def update_gas_conversion(body: object, ctx: Context) -> Command:
    """GCS23: Publish Conversion Factor and/or Publish Calorific Value, effective now. The
    trailing-digit field (high nibble) carries the decimal places the request wrote."""
    node = body_node(body, "UpdateDeviceConfigurationGasConversion")
    parts: list[Component] = []
    if node.child("ConversionFactor") is not None:
        factor = decimal(node, "ConversionFactor")
        places = decimals(factor)
        parts.append(
            zcl(
                PRICE,
                0x02,
                server_to_client=S2C,
                issuer_event_id=issuer_event_id(ctx),
                start_time=0,
                conversion_factor=fixed_point(factor, "ConversionFactor", places, _U32),
                conversion_factor_trailing_digit=_trailing(places, "ConversionFactor"),
            )
        )
    if node.child("CalorificValue") is not None:
        value = decimal(node, "CalorificValue")
        places = decimals(value)
        parts.append(
            zcl(
                PRICE,
                0x03,
                server_to_client=S2C,
                issuer_event_id=issuer_event_id(ctx),
                start_time=0,
                calorific_value=fixed_point(value, "CalorificValue", places, _U32),
                calorific_value_unit=MJ_PER_M3,
                calorific_value_trailing_digit=_trailing(places, "CalorificValue"),
            )
        )
    if not parts:
        raise DuisSchemaError("UpdateDeviceConfigurationGasConversion: no value given")
    return command("GCS23", gbz(*parts))


def _trailing(places: int, field: str) -> int:
    if places > 15:
        raise DuisSchemaError(f"{field}: more than 15 decimal places")
    return places << 4


#: Set Supply Status states: 0 locked, 3 unchanged; uncontrolled flow state off.
_SUPPLY_STATES: Final = {"Locked": 0, "Unchanged": 3}
M3_PER_HOUR: Final = 1


@translator("6.7", GSME)
def update_gas_flow(body: object, ctx: Context) -> Command:
    """GCS24 (whole m³/h, divisor 1) / GCS24a (UncontrolledGasFlowRateDecimal, divisor 10000):
    Set Uncontrolled Flow Threshold, then Set Supply Status."""
    node = body_node(body, "UpdateDeviceConfigurationGasFlow")
    if node.child("UncontrolledGasFlowRateDecimal") is not None:
        rate = decimal(node, "UncontrolledGasFlowRateDecimal")
        threshold = fixed_point(rate, "UncontrolledGasFlowRateDecimal", 4, 0xFFFF)
        divisor, use_case = 10000, "GCS24a"
    else:
        threshold, divisor = integer(node, "UncontrolledGasFlowRate", 0, 0xFFFF), 1
        use_case = "GCS24"
    threshold_command = zcl(
        METERING,
        0x0E,
        server_to_client=C2S,
        provider_id=0,
        issuer_event_id=issuer_event_id(ctx),
        uncontrolled_flow_threshold=threshold,
        unit_of_measure=M3_PER_HOUR,
        multiplier=1,
        divisor=divisor,
        stabilisation_period=integer(node, "StabilisationPeriod", 1, 0xFF),
        measurement_period=integer(node, "MeasurementPeriod", 1, 0xFFFF),
    )
    status = zcl(
        METERING,
        0x0D,
        server_to_client=C2S,
        issuer_event_id=issuer_event_id(ctx),
        supply_tamper_state=choice(node, "SupplyTamperState", _SUPPLY_STATES),
        supply_depletion_state=choice(node, "SupplyDepletionState", _SUPPLY_STATES),
        supply_uncontrolled_flow_state=0,
        load_limit_supply_state=3,  # unchanged
    )
    return command(use_case, gbz(threshold_command, status))


#: Billing periodicity → (duration, duration type); type high nibble 2 = "not specified"
#: control, low nibble units 1 days / 2 weeks / 3 months. GCS25 takes the first three.
_PERIODICITIES: Final = {
    "Daily": (1, 0x21),
    "Weekly": (1, 0x22),
    "Monthly": (1, 0x23),
    "Quarterly": (3, 0x23),
    "SixMonthly": (6, 0x23),
    "Yearly": (12, 0x23),
}
_GCS25_PERIODICITIES: Final = frozenset({"Daily", "Weekly", "Monthly"})


@translator("6.8", GSME)
def update_billing_calendar(body: object, ctx: Context) -> Command:
    """GCS25 / GCS25a (quarterly and longer): Publish Billing Period + Publish Block Period."""
    node = body_node(body, "UpdateDeviceConfigurationBillingCalendar")
    calendar = child(node, "GasBillingCalendar")
    start = zcl_time(date_time(calendar, "BillingPeriodStart"), "BillingPeriodStart")
    periodicity = text(calendar, "Periodicity")
    if periodicity not in _PERIODICITIES:
        raise DuisSchemaError(f"Periodicity: {periodicity!r} is not one of the XSD's values")
    duration, duration_type = _PERIODICITIES[periodicity]
    head = {"provider_id": 0, "issuer_event_id": issuer_event_id(ctx)}
    billing = zcl(
        PRICE,
        0x09,
        server_to_client=S2C,
        **head,
        billing_period_start_time=start,
        billing_period_duration=duration,
        billing_period_duration_type=duration_type,
        tariff_type=0,
    )
    block = zcl(
        PRICE,
        0x01,
        server_to_client=S2C,
        **head,
        block_period_start_time=start,
        block_period_duration=duration,
        block_period_control=2,  # repeating
        block_period_duration_type=duration_type,
        tariff_type=0,
        tariff_resolution_period=1,  # block period
    )
    use_case = "GCS25" if periodicity in _GCS25_PERIODICITIES else "GCS25a"
    return command(use_case, gbz(billing, block))


def _set_clock(use_case: str, now: datetime, tolerance: int) -> Command:
    payload = SetClockCommand(
        validity_start=GeneralizedTime.from_datetime(now),
        validity_end=GeneralizedTime.from_datetime(now + timedelta(seconds=tolerance)),
    )
    return command(use_case, payload)


@translator("6.11", GSME)
def synchronise_clock(body: object, ctx: Context) -> Command:
    """GCS28: set the clock to a time within [CurrentDateTime, + TolerancePeriod] (ASN.1)."""
    node = body_node(body, "SynchroniseClock")
    now = date_time(node, "CurrentDateTime")
    return _set_clock("GCS28", now, integer(node, "TolerancePeriod", 0, 86400))


@translator("8.1.1", GSME)
def commission_synchronise_clock(body: object, ctx: Context) -> Command:
    """GCS28 at commissioning (8.1.1): same command as 6.11."""
    if not isinstance(body, CommissionDeviceSynchroniseClock):
        raise DuisSchemaError("Body: CommissionDeviceSynchroniseClock expected")
    return _set_clock("GCS28", body.current_datetime, body.tolerance_period)


#: Network data log sampling (GCS31): 6-minute samples, 41 of them (4 hours inclusive).
NETWORK_SAMPLE_INTERVAL_S, NETWORK_SAMPLES = 360, 41


@translator("14.1", GSME)
def record_network_data(body: object, ctx: Context) -> Command:
    """GCS31: Start Sampling now (sent by the DCC on behalf of the user)."""
    body_node(body, "RecordNetworkDataGAS")
    start = zcl(
        METERING,
        0x07,
        server_to_client=C2S,
        issuer_event_id=issuer_event_id(ctx),
        start_sampling_time=0,
        sample_type=0,
        sample_request_interval=NETWORK_SAMPLE_INTERVAL_S,
        max_number_of_samples=NETWORK_SAMPLES,
    )
    return _on_behalf(command("GCS31", gbz(start)), ctx)


def _on_behalf(built: Command, ctx: Context, certificate: bytes | None = None) -> Command:
    """A command the DCC sends for the user: the user is the supplementary remote party."""
    return Command(
        use_case=built.use_case,
        message_code=built.message_code,
        payload=built.payload,
        supplementary_remote_party=ctx.originator,
        supplementary_remote_party_counter=ctx.counter,
        certificate=certificate,
    )


#: Change Supply proposed supply status: 0 off (close valve), 1 armed.
SUPPLY_OFF, SUPPLY_ARMED = 0, 1


def _change_supply(use_case: str, status: int, ctx: Context) -> Command:
    change = zcl(
        METERING,
        0x0B,
        server_to_client=C2S,
        provider_id=0,
        issuer_event_id=issuer_event_id(ctx),
        request_date_time=0,
        implementation_date_time=0,
        proposed_supply_status=status,
        supply_control_bits=1,  # acknowledgement required
    )
    return command(use_case, gbz(change))


@translator("7.2", GSME)
def disable_supply(body: object, ctx: Context) -> Command:
    """GCS32: close the valve now."""
    body_node(body, "DisableSupply")
    return _change_supply("GCS32", SUPPLY_OFF, ctx)


@translator("7.3", GSME)
def arm_supply(body: object, ctx: Context) -> Command:
    """GCS39: arm the valve now."""
    body_node(body, "ArmSupply")
    return _change_supply("GCS39", SUPPLY_ARMED, ctx)


@translator("6.20.1", GSME)
def set_mprn(body: object, ctx: Context) -> Command:
    """GCS41: Update Site ID (the MPRN), effective now."""
    mprn = text(body_node(body, "SetDeviceConfigurationImportMPxN"), "ImportMPRN")
    if not mprn or len(mprn) > 0xFF:
        raise DuisSchemaError("ImportMPRN: 1 to 255 characters expected")
    update = zcl(
        DEVICE_MANAGEMENT,
        0x03,
        server_to_client=S2C,
        issuer_event_id=issuer_event_id(ctx),
        site_id_time=0,
        provider_id=0,
        site_id=mprn.encode("ascii", "replace"),
    )
    return command("GCS41", gbz(update))


#: Publish Change of Supplier control for a name / contact update only (GCS44).
SUPPLIER_DETAILS_CONTROL: Final = 0x00001800


@translator("3.4", GSME)
def update_supplier_name(body: object, ctx: Context) -> Command:
    """GCS44: Publish Change of Supplier carrying the new name and telephone number."""
    node = body_node(body, "UpdateSupplierName")
    name, phone = text(node, "SupplierName"), text(node, "SupplierTelephoneNumber")
    publish = zcl(
        DEVICE_MANAGEMENT,
        0x01,
        server_to_client=S2C,
        current_provider_id=0,
        issuer_event_id=issuer_event_id(ctx),
        tariff_type=0,
        proposed_provider_id=0,
        provider_change_implementation_time=0,
        provider_change_control=SUPPLIER_DETAILS_CONTROL,
        proposed_provider_name=name.encode("utf-8"),
        proposed_provider_contact_details=phone.encode("utf-8"),
    )
    return command("GCS44", gbz(publish))


# -- calendars and tariffs (GCS01a, GCS01b, GCS05) --------------------------------------------
CALENDAR: Final = 0x0707
#: Calendar / sub-payload "cancel" start time (the Publish Tariff Information one is CANCEL).
CALENDAR_CANCEL: Final = 0xFFFFFFFE
TARIFF_CALENDAR_TYPE: Final = 0
DayProfile = tuple[int, list[tuple[int, int]]]  # day id, (start minute, tier or flag)


def _wildcard_date(node: Node) -> int:
    """A DUIS Gas*WithWildcards date as a ZCL date (unspecified parts = 0xFF)."""

    def part(element: str, specified: str, low: int, high: int) -> int | None:
        holder = child(node, element)
        found = holder.child(specified)
        return None if found is None else parse_int(found.text.strip(), specified, low, high)

    return make_date(
        part("GasYearWithWildcards", "SpecifiedYear", 1900, 2154),
        part("GasMonthWithWildcards", "SpecifiedMonth", 1, 12),
        part("GasDayOfMonthWithWildcards", "SpecifiedDayOfMonth", 1, 31),
        part("GasDayOfWeekWithWildcards", "SpecifiedDayOfWeek", 1, 7),
    )


def _weeks(node: Node) -> list[tuple[int, list[int]]]:
    weeks = []
    for week in child(node, "WeekProfiles").children:
        refs = {c.attributes: c for c in week.children if c.name == "ReferencedDayName"}
        days = [
            parse_int(refs[(("index", str(i)),)].text.strip(), "ReferencedDayName", 1, 0xFF)
            if (("index", str(i)),) in refs
            else _missing_day(i)
            for i in range(1, 8)
        ]
        weeks.append((integer(week, "WeekName", 1, 0xFF), days))
    return weeks


def _missing_day(index: int) -> int:
    raise DuisSchemaError(f"ReferencedDayName: day {index} of the week missing")


def _calendar(
    ctx: Context,
    calendar_type: int,
    start: int,
    days: list[DayProfile],
    weeks: list[tuple[int, list[int]]],
    seasons: list[tuple[int, int]],
    special: list[tuple[int, int]],
) -> list[Component]:
    """Publish Calendar, Day Profiles, Week Profiles, Seasons and Special Days of one calendar."""
    event = issuer_event_id(ctx)
    head = {"provider_id": 0, "issuer_event_id": event, "issuer_calendar_id": event}

    def group(command_id: int, name: str) -> Any:
        spec = lookup(CALENDAR, S2C, command_id)
        assert spec is not None
        return spec.group(name)

    if len(special) > 0xFF or len(days) > 0xFF or len(weeks) > 0xFF or len(seasons) > 0xFF:
        raise DuisSchemaError("calendar: more than 255 profiles, seasons or special days")
    parts = [
        zcl(
            CALENDAR,
            0x00,
            server_to_client=S2C,
            **head,
            start_time=start,
            calendar_type=calendar_type,
            calendar_time_reference=0,
            calendar_name=b"",
            number_of_seasons=len(seasons),
            number_of_week_profiles=len(weeks),
            number_of_day_profiles=len(days),
        )
    ]
    for day_id, entries in days:
        parts.append(
            zcl(
                CALENDAR,
                0x01,
                server_to_client=S2C,
                **head,
                day_id=day_id,
                total_number_of_schedule_entries=len(entries),
                command_index=0,
                total_number_of_commands=1,
                calendar_type=calendar_type,
                entries=Columns.of(
                    group(0x01, "entries"),
                    start_minute=[m for m, _ in entries],
                    price_tier=[t for _, t in entries],
                ),
            )
        )
    for week_id, refs in weeks:
        names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        per_day = {f"day_id_ref_{n}": r for n, r in zip(names, refs, strict=True)}
        parts.append(zcl(CALENDAR, 0x02, server_to_client=S2C, **head, week_id=week_id, **per_day))
    parts.append(
        zcl(
            CALENDAR,
            0x03,
            server_to_client=S2C,
            **head,
            command_index=0,
            total_number_of_commands=1,
            seasons=Columns.of(
                group(0x03, "seasons"),
                season_start_date=[d for d, _ in seasons],
                week_id_ref=[w for _, w in seasons],
            ),
        )
    )
    parts.append(
        zcl(
            CALENDAR,
            0x04,
            server_to_client=S2C,
            **head,
            start_time=start,
            calendar_type=calendar_type,
            total_number_of_special_days=len(special),
            command_index=0,
            total_number_of_commands=1,
            special_days=Columns.of(
                group(0x04, "special_days"),
                special_day_date=[d for d, _ in special],
                day_id_ref=[r for _, r in special],
            ),
        )
    )
    return parts


def _seasons(holder: Node) -> list[tuple[int, int]]:
    return [
        (
            _wildcard_date(child(season, "SeasonStartDate")),
            integer(season, "ReferencedWeekName", 1, 0xFF),
        )
        for season in holder.children
    ]


def _special_days(node: Node | None) -> list[tuple[int, int]]:
    if node is None:
        return []
    return [
        (_wildcard_date(child(day, "Date")), integer(day, "ReferencedDayName", 1, 0xFF))
        for day in node.children
    ]


def _calendar_start(start: int) -> int:
    return CALENDAR_CANCEL if start == CANCEL else start


#: DUIS CurrencyUnits → ISO 4217 numeric code.
_CURRENCIES: Final = {"GBP": 826, "ECB": 978}
#: Publish Tariff Information constants GBCS fixes for gas: unit kWh (0), price trailing digit
#: 5 (high nibble), tier/block mode not used, block thresholds in 1/1000 units.
PRICE_TRAILING_DIGIT, NOT_USED, THRESHOLD_DIVISOR = 0x50, 0xFF, 1000
TARIFF_ID, BLOCK_TARIFF_TYPE, TOU_TARIFF_TYPE = 1, 0x10, 0x00


def _indexed(node: Node, name: str, high: int) -> list[int]:
    items = [c for c in node.children if c.name == name]
    by_index = {}
    for item in items:
        index = parse_int(dict(item.attributes).get("index", ""), f"{name} index", 1, 0xFF)
        by_index[index] = parse_int(item.text.strip(), name, 0, high)
    if sorted(by_index) != list(range(1, len(by_index) + 1)):
        raise DuisSchemaError(f"{name}: indexes must run 1..{len(by_index)}")
    return [by_index[i] for i in range(1, len(by_index) + 1)]


def _tariff(
    ctx: Context, start: int, prices: Node, thresholds: list[int] | None
) -> list[Component]:
    """Publish Tariff Information, [Publish Block Thresholds], Publish Price Matrix."""

    gas = child(prices, "GasPriceElements")
    currency = choice(gas, "CurrencyUnits", _CURRENCIES)
    standing = integer(gas, "StandingCharge", -(2**31), _U32)
    event = issuer_event_id(ctx)
    sub_start = _calendar_start(start)
    block = gas.child("BlockTariff")
    if block is not None:
        price_list = _indexed(block, "BlockPrice", _U32)
        ids = list(range(len(price_list)))  # tier 0, blocks 1..n as 0..n-1
        if thresholds is None:
            count = integer(block, "NumberOfThresholds", 0, 3)
        else:
            count = len(thresholds)
        tariff_type, tiers, control = BLOCK_TARIFF_TYPE, 0, 0
    else:
        tou = child(gas, "TOUTariff")
        price_list = _indexed(tou, "TOUPrice", _U32)
        ids = list(range(1, len(price_list) + 1))
        count, tariff_type, tiers, control = 0, TOU_TARIFF_TYPE, len(price_list), 1
    head = {"provider_id": 0, "issuer_event_id": event}
    parts = [
        zcl(
            PRICE,
            0x04,
            server_to_client=S2C,
            **head,
            issuer_tariff_id=TARIFF_ID,
            start_time=start,
            tariff_type=tariff_type,
            tariff_label=b"",
            number_of_price_tiers=tiers,
            number_of_block_thresholds=count,
            unit_of_measure=0,
            currency=currency,
            price_trailing_digit=PRICE_TRAILING_DIGIT,
            standing_charge=standing,
            tier_block_mode=NOT_USED,
            block_threshold_multiplier=1,
            block_threshold_divisor=THRESHOLD_DIVISOR,
        )
    ]
    sub = {
        **head,
        "start_time": sub_start,
        "issuer_tariff_id": TARIFF_ID,
        "command_index": 0,
        "total_commands": 1,
    }
    if thresholds is not None and block is not None:
        spec = lookup(PRICE, S2C, 0x06)
        assert spec is not None
        parts.append(
            zcl(
                PRICE,
                0x06,
                server_to_client=S2C,
                **sub,
                sub_payload_control=1,
                tier_and_threshold_count=len(thresholds),
                thresholds=Columns.of(spec.group("thresholds"), threshold=thresholds),
            )
        )
    spec = lookup(PRICE, S2C, 0x05)
    assert spec is not None
    parts.append(
        zcl(
            PRICE,
            0x05,
            server_to_client=S2C,
            **sub,
            sub_payload_control=control,
            prices=Columns.of(spec.group("prices"), tier_block_id=ids, price=price_list),
        )
    )
    return parts


def _tariff_days(switching: Node) -> list[DayProfile]:
    days: list[DayProfile] = []
    for day in child(switching, "DayProfiles").children:
        tou = day.child("TOUTariffAction")
        tier = 0 if tou is None else parse_int(tou.text.strip(), "TOUTariffAction", 1, 4)
        days.append((integer(day, "DayName", 1, 0xFF), [(0, tier)]))
    return days


@translator("1.1.1", GSME)
def update_tariff(body: object, ctx: Context) -> Command:
    """GCS01a: the tariff switching calendar, then the tariff and its prices (device-held
    future-dated: the execution time is every command's start time)."""
    node = body_node(body, "UpdateImportTariffPrimaryElement")
    start = start_time(node)
    elements = child(node, "GasTariffElements")
    switching = child(elements, "SwitchingTable")
    calendar = _calendar(
        ctx,
        TARIFF_CALENDAR_TYPE,
        _calendar_start(start),
        _tariff_days(switching),
        _weeks(switching),
        _seasons(child(switching, "Seasons")),
        _special_days(elements.child("SpecialDays")),
    )
    matrix = elements.child("ThresholdMatrix")
    thresholds = None if matrix is None else _indexed(matrix, "BlockThreshold", 2**48 - 1)
    tariff = _tariff(ctx, start, child(node, "PriceElements"), thresholds)
    return command("GCS01a", gbz(*calendar, *tariff))


@translator("1.2.1", GSME)
def update_price(body: object, ctx: Context) -> Command:
    """GCS01b: the tariff's prices only (device-held future-dated)."""
    node = body_node(body, "UpdatePricePrimaryElement")
    tariff = _tariff(ctx, start_time(node), child(node, "PriceElements"), None)
    return command("GCS01b", gbz(*tariff))


_ACTIONS: Final = {"START": 1, "STOP": 0}


def _minute_of_day(raw: str) -> int:
    try:
        hours, minutes = int(raw[0:2]), int(raw[3:5])
    except ValueError:
        raise DuisSchemaError(f"StartTime: {raw!r} is not a time") from None
    if raw[2:3] != ":" or not (0 <= hours < 24 and 0 <= minutes < 60):
        raise DuisSchemaError(f"StartTime: {raw!r} is not a time")
    return hours * 60 + minutes


@translator("2.1", GSME)
def update_prepay_configuration(body: object, ctx: Context) -> Command:
    """GCS05: emergency credit, debt cap, low-credit warning, maximum credit, then the
    non-disablement (friendly credit) calendar; device-held future-dated."""
    node = body_node(body, "UpdatePrepayConfiguration")
    start = start_time(node)
    gas = child(node, "UpdatePrepayConfigGas")
    event = issuer_event_id(ctx)
    parts: list[Component | GbzComponent] = [
        zcl(
            PREPAYMENT,
            0x03,
            server_to_client=C2S,
            issuer_event_id=event,
            start_time=start,
            emergency_credit_limit=integer(gas, "EmergencyCreditLimit", 0, _U32),
            emergency_credit_threshold=integer(gas, "EmergencyCreditThreshold", 0, _U32),
        ),
        zcl(
            PREPAYMENT,
            0x0C,
            server_to_client=C2S,
            provider_id=0,
            issuer_event_id=event,
            implementation_date_time=start,
            overall_debt_cap=integer(gas, "DebtRecoveryRateCap", *_I32),
        ),
    ]
    low = zcl(
        PREPAYMENT,
        0x09,
        server_to_client=C2S,
        low_credit_warning_level=integer(gas, "LowCreditThreshold", 0, _U32),
    )
    parts.append(GbzComponent.of(cluster_id=PREPAYMENT, command=low[1], from_date_time=start))
    parts.append(
        zcl(
            PREPAYMENT,
            0x0B,
            server_to_client=C2S,
            provider_id=0,
            issuer_event_id=event,
            implementation_date_time=start,
            maximum_credit_level=integer(gas, "MaxMeterBalance", 0, _U32),
            maximum_credit_per_top_up=integer(gas, "MaxCreditThreshold", 0, _U32),
        )
    )
    calendar = child(gas, "GasNonDisablementCalendar")
    days: list[DayProfile] = []
    for day in child(calendar, "DayProfiles").children:
        entries = [
            (_minute_of_day(text(a, "StartTime")), choice(a, "NonDisablementAction", _ACTIONS))
            for a in day.children
            if a.name == "TimeStartAction"
        ]
        days.append((integer(day, "GasDayName", 1, 0xFF), entries))
    parts.extend(
        _calendar(
            ctx,
            FRIENDLY_CREDIT_CALENDAR_TYPE,
            _calendar_start(start),
            days,
            _weeks(calendar),
            _seasons(child(calendar, "SeasonProfiles")),
            _special_days(calendar.child("SpecialDays")),
        )
    )
    components = [
        p if isinstance(p, GbzComponent) else GbzComponent.of(cluster_id=p[0], command=p[1])
        for p in parts
    ]
    numbered = [replace(c, sequence=i) for i, c in enumerate(components)]
    return command("GCS05", GbzMessage.of(components=numbered))
