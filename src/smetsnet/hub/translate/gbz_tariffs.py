"""GBZ translators: calendars and tariffs (GCS01a, GCS01b, GCS05)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from smetsnet.duis.bodies import (
    Node,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_int
from smetsnet.gbcs.gbz import (
    C2S,
    S2C,
    Columns,
    GbzComponent,
    GbzMessage,
)
from smetsnet.gbcs.gbz.spec import (
    PREPAYMENT,
    PRICE,
    lookup,
)
from smetsnet.gbcs.gbz.zcl_types import make_date
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node, child, integer, text
from smetsnet.hub.translate.gbz import (
    FRIENDLY_CREDIT_CALENDAR_TYPE,
)
from smetsnet.hub.translate.gbz_common import (
    _U32,
    CANCEL,
    GSME,
    Component,
    choice,
    command,
    gbz,
    issuer_event_id,
    start_time,
    zcl,
)
from smetsnet.hub.translate.gbz_prepayment import (
    _I32,
)

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
