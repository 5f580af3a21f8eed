"""Translators: ESME tariffs and prices (ECS01a-d), DUIS SR 1.1.1, 1.2.1, 1.1.2, 1.2.2.

The biggest DUIS bodies: a switching table (seasons → weeks → days → timed tariff actions),
special days, the block threshold matrix, the currency, the standing charge and the price matrix,
each written to its *passive* COSEM attribute, then every one's activation time (``now``,
``never`` for the DUIS cancellation date, else the execution date-time; see
:mod:`~smetsnet.hub.translate.dlms_commands`, whose body and payload helpers these reuse).

Primary element (ECS01a tariff + price, ECS01b price): layouts are the RTDS 4.5.0 pre-commands
DCC built from the DUIS templates. Secondary element of a twin-element ESME (ECS01c, ECS01d): no
vector exists; the objects and their order are the GBCS use-case tables (published in
HenryGiraldo/gbcs-parser-js ``gbcs-use-cases.html``; the ECS01a table there lists exactly the
vector's order, so the ECS01c order is taken as published). The secondary calendar's script
selectors 201..204 are the public fact from SmartDCCInnovation/gbcs-parser (``tariff.ts``:
"action 201 ... 204 is secondary element tou"); primary TOU rates are 1..48 and primary block
actions 101..108 (vectors).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from smetsnet.duis import Node, RequestBody
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.dlms import (
    CosemDateTime,
    Data,
    DoubleLongUnsigned,
    Integer,
    Long,
    LongUnsigned,
    Obis,
    Structure,
    Unsigned,
)
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node as _root
from smetsnet.hub.translate.body import child as _child
from smetsnet.hub.translate.dlms_commands import (
    ACTIVITY_CALENDAR,
    CHARGE,
    ESME,
    GBCS_EXTENDED,
    REGISTER_MONITOR,
    SPECIAL_DAYS,
    Item,
    _array,
    _attr_int,
    _children,
    _choice,
    _command,
    _execution,
    _flag,
    _int,
    _int_text,
    _obis,
    _octets,
    _set,
    _struct,
    _time,
    _wild_date,
)

# -- objects (GBCS use-case tables; RTDS ECS01a/b vectors) -----------------------------------------
TARIFF_CALENDAR = "0-0:13.0.0.255"
SECONDARY_CALENDAR = "0-0:13.0.1.255"
TARIFF_SPECIAL_DAYS = "0-1:11.0.0.255"
SECONDARY_SPECIAL_DAYS = "0-1:11.0.1.255"
#: Special days have no passive copy: these GBCS objects carry their activation time.
TARIFF_SPECIAL_DAYS_ACTIVATION = "0-0:94.44.128.29"
SECONDARY_SPECIAL_DAYS_ACTIVATION = "0-0:94.44.128.30"
#: The script table every tariff calendar action runs.
TARIFF_SCRIPT = "0-0:10.0.100.255"
#: Block thresholds of TOU rate n (1..8) are register monitor 0-0:16.1.(10+n).255.
THRESHOLD_TOU_COUNT = 8
THRESHOLD_MATRIX = "0-0:63.1.1.255"
CURRENCY_UNIT = "0-0:94.44.2.0"
STANDING_CHARGE = "0-0:19.20.4.255"
PRICE_MATRIX = "0-0:19.20.0.255"
SECONDARY_PRICE_MATRIX = "0-0:19.20.5.255"
#: The register each price matrix prices (commodity reference: class 3 register, attribute 2).
ACTIVE_IMPORT = "1-0:1.8.0.255"
SECONDARY_ACTIVE_IMPORT = "1-20:1.8.0.255"
REGISTER, REGISTER_VALUE = 3, 2
#: Prices are per kWh of a Wh register (commodity scale 3); the standing charge has none (0).
KWH_SCALE = 3

# Class attributes written.
SEASONS, WEEKS, DAYS, ACTIVATE_CALENDAR = 7, 8, 9, 10  # activity calendar, passive
ENTRIES = 2  # special days table
THRESHOLDS = 2  # register monitor
VALUE_PASSIVE, ACTIVATE_VALUE = 4, 6  # GBCS extended data
UNIT_CHARGE_PASSIVE, UNIT_CHARGE_ACTIVATION = 6, 7  # charge

#: Script selectors: primary TOU rate n → n, primary block action n → 100 + n, secondary TOU
#: rate n → 200 + n.
BLOCK_ACTION_BASE, SECONDARY_ACTION_BASE = 100, 200
#: DUIS ranges (DUIS schema: TOU 1..48, block 1..8, secondary 1..4; 4 blocks, 8 block sets).
TOU_RATES, BLOCK_SETS, BLOCKS, SECONDARY_RATES = 48, 8, 4, 4
DAY_NAMES, WEEK_NAMES, SEASON_NAME_LENGTH = 16, 4, 8
#: DUIS CurrencyUnits → the currency unit boolean (GBCS: GB pounds TRUE, euro FALSE).
CURRENCIES = {"GBP": 1, "ECB": 0}
#: The DUIS choice of primary price matrix.
TARIFF_KINDS = ("TOUTariff", "BlockTariff", "HybridTariff")
#: DUIS PriceType is an xs:short (a COSEM ``long``).
PRICE = (-0x8000, 0x7FFF)
PRICE_SCALE = (-128, 127)
THRESHOLD = (0, (1 << 32) - 1)


def _block_index(block_set: int, block: int) -> int:
    """Charge table index of block ``block`` (1..4) of block set ``block_set`` (1..8): 0xA1..0xA8
    for block 1, then 0xB1.., 0xC1.., 0xD1.. (ECS01a/b vectors)."""
    return 0xA0 + 0x10 * (block - 1) + block_set


# -- body helpers ---------------------------------------------------------------------------------
def _indexed(nodes: Iterable[Node], field: str, high: int) -> dict[int, Node]:
    """Nodes by their ``index`` attribute (1..high), each index at most once."""
    out: dict[int, Node] = {}
    for node in nodes:
        index = _attr_int(node, "index", 1, high)
        if index in out:
            raise DuisSchemaError(f"{field}: index {index} given twice")
        out[index] = node
    return out


def _date_time(node: Node) -> bytes:
    """A DUIS date with wildcards → COSEM date-time at 00:00:00.00, deviation and clock status
    unspecified (season starts in the vectors)."""
    date = _wild_date(node)
    return CosemDateTime(
        year=int.from_bytes(date[:2], "big"),
        month=date[2],
        day=date[3],
        weekday=date[4],
        hour=0,
        minute=0,
        second=0,
        hundredths=0,
    ).to_bytes()


# -- switching table and special days -------------------------------------------------------------
def _action(schedule: Node, secondary: bool) -> int:
    """The script selector a ProfileSchedule runs."""
    if secondary:
        rate = _int(schedule, "TOUTariffAction", 1, SECONDARY_RATES)
        return SECONDARY_ACTION_BASE + rate
    if schedule.child("BlockTariffAction") is not None:
        return BLOCK_ACTION_BASE + _int(schedule, "BlockTariffAction", 1, BLOCK_SETS)
    return _int(schedule, "TOUTariffAction", 1, TOU_RATES)


def _day_profile(day: Node, secondary: bool) -> Structure:
    actions = [
        _struct(
            _octets(_time(_child(entry, "StartTime").text, "StartTime")),
            _obis(TARIFF_SCRIPT),
            LongUnsigned(value=_action(entry, secondary)),
        )
        for entry in _children(day, "ProfileSchedule")
    ]
    if not actions:
        raise DuisSchemaError("DayProfile: ProfileSchedule expected")
    return _struct(Unsigned(value=_int(day, "DayName", 1, DAY_NAMES)), _array(actions))


def _week_profile(week: Node) -> Structure:
    days = _indexed(_children(week, "ReferencedDayName"), "ReferencedDayName", 7)
    if len(days) != 7:
        raise DuisSchemaError("ReferencedDayName: one for each day of the week (index 1..7)")
    name = _int(week, "WeekName", 1, WEEK_NAMES)
    return _struct(
        _octets(bytes((name,))),
        *(
            Unsigned(value=_int_text(days[i].text, "ReferencedDayName", 1, DAY_NAMES))
            for i in range(1, 8)
        ),
    )


def _season(season: Node) -> Structure:
    name = _child(season, "SeasonName").text.strip().encode("ascii", "replace")
    if len(name) > SEASON_NAME_LENGTH:
        raise DuisSchemaError(f"SeasonName: longer than {SEASON_NAME_LENGTH}")
    week = _int(season, "ReferencedWeekName", 1, WEEK_NAMES)
    return _struct(
        _octets(name),
        _octets(_date_time(_child(season, "SeasonStartDate"))),
        _octets(bytes((week,))),
    )


def _switching_table(calendar: str, table: Node, secondary: bool) -> list[Item]:
    """The passive seasons, weeks and day profiles of a tariff calendar."""
    seasons = _children(_child(table, "Seasons"), "Season")
    weeks = _children(_child(table, "WeekProfiles"), "WeekProfile")
    days = _children(_child(table, "DayProfiles"), "DayProfile")
    for name, found in (("Season", seasons), ("WeekProfile", weeks), ("DayProfile", days)):
        if not found:
            raise DuisSchemaError(f"SwitchingTable: {name} expected")
    return [
        _set(ACTIVITY_CALENDAR, calendar, SEASONS, _array([_season(s) for s in seasons])),
        _set(ACTIVITY_CALENDAR, calendar, WEEKS, _array([_week_profile(w) for w in weeks])),
        _set(ACTIVITY_CALENDAR, calendar, DAYS, _array([_day_profile(d, secondary) for d in days])),
    ]


def _special_days(table: str, node: Node) -> Item:
    """Special days, numbered 1..n in body order (an empty table is an empty array)."""
    entries = [
        _struct(
            LongUnsigned(value=i),
            _octets(_wild_date(_child(day, "Date"))),
            Unsigned(value=_int(day, "ReferencedDayName", 1, DAY_NAMES)),
        )
        for i, day in enumerate(_children(node, "SpecialDay"), 1)
    ]
    return _set(SPECIAL_DAYS, table, ENTRIES, _array(entries))


def _thresholds(matrix: Node) -> list[Item]:
    """Block thresholds of each of the 8 TOU rates (DUIS requires all 8)."""
    rows = _indexed(_children(matrix, "Thresholds"), "Thresholds", THRESHOLD_TOU_COUNT)
    if len(rows) != THRESHOLD_TOU_COUNT:
        raise DuisSchemaError(f"Thresholds: one for each index 1..{THRESHOLD_TOU_COUNT}")
    items = []
    for rate in range(1, THRESHOLD_TOU_COUNT + 1):
        blocks = _indexed(_children(rows[rate], "BlockThreshold"), "BlockThreshold", BLOCKS - 1)
        if not blocks:
            raise DuisSchemaError("Thresholds: BlockThreshold expected")
        values: list[Data] = [
            DoubleLongUnsigned(value=_int_text(blocks[i].text, "BlockThreshold", *THRESHOLD))
            for i in sorted(blocks)
        ]
        items.append(
            _set(REGISTER_MONITOR, f"0-0:16.1.{10 + rate}.255", THRESHOLDS, _array(values))
        )
    return items


# -- prices ---------------------------------------------------------------------------------------
def _unit_charge(
    commodity_scale: int, price_scale: int, reference: tuple[int, bytes, int], rows: Sequence[Data]
) -> Structure:
    """A Charge unit_charge: {scaling {commodity, price}, commodity {class, LN, attr}, table}."""
    class_id, logical_name, attribute = reference
    return _struct(
        _struct(Integer(value=commodity_scale), Integer(value=price_scale)),
        _struct(LongUnsigned(value=class_id), _octets(logical_name), Integer(value=attribute)),
        _array(rows),
    )


def _row(index: bytes, price: int) -> Structure:
    return _struct(_octets(index), Long(value=price))


def _prices(nodes: Iterable[Node], field: str, high: int) -> dict[int, int]:
    return {i: _int_text(n.text, field, *PRICE) for i, n in _indexed(nodes, field, high).items()}


def _primary_price_matrix(elements: Node) -> Data:
    """The 80-entry primary matrix: TOU rates 1..48, then blocks 1..4 of block sets 1..8;
    prices the body leaves out are 0 (ECS01a/b vectors)."""
    found = [c for c in elements.children if c.name in TARIFF_KINDS]
    if len(found) != 1:
        raise DuisSchemaError(
            "ElectricityPriceElements: one of TOUTariff, BlockTariff, HybridTariff expected"
        )
    tariff = found[0]
    tou = _prices(_children(tariff, "TOUPrice"), "TOUPrice", TOU_RATES)
    if tariff.name != "BlockTariff" and not tou:
        raise DuisSchemaError(f"{tariff.name}: TOUPrice expected")
    blocks: dict[tuple[int, int], int] = {}
    block_sets = _indexed(_children(tariff, "BlockPrices"), "BlockPrices", BLOCK_SETS)
    if tariff.name != "TOUTariff" and not block_sets:
        raise DuisSchemaError(f"{tariff.name}: BlockPrices expected")
    for block_set, node in block_sets.items():
        prices = _prices(_children(node, "BlockPrice"), "BlockPrice", BLOCKS)
        if not prices:
            raise DuisSchemaError("BlockPrices: BlockPrice expected")
        blocks.update(((block_set, block), price) for block, price in prices.items())
    rows = [_row(bytes((rate,)), tou.get(rate, 0)) for rate in range(1, TOU_RATES + 1)]
    rows += [
        _row(bytes((_block_index(s, b),)), blocks.get((s, b), 0))
        for b in range(1, BLOCKS + 1)
        for s in range(1, BLOCK_SETS + 1)
    ]
    scale = _int(elements, "PriceScale", *PRICE_SCALE)
    reference = (REGISTER, Obis.of(ACTIVE_IMPORT).code, REGISTER_VALUE)
    return _unit_charge(KWH_SCALE, scale, reference, rows)


def _standing_charge(elements: Node) -> Data:
    """One un-indexed row, no commodity (the charge is per day, not per unit)."""
    charge = _int(elements, "StandingCharge", *PRICE)
    scale = _int(elements, "StandingChargeScale", *PRICE_SCALE)
    return _unit_charge(0, scale, (0, bytes(6), 0), [_row(b"", charge)])


def _primary_prices(elements: Node) -> list[Item]:
    return [
        _set(CHARGE, STANDING_CHARGE, UNIT_CHARGE_PASSIVE, _standing_charge(elements)),
        _set(CHARGE, PRICE_MATRIX, UNIT_CHARGE_PASSIVE, _primary_price_matrix(elements)),
    ]


def _secondary_price_matrix(prices: Node) -> Item:
    """The 4 secondary TOU rates (absent ones 0, as the primary matrix does)."""
    given = _prices(
        _children(prices, "ElectricityPriceElement"), "ElectricityPriceElement", SECONDARY_RATES
    )
    if not given:
        raise DuisSchemaError("PriceElements: ElectricityPriceElement expected")
    rows: list[Data] = [_row(bytes((r,)), given.get(r, 0)) for r in range(1, SECONDARY_RATES + 1)]
    scale = _int(prices, "PriceScale", *PRICE_SCALE)
    reference = (REGISTER, Obis.of(SECONDARY_ACTIVE_IMPORT).code, REGISTER_VALUE)
    matrix = _unit_charge(KWH_SCALE, scale, reference, rows)
    return _set(CHARGE, SECONDARY_PRICE_MATRIX, UNIT_CHARGE_PASSIVE, matrix)


def _electricity_prices(root: Node) -> Node:
    return _child(_child(root, "PriceElements"), "ElectricityPriceElements")


# -- translators ----------------------------------------------------------------------------------
@translator("1.1.1", ESME)
def update_import_tariff_primary(body: RequestBody, ctx: Context) -> Command:
    """ECS01a: switching table, special days, thresholds, currency, standing charge and price
    matrix, then each one's activation time."""
    root = _root(body, "UpdateImportTariffPrimaryElement")
    when = _octets(_execution(root))
    elements = _child(root, "ElecTariffElements")
    currency = _flag(bool(_choice(elements, "CurrencyUnits", CURRENCIES)))
    items = [
        *_switching_table(TARIFF_CALENDAR, _child(elements, "SwitchingTable"), secondary=False),
        _special_days(TARIFF_SPECIAL_DAYS, _child(elements, "SpecialDays")),
        *_thresholds(_child(elements, "ThresholdMatrix")),
        _set(GBCS_EXTENDED, CURRENCY_UNIT, VALUE_PASSIVE, currency),
        *_primary_prices(_electricity_prices(root)),
        _set(ACTIVITY_CALENDAR, TARIFF_CALENDAR, ACTIVATE_CALENDAR, when),
        _set(GBCS_EXTENDED, TARIFF_SPECIAL_DAYS_ACTIVATION, ACTIVATE_VALUE, when),
        _set(GBCS_EXTENDED, CURRENCY_UNIT, ACTIVATE_VALUE, when),
        _set(CHARGE, STANDING_CHARGE, UNIT_CHARGE_ACTIVATION, when),
        _set(CHARGE, PRICE_MATRIX, UNIT_CHARGE_ACTIVATION, when),
        _set(GBCS_EXTENDED, THRESHOLD_MATRIX, ACTIVATE_VALUE, when),
    ]
    return _command("ECS01a", ctx, items)


@translator("1.2.1", ESME)
def update_price_primary(body: RequestBody, ctx: Context) -> Command:
    """ECS01b: standing charge and price matrix, then their activation time."""
    root = _root(body, "UpdatePricePrimaryElement")
    when = _octets(_execution(root))
    items = [
        *_primary_prices(_electricity_prices(root)),
        _set(CHARGE, STANDING_CHARGE, UNIT_CHARGE_ACTIVATION, when),
        _set(CHARGE, PRICE_MATRIX, UNIT_CHARGE_ACTIVATION, when),
    ]
    return _command("ECS01b", ctx, items)


@translator("1.1.2", ESME)
def update_import_tariff_secondary(body: RequestBody, ctx: Context) -> Command:
    """ECS01c (no vector; GBCS use-case table order): secondary price matrix, switching table
    and special days, then the activation times of calendar, prices and special days."""
    root = _root(body, "UpdateImportTariffSecondaryElement")
    when = _octets(_execution(root))
    items = [
        _secondary_price_matrix(_child(root, "PriceElements")),
        *_switching_table(SECONDARY_CALENDAR, _child(root, "SwitchingTable"), secondary=True),
        _special_days(SECONDARY_SPECIAL_DAYS, _child(root, "SpecialDays")),
        _set(ACTIVITY_CALENDAR, SECONDARY_CALENDAR, ACTIVATE_CALENDAR, when),
        _set(CHARGE, SECONDARY_PRICE_MATRIX, UNIT_CHARGE_ACTIVATION, when),
        _set(GBCS_EXTENDED, SECONDARY_SPECIAL_DAYS_ACTIVATION, ACTIVATE_VALUE, when),
    ]
    return _command("ECS01c", ctx, items)


@translator("1.2.2", ESME)
def update_price_secondary(body: RequestBody, ctx: Context) -> Command:
    """ECS01d (no vector; GBCS use-case table): the secondary price matrix and its activation."""
    root = _root(body, "UpdatePriceSecondaryElement")
    when = _octets(_execution(root))
    items = [
        _secondary_price_matrix(_child(root, "PriceElements")),
        _set(CHARGE, SECONDARY_PRICE_MATRIX, UNIT_CHARGE_ACTIVATION, when),
    ]
    return _command("ECS01d", ctx, items)
