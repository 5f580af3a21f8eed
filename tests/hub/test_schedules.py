"""ScheduleStore: occurrences per frequency (month ends, leap days), due/advance, persistence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from smetsnet.duis import Node, Request, RequestHeader, to_xml
from smetsnet.duis.bodies import GenericBody
from smetsnet.duis.header import MessageId
from smetsnet.duis.schema import DuisSchema
from smetsnet.hub.schedules import (
    Frequency,
    Schedule,
    ScheduleError,
    ScheduleStore,
    add_months,
    occurrence_date,
    parse_time,
)
from smetsnet.inventory import UserRole
from tests.support.vectors import REFERENCE

USER = bytes.fromhex("90b3d51f30010000")
OTHER = bytes.fromhex("90b3d51f30020000")
ESME = bytes.fromhex("00db1234567890a0")
DCC = bytes.fromhex("90b3d51f30000002")
DAILY_READ = Node(
    "DSPRetrieveImportDailyReadLog",
    children=(
        Node("StartDateOffset", text="-1"),
        Node("StartTime", text="00:00:00.00Z"),
        Node("EndDateOffset", text="0"),
        Node("EndTime", text="00:00:00.00Z"),
    ),
)


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _add(
    store: ScheduleStore, frequency: Frequency, start: date, now: datetime, **kw: Any
) -> Schedule:
    args: dict[str, Any] = {
        "owner": USER,
        "role": UserRole.IS,
        "srv": "4.6.1",
        "service_reference": "4.6",
        "device": ESME,
        "frequency": frequency,
        "start_date": start,
        "scheduled": DAILY_READ,
        "now": now,
    }
    args.update(kw)
    return store.add(**args)


# --- calendar arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, date(2024, 3, 31)),  # counted from the start: no drift
        (date(2024, 1, 31), 3, date(2024, 4, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("frequency", "n", "expected"),
    [
        (Frequency.DAILY, 1, date(2024, 9, 1)),
        (Frequency.WEEKLY, 2, date(2024, 9, 14)),
        (Frequency.MONTHLY, 6, date(2025, 2, 28)),
        (Frequency.QUARTERLY, 2, date(2025, 2, 28)),
        (Frequency.HALF_YEARLY, 1, date(2025, 2, 28)),
        (Frequency.YEARLY, 4, date(2028, 8, 31)),
    ],
)
def test_occurrence_dates(frequency: Frequency, n: int, expected: date) -> None:
    assert occurrence_date(frequency, date(2024, 8, 31), n) == expected


def test_frequency_parse_names_the_known_ones() -> None:
    assert Frequency.parse("Half-Yearly") is Frequency.HALF_YEARLY
    with pytest.raises(ScheduleError, match=r"Fortnightly.*Daily"):
        Frequency.parse("Fortnightly")


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [("01:30:00", 1, 30), ("01:30:00.00Z", 1, 30), ("01:30:00+01:00", 0, 30)],
)
def test_execution_time_is_run_in_utc(text: str, hour: int, minute: int) -> None:
    store = ScheduleStore()
    start = date(2024, 3, 1)
    s = _add(store, Frequency.DAILY, start, _at(date(2024, 2, 1)), execution_start_time=text)
    assert s.next_run == _at(start, hour, minute)


@pytest.mark.parametrize("text", ["1:30", "25:00:00", "noon"])
def test_bad_execution_time_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_time(text)
    with pytest.raises(ScheduleError):
        _add(ScheduleStore(), Frequency.DAILY, date(2024, 3, 1), _at(date(2024, 2, 1)),
             execution_start_time=text)  # fmt: skip


# --- due and advance ---------------------------------------------------------------------------


def test_monthly_schedule_from_the_31st_runs_on_each_month_end() -> None:
    store = ScheduleStore()
    s = _add(store, Frequency.MONTHLY, date(2024, 1, 31), _at(date(2024, 1, 1)))
    runs: list[date] = []
    while len(runs) < 5:
        (due,) = store.due(_at(date(2025, 1, 1)))
        assert due.id == s.id and due.next_run is not None
        runs.append(due.next_run.date())
        store.advance(s.id)
    assert runs == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30),
                    date(2024, 5, 31)]  # fmt: skip


def test_due_lists_only_what_is_due_earliest_first() -> None:
    store = ScheduleStore()
    now = _at(date(2024, 5, 1))
    daily = _add(store, Frequency.DAILY, date(2024, 5, 2), now, execution_start_time="06:00:00")
    weekly = _add(store, Frequency.WEEKLY, date(2024, 5, 2), now, execution_start_time="01:00:00")
    later = _add(store, Frequency.DAILY, date(2024, 6, 1), now)
    assert store.next_due() == _at(date(2024, 5, 2), 1)
    assert store.due(_at(date(2024, 5, 1), 23)) == []
    assert [s.id for s in store.due(_at(date(2024, 5, 2), 12))] == [weekly.id, daily.id]
    store.advance(daily.id)
    store.advance(weekly.id)
    assert [s.id for s in store.due(_at(date(2024, 5, 3), 12))] == [daily.id]
    assert store.get(weekly.id).next_run == _at(date(2024, 5, 9), 1)
    assert later.id not in [s.id for s in store.due(_at(date(2024, 5, 31), 23))]


def test_first_run_is_not_before_creation() -> None:
    store = ScheduleStore()
    s = _add(store, Frequency.DAILY, date(2024, 5, 1), _at(date(2024, 5, 1), 9),
             execution_start_time="08:00:00")  # fmt: skip
    assert s.next_run == _at(date(2024, 5, 2), 8)
    same = _add(store, Frequency.DAILY, date(2024, 5, 1), _at(date(2024, 5, 1), 8),
                execution_start_time="08:00:00")  # fmt: skip
    assert same.next_run == _at(date(2024, 5, 1), 8)


def test_advance_after_a_long_sleep_skips_missed_runs() -> None:
    store = ScheduleStore()
    s = _add(store, Frequency.DAILY, date(2020, 1, 1), _at(date(2020, 1, 1)))
    woke = _at(date(2024, 7, 10), 12)
    moved = store.advance(s.id, after=woke)
    assert moved.next_run == _at(date(2024, 7, 11))
    assert moved.runs == (date(2024, 7, 11) - date(2020, 1, 1)).days


def test_end_date_stops_the_schedule() -> None:
    store = ScheduleStore()
    s = _add(store, Frequency.WEEKLY, date(2024, 1, 1), _at(date(2024, 1, 1)),
             end_date=date(2024, 1, 14))  # fmt: skip
    assert store.advance(s.id).next_run == _at(date(2024, 1, 8))
    ended = store.advance(s.id)
    assert ended.next_run is None
    assert store.due(_at(date(2030, 1, 1))) == [] and store.next_due() is None
    assert store.advance(s.id) == ended  # nothing left to advance
    with pytest.raises(ScheduleError, match="before start"):
        _add(store, Frequency.DAILY, date(2024, 2, 1), _at(date(2024, 1, 1)),
             end_date=date(2024, 1, 31))  # fmt: skip


def test_removed_and_advanced_schedules_leave_no_stale_runs() -> None:
    store = ScheduleStore()
    now = _at(date(2024, 1, 1))
    a = _add(store, Frequency.DAILY, date(2024, 1, 1), now)
    b = _add(store, Frequency.DAILY, date(2024, 1, 1), now, owner=OTHER)
    store.remove(a.id)
    store.advance(b.id)
    assert store.due(_at(date(2024, 1, 1), 12)) == []
    assert [s.id for s in store.due(_at(date(2024, 1, 2)))] == [b.id]
    with pytest.raises(ScheduleError, match="no schedule"):
        store.remove(a.id)
    assert store.of_owner(OTHER) == [store.get(b.id)] and store.of_owner(USER) == []


def test_due_scales_with_what_is_due() -> None:
    store = ScheduleStore()
    now = _at(date(2024, 1, 1))
    for i in range(2000):
        _add(
            store,
            Frequency.DAILY,
            date(2024, 1, 1),
            now,
            execution_start_time=f"{i % 24:02d}:00:00",
        )
    due = store.due(_at(date(2024, 1, 1), 2))
    assert len(due) == sum(1 for i in range(2000) if i % 24 <= 2)
    assert all(s.next_run is not None and s.next_run.hour <= 2 for s in due)
    assert [s.next_run for s in due] == sorted(s.next_run for s in due if s.next_run)


# --- persistence and the request a run sends ---------------------------------------------------


def test_json_round_trip_keeps_schedules_order_and_ids() -> None:
    store = ScheduleStore()
    now = _at(date(2024, 1, 1))
    a = _add(store, Frequency.MONTHLY, date(2024, 1, 31), now, end_date=date(2024, 12, 31),
             execution_start_time="02:00:00Z", ka_credential=b"\x01\x02")  # fmt: skip
    store.advance(a.id)
    b = _add(store, Frequency.YEARLY, date(2024, 2, 29), now, role=UserRole.GS)
    copy = ScheduleStore.from_json(store.to_json())
    assert list(copy) == list(store)
    assert copy.next_due() == store.next_due()
    assert [s.id for s in copy.due(_at(date(2024, 3, 1)))] == [b.id, a.id]  # 00:00 before 02:00
    assert _add(copy, Frequency.DAILY, date(2024, 2, 1), now).id == b.id + 1


@pytest.mark.parametrize("text", ["{}", "[]", '{"next_id": 1, "schedules": [{"id": 1}]}'])
def test_from_json_refuses_what_is_not_a_store(text: str) -> None:
    with pytest.raises(ScheduleError):
        ScheduleStore.from_json(text)


def test_from_json_refuses_ids_not_below_next_id() -> None:
    store = ScheduleStore()
    _add(store, Frequency.DAILY, date(2024, 1, 1), _at(date(2024, 1, 1)))
    text = store.to_json().replace('"next_id":2', '"next_id":1')
    with pytest.raises(ScheduleError, match="next_id"):
        ScheduleStore.from_json(text)


def test_a_run_becomes_the_scheduled_request_with_date_times() -> None:
    store = ScheduleStore()
    s = _add(store, Frequency.DAILY, date(2024, 3, 10), _at(date(2024, 3, 1)))
    assert s.next_run is not None
    body = s.request_body(s.next_run, "RetrieveImportDailyReadLog")
    period = body.child("ReadLogPeriod")
    assert period is not None
    assert [c.text for c in period.children] == [
        "2024-03-09T00:00:00.00Z",
        "2024-03-10T00:00:00.00Z",
    ]
    folder = REFERENCE / "duis" / "schema"
    if not folder.is_dir():
        pytest.skip(f"DUIS schema not found at {folder}")
    request = Request(
        header=RequestHeader(
            request_id=MessageId(originator=USER, target=ESME, counter=7),
            command_variant=1,
            service_reference="4.6",
            service_reference_variant="4.6.1",
        ),
        body=GenericBody(node=body),
    )
    DuisSchema(folder).validate(to_xml(request))


def test_long_gap_estimate_never_skips_an_occurrence() -> None:
    store = ScheduleStore()
    start = date(2020, 1, 31)
    s = _add(store, Frequency.MONTHLY, start, _at(start))
    for months in range(1, 60):
        day = add_months(start, months)
        moved = store.advance(s.id, after=_at(day) - timedelta(seconds=1))
        assert moved.next_run == _at(day), months


def test_schedules_by_owner_and_device_follow_adds_removals_and_reloads() -> None:
    store = ScheduleStore()
    other_user, other_device = bytes(7) + b"\x09", bytes(7) + b"\x0a"
    now = _at(date(2026, 1, 5))
    mine = _add(store, Frequency.DAILY, date(2026, 1, 6), now)
    theirs = _add(store, Frequency.DAILY, date(2026, 1, 6), now, owner=other_user)
    elsewhere = _add(store, Frequency.DAILY, date(2026, 1, 6), now, device=other_device)
    assert [s.id for s in store.on_device(ESME)] == [mine.id, theirs.id]
    assert [s.id for s in store.of_owner(USER, ESME)] == [mine.id]
    assert [s.id for s in store.of_owner(USER)] == [mine.id, elsewhere.id]
    store.advance(mine.id)  # a run moves the schedule; it is still listed once
    assert [s.id for s in store.on_device(ESME)] == [mine.id, theirs.id]
    store.remove(mine.id)
    assert [s.id for s in store.on_device(ESME)] == [theirs.id]
    assert store.of_owner(USER, ESME) == []
    store.remove(elsewhere.id)
    assert store.on_device(other_device) == []
    again = ScheduleStore.from_json(store.to_json())
    assert [s.id for s in again.on_device(ESME)] == [theirs.id]
