"""Translators for the non-critical ESME (and CHF) DLMS use cases ECS10–ECS29.

Most are reads: a list of COSEM attributes to get, a profile or log read between two date-times
(a range selector in seconds since 2000, or, for sensitive data, a class-30 "get protected
attributes" action restricted by COSEM date-times), or a fixed set of configuration objects. The
rest are the non-critical writes of the family: supplier message and contact details, change of
tenancy date, privacy PIN, event-log clearing, alert behaviours, voltage configuration and
counter resets.

The attribute lists are GBCS facts (which objects each use case carries, in the order GBCS
lists them), checked against the RTDS 4.5.0 vectors where one exists. A list without a vector is
either *published*: taken from the GBCS use-case tables (the "DLMS COSEM specific content" of
each use case, as HenryGiraldo/gbcs-parser-js ``gbcs-use-cases.html`` reproduces them for GBCS
4.0; each attribute once, in the order of its first row; that rule gives exactly the RTDS command
for every ESME use case that has both), or *inferred*, with the vector it is inferred from.
Every value the DUIS body carries comes from the body. None of these SRs is device-held
future-dated (their ExecutionDateTime, when allowed, is held by the DSP), so no command carries a
GBCS execution date-time.

Several SRs map to more than one use case for the same device type, chosen by a fact about the
device or the user that the body does not carry: single- or polyphase ESME (4.10, 6.2.1, 6.27),
the ESME's and the CHF's use case (6.2.4) and the user's role (6.2.10). The registered
translator takes the first form; the explicit translators (:func:`read_network_data`, ...) take
that fact, for the caller that knows it (see the module's test for what the hub's context still
lacks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from smetsnet.duis import Node, RequestBody
from smetsnet.duis.bodies import ReadActiveImportProfileData, ReadInstantaneousImportRegisters
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_base64, parse_datetime, parse_int
from smetsnet.gbcs.dlms import (
    NULL,
    AccessRequest,
    ActionSpec,
    Array,
    BitString,
    Data,
    DoubleLongUnsigned,
    GetSpec,
    GetWithSelectionSpec,
    Integer,
    LongUnsigned,
    Obis,
    OctetString,
    RequestSpec,
    SetSpec,
    Structure,
    protected_attributes_request,
    seconds_since_2000,
)
from smetsnet.gbcs.dlms.clock import cosem_bytes
from smetsnet.gbcs.dlms.protected import ProtectedObject
from smetsnet.gbcs.registry import message_code_for
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node as _node
from smetsnet.hub.translate.body import child as _child
from smetsnet.inventory.model import DeviceType

ESME, CHF = DeviceType.ESME, DeviceType.CHF
UINT32_MAX = 0xFFFFFFFF

# COSEM classes and methods used here.
DATA, REGISTER, EXTENDED_REGISTER, PROFILE_GENERIC = 1, 3, 4, 7
SCHEDULE, REGISTER_MONITOR, ACTIVITY_CALENDAR, SPECIAL_DAYS = 10, 21, 20, 11
SINGLE_ACTION_SCHEDULE, LIMITER, ACCOUNT, CREDIT, CHARGE = 22, 71, 111, 112, 113
GBCS_EXTENDED_DATA = 9000
RESET = 1  # method 1 of Register and Profile generic: reset (parameter integer 0)
RANGE_SELECTOR = 1
#: The restricting object of every GBCS range read: class 1, 0-0:94.44.100.255, attribute 2.
RANGE_CLOCK = "0-0:94.44.100.255"
#: Limiter attributes: 4 threshold normal, 6 minimum over-threshold duration.
THRESHOLD, DURATION = 4, 6
#: Profile generic attribute 4: capture period.
CAPTURE_PERIOD = 4

Attr = tuple[int, str, int]  # (class id, logical name, attribute id)


# -- body access ----------------------------------------------------------------------------------


def _uint32(node: Node, name: str) -> int:
    return parse_int(_child(node, name).text, name, 0, UINT32_MAX)


def _utc(when: datetime) -> datetime:
    """DUIS date-times are UTC; a value without a zone is taken as UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _cosem(when: datetime) -> bytes:
    return cosem_bytes(_utc(when))


@dataclass(frozen=True, slots=True)
class LogPeriod:
    """``ReadLogPeriod`` (start ≤ end) and the optional unknown-remote-party KA certificate."""

    start: datetime
    end: datetime
    ka_certificate: bytes | None = None


def _log_period(body: RequestBody, element: str) -> LogPeriod:
    if isinstance(body, ReadActiveImportProfileData) and element == body.ELEMENT:
        start, end, cred = body.start, body.end, body.ka_public_security_credentials
    else:
        node = _node(body, element)
        period = _child(node, "ReadLogPeriod")
        start = parse_datetime(_child(period, "StartDateTime").text, "StartDateTime")
        end = parse_datetime(_child(period, "EndDateTime").text, "EndDateTime")
        ka = node.child("KAPublicSecurityCredentials")
        cred = None if ka is None else parse_base64(ka.text, "KAPublicSecurityCredentials")
    start, end = _utc(start), _utc(end)
    if end < start:
        raise DuisSchemaError(f"ReadLogPeriod: EndDateTime {end} is before StartDateTime {start}")
    return LogPeriod(start, end, cred)


def _printable(text: str, field: str, low: int, high: int, alphabet: str | None = None) -> bytes:
    """An XSD-restricted ASCII string (``[ -~]`` unless ``alphabet``), as its bytes."""
    if not low <= len(text) <= high:
        raise DuisSchemaError(f"{field}: {len(text)} characters, not {low}..{high}")
    bad = [c for c in text if (c not in alphabet if alphabet else not " " <= c <= "~")]
    if bad:
        raise DuisSchemaError(f"{field}: {bad[0]!r} is not allowed")
    return text.encode("ascii")


# -- payload building -----------------------------------------------------------------------------
def _get(attr: Attr) -> tuple[RequestSpec, Data]:
    cid, name, attribute = attr
    return GetSpec(class_id=cid, instance=Obis.of(name), attribute_id=attribute), NULL


def _set(attr: Attr, value: Data) -> tuple[RequestSpec, Data]:
    cid, name, attribute = attr
    return SetSpec(class_id=cid, instance=Obis.of(name), attribute_id=attribute), value


def _reset(class_id: int, name: str) -> tuple[RequestSpec, Data]:
    spec = ActionSpec(class_id=class_id, instance=Obis.of(name), method_id=RESET)
    return spec, Integer(value=0)


def _range_read(name: str, period: LogPeriod) -> tuple[RequestSpec, Data]:
    """Profile generic buffer, rows from ``period.start`` to ``period.end`` (all columns)."""
    clock = Structure(
        items=(
            LongUnsigned(value=DATA),
            OctetString(value=Obis.of(RANGE_CLOCK).code),
            Integer(value=2),
            LongUnsigned(value=0),
        )
    )
    descriptor = Structure(
        items=(
            clock,
            DoubleLongUnsigned(value=seconds_since_2000(period.start)),
            DoubleLongUnsigned(value=seconds_since_2000(period.end)),
            Array(items=()),
        )
    )
    spec = GetWithSelectionSpec(
        class_id=PROFILE_GENERIC,
        instance=Obis.of(name),
        attribute_id=2,
        selector=RANGE_SELECTOR,
        parameter=descriptor,
    )
    return spec, NULL


def _command(
    use_case: str,
    payload: AccessRequest,
    *,
    on_behalf_of: Context | None = None,
    certificate: bytes | None = None,
) -> Command:
    """``on_behalf_of``: the user is the supplementary remote party (its counter with it)."""
    return Command(
        use_case=use_case,
        message_code=message_code_for(use_case),
        payload=payload,
        supplementary_remote_party=None if on_behalf_of is None else on_behalf_of.originator,
        supplementary_remote_party_counter=None if on_behalf_of is None else on_behalf_of.counter,
        certificate=certificate,
    )


def _request(use_case: str, ctx: Context, items: Sequence[tuple[RequestSpec, Data]]) -> Command:
    return _command(use_case, AccessRequest.build(items, invoke_id=ctx.counter))


def _gets(use_case: str, ctx: Context, attrs: Sequence[Attr]) -> Command:
    return _request(use_case, ctx, [_get(a) for a in attrs])


def _protected(
    use_case: str,
    ctx: Context,
    collection: str,
    objects: Sequence[Attr],
    period: LogPeriod | None = None,
) -> Command:
    """A sensitive read: class 30 ``collection`` method 1, restricted to ``period`` if given.

    With a KA certificate (an unknown remote party's read) the user becomes the supplementary
    remote party and the certificate travels in the grouping header.
    """
    listed = [
        ProtectedObject(class_id=c, instance=Obis.of(n), attribute_id=a)
        if period is None
        else ProtectedObject.by_date(c, n, a, _cosem(period.start), _cosem(period.end))
        for c, n, a in objects
    ]
    payload = protected_attributes_request(
        listed,
        originator=ctx.originator,
        recipient=ctx.target,
        counter=ctx.counter,
        instance=collection,
    )
    if period is None or period.ka_certificate is None:
        return _command(use_case, payload)
    return _command(use_case, payload, on_behalf_of=ctx, certificate=period.ka_certificate)


def _empty_read(body: RequestBody, element: str) -> None:
    node = _node(body, element)
    if node.children or node.text.strip():
        raise DuisSchemaError(f"{element}: takes no content")


# -- ECS10, ECS12, ECS14, ECS15, ECS16: supplier writes -------------------------------------------
@translator("3.1", ESME)
def display_message(body: RequestBody, ctx: Context) -> Command:
    """ECS10: the supplier message object (0-2:96.13.1.255), ASCII as DUIS restricts it."""
    node = _node(body, "DisplayMessage")
    text = _printable(_child(node, "SupplierMessage").text, "SupplierMessage", 1, 116)
    return _request("ECS10", ctx, [_set((DATA, "0-2:96.13.1.255", 2), OctetString(value=text))])


@translator("3.2", ESME)
def restrict_access_for_change_of_tenancy(body: RequestBody, ctx: Context) -> Command:
    """ECS12: the restrict-data date-time (0-0:94.44.3.2) as a COSEM date-time."""
    node = _node(body, "RestrictAccessForChangeOfTenancy")
    when = parse_datetime(_child(node, "RestrictionDateTime").text, "RestrictionDateTime")
    value = OctetString(value=_cosem(when))
    return _request("ECS12", ctx, [_set((DATA, "0-0:94.44.3.2", 2), value)])


@translator("3.5", ESME)
def disable_privacy_pin(body: RequestBody, ctx: Context) -> Command:
    """ECS14: an empty octet-string to the disable-privacy-PIN object (0-0:94.44.3.1)."""
    _empty_read(body, "DisablePrivacyPIN")
    return _request("ECS14", ctx, [_set((DATA, "0-0:94.44.3.1", 2), OctetString(value=b""))])


#: ESMEEventLogType → (use case, event log); absent means the ESME's own log.
EVENT_LOGS = {"ESME": ("ECS15a", "0-0:99.98.0.255"), "ALCS": ("ECS15c", "0-17:99.98.2.255")}


@translator("3.3", ESME)
def clear_event_log(body: RequestBody, ctx: Context) -> Command:
    """ECS15a / ECS15c: reset (method 1) of the ESME or auxiliary load control switch event log."""
    node = _node(body, "ClearEventLog")
    kind = node.child("ESMEEventLogType")
    key = "ESME" if kind is None else kind.text.strip()
    if key not in EVENT_LOGS:
        raise DuisSchemaError(f"ESMEEventLogType: {key!r} is not ESME or ALCS")
    use_case, log = EVENT_LOGS[key]
    return _request(use_case, ctx, [_reset(PROFILE_GENERIC, log)])


@translator("3.4", ESME)
def update_supplier_name(body: RequestBody, ctx: Context) -> Command:
    """ECS16 [inferred, no vector]: supplier name (0-0:96.13.1.255) and telephone number
    (0-0:96.13.0.255), class 1 attribute 2, as octet-strings, in DUIS order."""
    node = _node(body, "UpdateSupplierName")
    name = _printable(_child(node, "SupplierName").text, "SupplierName", 0, 15)
    phone = _printable(
        _child(node, "SupplierTelephoneNumber").text,
        "SupplierTelephoneNumber",
        0,
        18,
        alphabet="0123456789 ",
    )
    items = [
        _set((DATA, "0-0:96.13.1.255", 2), OctetString(value=name)),
        _set((DATA, "0-0:96.13.0.255", 2), OctetString(value=phone)),
    ]
    return _request("ECS16", ctx, items)


# -- ECS17–ECS19: registers -----------------------------------------------------------------------
@translator("4.2", ESME)
def read_instantaneous_export_registers(body: RequestBody, ctx: Context) -> Command:
    """ECS17a: active and reactive export registers, value and scaler-unit."""
    _empty_read(body, "ReadInstantaneousExportRegisters")
    attrs = [(REGISTER, n, a) for n in ("1-0:2.8.0.255", "1-0:4.8.0.255") for a in (2, 3)]
    return _gets("ECS17a", ctx, attrs)


@translator("4.1.1", ESME)
def read_instantaneous_import_registers(body: RequestBody, ctx: Context) -> Command:
    """ECS17b: the import register collection (sensitive). A DSP-held ExecutionDateTime is the
    hub's to hold, so it does not reach the command."""
    if not isinstance(body, ReadInstantaneousImportRegisters):
        _node(body, ReadInstantaneousImportRegisters.ELEMENT)  # raises: wrong body
    return _protected("ECS17b", ctx, "0-0:43.2.8.255", [(DATA, "0-0:94.44.34.10", 2)])


@translator("4.1.3", ESME)
def read_instantaneous_import_tou_with_blocks(body: RequestBody, ctx: Context) -> Command:
    """ECS17e: the tariff block TOU register collection (sensitive)."""
    _empty_read(body, "ReadInstantaneousImportTOUWithBlocksMatrices")
    return _protected("ECS17e", ctx, "0-0:43.2.10.255", [(DATA, "0-0:94.44.34.2", 2)])


@translator("4.1.2", ESME)
def read_instantaneous_import_tou(body: RequestBody, ctx: Context) -> Command:
    """ECS17d [published]: the TOU register collection (sensitive), 0-0:94.44.34.1 attribute 2
    through collection 0-0:43.2.9.255. One value holds the primary TOU registers and, on a
    twin-element ESME, the secondary ones, so single and twin send the same command."""
    _empty_read(body, "ReadInstantaneousImportTOUMatrices")
    return _protected("ECS17d", ctx, "0-0:43.2.9.255", [(DATA, "0-0:94.44.34.1", 2)])


@translator("4.3", ESME)
def read_instantaneous_prepay_values(body: RequestBody, ctx: Context) -> Command:
    """ECS19 [published]: the prepayment balance collection (sensitive), 0-0:94.44.34.30
    attribute 2 (meter, emergency credit, accumulated debt, time debt 1 and 2 and payment debt
    balances) through collection 0-0:43.2.1.255."""
    _empty_read(body, "ReadInstantaneousPrepayValues")
    return _protected("ECS19", ctx, "0-0:43.2.1.255", [(DATA, "0-0:94.44.34.30", 2)])


@translator("4.16", ESME)
def read_active_power_import(body: RequestBody, ctx: Context) -> Command:
    """ECS17c: the power import collection."""
    _empty_read(body, "ReadActivePowerImport")
    return _gets("ECS17c", ctx, [(DATA, "0-0:94.44.34.20", 2)])


def _max_demand(name: str) -> list[Attr]:
    return [(EXTENDED_REGISTER, name, a) for a in (2, 3, 5)]  # value, scaler-unit, capture time


@translator("4.12.2", ESME)
def read_maximum_demand_export_registers(body: RequestBody, ctx: Context) -> Command:
    """ECS18a: the export maximum demand and its reset date-time object."""
    _empty_read(body, "ReadMaximumDemandExportRegisters")
    attrs = [(DATA, "0-0:94.44.5.2", 2), *_max_demand("1-0:2.6.0.255")]
    return _gets("ECS18a", ctx, attrs)


@translator("4.12.1", ESME)
def read_maximum_demand_import_registers(body: RequestBody, ctx: Context) -> Command:
    """ECS18b: both import maximum demands, their settings and the MD reset schedule."""
    _empty_read(body, "ReadMaximumDemandImportRegisters")
    attrs = [
        (DATA, "0-0:94.44.5.0", 2),
        (DATA, "0-0:94.44.5.1", 2),
        *_max_demand("1-0:1.6.0.255"),
        *_max_demand("1-0:1.6.1.255"),
        (SCHEDULE, "0-0:12.0.0.255", 2),
    ]
    return _gets("ECS18b", ctx, attrs)


# -- ECS20–ECS22: logs and profiles between two date-times ----------------------------------------
@translator("4.4.2", ESME)
def retrieve_com_or_tariff_triggered_billing_data_log(body: RequestBody, ctx: Context) -> Command:
    """ECS20b: the change of mode / tariff triggered billing data log (sensitive)."""
    period = _log_period(body, "RetrieveCoMOrTariffTriggeredBillingDataLog")
    objects = [(PROFILE_GENERIC, "0-0:98.1.2.255", 2)]
    return _protected("ECS20b", ctx, "0-0:43.2.3.255", objects, period)


@translator("4.4.3", ESME)
def retrieve_billing_calendar_triggered_billing_data_log(
    body: RequestBody, ctx: Context
) -> Command:
    """ECS20c: both billing calendar triggered billing data logs (sensitive)."""
    period = _log_period(body, "RetrieveBillingCalendarTriggeredBillingDataLog")
    objects = [(PROFILE_GENERIC, "0-0:98.1.0.255", 2), (PROFILE_GENERIC, "0-0:98.1.1.255", 2)]
    return _protected("ECS20c", ctx, "0-0:43.2.2.255", objects, period)


@translator("4.4.4", ESME)
def retrieve_billing_data_log_debt_payments(body: RequestBody, ctx: Context) -> Command:
    """ECS20a [published]: the payment-based debt payments billing data log (0-0:98.1.4.255)
    rows in the period (not sensitive: a range read, as ECS20d)."""
    period = _log_period(body, "RetrieveBillingDataLogDebtPayments")
    return _request("ECS20a", ctx, [_range_read("0-0:98.1.4.255", period)])


@translator("4.4.5", ESME)
def retrieve_billing_data_log_prepayment_credits(body: RequestBody, ctx: Context) -> Command:
    """ECS20d: the billing data log rows in the period."""
    period = _log_period(body, "RetrieveBillingDataLogPrepaymentCredits")
    return _request("ECS20d", ctx, [_range_read("0-0:98.1.5.255", period)])


@translator("4.6.1", ESME)
def retrieve_import_daily_read_log(body: RequestBody, ctx: Context) -> Command:
    """ECS21a: the daily read log (sensitive)."""
    period = _log_period(body, "RetrieveImportDailyReadLog")
    objects = [(PROFILE_GENERIC, "0-0:98.1.9.255", 2)]
    return _protected("ECS21a", ctx, "0-0:43.2.5.255", objects, period)


@translator("4.6.2", ESME)
def retrieve_export_daily_read_log(body: RequestBody, ctx: Context) -> Command:
    """ECS21c [published]: the export daily read log (0-0:98.1.10.255) rows in the period (not
    sensitive: a range read)."""
    period = _log_period(body, "RetrieveExportDailyReadLog")
    return _request("ECS21c", ctx, [_range_read("0-0:98.1.10.255", period)])


@translator("4.14", ESME)
def read_prepayment_daily_read_log(body: RequestBody, ctx: Context) -> Command:
    """ECS21b: the prepayment daily read log (sensitive); an unknown remote party adds its KA
    certificate."""
    period = _log_period(body, "ReadPrepaymentDailyReadLog")
    objects = [(PROFILE_GENERIC, "0-0:98.1.8.255", 2)]
    return _protected("ECS21b", ctx, "0-0:43.2.6.255", objects, period)


@translator("4.8.3", ESME)
def read_export_profile_data(body: RequestBody, ctx: Context) -> Command:
    """ECS22a: export half-hour profile rows in the period."""
    period = _log_period(body, "ReadExportProfileData")
    return _request("ECS22a", ctx, [_range_read("0-0:99.1.1.255", period)])


@translator("4.8.2", ESME)
def read_reactive_import_profile_data(body: RequestBody, ctx: Context) -> Command:
    """ECS22c [published]: reactive import half-hour profile (0-0:99.1.2.255) rows in the
    period (not sensitive: a range read, as ECS22a)."""
    period = _log_period(body, "ReadReactiveImportProfileData")
    return _request("ECS22c", ctx, [_range_read("0-0:99.1.2.255", period)])


@translator("4.8.1", ESME)
def read_active_import_profile_data(body: RequestBody, ctx: Context) -> Command:
    """ECS22b: active import half-hour profile (sensitive)."""
    period = _log_period(body, ReadActiveImportProfileData.ELEMENT)
    objects = [(PROFILE_GENERIC, "0-0:99.1.0.255", 2)]
    return _protected("ECS22b", ctx, "0-0:43.2.7.255", objects, period)


# -- ECS23, ECS24: network and tariff data --------------------------------------------------------
#: OBIS group C of the voltage objects per phase (L1, L2, L3).
PHASE_GROUP = {1: 32, 2: 52, 3: 72}


def read_network_data(body: RequestBody, ctx: Context, *, polyphase: bool) -> Command:
    """ECS23 (single-phase) / ECS23b (polyphase): per phase, the average RMS over/under voltage
    counters (value, scaler-unit), the average RMS voltage profile rows in the period and its
    capture period."""
    period = _log_period(body, "ReadNetworkData")
    items: list[tuple[RequestSpec, Data]] = []
    for phase in (1, 2, 3) if polyphase else (1,):
        c = PHASE_GROUP[phase]
        for counter in (f"1-0:{c}.32.0.4", f"1-0:{c}.36.0.4"):
            items += [_get((REGISTER, counter, 2)), _get((REGISTER, counter, 3))]
        profile = f"1-0:{c}.24.0.255"
        items += [_range_read(profile, period), _get((PROFILE_GENERIC, profile, CAPTURE_PERIOD))]
    return _request("ECS23b" if polyphase else "ECS23", ctx, items)


@translator("4.10", ESME)
def read_network_data_single_phase(body: RequestBody, ctx: Context) -> Command:
    return read_network_data(body, ctx, polyphase=False)


@translator("4.11.1", ESME)
def read_tariff_primary_element(body: RequestBody, ctx: Context) -> Command:
    """ECS24: the primary element's tariff: TOU register, calendar, special days, block
    thresholds, currency, standing charge and price matrix."""
    _empty_read(body, "ReadTariffPrimaryElement")
    attrs: list[Attr] = [
        (REGISTER, "0-0:94.44.1.7", 2),
        (REGISTER, "0-0:94.44.1.7", 3),
        (ACTIVITY_CALENDAR, "0-0:13.0.0.255", 3),
        (ACTIVITY_CALENDAR, "0-0:13.0.0.255", 4),
        (ACTIVITY_CALENDAR, "0-0:13.0.0.255", 5),
        (SPECIAL_DAYS, "0-0:11.0.0.255", 2),
        *[(REGISTER_MONITOR, f"0-0:16.0.{e}.255", 2) for e in range(11, 19)],
        (GBCS_EXTENDED_DATA, "0-0:94.44.2.0", 2),
        (CHARGE, "0-0:19.20.4.255", 5),
        (CHARGE, "0-0:19.20.0.255", 5),
    ]
    return _gets("ECS24", ctx, attrs)


@translator("4.11.2", ESME)
def read_tariff_secondary_element(body: RequestBody, ctx: Context) -> Command:
    """ECS24b [published]: the secondary element's tariff: its price (0-0:19.20.5.255 active
    unit charge), TOU register (0-0:94.44.1.8 value and scaler-unit), special days
    (0-0:11.0.1.255) and calendar (0-0:13.0.1.255 active season, week and day profiles)."""
    _empty_read(body, "ReadTariffSecondaryElement")
    attrs: list[Attr] = [
        (CHARGE, "0-0:19.20.5.255", 5),
        (REGISTER, "0-0:94.44.1.8", 2),
        (REGISTER, "0-0:94.44.1.8", 3),
        (SPECIAL_DAYS, "0-0:11.0.1.255", 2),
        (ACTIVITY_CALENDAR, "0-0:13.0.1.255", 3),
        (ACTIVITY_CALENDAR, "0-0:13.0.1.255", 4),
        (ACTIVITY_CALENDAR, "0-0:13.0.1.255", 5),
    ]
    return _gets("ECS24b", ctx, attrs)


# -- ECS25: event and alert behaviours ------------------------------------------------------------
#: Body element → (use case, object). OBIS group B: 30 supplier, 33 network operator; group E:
#: 11 alerts, 12 to HAN devices, 13 audible alarm, 14 logging. ECS25a and ECS25a3 are inferred
#: from that pattern (no vector).
BEHAVIOURS = {
    "ElectricitySupplierAlerts": ("ECS25a", "0-30:97.98.11.255"),
    "ElectricitySupplierHANAlertSettings": ("ECS25a1", "0-30:97.98.12.255"),
    "ElectricitySupplierAlarmSettings": ("ECS25a2", "0-30:97.98.13.255"),
    "ElectricitySupplierLoggingSettings": ("ECS25a3", "0-30:97.98.14.255"),
    "ElectricityNetworkOperatorAlerts": ("ECS25b", "0-33:97.98.11.255"),
    "ElectricityNetworkOperatorLoggingSettings": ("ECS25b3", "0-33:97.98.14.255"),
}
#: The event-code group each settings group configures (the high byte of its codes).
BEHAVIOUR_GROUPS = {"SupplierESMECommon": 0x81, "NetworkOperatorESMECommon": 0x80}
#: Groups the ESME behaviour object does not carry: the polyphase events are absent from the
#: ECS25b command DCC built from a request that set one (RTDS), so they are not sent.
NOT_CARRIED = frozenset({"SupplierESMEPolyPhase", "NetworkOperatorESMEPolyPhase"})
BEHAVIOUR_BITS = 256  # one bit per low byte of the event code


def behaviour_bits(settings: Sequence[tuple[int, bool]]) -> BitString:
    """512 bits: a 256-bit mask of the events being set, then their 256 enable bits. Event
    ``0xXXnn`` is bit ``nn`` counted from the end of each half (so 0x81FF is the first bit)."""
    mask = value = 0
    for code, enable in settings:
        bit = 1 << (code & 0xFF)
        mask |= bit
        if enable:
            value |= bit
    whole = (mask << BEHAVIOUR_BITS) | value
    return BitString(bits=2 * BEHAVIOUR_BITS, data=whole.to_bytes(2 * BEHAVIOUR_BITS // 8, "big"))


def _behaviour_settings(group: Node) -> list[tuple[int, bool]]:
    high = BEHAVIOUR_GROUPS.get(group.name)
    if high is None:
        raise DuisSchemaError(f"{group.name}: not an ESME event group")
    out = []
    for leaf in group.children:
        try:
            code = int(leaf.name.removeprefix("x"), 16)
        except ValueError:
            raise DuisSchemaError(f"{group.name}: {leaf.name} is not an event code") from None
        if code >> 8 != high or not leaf.name.startswith("x"):
            raise DuisSchemaError(f"{group.name}: {leaf.name} is not in its event range")
        state = leaf.text.strip()
        if state not in ("Enable", "Disable"):
            raise DuisSchemaError(f"{leaf.name}: {state!r} is not Enable or Disable")
        out.append((code, state == "Enable"))
    return out


@translator("6.22", ESME)
def configure_alert_behaviour(body: RequestBody, ctx: Context) -> Command:
    """ECS25a/a1/a2/a3/b/b3: chosen by the settings element the body carries."""
    node = _node(body, "ConfigureAlertBehaviour")
    if len(node.children) != 1:
        raise DuisSchemaError("ConfigureAlertBehaviour: exactly one settings element expected")
    settings_node = node.children[0]
    chosen = BEHAVIOURS.get(settings_node.name)
    if chosen is None:
        raise DuisSchemaError(f"ConfigureAlertBehaviour: {settings_node.name} is not for an ESME")
    use_case, obj = chosen
    settings: list[tuple[int, bool]] = []
    for group in settings_node.children:
        if group.name not in NOT_CARRIED:
            settings += _behaviour_settings(group)
    if not settings:
        raise DuisSchemaError(f"{settings_node.name}: no event to configure")
    return _request(use_case, ctx, [_set((DATA, obj, 2), behaviour_bits(settings))])


#: ECS25r1 [inferred: ECS25r2's objects 15 and 18 read back 11 and 14, so the supplier's four
#: objects 11–14 read back as 15–18] and ECS25r2 (RTDS).
BEHAVIOUR_READS = {
    "ECS25r1": [(DATA, f"0-30:97.98.{e}.255", 2) for e in (15, 16, 17, 18)],
    "ECS25r2": [(DATA, f"0-33:97.98.{e}.255", 2) for e in (15, 18)],
}


def read_event_and_alert_behaviours(
    body: RequestBody, ctx: Context, *, network_operator: bool
) -> Command:
    """ECS25r1 (supplier) / ECS25r2 (network operator): the user's role chooses."""
    _empty_read(body, "ReadDeviceConfigurationEventAndAlertBehaviours")
    use_case = "ECS25r2" if network_operator else "ECS25r1"
    return _gets(use_case, ctx, BEHAVIOUR_READS[use_case])


@translator("6.2.10", ESME)
def read_event_and_alert_behaviours_supplier(body: RequestBody, ctx: Context) -> Command:
    return read_event_and_alert_behaviours(body, ctx, network_operator=False)


# -- ECS26, ECS27: configuration reads ------------------------------------------------------------
def _voltage_config(phases: Sequence[int]) -> list[Attr]:
    """Limiters 1–4 (extreme over/under, sag, swell: threshold and duration), then per phase
    the average RMS over and under voltage thresholds, in the order ECS26k lists them."""
    attrs: list[Attr] = [
        (LIMITER, f"0-0:17.0.{n}.255", a) for n in (1, 2, 3, 4) for a in (THRESHOLD, DURATION)
    ]
    for phase in phases:
        c = PHASE_GROUP[phase]
        pair = (f"1-0:{c}.35.0.4", f"1-0:{c}.31.0.4")
        attrs += [(DATA, n, 2) for n in (pair if phase == 1 else pair[::-1])]
    return attrs


def read_configuration_voltage(body: RequestBody, ctx: Context, *, polyphase: bool) -> Command:
    """ECS26b (single-phase; inferred from ECS26k limited to phase 1) / ECS26k (polyphase)."""
    _empty_read(body, "ReadDeviceConfigurationVoltage")
    if polyphase:
        return _gets("ECS26k", ctx, _voltage_config((1, 2, 3)))
    return _gets("ECS26b", ctx, _voltage_config((1,)))


@translator("6.2.1", ESME)
def read_configuration_voltage_single_phase(body: RequestBody, ctx: Context) -> Command:
    return read_configuration_voltage(body, ctx, polyphase=False)


@translator("6.2.2", ESME)
def read_configuration_randomisation(body: RequestBody, ctx: Context) -> Command:
    """ECS26c: the randomisation settings."""
    _empty_read(body, "ReadDeviceConfigurationRandomisation")
    attrs = [(DATA, f"0-0:94.44.0.{e}", 2) for e in (0, 2, 1)]
    return _gets("ECS26c", ctx, attrs)


@translator("6.2.3", ESME)
def read_configuration_billing_calendar(body: RequestBody, ctx: Context) -> Command:
    """ECS26l: the billing calendar's execution times (all periodicities)."""
    _empty_read(body, "ReadDeviceConfigurationBillingCalendar")
    return _gets("ECS26l", ctx, [(SINGLE_ACTION_SCHEDULE, "0-0:15.0.0.255", 4)])


#: ESME identity reads: ECS26e (RTDS: device identity exc MPAN) and ECS26m [published: meter
#: variant, model, manufacturer and supply tamper state; no device id 0-0:96.1.1.255].
ESME_IDENTITY: dict[str, list[Attr]] = {
    "ECS26e": [(DATA, f"0-0:96.1.{e}.255", 2) for e in (1, 2, 4, 6)] + [(DATA, "0-0:94.44.0.4", 2)],
    "ECS26m": [(DATA, f"0-0:96.1.{e}.255", 2) for e in (2, 4, 6)] + [(DATA, "0-0:94.44.0.4", 2)],
}


def read_esme_identity(body: RequestBody, ctx: Context, *, use_case: str) -> Command:
    """ECS26e / ECS26m: the same request; which one the DCC sends is a fact about the ESME
    (RTDS 4.5.0 sends ECS26e; GBCS 2.1 onwards publishes ECS26m only), not in the body."""
    _empty_read(body, "ReadDeviceConfigurationIdentityExcMPxN")
    attrs = ESME_IDENTITY.get(use_case)
    if attrs is None:
        raise ValueError(f"{use_case} is not an ESME identity read")
    return _gets(use_case, ctx, attrs)


@translator("6.2.4", ESME)
def read_configuration_identity(body: RequestBody, ctx: Context) -> Command:
    return read_esme_identity(body, ctx, use_case="ECS26e")


#: CHF identity reads: ECS26i and ECS26n (CH identity and type).
CHF_IDENTITY = {
    "ECS26i": [(DATA, f"0-0:96.1.{e}.255", 2) for e in (1, 4, 6)],
    "ECS26n": [(DATA, f"0-0:96.1.{e}.255", 2) for e in (4, 6)],
}


def read_chf_identity(body: RequestBody, ctx: Context, *, use_case: str) -> Command:
    """ECS26i / ECS26n: sent by the DCC to its comms hub on the user's behalf, so the user is
    the supplementary remote party (``ctx.counter`` must be the DCC's originator counter)."""
    _empty_read(body, "ReadDeviceConfigurationIdentityExcMPxN")
    attrs = CHF_IDENTITY.get(use_case)
    if attrs is None:
        raise ValueError(f"{use_case} is not a CHF identity read")
    payload = AccessRequest.build([_get(a) for a in attrs], invoke_id=ctx.counter)
    return _command(use_case, payload, on_behalf_of=ctx)


@translator("6.2.4", CHF)
def read_chf_identity_default(body: RequestBody, ctx: Context) -> Command:
    return read_chf_identity(body, ctx, use_case="ECS26i")


@translator("6.2.5", ESME)
def read_configuration_power_thresholds(body: RequestBody, ctx: Context) -> Command:
    """ECS26f: the instantaneous power threshold register monitor."""
    _empty_read(body, "ReadDeviceConfigurationInstantaneousPowerThresholds")
    return _gets("ECS26f", ctx, [(REGISTER_MONITOR, "0-0:16.0.0.255", 2)])


@translator("6.2.9", ESME)
def read_configuration_payment_mode(body: RequestBody, ctx: Context) -> Command:
    """ECS26j: the account (payment mode)."""
    _empty_read(body, "ReadDeviceConfigurationPaymentMode")
    return _gets("ECS26j", ctx, [(ACCOUNT, "0-0:19.0.0.255", 2)])


#: ECS26a [published]: debt recovery rates 1 and 2 (active unit charge, period), the
#: non-disablement special days, debt recovery per payment (proportion), maximum credit
#: threshold, disablement threshold, maximum meter balance, low credit threshold, debt recovery
#: rate cap (amount, period), emergency credit limit and threshold, the non-disablement
#: calendar and the credit charge configuration. GBCS lists debt recovery rate 1's unit charge
#: twice (rows 1052–1093 and 1942–1954), apart; it is read once, where first listed.
PREPAYMENT_CONFIGURATION: list[Attr] = [
    (CHARGE, "0-0:19.20.1.255", 5),
    (SPECIAL_DAYS, "0-0:11.0.2.255", 2),
    (CHARGE, "0-0:19.20.1.255", 8),
    (CHARGE, "0-0:19.20.2.255", 5),
    (CHARGE, "0-0:19.20.2.255", 8),
    (CHARGE, "0-0:19.20.3.255", 13),
    (GBCS_EXTENDED_DATA, "0-0:94.44.2.10", 2),
    (REGISTER_MONITOR, "0-0:16.0.1.255", 2),
    (GBCS_EXTENDED_DATA, "0-0:94.44.2.20", 2),
    (ACCOUNT, "0-0:19.0.0.255", 16),
    (ACCOUNT, "0-0:19.0.0.255", 18),
    (ACCOUNT, "0-0:19.0.0.255", 19),
    (CREDIT, "0-0:19.10.1.255", 9),
    (CREDIT, "0-0:19.10.1.255", 10),
    (SCHEDULE, "0-0:12.0.1.255", 2),
    (ACCOUNT, "0-0:19.0.0.255", 11),
]


@translator("4.13", ESME)
def read_prepayment_configuration(body: RequestBody, ctx: Context) -> Command:
    """ECS26a [published]: the prepayment configuration (:data:`PREPAYMENT_CONFIGURATION`);
    single and twin element ESMEs are sent the same command."""
    _empty_read(body, "ReadPrepaymentConfiguration")
    return _gets("ECS26a", ctx, PREPAYMENT_CONFIGURATION)


LOAD_LIMIT_COUNTER = "0-0:94.44.42.255"


@translator("4.15", ESME)
def read_load_limit_data(body: RequestBody, ctx: Context) -> Command:
    """ECS27: load limit settings, the load limit counter and the load limiter."""
    _empty_read(body, "ReadLoadLimitData")
    attrs: list[Attr] = [
        (GBCS_EXTENDED_DATA, "0-0:94.44.0.3", 2),
        (REGISTER, LOAD_LIMIT_COUNTER, 2),
        (REGISTER, LOAD_LIMIT_COUNTER, 3),
        *[(LIMITER, "0-0:17.0.0.255", a) for a in (4, 6, 7)],
    ]
    return _gets("ECS27", ctx, attrs)


@translator("6.4.2", ESME)
def reset_load_limit_counter(body: RequestBody, ctx: Context) -> Command:
    """ECS28b [inferred: the counter ECS27 reads, reset as ECS29e resets its registers]."""
    _empty_read(body, "UpdateDeviceConfigurationLoadLimitingCounterReset")
    return _request("ECS28b", ctx, [_reset(REGISTER, LOAD_LIMIT_COUNTER)])


# -- ECS29: voltage configuration -----------------------------------------------------------------
#: RMSVoltageSettings → limiter: (threshold element, duration element).
LIMITERS = {
    1: ("RMSExtremeOverVoltageThreshold", "RMSExtremeOverVoltageMeasurementPeriod"),
    2: ("RMSExtremeUnderVoltageThreshold", "RMSExtremeUnderVoltageMeasurementPeriod"),
    3: ("RMSVoltageSagThreshold", "RMSVoltageSagMeasurementPeriod"),
    4: ("RMSVoltageSwellThreshold", "RMSVoltageSwellMeasurementPeriod"),
}


def _phase_settings(node: Node) -> dict[int, Node]:
    """Phase → AverageRMSVoltageSettings: one single-phase set, or phases 1, 2 and 3."""
    single = node.child("SinglePhaseVoltageSettings")
    poly = [c for c in node.children if c.name == "PolyPhaseVoltageSettings"]
    if (single is None) == (not poly):
        raise DuisSchemaError(
            f"{node.name}: SinglePhaseVoltageSettings or PolyPhaseVoltageSettings expected"
        )
    if single is not None:
        return {1: single}
    out: dict[int, Node] = {}
    for p in poly:
        phase = parse_int(_child(p, "Phase").text, "Phase", 1, 3)
        if phase in out:
            raise DuisSchemaError(f"PolyPhaseVoltageSettings: phase {phase} given twice")
        out[phase] = _child(p, "PhaseVoltageSettings")
    if set(out) != {1, 2, 3}:
        raise DuisSchemaError(f"PolyPhaseVoltageSettings: phases 1, 2 and 3 expected, got {out}")
    return out


def _dlu(value: int) -> DoubleLongUnsigned:
    return DoubleLongUnsigned(value=value)


@translator("6.5", ESME)
def update_configuration_voltage(body: RequestBody, ctx: Context) -> Command:
    """ECS29a/b (counters reset) and ECS29c/d (``RMSVoltageCountersNotReset``), single-phase or
    polyphase as the body's settings say; each in its use case's order (ECS29c inferred as
    ECS29d limited to phase 1)."""
    node = _node(body, "UpdateDeviceConfigurationVoltage")
    rms = _child(node, "RMSVoltageSettings")
    limiters: list[tuple[RequestSpec, Data]] = []
    for n, (threshold, duration) in LIMITERS.items():
        name = f"0-0:17.0.{n}.255"
        limiters.append(_set((LIMITER, name, THRESHOLD), _dlu(_uint32(rms, threshold))))
        limiters.append(_set((LIMITER, name, DURATION), _dlu(_uint32(rms, duration))))
    phases = _phase_settings(node)
    polyphase = len(phases) == 3
    reset = node.child("RMSVoltageCountersNotReset") is None
    periods, thresholds, resets = [], [], []
    for phase, s in sorted(phases.items()):
        c = PHASE_GROUP[phase]
        period = _uint32(s, "AverageRMSVoltageMeasurementPeriod")
        periods.append(_set((PROFILE_GENERIC, f"1-0:{c}.24.0.255", CAPTURE_PERIOD), _dlu(period)))
        over = _set(
            (DATA, f"1-0:{c}.35.0.4", 2), _dlu(_uint32(s, "AverageRMSOverVoltageThreshold"))
        )
        under = _set(
            (DATA, f"1-0:{c}.31.0.4", 2), _dlu(_uint32(s, "AverageRMSUnderVoltageThreshold"))
        )
        # With the reset, DCC lists phase 1 over-then-under and the others under-then-over.
        thresholds += [over, under] if reset and phase == 1 else [under, over]
        resets += [_reset(REGISTER, f"1-0:{c}.32.0.4"), _reset(REGISTER, f"1-0:{c}.36.0.4")]
    if reset:
        use_case = "ECS29b" if polyphase else "ECS29a"
        items = periods + limiters + thresholds + resets
    else:
        use_case = "ECS29d" if polyphase else "ECS29c"
        items = thresholds + periods + limiters
    return _request(use_case, ctx, items)


def reset_rms_voltage_counters(body: RequestBody, ctx: Context, *, polyphase: bool) -> Command:
    """ECS29e (single-phase) / ECS29f (polyphase): reset the average RMS over/under voltage
    counters of each phase."""
    _empty_read(body, "UpdateDeviceConfigurationRMSVoltageCounterReset")
    items = [
        _reset(REGISTER, f"1-0:{PHASE_GROUP[p]}.{e}.0.4")
        for p in ((1, 2, 3) if polyphase else (1,))
        for e in (32, 36)
    ]
    return _request("ECS29f" if polyphase else "ECS29e", ctx, items)


@translator("6.27", ESME)
def reset_rms_voltage_counters_single_phase(body: RequestBody, ctx: Context) -> Command:
    return reset_rms_voltage_counters(body, ctx, polyphase=False)
