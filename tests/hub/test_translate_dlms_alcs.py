"""Auxiliary controllers and longer billing periodicities (ECS46d, ECS47a, ECS30a; CV 4).

ECS46d is judged byte for byte against the RTDS pre-commands DCC built from the same templates
(translate_support); ECS47a and ECS30a have no vector: they must encode, decode back with our
codec without unknown nodes and carry the DUIS values. Value-sensitivity and bad-value checks
run on edited copies of the templates.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from smetsnet.duis import Request, from_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.dlms import AccessRequest, decode_dlms_payload
from smetsnet.hub.translate import Command, NotTranslatable, supported, translate
from smetsnet.hub.translate.dlms_alcs import billing_calendar_all_periodicities
from smetsnet.inventory.model import DeviceType
from tests.hub.translate_support import (
    TEMPLATES,
    context_of,
    differences,
    paired_templates,
    translate_template,
)

SUFFIX = "_REQUEST_DUIS.XML"
#: The use cases of this group (template name up to the first "_").
GROUP = ("ECS46d", "ECS46c", "ECS47a", "ECS47Deactivate", "ECS30a", "ECS48")

#: Templates of the group with no registered translator, and why.
NOT_TRANSLATED: dict[str, str] = {
    **dict.fromkeys(
        (
            "ECS46c_6.14.2_CANCELLATION_ALL_OPTIONALS_SUCCESS",
            "ECS46c_6.14.2_FUTURE_DATED_ALL_OPTIONALS_SUCCESS",
            "ECS46c_6.14.2_IMMEDIATE_SOME_OPTIONALS_SUCCESS",
        ),
        "ECS46c (ALCS scheduler) was withdrawn from GBCS: no use-case object table "
        "(gbcs-parser-js lists none) and no vector",
    ),
    "ECS47Deactivate_7.6_SUCCESS": "ECS47's deactivate script id and its duration object are in "
    "no vector or public table (activate 0x11 and reset 0x20 are; ECS47 is not in the "
    "published use-case tables)",
    "ECS48_6.26_SUCCESS": "the daily reset's execution_time_date is 'EXCEPTIONAL' (GBCS §18.2.1), "
    "which no public source or vector shows (no vector reads 0-0:15.1.0.255)",
}


def _stem(path: Path) -> str:
    return path.name.removesuffix(SUFFIX)


def group_templates() -> list[Path]:
    """The group's templates with CommandVariant 4 (empty when the reference is absent)."""
    if not TEMPLATES.is_dir():
        return []
    out = []
    for path in sorted(TEMPLATES.glob("ECS*" + SUFFIX)):
        cv = re.search(r"<sr:CommandVariant>\s*(\d+)", path.read_text())
        if path.name.split("_")[0] in GROUP and cv is not None and cv.group(1) == "4":
            out.append(path)
    return out


PAIRS = [(t, v) for t, v in paired_templates() if t in set(group_templates())]
JUDGED = [(t, v) for t, v in PAIRS if _stem(t) not in NOT_TRANSLATED]
UNPAIRED = sorted(set(group_templates()) - {t for t, _ in PAIRS})
TRANSLATED_UNPAIRED = [t for t in UNPAIRED if _stem(t) not in NOT_TRANSLATED]
needs_reference = pytest.mark.skipif(
    not TEMPLATES.is_dir(), reason="DUIS templates not found (../shared/reference)"
)

ALCS = "ECS46d_6.14.3_IMMEDIATE_ALCS_SUCCESS"
FUTURE = "ECS46d_6.14.3_FUTURE_DATED_APC_OUTPUT_SUCCESS"
STATE = "ECS47a_7.13_APC_INPUT_SUCCESS"
BILLING = "ECS30a_6.8_SUCCESS"


def _request(name: str, edits: dict[str, str] | None = None, count: int = -1) -> Request:
    """The template, with each ``old`` replaced by ``new`` (the first ``count``, or all)."""
    text = (TEMPLATES / (name + SUFFIX)).read_text()
    for old, new in (edits or {}).items():
        assert old in text, old
        text = text.replace(old, new, count)
    request = from_xml(text.encode())
    assert isinstance(request, Request)
    return request


def _translate(name: str, edits: dict[str, str] | None = None, count: int = -1) -> Command:
    request = _request(name, edits, count)
    return translate(request, context_of(request))


def _billing(edits: dict[str, str]) -> Command:
    request = _request(BILLING, edits)
    return billing_calendar_all_periodicities(request.body, context_of(request))


def _data(command: Command) -> list[Any]:
    payload = command.payload
    assert isinstance(payload, AccessRequest)
    return [d.to_json() for d in payload.data]


def _instances(command: Command) -> list[str]:
    payload = command.payload
    assert isinstance(payload, AccessRequest)
    return [str(s.instance) for s in payload.specs]


def _decodes(command: Command) -> None:
    raw = command.payload.to_bytes()
    decoded = decode_dlms_payload(raw, message_code=command.message_code)
    assert decoded.to_bytes() == raw
    assert "unknown" not in str(decoded.to_json())


def _entry(command: Command, n: int) -> list[Any]:
    """The fields of schedule entry ``n`` (0-based) of an ECS46d command."""
    return [field["value"] for field in _data(command)[1]["value"][n]["value"]]


# -- (1) every vector-judged template -------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize(("template", "vector"), JUDGED, ids=[_stem(t) for t, _ in JUDGED])
def test_matches_dcc_precommand(template: Path, vector: Path) -> None:
    pair = translate_template(template, vector)
    assert differences(pair) == []
    assert pair.command.use_case == _stem(template).split("_")[0]


def test_calendar_is_registered_for_esme_and_the_auxiliary_controller() -> None:
    """A6 (HCALCS in the hub's inventory) receives the FUTURE_DATED/CANCELLATION calendars."""
    assert {("6.14.3", DeviceType.ESME), ("6.14.3", DeviceType.HCALCS)} <= supported()


# -- (2) templates without a vector ---------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("template", TRANSLATED_UNPAIRED, ids=map(_stem, TRANSLATED_UNPAIRED))
def test_unpaired_template_translates_and_decodes(template: Path) -> None:
    command = _translate(_stem(template))
    assert command.use_case == _stem(template).split("_")[0]
    _decodes(command)


@needs_reference
def test_all_periodicities_billing_calendar_decodes() -> None:
    command = _billing({})
    assert (command.use_case, command.message_code) == ("ECS30a", 0x00D7)
    _decodes(command)


# -- (5) nothing hides ----------------------------------------------------------------------------
def _translated(template: Path) -> bool:
    stem = _stem(template)
    try:
        command = _translate(stem)
    except NotTranslatable:
        return False
    if command.use_case != stem.split("_")[0]:
        return False
    vector = dict(PAIRS).get(template)
    return vector is None or differences(translate_template(template, vector)) == []


@needs_reference
def test_untranslated_set_is_declared() -> None:
    missing = {_stem(t) for t in group_templates() if not _translated(t)}
    assert missing == set(NOT_TRANSLATED)


# -- (3) value sensitivity: ECS46d ----------------------------------------------------------------
@needs_reference
def test_calendar_script_follows_controller_level_and_direction() -> None:
    first = '<sr:AuxiliaryControllerAction auxiliaryControllerN="1">'
    command = _translate(
        ALCS,
        {
            first: '<sr:AuxiliaryControllerAction auxiliaryControllerN="4">',
            "<sr:CommandedStateLevel>0</sr:CommandedStateLevel>": (
                "<sr:CommandedStateLevel>37</sr:CommandedStateLevel><sr:InputFromControlledLoad/>"
            ),
        },
        count=1,
    )
    assert _entry(command, 0)[3] == 0x2000 + 0x400 + 0x80 + 37
    assert _entry(command, 1)[3] == 0x1000 + 0x100 + 0x80 + 100  # untouched entry


@needs_reference
def test_calendar_times_days_and_dates_follow_body() -> None:
    command = _translate(
        ALCS,
        {
            "<sr:SwitchTime>09:00:00.00Z": "<sr:SwitchTime>17:45:30.00Z",
            "<sr:DayOfWeekID>Monday</sr:DayOfWeekID>": "<sr:DayOfWeekID>Sunday</sr:DayOfWeekID>",
            '<sr:SpecialDaysApplicability identifier="2"/>': "",
            "<sr:SpecifiedYear>2015<": "<sr:SpecifiedYear>2031<",
        },
        count=1,
    )
    entry = _entry(command, 0)
    assert entry[4] == "112d1e00"
    assert entry[6] == "0111101"  # Tuesday..Friday and Sunday
    assert entry[7] == "101"
    assert entry[8] == "07ef0615ff"


@needs_reference
def test_calendar_special_days_follow_body() -> None:
    definition = '<sr:AuxiliaryControllerSpecialDayDefinition identifier="3">'
    command = _translate(
        ALCS,
        {
            "<sr:SpecifiedMonth>12</sr:SpecifiedMonth>\n          </sr:Month>\n"
            "          <sr:DayOfMonth>\n            <sr:SpecifiedDayOfMonth>25": (
                "<sr:SpecifiedMonth>11</sr:SpecifiedMonth>\n          </sr:Month>\n"
                "          <sr:DayOfMonth>\n            <sr:SpecifiedDayOfMonth>05"
            ),
            # a fourth special day widens every entry's special-days bit-string
            definition: definition.replace("3", "4") + "<sr:Year><sr:NonSpecifiedYear/></sr:Year>"
            "<sr:Month><sr:SpecifiedMonth>1</sr:SpecifiedMonth></sr:Month><sr:DayOfMonth>"
            "<sr:SpecifiedDayOfMonth>2</sr:SpecifiedDayOfMonth></sr:DayOfMonth>"
            "<sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>"
            "</sr:AuxiliaryControllerSpecialDayDefinition>" + definition,
        },
    )
    special = [[f["value"] for f in day["value"]] for day in _data(command)[0]["value"]]
    assert special[0] == [1, "ffff0b05ff", 1]
    assert special[2] == [4, "ffff0102ff", 4]
    assert _entry(command, 0)[7] == "1110"


@needs_reference
def test_calendar_activation_follows_execution_date_time() -> None:
    command = _translate(FUTURE, {"2030-04-01T09:00:00.00Z": "2032-07-08T10:11:12.00Z"})
    assert [d["date_time"] for d in _data(command)[2:]] == ["2032-07-08 10:11:12"] * 2
    assert command.date_time == b""
    immediate = _translate(ALCS)
    assert [d["date_time"] for d in _data(immediate)[2:]] == ["now"] * 2


# -- (3) value sensitivity: ECS47a ----------------------------------------------------------------
@needs_reference
def test_state_follows_controller_level_direction_and_period() -> None:
    command = _translate(
        STATE,
        {
            'auxiliaryControllerN="3"': 'auxiliaryControllerN="2"',
            ">50<": ">75<",
            "2015-01-03T01:00:00.00Z": "2016-02-04T05:06:07.00Z",
        },
    )
    assert _instances(command) == ["0-0:94.44.118.1", "0-0:94.44.118.2", "0-0:10.0.103.255"]
    data = _data(command)
    assert data[0]["date_time"] == "2015-01-03 00:00:00"
    assert data[1]["date_time"] == "2016-02-04 05:06:07"
    assert data[2] == {"type": "long-unsigned", "value": 0x2000 + 0x200 + 0x80 + 75}
    output = _translate(STATE, {"<sr:InputFromControlledLoad/>": ""})
    assert _data(output)[2]["value"] == 0x1000 + 0x300 + 0x80 + 50


# -- (3) value sensitivity: ECS30a ----------------------------------------------------------------
def _billing_dates(command: Command) -> list[tuple[str, str]]:
    return [
        (entry["value"][0]["value"], entry["value"][1]["value"])
        for entry in _data(command)[0]["value"]
    ]


@needs_reference
@pytest.mark.parametrize(
    ("periodicity", "dates"),
    [
        ("Quarterly", ["ffff0b0cff", "ffff020cff", "ffff050cff", "ffff080cff"]),
        ("SixMonthly", ["ffff0b0cff", "ffff050cff"]),
        ("Yearly", ["ffff0b0cff"]),
    ],
)
def test_longer_periodicities_list_each_billing_date(periodicity: str, dates: list[str]) -> None:
    command = _billing(
        {
            "Quarterly>": f"{periodicity}>",
            "<sr:DayOfMonth>1<": "<sr:DayOfMonth>12<",
            "<sr:BillingPeriodStartMonth>1<": "<sr:BillingPeriodStartMonth>11<",
            ">00:00:00.00Z<": ">23:30:00.00Z<",
        }
    )
    assert _billing_dates(command) == [("171e0000", d) for d in dates]


@needs_reference
def test_daily_weekly_and_monthly_calendars() -> None:
    quarterly = re.compile(r"<sr:Quarterly>.*</sr:Quarterly>", re.DOTALL)
    text = (TEMPLATES / (BILLING + SUFFIX)).read_text()
    block = quarterly.search(text)
    assert block is not None
    daily = _billing({block.group(0): "<sr:Daily/>"})
    assert _billing_dates(daily) == [("00000000", "ffffffffff")]
    weekly = _billing({block.group(0): "<sr:Weekly>3</sr:Weekly>"})
    assert _billing_dates(weekly) == [("00000000", "ffffffff03")]
    monthly = _billing({block.group(0): "<sr:Monthly>9</sr:Monthly>"})
    assert monthly.use_case == "ECS30"
    assert _billing_dates(monthly) == [("00000000", "ffffff09ff")]


# -- (4) bad values -------------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize(
    ("name", "edits", "field"),
    [
        (ALCS, {">100</sr:CommandedStateLevel>": ">101</sr:CommandedStateLevel>"}, "Level"),
        (ALCS, {'auxiliaryControllerN="2"': 'auxiliaryControllerN="6"'}, "auxiliaryControllerN"),
        (
            ALCS,
            {'Applicability identifier="3"': 'Applicability identifier="4"'},
            "SpecialDaysApplicability",
        ),
        (ALCS, {">09:00:00.00Z<": ">25:00:00.00Z<"}, "SwitchTime"),
        (ALCS, {"<sr:SpecifiedMonth>06<": "<sr:SpecifiedMonth>13<"}, "SpecifiedMonth"),
        (ALCS, {"<sr:DayOfWeekID>Monday<": "<sr:DayOfWeekID>Funday<"}, "DayOfWeekID"),
        (STATE, {"2015-01-03T01:00:00.00Z": "2015-01-02T01:00:00.00Z"}, "EndDateTime"),
        (STATE, {">50<": ">101<"}, "CommandedStateLevel"),
        (STATE, {'auxiliaryControllerN="3"': 'auxiliaryControllerN="0"'}, "auxiliaryControllerN"),
    ],
)
def test_bad_value_names_the_field(name: str, edits: dict[str, str], field: str) -> None:
    with pytest.raises(DuisSchemaError, match=field):
        _translate(name, edits)


@needs_reference
@pytest.mark.parametrize(
    ("edits", "field"),
    [
        ({"<sr:DayOfMonth>1<": "<sr:DayOfMonth>29<"}, "DayOfMonth"),
        ({"<sr:BillingPeriodStartMonth>1<": "<sr:BillingPeriodStartMonth>13<"}, "StartMonth"),
        ({">00:00:00.00Z<": ">noon<"}, "BillingTime"),
    ],
)
def test_bad_billing_value_names_the_field(edits: dict[str, str], field: str) -> None:
    with pytest.raises(DuisSchemaError, match=field):
        _billing(edits)
