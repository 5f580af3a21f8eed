"""DUIS headers and the simple values they carry (sans-I/O).

RequestID and ResponseID share one shape (XSD ``RequestIDType`` / ``ResponseIDType``):
``<EUI>:<EUI>:<counter>`` with EUIs as ``90-B3-D5-1F-30-01-00-00`` and a decimal counter below
2**64. A request names originator then target; a device's response reverses them (device, then
user). The counter is the GBCS originator counter (DOMAIN.md §1.2).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from smetsnet.duis.errors import DuisSchemaError

# Written out pair by pair rather than as ``[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}``: the same
# language, but re matches it in about half the time (no repeated group to track).
_EUI = "-".join(["[0-9A-Fa-f][0-9A-Fa-f]"] * 8)
_EUI_RE = re.compile(_EUI + r"\Z")
_ID_RE = re.compile(rf"({_EUI}):({_EUI}):(0|[1-9][0-9]{{0,19}})\Z")
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6})\d*)?(Z|[+-]\d\d:\d\d)?\Z"
)
_DATE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)\Z")
COUNTER_LIMIT = 1 << 64
COMMAND_VARIANTS = range(1, 9)


def parse_eui(text: str, field: str) -> bytes:
    if not _EUI_RE.match(text):
        raise DuisSchemaError(f"{field}: {text!r} is not an EUI-64 like 90-B3-D5-1F-30-01-00-00")
    return bytes.fromhex(text.replace("-", ""))


def format_eui(eui: bytes) -> str:
    return eui.hex("-").upper()


def parse_datetime(text: str, field: str) -> datetime:
    """xs:dateTime; fractions beyond microseconds are dropped, no zone gives a naive value."""
    m = _DATETIME_RE.match(text.strip())
    if m is None:
        raise DuisSchemaError(f"{field}: {text!r} is not an xs:dateTime")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    tz: timezone | None = None
    if zone == "Z":
        tz = UTC
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int((frac or "0").ljust(6, "0")), tzinfo=tz,
        )  # fmt: skip
    except ValueError as exc:
        raise DuisSchemaError(f"{field}: {text!r}: {exc}") from None


def format_datetime(value: datetime) -> str:
    """Write as DUIS samples do: centiseconds and ``Z`` (``2015-01-01T00:00:00.00Z``)."""
    if value.year >= 1000:  # what strftime writes, a third of its cost (twice a request)
        text = (
            f"{value.year:d}-{value.month:02d}-{value.day:02d}"
            f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        )
    else:  # strftime's %Y does not pad a year below 1000: keep its spelling
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micro = value.microsecond
    text += f".{micro // 10_000:02d}" if micro % 10_000 == 0 else f".{micro:06d}"
    offset = value.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_date(text: str, field: str) -> date:
    m = _DATE_RE.match(text.strip())
    try:
        if m is None:
            raise ValueError("not YYYY-MM-DD")
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise DuisSchemaError(f"{field}: {text!r} is not an xs:date ({exc})") from None


def parse_base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DuisSchemaError(f"{field}: not base64 ({exc})") from None


def format_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def parse_hex(text: str, field: str) -> bytes:
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise DuisSchemaError(f"{field}: {text!r} is not xs:hexBinary") from None


def parse_int(text: str, field: str, low: int | None = None, high: int | None = None) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise DuisSchemaError(f"{field}: {text!r} is not an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise DuisSchemaError(f"{field}: {value} is outside {low}..{high}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageId:
    """``originator:target:counter`` (a RequestID; for a ResponseID, device then user)."""

    originator: bytes
    target: bytes
    counter: int

    def __post_init__(self) -> None:
        if len(self.originator) != 8 or len(self.target) != 8:
            raise DuisSchemaError("RequestID: EUIs must be 8 bytes")
        if not 0 <= self.counter < COUNTER_LIMIT:
            raise DuisSchemaError(f"RequestID: counter {self.counter} is not below 2**64")

    @classmethod
    def parse(cls, text: str, field: str = "RequestID") -> MessageId:
        m = _ID_RE.match(text.strip())
        if m is None:
            raise DuisSchemaError(f"{field}: {text!r} is not <EUI>:<EUI>:<counter>")
        originator, target, digits = m.groups()
        counter = int(digits)
        if counter >= COUNTER_LIMIT:
            raise DuisSchemaError(f"{field}: counter {counter} is not below 2**64")
        # The pattern and the limit above are __post_init__'s checks; skip its overhead (a
        # header holds two of these and parsing a whole request takes ~40 us).
        value: MessageId = _new_object(cls)
        _set_originator(value, _fromhex(originator.replace("-", "")))
        _set_target(value, _fromhex(target.replace("-", "")))
        _set_counter(value, counter)
        return value

    def __str__(self) -> str:
        return f"{format_eui(self.originator)}:{format_eui(self.target)}:{self.counter}"


_new_object = object.__new__
_fromhex = bytes.fromhex
# Slot setters bound once: the dataclass __init__ of a frozen class sets each field through
# object.__setattr__ (about 2,000 CPU instructions a field); these take about a third of that.
_set_originator, _set_target, _set_counter = (
    MessageId.__dict__[name].__set__ for name in ("originator", "target", "counter")
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHeader:
    """``sr:Request/sr:Header``; ServiceReference is kept as written (always the SRV's first two
    parts in the templates; the hub checks that, not the parser)."""

    request_id: MessageId
    command_variant: int
    service_reference: str
    service_reference_variant: str
    first_in_sequence: bool | None = None
    preceding_request_id: MessageId | None = None

    def __post_init__(self) -> None:
        if self.command_variant not in COMMAND_VARIANTS:
            raise DuisSchemaError(f"CommandVariant: {self.command_variant} is not 1..8")


_REQUEST_HEADER_SETTERS = tuple(
    RequestHeader.__dict__[name].__set__
    for name in (
        "request_id",
        "command_variant",
        "service_reference",
        "service_reference_variant",
        "first_in_sequence",
        "preceding_request_id",
    )
)


def request_header(
    request_id: MessageId,
    command_variant: int,
    service_reference: str,
    service_reference_variant: str,
    first_in_sequence: bool | None,
    preceding_request_id: MessageId | None,
) -> RequestHeader:
    """``RequestHeader(...)`` with the same check, at half the cost of the dataclass __init__
    (the parser builds one per request; every field is positional here, in slot order)."""
    if command_variant not in COMMAND_VARIANTS:
        raise DuisSchemaError(f"CommandVariant: {command_variant} is not 1..8")
    header: RequestHeader = _new_object(RequestHeader)
    s0, s1, s2, s3, s4, s5 = _REQUEST_HEADER_SETTERS
    s0(header, request_id)
    s1(header, command_variant)
    s2(header, service_reference)
    s3(header, service_reference_variant)
    s4(header, first_in_sequence)
    s5(header, preceding_request_id)
    return header


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHeader:
    """``sr:Response/sr:Header``: which request (or device message) it answers, and the code."""

    response_code: str
    response_datetime: datetime
    request_id: MessageId | None = None
    response_id: MessageId | None = None


# --- typed leaves of generic bodies -----------------------------------------------------------
# Leaf element names the 297 templates use in bodies without a dedicated model, by the built-in
# type every declaration of that name in the V5.4 XSD derives from (tests/duis/test_leaf_types.py
# checks this against the XSD). A name declared with an integer type in one place and xs:decimal
# in another is "decimal" (an integer is a valid decimal). The Node keeps the text as written, so
# a typed view never changes what is written back.
_LEAF_KINDS: dict[str, tuple[str, ...]] = {
    "int": (
        "ACBFloorSeqNumber", "AdjustMeterBalance", "AverageRMSOverVoltageThreshold",
        "AverageRMSUnderVoltageThreshold", "AverageRMSVoltageMeasurementPeriod",
        "BillingPeriodStartMonth", "BlockTariffAction", "ChannelNoisierThreshold",
        "ChannelQuieterThreshold", "CommandedStateLevel", "DSPScheduleID", "DayName",
        "DebtRecoveryPerPayment", "DebtRecoveryRate", "DebtRecoveryRateCap",
        "DebtRecoveryRatePriceScale", "DisablementThreshold", "Duration",
        "EmergencyCreditLimit", "EmergencyCreditThreshold", "GSMECurfew", "GasDayName",
        "JoinTimePeriod", "LoadLimitPeriod", "LoadLimitPowerThreshold",
        "LoadLimitRestorationPeriod", "LocalCHNoiseMeasurementPeriod", "LowCreditThreshold",
        "LowMediumPowerThreshold", "MaxCreditThreshold", "MaxMeterBalance",
        "MaximumSubGHzChannelChangesPerWeek", "MeasurementPeriod", "MediumHighPowerThreshold",
        "Monthly", "NonGSMEPoorCommsMeasurementPeriods", "NumberOfThresholds",
        "PaymentDebtRegister", "Phase", "PriceScale", "RMSExtremeOverVoltageMeasurementPeriod",
        "RMSExtremeOverVoltageThreshold", "RMSExtremeUnderVoltageMeasurementPeriod",
        "RMSExtremeUnderVoltageThreshold", "RMSVoltageSagMeasurementPeriod",
        "RMSVoltageSagThreshold", "RMSVoltageSwellMeasurementPeriod", "RMSVoltageSwellThreshold",
        "RandomisedOffsetLimit", "ReferencedWeekName", "RemotePartyFloorSeqNumber",
        "RemotePartyPrepaymentTopUpFloorSeqNumber", "SpecialDayID", "SpecifiedDayOfMonth",
        "SpecifiedMonth", "SpecifiedYear", "StabilisationPeriod", "StandingCharge",
        "StandingChargeScale", "SupplierFloorSeqNumber", "SupplierPrepaymentTopUpFloorSeqNumber",
        "TOUTariffAction", "TimeDebtRegister1", "TimeDebtRegister2", "TolerancePeriod",
        "WeekName",
    ),
    "decimal": (
        "CalorificValue", "ConversionFactor", "LimitedCriticalDutyCycleThreshold",
        "LocalCHFailurePercentage", "LocalCHRetryPercentage",
        "NonGSMEPoorCommsPercentageThreshold", "NormalLimitedDutyCycleThreshold",
        "UncontrolledGasFlowRate", "UncontrolledGasFlowRateDecimal",
    ),
    "bool": (
        "AerialInstall", "ApplyTimeBasedCPVChecks", "ConnectivityObstructionCheck",
        "DailyTariffBlockCounterMatrixReset", "MetalObstructionCheck", "SharedObstructionCheck",
        "SuspendDebtDisabled", "SuspendDebtEmergency",
    ),
    "date": ("OptInDate",),
    "datetime": (
        "BillingPeriodStart", "CurrentDateTime", "EndDateTime", "ExecutionDateTime",
        "RestrictionDateTime", "StartDateTime",
    ),
    "eui": ("DeviceID", "HCALCS", "OldCHFID", "OldGPFID", "OtherDeviceID"),
}  # fmt: skip

#: Leaf element name -> "int", "decimal", "bool", "date", "datetime" or "eui".
LEAF_TYPES: dict[str, str] = {name: kind for kind, names in _LEAF_KINDS.items() for name in names}
_XSD_BOOL = {"true": True, "1": True, "false": False, "0": False}

LeafValue = int | Decimal | bool | date | datetime | bytes | str


def _parse_bool(text: str, field: str) -> bool:
    value = _XSD_BOOL.get(text.strip())
    if value is None:
        raise DuisSchemaError(f"{field}: {text!r} is not an xs:boolean")
    return value


def _parse_decimal(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise DuisSchemaError(f"{field}: {text!r} is not an xs:decimal") from None
    if not value.is_finite():  # Decimal accepts NaN and Infinity; xs:decimal does not
        raise DuisSchemaError(f"{field}: {text!r} is not an xs:decimal")
    return value


_XSD_INT = re.compile(r"\s*[+-]?[0-9]+\s*\Z")


def _parse_xsd_int(text: str, field: str) -> int:
    # int() alone would also take "1_000" and non-ASCII digits, which no XSD integer type does.
    if not _XSD_INT.match(text):
        raise DuisSchemaError(f"{field}: {text!r} is not an integer")
    return int(text)


_LEAF_PARSERS: dict[str, Callable[[str, str], LeafValue]] = {
    "int": _parse_xsd_int,
    "decimal": _parse_decimal,
    "bool": _parse_bool,
    "date": parse_date,
    "datetime": parse_datetime,
    "eui": lambda text, field: parse_eui(text.strip(), field),
}


def leaf_value(name: str, text: str) -> LeafValue:
    """The typed value of a generic leaf per :data:`LEAF_TYPES` (the text when untyped); raises
    :class:`DuisSchemaError` when the text does not fit its type."""
    kind = LEAF_TYPES.get(name)
    return text if kind is None else _LEAF_PARSERS[kind](text, name)
