"""Traffic accounting (smetsnet.hub.traffic): SR categories, counting, queries, merge, JSON."""

from __future__ import annotations

import json
from datetime import date

import pytest

from smetsnet.duis.catalogue import catalogue
from smetsnet.errors import SmetsnetError
from smetsnet.hub.traffic import (
    DAYS_PER_MONTH,
    JSON_FORMAT,
    Category,
    TrafficError,
    TrafficMeter,
    UnknownServiceRequest,
    all_categorised,
    category_of,
    category_of_use_case,
)

D1 = date(2025, 3, 1)
D2 = date(2025, 3, 2)
M1 = bytes.fromhex("0011223344556677")
M2 = bytes.fromhex("8899AABBCCDDEEFF")

# -- categories of SRs ----------------------------------------------------------------------------


def test_every_catalogue_sr_has_a_category_and_no_other() -> None:
    assert list(all_categorised()) == list(catalogue())
    assert len(all_categorised()) == 129


def test_every_gb_category_is_used() -> None:
    used = set(all_categorised().values())
    # ALERTS belongs to device-initiated messages, never to an SR.
    assert used == set(Category) - {Category.ALERTS}


@pytest.mark.parametrize(
    ("srv", "name", "category"),
    [
        ("4.8.1", "Read Active Import Profile Data", Category.READINGS),
        ("4.1.1", "Read Instantaneous Import Registers", Category.READINGS),
        ("4.11.1", "Read Tariff Primary Element", Category.TARIFFS),
        ("1.1.1", "Update Import Tariff Primary Element", Category.TARIFFS),
        ("2.2", "Top Up Device", Category.PREPAYMENT),
        ("1.6", "Update Payment Mode", Category.PREPAYMENT),
        ("6.23", "Update Security Credentials Co S", Category.SECURITY),
        ("6.15.1", "Update Security Credentials KRP", Category.SECURITY),
        ("6.8", "Update Device Configuration Billing Calendar", Category.SETTINGS),
        ("7.2", "Disable Supply", Category.SETTINGS),
        ("8.1.1", "Commission Device", Category.INSTALL),
        ("8.7.1", "Join Service Critical", Category.INSTALL),
        ("12.2", "Device Prenotification", Category.INSTALL),
        ("11.1", "Update Firmware", Category.FIRMWARE),
        ("5.1", "Create Schedule", Category.INVENTORY),
        ("8.2", "Read Inventory", Category.INVENTORY),
    ],
)
def test_spot_checks(srv: str, name: str, category: Category) -> None:
    assert catalogue()[srv].name == name  # the SR is the one the row means
    assert category_of(srv) is category


def test_rules_hold_across_the_catalogue() -> None:
    for srv, info in catalogue().items():
        category = category_of(srv)
        if srv.startswith("11."):
            assert category is Category.FIRMWARE, srv
        if "Security Credentials" in info.name:
            assert category is Category.SECURITY, srv
        if srv.startswith("4.") and "Profile Data" in info.name:
            assert category is Category.READINGS, srv
        if srv.startswith("5."):
            assert category is Category.INVENTORY, srv


def test_unknown_sr_is_named() -> None:
    with pytest.raises(UnknownServiceRequest, match=r"'4\.99'") as caught:
        category_of("4.99")
    assert caught.value.srv == "4.99"
    assert isinstance(caught.value, SmetsnetError)


def test_use_case_categories() -> None:
    assert category_of_use_case("ECS80") is Category.ALERTS  # supply outage restore alert
    assert category_of_use_case("gcs53") is Category.ALERTS  # case-insensitive
    assert category_of_use_case("DBCH06") is Category.ALERTS
    assert category_of_use_case("ECS22b") is None  # a command: its SR gives the category
    assert category_of_use_case("NOPE1") is None


# -- counting and queries -------------------------------------------------------------------------


def _sample() -> TrafficMeter:
    t = TrafficMeter()
    for _ in range(3):
        t.count(
            day=D1,
            srv="4.8.1",
            use_case="ECS22b",
            category=Category.READINGS,
            meter=M1,
            kind="command",
        )
        t.count(
            day=D1,
            srv="4.8.1",
            use_case="ECS22b",
            category=Category.READINGS,
            meter=M1,
            kind="response",
        )
    t.count(day=D2, srv=None, use_case="ECS80", category=Category.ALERTS, meter=M2, kind="alert")
    t.count(day=D2, srv="8.2", use_case=None, category=Category.INVENTORY, meter=None, kind="duis")
    t.count(
        day=D1,
        srv="2.2",
        use_case="CS01a",
        category=Category.PREPAYMENT,
        meter=M2,
        kind="command",
        n=2,
    )
    return t


def test_queries() -> None:
    t = _sample()
    assert t.total() == 10
    assert t.by_category() == {
        Category.READINGS: 6,
        Category.ALERTS: 1,
        Category.INVENTORY: 1,
        Category.PREPAYMENT: 2,
    }
    assert t.by_day_and_category() == {
        D1: {Category.READINGS: 6, Category.PREPAYMENT: 2},
        D2: {Category.ALERTS: 1, Category.INVENTORY: 1},
    }
    assert list(t.by_day_and_category()) == [D1, D2]
    assert t.by_srv() == {"4.8.1": 6, "8.2": 1, "2.2": 2}
    assert t.by_use_case() == {"ECS22b": 6, "ECS80": 1, "CS01a": 2}
    assert t.by_kind() == {"command": 5, "response": 3, "alert": 1, "duis": 1}
    assert t.meters() == 2
    assert t.by_meter() == {M1: 6, M2: 3}


def test_firmware_blocks_are_transfer_units_not_messages() -> None:
    t = _sample()
    before = (t.total(), t.share_by_category(), t.by_meter(), t.by_day_and_category(), t.by_srv())
    assert t.transfers() == {"block": 0, "ack": 0}
    for kind, n in (("block", 17), ("ack", 16)):
        t.count(
            day=D1, srv="11.1", use_case=None, category=Category.FIRMWARE, meter=M1, kind=kind, n=n
        )
    assert t.transfers() == {"block": 17, "ack": 16}
    after = (t.total(), t.share_by_category(), t.by_meter(), t.by_day_and_category(), t.by_srv())
    assert after == before
    assert "block" not in t.by_kind()
    assert TrafficMeter.from_json(t.to_json()).transfers() == {"block": 17, "ack": 16}


def test_share_by_category() -> None:
    share = _sample().share_by_category()
    assert list(share) == [c.value for c in Category]
    assert sum(share.values()) == pytest.approx(1.0)
    assert share["readings"] == pytest.approx(0.6)
    assert share["alerts"] == pytest.approx(0.1)
    assert share["firmware"] == 0.0
    assert TrafficMeter().share_by_category() == {}


def test_empty_meter() -> None:
    t = TrafficMeter()
    assert t.total() == 0
    assert t.by_category() == {}
    assert t.by_day_and_category() == {}
    assert t.meters() == 0


def test_per_meter_per_month() -> None:
    t = _sample()
    assert t.per_meter_per_month(5, 2) == pytest.approx(10 / 5 / 2 * DAYS_PER_MONTH)
    assert t.per_meter_per_month(1, DAYS_PER_MONTH) == pytest.approx(10)
    with pytest.raises(TrafficError, match="meters must be positive, not 0"):
        t.per_meter_per_month(0, 1)
    with pytest.raises(TrafficError, match="days must be positive, not -1"):
        t.per_meter_per_month(1, -1)


def test_bad_kind_and_count_are_named() -> None:
    t = TrafficMeter()
    with pytest.raises(TrafficError, match="'request' is not one of command"):
        t.count(
            day=D1,
            srv="2.2",
            use_case=None,
            category=Category.PREPAYMENT,
            meter=None,
            kind="request",
        )
    with pytest.raises(TrafficError, match="count 0"):
        t.count(
            day=D1,
            srv="2.2",
            use_case=None,
            category=Category.PREPAYMENT,
            meter=None,
            kind="duis",
            n=0,
        )
    assert t.total() == 0


# -- merge and JSON -------------------------------------------------------------------------------


def test_merge_adds_counts() -> None:
    a, b = _sample(), _sample()
    b.count(day=D2, srv="11.1", use_case=None, category=Category.FIRMWARE, meter=None, kind="duis")
    a.merge(b)
    assert a.total() == 21
    assert a.by_category()[Category.READINGS] == 12
    assert a.by_category()[Category.FIRMWARE] == 1
    assert a.by_meter() == {M1: 12, M2: 6}
    assert b.total() == 11  # the other meter is left alone


def test_merge_into_itself_doubles() -> None:
    t = _sample()
    t.merge(t)
    assert t.total() == 20
    assert t.by_meter() == {M1: 12, M2: 6}


def test_json_round_trip() -> None:
    t = _sample()
    d = json.loads(json.dumps(t.to_json()))
    assert d["format"] == JSON_FORMAT
    back = TrafficMeter.from_json(d)
    assert back.to_json() == t.to_json()
    assert back.by_day_and_category() == t.by_day_and_category()
    assert back.by_srv() == t.by_srv()
    assert back.by_meter() == t.by_meter()
    assert TrafficMeter.from_json(TrafficMeter().to_json()).total() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="other/9"), "format 'other/9'"),
        (lambda d: d["counts"].append([1, 2]), r"counts\[5\]: not a row of 6 fields"),
        (lambda d: d["counts"][0].__setitem__(0, "March"), r"counts\[0\]: Invalid isoformat"),
        (lambda d: d["counts"][0].__setitem__(3, "gossip"), r"counts\[0\]: 'gossip'"),
        (lambda d: d["counts"][0].__setitem__(4, "request"), r"counts\[0\]: message kind"),
        (lambda d: d["counts"][0].__setitem__(1, 4.8), r"counts\[0\]: srv and use case"),
        (lambda d: d["counts"][0].__setitem__(5, 0), r"counts\[0\]: count 0"),
        (lambda d: d.update(meters={"zz": 1}), "'zz' is not a hex meter id"),
        (lambda d: d.update(meters={"00": True}), "meter 00: count True"),
        (lambda d: d.update(meters=[]), "'meters' is not an object"),
    ],
)
def test_bad_json_is_named(change: object, message: str) -> None:
    d = json.loads(json.dumps(_sample().to_json()))
    assert callable(change)
    change(d)
    with pytest.raises(TrafficError, match=message):
        TrafficMeter.from_json(d)
