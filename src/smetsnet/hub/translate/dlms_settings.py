"""Translators for ESME log and configuration reads, non-critical ESME settings and CHF commands.

Covers the non-critical DLMS use cases ECS34..ECS82 (event, security and power-event logs, MPAN,
maximum demand, firmware version, auxiliary controller data, meter balance, daily consumption
log), the CHF device-log commands (CCS02, CCS04/05, CCS07) and the CHF sub-GHz reads and scan
(DBCH01..05). Every payload is an xDLMS access-request (GBCS-PAYLOADS §1.1); object identities
(class, OBIS, attribute or method) are the GBCS use-case tables' facts, and every value the DUIS
body carries (dates, thresholds, MPANs, device ids, which registers) comes from the body.

Commands to the CHF, and ECS61d, are sent by the Access Control Broker on the user's behalf (as
DCC's RTDS commands show): the GBCS originator is the ACB, and the user goes in the supplementary
remote party fields with the DUIS counter. The invoke id of such a payload is the low 24 bits of
the *ACB's* originator counter, which the hub allocates when it sends the command; the translator
writes the DUIS counter there and the hub re-stamps it with :func:`with_acb_counter`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from smetsnet.duis import RequestBody
from smetsnet.duis.bodies import Node
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.dlms import (
    NULL,
    AccessRequest,
    ActionSpec,
    Array,
    BitString,
    Boolean,
    CosemDateTime,
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
    Unsigned,
    protected_attributes_request,
    seconds_since_2000,
)
from smetsnet.gbcs.registry import message_code_for
from smetsnet.hub.translate import Command, Context, NotTranslatable, translator
from smetsnet.hub.translate.asn1 import HubContext, HubStateMissing
from smetsnet.hub.translate.body import body_node as _root
from smetsnet.hub.translate.body import child as _need
from smetsnet.inventory.model import DeviceType

ESME, CHF = DeviceType.ESME, DeviceType.CHF

# -- DLMS facts (GBCS use-case tables) ------------------------------------------------------------
DATA, REGISTER_MONITOR, EXTENDED_REGISTER, PROFILE_GENERIC = 1, 21, 4, 7
SCHEDULE, SPECIAL_DAYS, DISCONNECT_CONTROL, ACCOUNT = 10, 11, 70, 112
ZIGBEE_NETWORK_CONTROL = 104
VALUE = 2  # attribute 2 of Data / Register monitor thresholds / Profile generic buffer / Schedule
#: Selective access by range (§1.1) restricted on the UTC-time column of GBCS logs.
RANGE_SELECTOR = 1
LOG_TIME_COLUMN = (DATA, Obis.parse("0-0:94.44.100.255"), 2, 0)

EVENT_LOG = Obis.parse("0-0:99.98.0.255")
SECURITY_LOG = Obis.parse("0-0:99.98.1.255")
POWER_EVENT_LOG = Obis.parse("0-0:99.98.4.255")
AUXILIARY_CONTROLLER_EVENT_LOG = Obis.parse("0-17:99.98.2.255")
BOOST_BUTTON_EVENT_LOG = Obis.parse("0-0:99.98.20.255")
INSTANTANEOUS_POWER_THRESHOLDS = Obis.parse("0-0:16.0.0.255")
MAX_DEMAND_SCHEDULE = Obis.parse("0-0:12.0.0.255")
MAX_DEMAND_SCRIPTS = Obis.parse("0-0:10.128.100.255")
IMPORT_MPAN = Obis.parse("0-0:94.44.34.11")
EXPORT_MPAN = Obis.parse("1-0:0.0.2.255")
FIRMWARE_VERSION = Obis.parse("0-0:0.2.1.255")
SUPPLY_STATE = Obis.parse("0-0:96.3.10.255")
METER_BALANCE = Obis.parse("0-0:19.10.0.255")
DAILY_CONSUMPTION_LOG = Obis.parse("0-0:99.1.3.255")
DAILY_CONSUMPTION_PROTECTION = Obis.parse("0-0:43.2.4.255")
CHF_DEVICE_LOG = Obis.parse("0-0:30.3.0.255")
CHF_HISTORIC_DEVICE_LOG = Obis.parse("0-0:30.3.1.255")
SUB_GHZ_CONFIGURATION = Obis.parse("0-0:94.44.10.0")
SUB_GHZ_SCAN_REQUEST = Obis.parse("0-0:94.44.10.1")
SUB_GHZ_CHANNEL = Obis.parse("0-0:94.44.10.2")
SUB_GHZ_CHANNEL_LOG = Obis.parse("0-0:94.44.10.3")
BOOST_PERIOD = Obis.parse("0-0:94.44.7.255")

RESET = 1  # Extended register method 1
REGISTER_DEVICE = 1  # ZigBee network control method 1 (CCS01)
UNREGISTER_DEVICE = 2  # ZigBee network control method 2 (CCS02)
ACTIVE_DEVICES = 4  # ZigBee network control attribute 4 (CCS05, CCS06)
DEVICE_LOG_DETAILS = 4  # ZigBee network control method 4 (CCS07)
CONTROL_STATE = 3  # Disconnect control attribute 3 (ECS45)

#: The five auxiliary load control switches / boost associations (index 1..5).
SWITCHES = range(1, 6)


ALCS_DESCRIPTORS = tuple(Obis.parse(f"0-0:94.44.0.{11 + i}") for i in range(5))
ALCS_STATES = tuple(Obis.parse(f"0-0:94.44.0.{21 + i}") for i in range(5))
AUXILIARY_CONTROLLER_STATES = tuple(Obis.parse(f"0-0:94.44.0.{31 + i}") for i in range(5))
ALCS_SPECIAL_DAYS = Obis.parse("0-0:11.0.3.255")
ALCS_SCHEDULE = Obis.parse("0-0:12.0.2.255")
ALCS_SUPPLY_STATES = tuple(Obis.parse(f"0-{n}:96.3.10.255") for n in SWITCHES)
BOOST_ASSOCIATIONS = tuple(Obis.parse(f"0-0:94.44.6.{n}") for n in SWITCHES)

# Maximum-demand time period (ECS37): two Schedule entries running the max-demand script table
# (selector 1 starts the period, 2 ends it) every day, with no date bounds.
_EVERY_WEEKDAY = BitString(bits=7, data=b"\xfe")
_NO_SPECIAL_DAYS = BitString(bits=0, data=b"")
_NO_VALIDITY_WINDOW = 0xFFFF
_ENABLED = Boolean(value=True, octet=0xFF)  # GBCS writes TRUE as 0xFF here
_BEGIN_DATE = bytes.fromhex("000001ffff")  # GBCS: any date from the start of time
_END_DATE = bytes.fromhex("ffffffffff")  # GBCS: no end date

# Which log a 6.13 request reads, per target device type (GBCS use cases ECS35a..g).
_ESME_LOGS: dict[str, tuple[str, Obis]] = {
    "Event": ("ECS35a", EVENT_LOG),
    "Security": ("ECS35b", SECURITY_LOG),
    "PowerEvent": ("ECS35e", POWER_EVENT_LOG),
    # ECS35f (same body, absent from the current GBCS use-case tables) gave way to ECS35g,
    # the one DCC sends (RTDS).
    "ALCSEvent": ("ECS35g", AUXILIARY_CONTROLLER_EVENT_LOG),
}
_CHF_LOGS: dict[str, tuple[str, Obis]] = {
    "Event": ("ECS35c", EVENT_LOG),
    "Security": ("ECS35d", SECURITY_LOG),
}

# Maximum-demand registers ECS57 may reset, in the order GBCS lists them.
_MAX_DEMAND_REGISTERS: tuple[tuple[str, Obis], ...] = (
    ("MaxDemandActivePowerImportValue", Obis.parse("1-0:1.6.0.255")),
    ("MaxDemandConfigTimeActivePowerImportValue", Obis.parse("1-0:1.6.1.255")),
    ("MaxDemandActivePowerExportValue", Obis.parse("1-0:2.6.0.255")),
)

_U32 = 0xFFFFFFFF
_MPAN = re.compile(r"[0-9]{13}\Z")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?\Z")


class NeedsInventory(NotTranslatable):
    """A use case whose GBCS command needs a fact the DUIS body does not carry (the DCC takes it
    from its own records); raised until :class:`Context` carries that fact."""

    def __init__(self, ctx: Context, use_case: str, missing: str) -> None:
        super().__init__(ctx.srv, ctx.device_type)
        self.use_case, self.missing = use_case, missing
        self.args = (f"{use_case} (SR {ctx.srv}) needs {missing}, which the request lacks",)

    def __str__(self) -> str:
        return str(self.args[0])


# -- body access ----------------------------------------------------------------------------------


def _text(node: Node, name: str) -> str:
    return _need(node, name).text.strip()


def _utc(node: Node, name: str) -> datetime:
    value = _need(node, name).value
    if not isinstance(value, datetime):
        raise DuisSchemaError(f"{name}: {value!r} is not a date-time")
    # DUIS date-times are UTC; a value written without a zone is read as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _uint(node: Node, name: str, high: int) -> int:
    value = _need(node, name).value
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise DuisSchemaError(f"{name}: {value!r} is not an integer in 0..{high}")
    return value


def _log_period(node: Node) -> tuple[int, int]:
    """ReadLogPeriod as GBCS range bounds: seconds since 2000 (double-long-unsigned)."""
    period = _need(node, "ReadLogPeriod")
    bounds = []
    for name in ("StartDateTime", "EndDateTime"):
        when = _utc(period, name)
        seconds = seconds_since_2000(when)
        if not 0 <= seconds <= _U32:
            raise DuisSchemaError(f"{name}: {when.isoformat()} is outside GBCS time (2000..2136)")
        bounds.append(seconds)
    start, end = bounds
    if start > end:
        raise DuisSchemaError("ReadLogPeriod: StartDateTime is after EndDateTime")
    return start, end


def _period_dates(node: Node) -> tuple[CosemDateTime, CosemDateTime]:
    """ReadLogPeriod as COSEM date-times (protected-read restrictions, §1.6)."""
    period = _need(node, "ReadLogPeriod")
    start, end = _utc(period, "StartDateTime"), _utc(period, "EndDateTime")
    if start > end:
        raise DuisSchemaError("ReadLogPeriod: StartDateTime is after EndDateTime")
    return CosemDateTime.from_datetime(start), CosemDateTime.from_datetime(end)


def _mpan(node: Node, name: str) -> bytes:
    text = _text(node, name)
    if not _MPAN.match(text):
        raise DuisSchemaError(f"{name}: {text!r} is not a 13-digit MPAN")
    return text.encode("ascii")


def _switch_time(node: Node, name: str) -> bytes:
    """An xs:time as a COSEM time octet-string(4): hour, minute, second, hundredths (UTC)."""
    text = _text(node, name)
    m = _TIME.match(text)
    if m is None:
        raise DuisSchemaError(f"{name}: {text!r} is not an xs:time")
    hour, minute, second = int(m[1]), int(m[2]), int(m[3])
    if hour > 23 or minute > 59 or second > 59:
        raise DuisSchemaError(f"{name}: {text!r} is not a time of day")
    hundredths = int((m[4] or "0")[:2].ljust(2, "0"))
    zone = m[5]
    if zone and zone != "Z":
        offset = (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
        total = (hour * 60 + minute - offset) % (24 * 60)
        hour, minute = divmod(total, 60)
    return bytes((hour, minute, second, hundredths))


# -- payload pieces -------------------------------------------------------------------------------
Item = tuple[RequestSpec, Data]


def _get(class_id: int, instance: Obis, attribute: int = VALUE) -> Item:
    return GetSpec(class_id=class_id, instance=instance, attribute_id=attribute), NULL


def _set(class_id: int, instance: Obis, value: Data, attribute: int = VALUE) -> Item:
    return SetSpec(class_id=class_id, instance=instance, attribute_id=attribute), value


def _action(class_id: int, instance: Obis, method: int, parameter: Data = NULL) -> Item:
    return ActionSpec(class_id=class_id, instance=instance, method_id=method), parameter


def _log_range(instance: Obis, start: int, end: int) -> Item:
    """Read a GBCS log's buffer by range: from..to on the UTC column, all columns (§1.7)."""
    cid, name, attr, index = LOG_TIME_COLUMN
    restricting = Structure(
        items=(
            LongUnsigned(value=cid),
            OctetString(value=name.to_bytes()),
            Integer(value=attr),
            LongUnsigned(value=index),
        )
    )
    parameter = Structure(
        items=(
            restricting,
            DoubleLongUnsigned(value=start),
            DoubleLongUnsigned(value=end),
            Array(items=()),
        )
    )
    spec = GetWithSelectionSpec(
        class_id=PROFILE_GENERIC,
        instance=instance,
        attribute_id=VALUE,
        selector=RANGE_SELECTOR,
        parameter=parameter,
    )
    return spec, NULL


def _request(items: Iterable[Item], ctx: Context) -> AccessRequest:
    return AccessRequest.build(list(items), invoke_id=ctx.counter)


def _command(
    use_case: str, items: Iterable[Item], ctx: Context, *, via_acb: bool = False
) -> Command:
    payload = _request(items, ctx)
    if not via_acb:
        return Command(use_case=use_case, message_code=message_code_for(use_case), payload=payload)
    return Command(
        use_case=use_case,
        message_code=message_code_for(use_case),
        payload=payload,
        supplementary_remote_party=ctx.originator,
        supplementary_remote_party_counter=ctx.counter,
    )


def sent_by_acb(command: Command) -> bool:
    """Whether the ACB originates ``command`` on the user's behalf (the user is the
    supplementary remote party); its counter is then the ACB's, see :func:`with_acb_counter`."""
    return command.supplementary_remote_party_counter is not None


def with_acb_counter(command: Command, acb_counter: int) -> Command:
    """``command`` as the ACB sends it under its own originator counter ``acb_counter``: the
    access-request's invoke id carries that counter's low 24 bits (GBCS-PAYLOADS §1.1)."""
    payload = command.payload
    if not isinstance(payload, AccessRequest):
        raise TypeError(f"{command.use_case}: not a DLMS access-request")
    flags = payload.invoke_id_and_priority >> 24
    restamped = replace(payload, invoke_id_and_priority=(flags << 24) | (acb_counter & 0xFFFFFF))
    return replace(command, payload=restamped)


def _fixed(
    srv: str,
    device: DeviceType,
    element: str,
    use_case: str,
    items: Sequence[Item],
    *,
    via_acb: bool = False,
) -> None:
    """Register a translator for a request with an empty body and a constant payload shape."""

    def translate(body: RequestBody, ctx: Context) -> Command:
        _root(body, element)
        return _command(use_case, items, ctx, via_acb=via_acb)

    translate.__name__ = f"translate_{use_case}"
    translate.__doc__ = f"SR {srv} ({element}) → {use_case}: constant object list."
    translator(srv, device)(translate)


# -- ESME -----------------------------------------------------------------------------------------
@translator("6.12", ESME)
def instantaneous_power_thresholds(body: RequestBody, ctx: Context) -> Command:
    """ECS34: the low/medium and medium/high thresholds of the power register monitor."""
    node = _root(body, "UpdateDeviceConfigurationInstantaneousPowerThreshold")
    low = _uint(node, "LowMediumPowerThreshold", _U32)
    high = _uint(node, "MediumHighPowerThreshold", _U32)
    thresholds = Array(items=(DoubleLongUnsigned(value=low), DoubleLongUnsigned(value=high)))
    return _command(
        "ECS34", [_set(REGISTER_MONITOR, INSTANTANEOUS_POWER_THRESHOLDS, thresholds)], ctx
    )


@translator("6.13", ESME, CHF)
def event_or_security_log(body: RequestBody, ctx: Context) -> Command:
    """ECS35a/b/e/g (ESME) and ECS35c/d (CHF): a range read of the log the body names."""
    node = _root(body, "ReadEventOrSecurityLog")
    which = _text(node, "LogToRead")
    logs = _CHF_LOGS if ctx.device_type is CHF else _ESME_LOGS
    if which not in logs:
        raise DuisSchemaError(
            f"LogToRead: {which!r} is not a log of a {ctx.device_type.name} "
            f"(one of {', '.join(logs)})"
        )
    use_case, instance = logs[which]
    start, end = _log_period(node)
    return _command(
        use_case, [_log_range(instance, start, end)], ctx, via_acb=ctx.device_type is CHF
    )


@translator("6.18.1", ESME)
def max_demand_period(body: RequestBody, ctx: Context) -> Command:
    """ECS37: the daily start and end of the configurable maximum-demand period."""
    node = _need(
        _root(body, "SetMaximumDemandConfigurableTimePeriod"), "MaximumDemandTimePeriodSchedule"
    )
    entries = []
    for index, name in enumerate(("StartTime", "EndTime")):
        entries.append(
            Structure(
                items=(
                    LongUnsigned(value=index),
                    _ENABLED,
                    OctetString(value=MAX_DEMAND_SCRIPTS.to_bytes()),
                    LongUnsigned(value=index + 1),
                    OctetString(value=_switch_time(node, name)),
                    LongUnsigned(value=_NO_VALIDITY_WINDOW),
                    _EVERY_WEEKDAY,
                    _NO_SPECIAL_DAYS,
                    OctetString(value=_BEGIN_DATE),
                    OctetString(value=_END_DATE),
                )
            )
        )
    return _command(
        "ECS37", [_set(SCHEDULE, MAX_DEMAND_SCHEDULE, Array(items=tuple(entries)))], ctx
    )


@translator("6.20.1", ESME)
def import_mpan(body: RequestBody, ctx: Context) -> Command:
    """ECS39a: the import MPAN, followed by the secondary one on a twin element meter."""
    mpans = _need(_root(body, "SetDeviceConfigurationImportMPxN"), "ImportMPANs")
    value = _mpan(mpans, "ImportMPAN")
    if mpans.child("SecondaryImportMPAN") is not None:
        value += _mpan(mpans, "SecondaryImportMPAN")
    return _command("ECS39a", [_set(DATA, IMPORT_MPAN, OctetString(value=value))], ctx)


@translator("6.20.2", ESME)
def export_mpan(body: RequestBody, ctx: Context) -> Command:
    """ECS39b: the export MPAN."""
    node = _root(body, "SetDeviceConfigurationExportMPAN")
    value = _mpan(node, "ExportMPAN")
    return _command("ECS39b", [_set(DATA, EXPORT_MPAN, OctetString(value=value))], ctx)


@translator("6.18.2", ESME)
def reset_max_demand(body: RequestBody, ctx: Context) -> Command:
    """ECS57: reset each maximum-demand register the body names (at least one)."""
    node = _root(body, "ResetMaximumDemandRegisters")
    known = {name for name, _ in _MAX_DEMAND_REGISTERS}
    for child in node.children:
        if child.name not in known:
            raise DuisSchemaError(f"ResetMaximumDemandRegisters/{child.name}: not a register")
    items = [
        _action(EXTENDED_REGISTER, instance, RESET, Integer(value=0))
        for name, instance in _MAX_DEMAND_REGISTERS
        if node.child(name) is not None
    ]
    if not items:
        raise DuisSchemaError("ResetMaximumDemandRegisters: names no register to reset")
    return _command("ECS57", items, ctx)


@translator("7.11", ESME)
def boost_button_details(body: RequestBody, ctx: Context) -> Command:
    """ECS61c: boost period, the boost-button event log over the period, the associations."""
    start, end = _log_period(_root(body, "ReadBoostButtonDetails"))
    items = [
        _get(DATA, BOOST_PERIOD),
        _log_range(BOOST_BUTTON_EVENT_LOG, start, end),
        *(_get(DATA, instance) for instance in BOOST_ASSOCIATIONS),
    ]
    return _command("ECS61c", items, ctx)


def _boost_association(
    element: str, child: str, associate: bool
) -> Callable[[RequestBody, Context], Command]:
    def translate(body: RequestBody, ctx: Context) -> Command:
        node = _root(body, element)
        chosen: dict[int, bool] = {}
        for entry in node.children:
            if entry.name != child:
                raise DuisSchemaError(f"{element}/{entry.name}: unexpected")
            index_text = dict(entry.attributes).get("index", "")
            if not index_text.isdigit() or int(index_text) not in SWITCHES:
                raise DuisSchemaError(f"{child}/@index: {index_text!r} is not a switch 1..5")
            flag = entry.text.strip()
            if flag not in ("true", "false", "1", "0"):
                raise DuisSchemaError(f"{child}: {flag!r} is not an xs:boolean")
            chosen[int(index_text)] = flag in ("true", "1")
        items = [
            _set(DATA, BOOST_ASSOCIATIONS[n - 1], Boolean(value=associate))
            for n in SWITCHES
            if chosen.get(n)
        ]
        if not items:
            raise DuisSchemaError(f"{element}: names no switch")
        return _command("ECS62", items, ctx)

    translate.__doc__ = f"ECS62: {'add' if associate else 'remove'} switches to the boost button."
    return translate


translator("7.9", ESME)(
    _boost_association("AddAuxiliaryLoadToBoostButton", "AddToBoostButton", True)
)
translator("7.10", ESME)(
    _boost_association("RemoveAuxiliaryLoadFromBoostButton", "RemoveFromBoostButton", False)
)


@translator("4.17", ESME)
def daily_consumption_log(body: RequestBody, ctx: Context) -> Command:
    """ECS66: a protected read of the daily consumption log restricted to the period (§1.6)."""
    start, end = _period_dates(_root(body, "RetrieveDailyConsumptionLog"))
    payload = protected_attributes_request(
        [(PROFILE_GENERIC, DAILY_CONSUMPTION_LOG, VALUE)],
        originator=ctx.originator,
        recipient=ctx.target,
        counter=ctx.counter,
        restriction_from=start,
        restriction_to=end,
        instance=DAILY_CONSUMPTION_PROTECTION,
    )
    return Command(use_case="ECS66", message_code=message_code_for("ECS66"), payload=payload)


_fixed(
    "6.2.7",
    ESME,
    "ReadDeviceConfigurationMPxN",
    "ECS40",
    [_get(DATA, IMPORT_MPAN), _get(DATA, EXPORT_MPAN)],
)
_fixed(
    "7.4",
    ESME,
    "ReadSupplyStatus",
    "ECS45",
    [_get(DISCONNECT_CONTROL, SUPPLY_STATE, CONTROL_STATE)],
)
_fixed("11.2", ESME, "ReadFirmwareVersion", "ECS52", [_get(DATA, FIRMWARE_VERSION)])
_fixed("4.18", ESME, "ReadMeterBalance", "ECS82", [_get(ACCOUNT, METER_BALANCE)])
_fixed(
    "7.7",
    ESME,
    "ReadALCSData",
    "ECS61a",
    [
        *(_get(DATA, o) for o in ALCS_DESCRIPTORS + ALCS_STATES),
        _get(SPECIAL_DAYS, ALCS_SPECIAL_DAYS),
        _get(SCHEDULE, ALCS_SCHEDULE),
        *(_get(DISCONNECT_CONTROL, o) for o in ALCS_SUPPLY_STATES),
    ],
)
_fixed(
    "7.14",
    ESME,
    "ReadAuxiliaryControllerConfigurationData",
    "ECS61d",
    [
        *(_get(DATA, o) for o in ALCS_DESCRIPTORS),
        _get(SPECIAL_DAYS, ALCS_SPECIAL_DAYS),
        _get(SCHEDULE, ALCS_SCHEDULE),
    ],
    via_acb=True,
)
_fixed(
    "7.15",
    ESME,
    "ReadAuxiliaryControllerOperationalData",
    "ECS61e",
    [_get(DATA, o) for o in ALCS_STATES + AUXILIARY_CONTROLLER_STATES],
)


# -- CHF ------------------------------------------------------------------------------------------
@translator("8.11", CHF)
def update_han_device_log(body: RequestBody, ctx: Context) -> Command:
    """CCS01 (Add): register the joining device in the CHF device log; CCS02 (Remove): take it
    out.

    CCS01's register_device parameter is [inferred layout, no RTDS vector] an array of
    structure{EUI, install code, device type}; the body carries the EUI and install code, the
    device type is the DCC's to add from its inventory (the device was pre-notified, 12.2), as
    the DUIS DeviceType value. JoinTimePeriod is the CHF's to apply; we do not send it.
    """
    node = _root(body, "UpdateHANDeviceLog")
    request_type = _text(node, "RequestType")
    device = _need(node, "DeviceID").value
    if not isinstance(device, bytes):
        raise DuisSchemaError(f"DeviceID: {device!r} is not an EUI-64")
    if request_type == "Add":
        return _register_device(node, device, ctx)
    if request_type != "Remove":
        raise DuisSchemaError(f"RequestType: {request_type!r} is not Add or Remove")
    items = [
        _action(
            ZIGBEE_NETWORK_CONTROL, CHF_DEVICE_LOG, UNREGISTER_DEVICE, OctetString(value=device)
        )
    ]
    return _command("CCS02", items, ctx, via_acb=True)


def _register_device(node: Node, device: bytes, ctx: Context) -> Command:
    if not isinstance(ctx, HubContext):
        raise NeedsInventory(ctx, "CCS01", "the joining device's SMETS device type")
    kind = ctx.state.device_type(device)
    if kind is None:
        raise HubStateMissing(f"CCS01: {device.hex()} is not in the inventory (pre-notify it)")
    whitelist = _need(node, "AddDeviceToCHFWhitelist")
    code = _text(whitelist, "InstallCode")
    try:
        install_code = bytes.fromhex(code)
    except ValueError:
        raise DuisSchemaError(f"InstallCode: {code!r} is not hex") from None
    entry = Structure(
        items=(
            OctetString(value=device),
            OctetString(value=install_code),
            Unsigned(value=int(kind)),
        )
    )
    items = [
        _action(ZIGBEE_NETWORK_CONTROL, CHF_DEVICE_LOG, REGISTER_DEVICE, Array(items=(entry,)))
    ]
    return _command("CCS01", items, ctx, via_acb=True)


@translator("8.9", CHF)
def read_device_log(body: RequestBody, ctx: Context) -> Command:
    """CCS05 (with CCS04, same message code): the CHF device log's active devices; CCS07 when
    the body asks for ReadSecurityDetails: the device log and the historic device log entries
    with their link-key details (method 4 of each)."""
    node = _root(body, "ReadDeviceLog")
    if node.child("ReadSecurityDetails") is None:
        items = [_get(ZIGBEE_NETWORK_CONTROL, CHF_DEVICE_LOG, ACTIVE_DEVICES)]
        return _command("CCS05", items, ctx, via_acb=True)
    items = [
        _action(ZIGBEE_NETWORK_CONTROL, log, DEVICE_LOG_DETAILS)
        for log in (CHF_DEVICE_LOG, CHF_HISTORIC_DEVICE_LOG)
    ]
    return _command("CCS07", items, ctx, via_acb=True)


@translator("6.32", CHF)
def sub_ghz_channel_log(body: RequestBody, ctx: Context) -> Command:
    """DBCH02: the sub-GHz channel log over the period."""
    start, end = _log_period(_root(body, "ReadCHFSubGHzChannelLog"))
    return _command("DBCH02", [_log_range(SUB_GHZ_CHANNEL_LOG, start, end)], ctx, via_acb=True)


_fixed("6.31", CHF, "ReadCHFSubGHzChannel", "DBCH01", [_get(DATA, SUB_GHZ_CHANNEL)], via_acb=True)
_fixed(
    "6.30",
    CHF,
    "ReadCHFSubGHzConfiguration",
    "DBCH03",
    [_get(DATA, SUB_GHZ_CONFIGURATION)],
    via_acb=True,
)
_fixed(
    "6.29",
    CHF,
    "RequestCHFSubGHzChannelScan",
    "DBCH05",
    [_set(DATA, SUB_GHZ_SCAN_REQUEST, Unsigned(value=0))],  # GBCS: write 0 to request a scan
    via_acb=True,
)


# Sub-GHz configuration (DBCH04): one structure written to 0-0:94.44.10.0. Each channel group is
# a ZigBee channel-page mask, bit-string(32): the page number in the top 5 bits, then one bit per
# channel of the page counted from its first channel at the least significant bit (as the CHF
# reports it in the DBCH03 response). Percentages and duty-cycle thresholds travel in hundredths.
_CHANNEL_PAGES: tuple[tuple[str, int, int, int], ...] = (
    # (DUIS element, ZigBee page, first channel, last channel)
    ("LowerBandSubGHzChannels0To26", 28, 0, 26),
    ("LowerBandSubGHzChannels27To34", 29, 27, 34),
    ("LowerBandSubGHzChannels35To61", 30, 35, 61),
    ("UpperBandSubGHzChannels0To26", 31, 0, 26),
)
_PAGE_SHIFT = 27
_SUB_GHZ_SETTINGS: tuple[tuple[str, type[LongUnsigned] | type[Unsigned], int], ...] = (
    # (DUIS element, DLMS type, scale) in GBCS order after the four masks
    ("NormalLimitedDutyCycleThreshold", LongUnsigned, 100),
    ("LimitedCriticalDutyCycleThreshold", LongUnsigned, 100),
    ("MaximumSubGHzChannelChangesPerWeek", Unsigned, 1),
    ("GSMECurfew", LongUnsigned, 1),
    ("ChannelQuieterThreshold", Unsigned, 1),
    ("ChannelNoisierThreshold", Unsigned, 1),
    ("NonGSMEPoorCommsPercentageThreshold", LongUnsigned, 100),
    ("NonGSMEPoorCommsMeasurementPeriods", Unsigned, 1),
    ("LocalCHNoiseMeasurementPeriod", LongUnsigned, 1),
    ("LocalCHFailurePercentage", LongUnsigned, 100),
    ("LocalCHRetryPercentage", LongUnsigned, 100),
)


def _channel_mask(node: Node, element: str, page: int, first: int, last: int) -> BitString:
    group = _need(node, element)
    mask = page << _PAGE_SHIFT
    for channel in group.children:
        number = channel.name.removeprefix("Channel")
        if not number.isdigit() or not first <= int(number) <= last:
            raise DuisSchemaError(f"{element}/{channel.name}: not a channel {first}..{last}")
        mask |= 1 << (int(number) - first)
    return BitString(bits=32, data=mask.to_bytes(4, "big"))


def _scaled(node: Node, name: str, kind: type[LongUnsigned] | type[Unsigned], scale: int) -> Data:
    value = _need(node, name).value
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise DuisSchemaError(f"{name}: {value!r} is not a number")
    scaled = Decimal(value) * scale
    high = 0xFFFF if kind is LongUnsigned else 0xFF
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= high:
        raise DuisSchemaError(f"{name}: {value} does not fit (units of 1/{scale}, 0..{high})")
    return kind(value=int(scaled))


@translator("6.28", CHF)
def sub_ghz_configuration(body: RequestBody, ctx: Context) -> Command:
    """DBCH04: the CHF's sub-GHz channel masks, duty-cycle and channel-change settings."""
    node = _root(body, "SetCHFSubGHzConfiguration")
    items: list[Data] = [_channel_mask(node, *page) for page in _CHANNEL_PAGES]
    items.extend(_scaled(node, *setting) for setting in _SUB_GHZ_SETTINGS)
    value = Structure(items=tuple(items))
    return _command("DBCH04", [_set(DATA, SUB_GHZ_CONFIGURATION, value)], ctx, via_acb=True)
