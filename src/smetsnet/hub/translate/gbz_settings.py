"""GBZ translators: configuration, supply (valve) and clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from smetsnet.duis.bodies import (
    CommissionDeviceSynchroniseClock,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.asn1.misc import SetClockCommand
from smetsnet.gbcs.asn1.types import GeneralizedTime
from smetsnet.gbcs.gbz import (
    C2S,
    S2C,
    Columns,
)
from smetsnet.gbcs.gbz.spec import (
    DEVICE_MANAGEMENT,
    MESSAGING,
    METERING,
    PRICE,
    lookup,
)
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node, child, date_time, integer, text
from smetsnet.hub.translate.gbz_common import (
    _U32,
    GPF,
    GSME,
    Component,
    choice,
    command,
    decimal,
    decimals,
    fixed_point,
    gbz,
    issuer_event_id,
    zcl,
    zcl_time,
)


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
