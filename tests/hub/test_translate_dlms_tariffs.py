"""ESME tariffs and prices (ECS01a-d): DUIS template → GBCS pre-command.

ECS01a/b are judged byte for byte against the RTDS pre-commands DCC built from the same templates
(translate_support); ECS01c/d have no vector and are checked to encode, decode back without
unknown nodes and carry the body's values. Value-sensitivity and bad-value checks run on edited
copies of the templates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smetsnet.duis import Request, from_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.dlms import AccessRequest, decode_dlms_payload
from smetsnet.hub.translate import Command, NotTranslatable, translate
from tests.hub.translate_support import (
    TEMPLATES,
    context_of,
    differences,
    paired_templates,
    translate_template,
)

SUFFIX = "_REQUEST_DUIS.XML"

#: Templates of the group with no translator (or a vector not yet matched), and why.
NOT_TRANSLATED: dict[str, str] = {}

A_TOU = "ECS01a_1.1.1_IMMEDIATE_TOU_SUCCESS"
A_BLOCK = "ECS01a_1.1.1_IMMEDIATE_BLOCK_SUCCESS"
A_FUTURE = "ECS01a_1.1.1_FUTURE_DATED_TOU_BLOCK_SUCCESS"
B_TOU = "ECS01b_1.2.1_IMMEDIATE_TOU_SUCCESS"
B_HYBRID = "ECS01b_1.2.1_FUTURE_DATED_TOU_BLOCK_SUCCESS"
C_FUTURE = "ECS01c_1.1.2_FUTURE_DATED_SUCCESS"
D_IMMEDIATE = "ECS01d_1.2.2_IMMEDIATE_SUCCESS"


#: Where each use case writes its activation times, in order.
ACTIVATIONS: dict[str, list[tuple[str, int]]] = {
    "ECS01a": [
        ("0-0:13.0.0.255", 10),
        ("0-0:94.44.128.29", 6),
        ("0-0:94.44.2.0", 6),
        ("0-0:19.20.4.255", 7),
        ("0-0:19.20.0.255", 7),
        ("0-0:63.1.1.255", 6),
    ],
    "ECS01b": [("0-0:19.20.4.255", 7), ("0-0:19.20.0.255", 7)],
    "ECS01c": [("0-0:13.0.1.255", 10), ("0-0:19.20.5.255", 7), ("0-0:94.44.128.30", 6)],
    "ECS01d": [("0-0:19.20.5.255", 7)],
}


def _stem(path: Path) -> str:
    return path.name.removesuffix(SUFFIX)


def group_templates() -> list[Path]:
    """ECS01a-d templates (empty when the reference is absent)."""
    if not TEMPLATES.is_dir():
        return []
    return sorted(TEMPLATES.glob("ECS01[a-d]_*" + SUFFIX))


def _use_case(stem: str) -> str:
    m = re.match(r"ECS01[a-d]", stem)
    assert m is not None
    return m.group(0)


GROUP = group_templates()
PAIRS = [(t, v) for t, v in paired_templates() if t in set(GROUP)]
JUDGED = [(t, v) for t, v in PAIRS if _stem(t) not in NOT_TRANSLATED]
UNPAIRED = sorted(set(GROUP) - {t for t, _ in PAIRS})
TRANSLATED_UNPAIRED = [t for t in UNPAIRED if _stem(t) not in NOT_TRANSLATED]
needs_reference = pytest.mark.skipif(
    not TEMPLATES.is_dir(), reason="DUIS templates not found (../shared/reference)"
)


def _request(name: str, edits: dict[str, str] | None = None) -> Request:
    text = (TEMPLATES / (name + SUFFIX)).read_text()
    for old, new in (edits or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    request = from_xml(text.encode())
    assert isinstance(request, Request)
    return request


def _translate(name: str, edits: dict[str, str] | None = None) -> Command:
    request = _request(name, edits)
    return translate(request, context_of(request))


def _objects(command: Command) -> dict[tuple[str, int], object]:
    """Each written (OBIS, attribute) → its value as JSON."""
    payload = command.payload
    assert isinstance(payload, AccessRequest)
    out: dict[tuple[str, int], object] = {}
    for spec, data in zip(payload.specs, payload.data, strict=True):
        key = (str(spec.instance), getattr(spec, "attribute_id", -1))
        assert key not in out
        out[key] = data.to_json()
    return out


def _values(node: object) -> list[object]:
    assert isinstance(node, dict)
    items = node["value"]
    assert isinstance(items, list)
    return items


def _leaf(node: object) -> object:
    assert isinstance(node, dict)
    return node["value"]


def _charge_table(charge: object) -> dict[str, int]:
    """index (hex) → charge_per_unit of a unit_charge structure."""
    rows = _values(_values(charge)[2])
    out = {}
    for row in rows:
        index, price = _values(row)
        value = _leaf(price)
        assert isinstance(value, int)
        out[str(_leaf(index))] = value
    return out


def _date_time(node: object) -> object:
    """The date-time text of an octet-string(12) (None for anything else)."""
    return node.get("date_time") if isinstance(node, dict) else None


def _scaling(charge: object) -> list[object]:
    return [_leaf(v) for v in _values(_values(charge)[0])]


def _selectors(days: object) -> list[list[int]]:
    out = []
    for day in _values(days):
        actions = _values(_values(day)[1])
        out.append([int(str(_leaf(_values(a)[2]))) for a in actions])
    return out


# -- (1) every vector-judged template -------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize(("template", "vector"), JUDGED, ids=[_stem(t) for t, _ in JUDGED])
def test_matches_dcc_precommand(template: Path, vector: Path) -> None:
    pair = translate_template(template, vector)
    assert differences(pair) == []
    assert pair.command.use_case == _use_case(_stem(template))


# -- (2) templates without a vector ---------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize(
    "template", TRANSLATED_UNPAIRED, ids=[_stem(t) for t in TRANSLATED_UNPAIRED]
)
def test_unpaired_template_translates_and_decodes(template: Path) -> None:
    command = _translate(_stem(template))
    assert command.use_case == _use_case(_stem(template))
    assert command.date_time == b""  # device-held dating lives in the payload
    raw = command.payload.to_bytes()
    decoded = decode_dlms_payload(raw, message_code=command.message_code)
    assert decoded.to_bytes() == raw
    assert "unknown" not in str(decoded.to_json())


@needs_reference
def test_secondary_tariff_carries_the_body() -> None:
    """ECS01c: secondary prices (index 1..4), 201..204 selectors, calendar and special days."""
    objects = _objects(_translate(C_FUTURE))
    matrix = objects[("0-0:19.20.5.255", 6)]
    assert _charge_table(matrix) == {"01": 10100, "02": 0, "03": 12300, "04": 13400}
    assert _scaling(matrix) == [3, -5]
    assert _leaf(_values(_values(matrix)[1])[1]) == "0114010800ff"
    days = objects[("0-0:13.0.1.255", 9)]
    assert _selectors(days) == [[201, 204, 203], [204, 203, 201], [204]]
    seasons = _values(objects[("0-0:13.0.1.255", 7)])
    assert [_leaf(_values(s)[0]) for s in seasons] == ["77696e746572", "73756d6d6572"]
    special = _values(objects[("0-1:11.0.1.255", 2)])
    assert [[_leaf(v) for v in _values(s)] for s in special] == [
        [1, "07df0501ff", 3],
        [2, "ffff0c19ff", 1],
    ]
    assert {_date_time(objects[k]) for k in ACTIVATIONS["ECS01c"]} == {"2030-01-15 09:00:00"}


@needs_reference
def test_secondary_price_carries_the_body() -> None:
    objects = _objects(_translate(D_IMMEDIATE))
    assert list(objects) == [("0-0:19.20.5.255", 6), ("0-0:19.20.5.255", 7)]
    matrix = objects[("0-0:19.20.5.255", 6)]
    assert _charge_table(matrix) == {"01": 1010, "02": 1120, "03": 1230, "04": 1340}
    assert _date_time(objects[("0-0:19.20.5.255", 7)]) == "now"


# -- (5) nothing hides ----------------------------------------------------------------------------
def _translated(template: Path) -> bool:
    stem = _stem(template)
    try:
        command = _translate(stem)
    except NotTranslatable:
        return False
    if command.use_case != _use_case(stem):
        return False
    vector = dict(PAIRS).get(template)
    return vector is None or differences(translate_template(template, vector)) == []


@needs_reference
def test_untranslated_set_is_declared() -> None:
    assert len(GROUP) == 14
    missing = {_stem(t) for t in GROUP if not _translated(t)}
    assert missing == set(NOT_TRANSLATED)


# -- (3) value sensitivity ------------------------------------------------------------------------
@needs_reference
def test_primary_prices_and_scales_follow_body() -> None:
    objects = _objects(
        _translate(
            A_TOU,
            {
                ">3127</sr:TOUPrice>": ">-1234</sr:TOUPrice>",
                "<sr:StandingCharge>20000<": "<sr:StandingCharge>321<",
                "<sr:StandingChargeScale>-5<": "<sr:StandingChargeScale>-2<",
                "<sr:PriceScale>-5<": "<sr:PriceScale>-4<",
                '<sr:TOUPrice index="3">4744': '<sr:TOUPrice index="48">4744',
            },
        )
    )
    matrix = objects[("0-0:19.20.0.255", 6)]
    table = _charge_table(matrix)
    assert len(table) == 80
    assert (table["01"], table["02"], table["03"], table["30"]) == (2121, -1234, 0, 4744)
    assert _scaling(matrix) == [3, -4]
    standing = objects[("0-0:19.20.4.255", 6)]
    assert _charge_table(standing) == {"": 321}
    assert _scaling(standing) == [0, -2]


@needs_reference
def test_block_prices_land_in_their_cells() -> None:
    """BlockPrices index = block set (1..8), BlockPrice index = block (a..d)."""
    table = _charge_table(
        _objects(
            _translate(
                A_BLOCK,
                {
                    '<sr:BlockPrices index="1">': '<sr:BlockPrices index="7">',
                    '<sr:BlockPrice index="3">5566': '<sr:BlockPrice index="4">5566',
                },
            )
        )[("0-0:19.20.0.255", 6)]
    )
    assert {k: v for k, v in table.items() if v} == {"a7": 1361, "b7": 2289, "d7": 5566}


@needs_reference
def test_switching_table_follows_body() -> None:
    objects = _objects(
        _translate(
            A_TOU,
            {
                ">winter<": ">cold<",
                "<sr:StartTime>07:00:00.00Z": "<sr:StartTime>07:30:15.00Z",
                ">10</sr:SpecifiedMonth>": ">11</sr:SpecifiedMonth>",
                '<sr:ReferencedDayName index="6">3': '<sr:ReferencedDayName index="6">2',
                "<sr:TOUTariffAction>1<": "<sr:TOUTariffAction>17<",
                "<sr:SpecifiedDayOfMonth>25<": "<sr:SpecifiedDayOfMonth>26<",
                ">GBP<": ">ECB<",
            },
        )
    )
    season = _values(_values(objects[("0-0:13.0.0.255", 7)])[0])
    assert _leaf(season[0]) == b"cold".hex()
    assert str(_leaf(season[1])).startswith("07de0b1bff00000000")
    week = [_leaf(v) for v in _values(_values(objects[("0-0:13.0.0.255", 8)])[0])]
    assert week == ["01", 1, 1, 1, 1, 1, 2, 3]
    days = objects[("0-0:13.0.0.255", 9)]
    assert _selectors(days) == [[2, 3], [3, 2], [17]]
    first_day = _values(_values(_values(days)[0])[1])
    assert _leaf(_values(first_day[1])[0]) == "071e0f00"
    special = _values(objects[("0-1:11.0.0.255", 2)])
    assert _leaf(_values(special[1])[1]) == "ffff0c1aff"
    assert _leaf(objects[("0-0:94.44.2.0", 4)]) is False


@needs_reference
def test_block_actions_and_thresholds_follow_body() -> None:
    objects = _objects(
        _translate(
            A_BLOCK,
            {
                "<sr:BlockTariffAction>1<": "<sr:BlockTariffAction>8<",
                ">20000</sr:BlockThreshold>": ">12345</sr:BlockThreshold>",
            },
        )
    )
    assert _selectors(objects[("0-0:13.0.0.255", 9)]) == [[108]]
    assert [_leaf(v) for v in _values(objects[("0-0:16.1.11.255", 2)])] == [
        10000,
        12345,
        4294967295,
    ]
    assert objects[("0-1:11.0.0.255", 2)] == {"type": "array", "value": []}


@needs_reference
@pytest.mark.parametrize("name", [A_FUTURE, B_HYBRID, C_FUTURE])
def test_execution_date_time_sets_every_activation(name: str) -> None:
    keys = ACTIVATIONS[_use_case(name)]
    command = _translate(name, {"2030-01-15T09:00:00.00Z": "2031-02-03T04:05:06.00Z"})
    assert command.date_time == b""  # GBCS carries it in the data, not the header
    objects = _objects(command)
    assert {_date_time(objects[k]) for k in keys} == {"2031-02-03 04:05:06"}
    assert [k for k, v in objects.items() if _date_time(v) == "2031-02-03 04:05:06"] == keys
    cancelled = _objects(_translate(name, {"2030-01-15T09:00:00.00Z": "3000-12-31T00:00:00.00Z"}))
    assert {_date_time(cancelled[k]) for k in keys} == {"never"}
    immediate = _objects(
        _translate(
            name, {"<sr:ExecutionDateTime>2030-01-15T09:00:00.00Z</sr:ExecutionDateTime>": ""}
        )
    )
    assert {_date_time(immediate[k]) for k in keys} == {"now"}


@needs_reference
def test_price_only_updates_follow_body() -> None:
    primary = _objects(_translate(B_TOU, {">4327<": ">99<"}))
    assert _charge_table(primary[("0-0:19.20.0.255", 6)])["02"] == 99
    assert len(primary) == 4
    secondary = _objects(
        _translate(D_IMMEDIATE, {">1230<": ">-7<", "<sr:PriceScale>-5<": "<sr:PriceScale>2<"})
    )
    matrix = secondary[("0-0:19.20.5.255", 6)]
    assert _charge_table(matrix)["03"] == -7
    assert _scaling(matrix) == [3, 2]


@needs_reference
def test_secondary_actions_follow_body() -> None:
    days = _objects(
        _translate(
            C_FUTURE,
            {">01</sr:TOUTariffAction>": ">02</sr:TOUTariffAction>"},
        )
    )[("0-0:13.0.1.255", 9)]
    assert _selectors(days) == [[202, 204, 203], [204, 203, 202], [204]]


# -- (4) bad values -------------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize(
    ("name", "edits", "field"),
    [
        (A_TOU, {"<sr:TOUTariffAction>3<": "<sr:TOUTariffAction>49<"}, "TOUTariffAction"),
        (A_BLOCK, {"<sr:BlockTariffAction>1<": "<sr:BlockTariffAction>9<"}, "BlockTariffAction"),
        (A_TOU, {">GBP<": ">USD<"}, "CurrencyUnits"),
        (A_TOU, {">20000</sr:StandingCharge>": ">32768</sr:StandingCharge>"}, "StandingCharge"),
        (A_TOU, {">-5</sr:PriceScale>": ">-129</sr:PriceScale>"}, "PriceScale"),
        (A_TOU, {">winter<": ">midwinter<"}, "SeasonName"),
        (A_TOU, {"07:00:00.00Z": "24:00:00.00Z"}, "StartTime"),
        (A_TOU, {'index="7">3<': 'index="7">17<'}, "ReferencedDayName"),
        (A_TOU, {'index="7">3<': 'index="6">3<'}, "ReferencedDayName"),
        (A_TOU, {'<sr:TOUPrice index="3">': '<sr:TOUPrice index="49">'}, "TOUPrice"),
        (A_TOU, {'<sr:TOUPrice index="3">': '<sr:TOUPrice index="2">'}, "TOUPrice"),
        (A_TOU, {'<sr:Thresholds index="8">': '<sr:Thresholds index="7">'}, "Thresholds"),
        (
            A_BLOCK,
            {">20000</sr:BlockThreshold>": ">4294967296</sr:BlockThreshold>"},
            "BlockThreshold",
        ),
        (A_BLOCK, {'<sr:BlockPrice index="3">': '<sr:BlockPrice index="5">'}, "BlockPrice"),
        (A_FUTURE, {"2030-01-15T09:00:00.00Z": "2030-01-15"}, "ExecutionDateTime"),
        (B_TOU, {"<sr:TOUTariff>": "<sr:Tariff>", "</sr:TOUTariff>": "</sr:Tariff>"}, "TOUTariff"),
        (C_FUTURE, {"<sr:TOUTariffAction>04<": "<sr:TOUTariffAction>05<"}, "TOUTariffAction"),
        (
            D_IMMEDIATE,
            {'<sr:ElectricityPriceElement index="4">': '<sr:ElectricityPriceElement index="5">'},
            "ElectricityPriceElement",
        ),
        (D_IMMEDIATE, {">1340<": ">40000<"}, "ElectricityPriceElement"),
    ],
)
def test_bad_value_names_the_field(name: str, edits: dict[str, str], field: str) -> None:
    with pytest.raises(DuisSchemaError, match=field):
        _translate(name, edits)
