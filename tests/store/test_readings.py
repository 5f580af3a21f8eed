"""The users' readings store (issue 6): Parquet partitioned by day, queried with duckdb."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smetsnet.store.readings import ReadingsError, ReadingsStore

SUPPLIER = bytes.fromhex("90b3d51f30010000")
DISTRIBUTOR = bytes.fromhex("90b3d51f300200aa")
DAY1 = date(2024, 3, 1)
DAY2 = date(2024, 3, 2)
DAY3 = date(2024, 3, 3)
RECEIVED = datetime(2024, 3, 4, 1, 30, tzinfo=UTC)


def halves(day: date, count: int = 48, first: int = 0) -> np.ndarray[Any, np.dtype[np.int64]]:
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    return start + 1800 * np.arange(first, first + count, dtype=np.int64)


def add(
    store: ReadingsStore,
    mpxn: str,
    day: date,
    values: Any,
    *,
    user: bytes = SUPPLIER,
    fuel: str = "electricity",
    region: int = 1,
    received: datetime = RECEIVED,
) -> int:
    values = np.asarray(values, dtype=np.int64)
    return store.add(
        user=user,
        mpxn=mpxn,
        fuel=fuel,
        region=region,
        starts=halves(day, values.size),
        values=values,
        received=received,
    )


def parts(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*.parquet"))


def as_list(table: Any, column: str) -> list[Any]:
    return list(table[column].to_pylist())


@pytest.fixture
def store(tmp_path: Path) -> ReadingsStore:
    return ReadingsStore(tmp_path / "readings")


def test_round_trip(store: ReadingsStore) -> None:
    values = np.arange(48, dtype=np.int64) * 7
    assert add(store, "1100000000001", DAY1, values, region=4) == 48
    add(store, "7000001", DAY1, [5, 6], fuel="gas", region=9, user=DISTRIBUTOR)
    got = store.readings()
    assert got.column_names == ["user", "mpxn", "fuel", "region", "start", "value", "received"]
    assert str(got.schema.field("start").type) == "timestamp[s, tz=UTC]"
    assert str(got.schema.field("region").type) == "int16"
    elec = store.readings(mpxn="1100000000001")
    assert as_list(elec, "value") == values.tolist()
    assert [int(t.timestamp()) for t in as_list(elec, "start")] == halves(DAY1).tolist()
    assert set(as_list(elec, "user")) == {"90-B3-D5-1F-30-01-00-00"}
    assert set(as_list(elec, "region")) == {4}
    assert set(as_list(elec, "received")) == {RECEIVED}
    gas = store.readings(user=DISTRIBUTOR)
    assert as_list(gas, "mpxn") == ["7000001", "7000001"]
    assert as_list(gas, "fuel") == ["gas", "gas"]
    assert as_list(gas, "user") == ["90-B3-D5-1F-30-02-00-AA"] * 2
    assert as_list(gas, "value") == [5, 6]
    assert as_list(got, "mpxn") == sorted(as_list(got, "mpxn"))  # ordered by mpxn, start


def test_queries_see_the_buffer_and_a_full_buffer_is_written(tmp_path: Path) -> None:
    store = ReadingsStore(tmp_path, flush_rows=100)
    add(store, "A", DAY1, np.ones(48))
    assert parts(tmp_path) == []
    assert store.row_count() == 48  # flushes to answer
    add(store, "B", DAY1, np.ones(48))
    add(store, "C", DAY1, np.ones(48))
    assert len(parts(tmp_path)) == 1  # the first query's file only: 96 rows still buffered
    add(store, "D", DAY1, np.ones(48))
    assert len(parts(tmp_path)) == 2  # 144 >= 100 rows: written without being asked
    assert store.row_count() == 4 * 48


def test_partition_folders_are_named_by_utc_day(store: ReadingsStore) -> None:
    starts = np.concatenate([halves(DAY1, 4, first=44), halves(DAY2, 4)])  # spans midnight
    store.add(
        user=SUPPLIER,
        mpxn="A",
        fuel="electricity",
        region=1,
        starts=starts,
        values=np.arange(8),
        received=RECEIVED,
    )
    store.flush()
    assert parts(store.root) == [
        "day=2024-03-01/part-000001.parquet",
        "day=2024-03-02/part-000002.parquet",
    ]
    assert as_list(store.readings(day=DAY1), "value") == [0, 1, 2, 3]
    assert as_list(store.readings(day=DAY2), "value") == [4, 5, 6, 7]


def test_duplicates_are_dropped_in_the_buffer_across_flushes_and_reopen(tmp_path: Path) -> None:
    store = ReadingsStore(tmp_path)
    add(store, "A", DAY1, np.arange(48))
    add(store, "A", DAY1, np.arange(48))  # same buffer
    assert store.row_count() == 48
    add(store, "A", DAY1, np.arange(48))  # after a flush
    assert store.row_count() == 48
    store.close()
    again = ReadingsStore(tmp_path)
    add(again, "A", DAY1, np.arange(48))  # after reopening
    assert again.row_count() == 48
    assert as_list(again.half_hourly(user=SUPPLIER, mpxn="A", day=DAY1), "value") == list(range(48))
    assert len(parts(tmp_path)) == 3
    # The same reading held by another user is that user's reading, not a duplicate.
    add(again, "A", DAY1, np.arange(48), user=DISTRIBUTOR)
    assert again.row_count() == 96


@pytest.mark.parametrize("newest_first", [False, True])
def test_latest_received_wins(store: ReadingsStore, newest_first: bool) -> None:
    old, new = RECEIVED, RECEIVED + timedelta(hours=1)
    order = [(new, 20), (old, 10)] if newest_first else [(old, 10), (new, 20)]
    for received, value in order:
        add(store, "A", DAY1, np.full(48, value), received=received)
        store.flush()
    got = store.readings()
    assert got.num_rows == 48
    assert set(as_list(got, "value")) == {20}
    assert set(as_list(got, "received")) == {new}
    assert as_list(store.daily_consumption(user=SUPPLIER, first=DAY1, last=DAY1), "total") == [960]


def test_equal_received_goes_to_the_later_write(store: ReadingsStore) -> None:
    add(store, "A", DAY1, np.full(48, 1))
    store.flush()
    add(store, "A", DAY1, np.full(48, 2))
    assert set(as_list(store.readings(), "value")) == {2}


def test_equal_received_in_one_buffer_goes_to_the_later_add(store: ReadingsStore) -> None:
    add(store, "A", DAY1, np.full(48, 1))
    add(store, "B", DAY1, np.full(48, 7))
    add(store, "A", DAY1, np.full(48, 3))
    assert set(as_list(store.readings(mpxn="A"), "value")) == {3}
    assert store.compact() == 96
    assert set(as_list(store.readings(mpxn="A"), "value")) == {3}


def test_late_data_goes_to_its_own_day(store: ReadingsStore) -> None:
    add(store, "A", DAY1, np.ones(48))
    add(store, "A", DAY2, np.ones(24))  # the afternoon of day 2 is missing
    store.flush()
    late = RECEIVED + timedelta(days=2)
    store.add(
        user=SUPPLIER,
        mpxn="A",
        fuel="electricity",
        region=1,
        starts=halves(DAY2, 24, first=24),
        values=np.full(24, 2),
        received=late,
    )
    add(store, "B", DAY1, np.full(48, 3), received=late)  # a meter heard from days later
    daily = store.daily_consumption(user=SUPPLIER, first=DAY1, last=DAY2)
    assert list(zip(as_list(daily, "mpxn"), as_list(daily, "day"), strict=True)) == [
        ("A", DAY1),
        ("A", DAY2),
        ("B", DAY1),
    ]
    assert as_list(daily, "total") == [48, 24 + 48, 144]
    assert as_list(daily, "half_hours") == [48, 48, 48]
    assert [p.split("/")[0] for p in parts(store.root)] == [
        "day=2024-03-01",
        "day=2024-03-01",
        "day=2024-03-02",
        "day=2024-03-02",
    ]


def test_daily_and_half_hourly_equal_numpy_sums(store: ReadingsStore) -> None:
    rng = np.random.default_rng(6)
    days = [DAY1, DAY2, DAY3]
    values = rng.integers(0, 5000, size=(5, len(days), 48), dtype=np.int64)
    for m in range(5):
        for d, day in enumerate(days):
            add(store, f"M{m}", day, values[m, d], region=m % 2)
    add(store, "M0", DAY2, np.full(48, 10**6), user=DISTRIBUTOR)  # another user's: not counted
    daily = store.daily_consumption(user=SUPPLIER, first=DAY2, last=DAY3)
    assert daily.column_names == ["mpxn", "day", "total", "half_hours"]
    assert [str(f.type) for f in daily.schema] == ["string", "date32[day]", "int64", "int64"]
    expected = [
        (f"M{m}", day, int(values[m, d].sum()), 48)
        for m in range(5)
        for d, day in enumerate(days)
        if d
    ]
    got = list(zip(*(as_list(daily, c) for c in daily.column_names), strict=True))
    assert got == expected
    half = store.half_hourly(user=SUPPLIER, mpxn="M3", day=DAY2)
    assert half.column_names == ["start", "value"]
    assert as_list(half, "value") == values[3, 1].tolist()
    assert [int(t.timestamp()) for t in as_list(half, "start")] == halves(DAY2).tolist()


def test_regional_demand_sums_the_meters_of_a_region(store: ReadingsStore) -> None:
    rng = np.random.default_rng(7)
    regions = [1, 1, 2, 1, 2]
    values = rng.integers(0, 3000, size=(5, 48), dtype=np.int64)
    for m, region in enumerate(regions):
        add(store, f"M{m}", DAY1, values[m], region=region)
    add(store, "M0", DAY1, values[0], region=1, user=DISTRIBUTOR)  # one meter, two users
    add(store, "G0", DAY1, np.full(48, 99), fuel="gas", region=1)
    demand = store.regional_demand(day=DAY1)
    assert demand.column_names == ["region", "start", "total", "meters"]
    assert as_list(demand, "region") == [1] * 48 + [2] * 48
    for region in (1, 2):
        mine = [m for m, r in enumerate(regions) if r == region]
        rows = demand.filter(demand["region"].to_numpy() == region)
        assert as_list(rows, "total") == values[mine].sum(axis=0).tolist()
        assert set(as_list(rows, "meters")) == {len(mine)}
        assert [int(t.timestamp()) for t in as_list(rows, "start")] == halves(DAY1).tolist()
    gas = store.regional_demand(day=DAY1, fuel="gas")
    assert as_list(gas, "total") == [99] * 48
    assert as_list(gas, "meters") == [1] * 48
    only = store.regional_demand(day=DAY1, user=DISTRIBUTOR)
    assert as_list(only, "total") == values[0].tolist()
    assert store.regional_demand(day=DAY2).num_rows == 0


def test_regional_demand_counts_a_meter_once_latest_copy(store: ReadingsStore) -> None:
    add(store, "M0", DAY1, np.full(48, 1), user=SUPPLIER)
    add(store, "M0", DAY1, np.full(48, 5), user=DISTRIBUTOR, received=RECEIVED + timedelta(1))
    demand = store.regional_demand(day=DAY1)
    assert as_list(demand, "total") == [5] * 48
    assert as_list(demand, "meters") == [1] * 48


GOOD: dict[str, Any] = {
    "user": SUPPLIER,
    "mpxn": "A",
    "fuel": "electricity",
    "region": 1,
    "starts": halves(DAY1, 2),
    "values": np.array([1, 2]),
    "received": RECEIVED,
}


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("user", b"\x01" * 7),
        ("user", "90-B3-D5-1F-30-01-00-00"),
        ("mpxn", ""),
        ("mpxn", 1234),
        ("fuel", "water"),
        ("region", -1),
        ("region", 40_000),
        ("region", "1"),
        ("starts", halves(DAY1, 2) + 60),
        ("starts", np.array([-1800, 0])),
        ("starts", np.array([0.5, 1800.0])),
        ("starts", halves(DAY1, 4).reshape(2, 2)),
        ("values", np.array([1, -2])),
        ("values", np.array([1, 2, 3])),
        ("received", datetime(2024, 3, 4, 1, 30)),
        ("received", "2024-03-04T01:30:00Z"),
    ],
)
def test_validation_names_the_field(store: ReadingsStore, field: str, bad: object) -> None:
    with pytest.raises(ReadingsError) as caught:
        store.add(**{**GOOD, field: bad})
    assert caught.value.field == field
    assert caught.value.reason and str(caught.value).startswith(f"{field}=")
    assert store.row_count() == 0


def test_a_bad_element_is_named_with_its_value_and_index(store: ReadingsStore) -> None:
    with pytest.raises(ReadingsError, match=r"starts=1709251260: at index 1"):
        store.add(**{**GOOD, "starts": np.array([1709251200, 1709251260])})


def test_query_arguments_are_checked(store: ReadingsStore) -> None:
    with pytest.raises(ReadingsError, match="last"):
        store.daily_consumption(user=SUPPLIER, first=DAY2, last=DAY1)
    with pytest.raises(ReadingsError, match="user"):
        store.half_hourly(user=b"short", mpxn="A", day=DAY1)
    with pytest.raises(ReadingsError, match="fuel"):
        store.regional_demand(day=DAY1, fuel="water")
    with pytest.raises(ReadingsError, match="flush_rows"):
        ReadingsStore(store.root, flush_rows=0)


def test_an_empty_store_answers_empty_tables(store: ReadingsStore) -> None:
    assert add(store, "A", DAY1, np.array([], dtype=np.int64)) == 0
    assert store.row_count() == 0
    assert store.readings().num_rows == 0
    assert store.readings().column_names[0] == "user"
    daily = store.daily_consumption(user=SUPPLIER, first=DAY1, last=DAY3)
    assert (daily.num_rows, daily.column_names) == (0, ["mpxn", "day", "total", "half_hours"])
    half = store.half_hourly(user=SUPPLIER, mpxn="A", day=DAY1)
    assert (half.num_rows, half.column_names) == (0, ["start", "value"])
    demand = store.regional_demand(day=DAY1)
    assert (demand.num_rows, demand.column_names) == (0, ["region", "start", "total", "meters"])
    assert store.compact() == 0
    assert parts(store.root) == []


def answers(store: ReadingsStore) -> list[Any]:
    return [
        store.readings().to_pylist(),
        store.daily_consumption(user=SUPPLIER, first=DAY1, last=DAY3).to_pylist(),
        store.half_hourly(user=SUPPLIER, mpxn="B", day=DAY2).to_pylist(),
        store.regional_demand(day=DAY1).to_pylist(),
        store.row_count(),
    ]


def _fill_with_duplicates(store: ReadingsStore) -> None:
    for round_ in range(3):
        received = RECEIVED + timedelta(hours=round_)
        for m, mpxn in enumerate("ABC"):
            for day in (DAY1, DAY2):
                add(store, mpxn, day, np.full(48, m + round_), region=m, received=received)
        store.flush()


def test_compact_keeps_the_answers_and_leaves_one_file_per_day(store: ReadingsStore) -> None:
    _fill_with_duplicates(store)
    before = answers(store)
    assert len(parts(store.root)) == 6
    assert store.compact(DAY1) == 3 * 48
    assert [p.split("/")[0] for p in parts(store.root)].count("day=2024-03-01") == 1
    assert answers(store) == before
    late = RECEIVED + timedelta(hours=2)
    add(store, "A", DAY2, np.full(48, 2), region=0, received=late)  # buffered, a duplicate
    assert store.compact() == 2 * 3 * 48
    assert [p.split("/")[0] for p in parts(store.root)] == ["day=2024-03-01", "day=2024-03-02"]
    assert answers(store) == before


def test_an_interrupted_compaction_loses_nothing(store: ReadingsStore, tmp_path: Path) -> None:
    _fill_with_duplicates(store)
    before = answers(store)
    saved = tmp_path / "saved"
    shutil.copytree(store.root, saved)
    store.compact()
    # Killed after writing the compacted files but before removing the old ones.
    for path in saved.glob("*/*.parquet"):
        shutil.copy(path, store.root / path.relative_to(saved))
    assert len(parts(store.root)) == 6 + 2
    assert answers(store) == before


def test_reopening_continues_without_overwriting(tmp_path: Path) -> None:
    first = ReadingsStore(tmp_path)
    add(first, "A", DAY1, np.ones(48))
    add(first, "A", DAY2, np.ones(48))
    first.close()
    written = {p: p.read_bytes() for p in tmp_path.glob("*/*.parquet")}
    (tmp_path / "day=2024-03-01" / "part-000009.parquet.tmp").write_bytes(b"half a file")
    with ReadingsStore(tmp_path) as second:
        add(second, "B", DAY1, np.full(48, 2))
    assert parts(tmp_path) == [
        "day=2024-03-01/part-000001.parquet",
        "day=2024-03-01/part-000003.parquet",
        "day=2024-03-02/part-000002.parquet",
    ]
    assert all(path.read_bytes() == data for path, data in written.items())
    assert not list(tmp_path.glob("*/*.tmp"))  # an interrupted write is cleared away
    third = ReadingsStore(tmp_path)
    assert third.row_count() == 3 * 48
    assert as_list(third.daily_consumption(user=SUPPLIER, first=DAY1, last=DAY1), "total") == [
        48,
        96,
    ]
