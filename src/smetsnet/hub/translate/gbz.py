"""GBZ (ZigBee, gas) translators: attribute reads and logs. The other GBZ translators are in
``gbz_prepayment``, ``gbz_settings`` and ``gbz_tariffs``; shared pieces in ``gbz_common``.

Translators: DUIS requests to gas devices (GSME, GPF) and ZigBee logs → GBZ (ZCL) payloads.

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

from collections.abc import Callable
from datetime import datetime
from typing import Final

from smetsnet.duis.bodies import (
    ReadActiveImportProfileData,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.gbz import (
    C2S,
    S2C,
    GbzComponent,
    GbzMessage,
)
from smetsnet.gbcs.gbz.spec import (
    BASIC,
    DEVICE_MANAGEMENT,
    EVENTS,
    METERING,
    PREPAYMENT,
    PRICE,
)
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node
from smetsnet.hub.translate.gbz_common import (
    _U32,
    GPF,
    GSME,
    HCALCS,
    PPMID,
    Component,
    choice,
    command,
    end_time,
    gbz,
    ka_credentials,
    log_period,
    read,
    zcl,
    zcl_time,
)
from smetsnet.hub.translate.gbz_settings import (
    _on_behalf,
)


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
