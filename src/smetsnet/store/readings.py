"""Readings at the users (issue 6): half-hourly consumption as Parquet files, queried with duckdb.

Each simulated service user keeps the readings it has received in one folder, partitioned by the
UTC day of the interval start (hive style, so duckdb prunes partitions from the path)::

    root/day=2024-03-01/part-000001.parquet
    root/day=2024-03-01/part-000007.parquet      <- late data for that day, written later
    root/day=2024-03-02/part-000002.parquet

Files are only ever added (a flush writes a new part per day it touches) or replaced by
:meth:`ReadingsStore.compact`; nothing is updated in place. The same reading may therefore sit in
several files (a meter resent its log, a user asked twice): every query drops duplicates in SQL,
keeping per (user, MPxN, start) the copy received last, so compaction is an optimisation and never
needed for a right answer. A part is written under a temporary name and renamed, so a query never
sees half a file; one process writes a root at a time.

Rows are buffered as numpy columns (one chunk per :meth:`ReadingsStore.add`, one meter's readings)
and become Arrow columns only at flush: a national day of half-hours never exists as Python objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import numpy.typing as npt

# pyarrow ships no type information (no py.typed, no stubs): its names are Any to mypy.
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.eui import EUI_LENGTH, format_eui

__all__ = ["FUELS", "SCHEMA", "ReadingsError", "ReadingsStore"]

FUELS: Final = frozenset({"electricity", "gas"})
HALF_HOUR: Final = 1800
DAY: Final = 86_400
#: Interval starts must fall in [1970-01-01, 10000-01-01): a day partition needs a real date.
_LAST_START: Final = 253_402_300_800
#: Regions are stored as int16 (``np.iinfo`` builds an object on each call: 4 µs of 27 in ``add``).
_INT16_MAX: Final = int(np.iinfo(np.int16).max)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_PART: Final = re.compile(r"^part-(\d+)\.parquet$")

#: Columns of every part file (the partition column ``day`` lives in the folder name).
SCHEMA: Final = pa.schema(
    [
        ("user", pa.string()),
        ("mpxn", pa.string()),
        ("fuel", pa.string()),
        ("region", pa.int16()),
        ("start", pa.timestamp("s", tz="UTC")),
        ("value", pa.int64()),
        ("received", pa.timestamp("us", tz="UTC")),
    ]
)
DAILY: Final = pa.schema(
    [("mpxn", pa.string()), ("day", pa.date32()), ("total", pa.int64()), ("half_hours", pa.int64())]
)
HALF_HOURLY: Final = pa.schema([("start", pa.timestamp("s", tz="UTC")), ("value", pa.int64())])
REGIONAL: Final = pa.schema(
    [
        ("region", pa.int16()),
        ("start", pa.timestamp("s", tz="UTC")),
        ("total", pa.int64()),
        ("meters", pa.int64()),
    ]
)
_COLUMNS: Final = ", ".join(f'"{name}"' for name in SCHEMA.names)
# Ties on `received` go to the later write: the later part file, then the later row in it (a flush
# keeps the order of add()). Every copy of one reading sits in the same day folder, so comparing
# paths, shorter first, compares part numbers, past the zero padding too.
_LATEST: Final = (
    "ORDER BY received DESC, length(filename) DESC, filename DESC, file_row_number DESC) = 1"
)
_SOURCE: Final = "read_parquet($files, filename = true, file_row_number = true"


class ReadingsError(SmetsnetError):
    """Readings that cannot be stored or a query that cannot be asked: names the field and value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Chunk:
    """One meter's readings as one user received them, waiting in the buffer."""

    user: str
    mpxn: str
    fuel: str
    region: int
    received_us: int
    starts: npt.NDArray[np.int64]
    values: npt.NDArray[np.int64]


class ReadingsStore:
    """The readings one service user (or several) received, under ``root``; see the module doc."""

    def __init__(self, root: Path, *, flush_rows: int = 200_000) -> None:
        if flush_rows < 1:
            raise ReadingsError("flush_rows", flush_rows, "must be at least 1")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.flush_rows = flush_rows
        self._chunks: list[_Chunk] = []
        self._buffered = 0
        self._seq = self._last_seq()
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET enable_progress_bar = false")  # a library prints nothing
        # Timestamps come back as TIMESTAMPTZ: render them in UTC, not the machine's zone.
        self._db.execute("SET TimeZone = 'UTC'")

    # -- writing -----------------------------------------------------------------------------

    def add(
        self,
        *,
        user: bytes,
        mpxn: str,
        fuel: str,
        region: int,
        starts: npt.NDArray[np.int64],
        values: npt.NDArray[np.int64],
        received: datetime,
    ) -> int:
        """Buffer one meter's readings as ``user`` received them; returns the rows this call took.

        ``starts`` are half-hour interval starts (UTC epoch seconds, multiples of 1800) and
        ``values`` the consumption in each (Wh for electricity, litres for gas). The buffer is
        written once it holds ``flush_rows`` rows.
        """
        chunk = _Chunk(
            user=_user_text(user),
            mpxn=_mpxn(mpxn),
            fuel=_fuel(fuel),
            region=_region(region),
            received_us=_received_us(received),
            starts=_starts(starts),
            values=_values(values),
        )
        if chunk.starts.size != chunk.values.size:
            raise ReadingsError(
                "values", chunk.values.size, f"{chunk.starts.size} starts but this many values"
            )
        if chunk.starts.size:
            self._chunks.append(chunk)
            self._buffered += chunk.starts.size
            if self._buffered >= self.flush_rows:
                self.flush()
        return int(chunk.starts.size)

    def flush(self) -> None:
        """Write the buffer: one new zstd Parquet part per day partition it touches."""
        if not self._chunks:
            return
        table = _table(self._chunks)
        days = table["start"].cast(pa.int64()).to_numpy() // DAY
        if np.any(days != days[0]):  # usually one day: then no reordering
            order = np.argsort(days, kind="stable")
            days = days[order]
            table = table.take(pa.array(order))
        edges = np.flatnonzero(np.diff(days)) + 1
        for lo, hi in zip(np.r_[0, edges], np.r_[edges, days.size], strict=True):
            self._write(_day_of(int(days[lo])), table.slice(lo, hi - lo))
        # Emptied only once all is written: a failed write keeps the rows (a retry may write some
        # twice, which queries drop as duplicates).
        self._chunks, self._buffered = [], 0

    def compact(self, day: date | None = None) -> int:
        """Rewrite ``day``'s partition (every partition if None) as one file without duplicates.

        The new file is written before the old ones are removed: if that is interrupted the old
        and new files coexist and queries still drop the duplicates. Returns the rows kept.
        """
        self.flush()
        folders = [self._folder(day)] if day is not None else sorted(self.root.glob("day=*"))
        return sum(self._compact_folder(folder) for folder in folders)

    def close(self) -> None:
        """Write what is buffered and release the database connection."""
        self.flush()
        self._db.close()

    def __enter__(self) -> ReadingsStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- queries -----------------------------------------------------------------------------

    def readings(
        self, *, user: bytes | None = None, mpxn: str | None = None, day: date | None = None
    ) -> pa.Table:
        """The readings (deduplicated), optionally of one user, MPxN or day; by mpxn, start."""
        where = _Where()
        if user is not None:
            where.add('"user" = $user', user=_user_text(user))
        if mpxn is not None:
            where.add("mpxn = $mpxn", mpxn=_mpxn(mpxn))
        sql = f'SELECT {_COLUMNS} FROM dedup ORDER BY mpxn, start, "user"'
        return self._query(sql, where, SCHEMA, day=day)

    def daily_consumption(self, *, user: bytes, first: date, last: date) -> pa.Table:
        """A supplier's view: per MPxN and day from ``first`` to ``last`` (inclusive), the total
        and the number of half-hours held: 48 for a complete day (days are UTC, so no clock
        change makes one of 46 or 50)."""
        if last < first:
            raise ReadingsError("last", last, f"is before first ({first})")
        where = _Where()
        where.add('"user" = $user', user=_user_text(user))
        where.add("day BETWEEN $first AND $last", first=first, last=last)
        sql = (
            "SELECT mpxn, day, sum(value)::BIGINT AS total, count(*) AS half_hours "
            "FROM dedup GROUP BY mpxn, day ORDER BY mpxn, day"
        )
        return self._query(sql, where, DAILY)

    def half_hourly(self, *, user: bytes, mpxn: str, day: date) -> pa.Table:
        """One MPxN's half-hours of ``day`` as ``user`` holds them, in time order."""
        where = _Where()
        where.add('"user" = $user', user=_user_text(user))
        where.add("mpxn = $mpxn", mpxn=_mpxn(mpxn))
        return self._query(
            "SELECT start, value FROM dedup ORDER BY start", where, HALF_HOURLY, day=day
        )

    def regional_demand(
        self, *, day: date, fuel: str = "electricity", user: bytes | None = None
    ) -> pa.Table:
        """A network operator's view: per region and half-hour of ``day``, total and meter count.

        Without ``user`` every user's readings count, each (MPxN, start) once (the copy received
        last), since a distributor and a supplier may both hold the same meter's readings.
        """
        where = _Where()
        where.add("fuel = $fuel", fuel=_fuel(fuel))
        if user is not None:
            where.add('"user" = $user', user=_user_text(user))
        sql = (
            "SELECT region, start, sum(value)::BIGINT AS total, count(*) AS meters "
            "FROM dedup GROUP BY region, start ORDER BY region, start"
        )
        return self._query(sql, where, REGIONAL, day=day, key="mpxn, start")

    def row_count(self) -> int:
        """Rows on disk and in the buffer, each reading counted once."""
        table = self._query(
            "SELECT count(*) AS n FROM dedup", _Where(), pa.schema([("n", pa.int64())])
        )
        return int(table["n"][0].as_py()) if table.num_rows else 0

    # -- internals ---------------------------------------------------------------------------

    def _query(
        self,
        select: str,
        where: _Where,
        schema: pa.Schema,
        *,
        day: date | None = None,
        key: str = '"user", mpxn, start',
    ) -> pa.Table:
        """Run ``select`` over the deduplicated readings (a CTE named ``dedup``) matching ``where``.

        The filters apply before deduplication: each is on a column of the key (``day`` and
        ``fuel`` follow from ``start`` and the MPxN), so no winning copy is ever filtered out.
        """
        self.flush()
        if day is not None:
            files = sorted(self._folder(day).glob("*.parquet"))
            where.add("day = $day", day=day)
        else:
            files = sorted(self.root.glob("day=*/*.parquet"))
        if not files:
            return schema.empty_table()
        where.params["files"] = [str(path) for path in files]
        sql = (
            f"WITH src AS (SELECT * FROM {_SOURCE}, hive_partitioning = true, "
            f"hive_types = {{'day': 'DATE'}}){where.sql()}), "
            f"dedup AS (SELECT * FROM src QUALIFY row_number() OVER (PARTITION BY {key} {_LATEST}) "
            + select
        )
        table = self._db.sql(sql, params=where.params).to_arrow_table()
        return table.cast(schema)

    def _compact_folder(self, folder: Path) -> int:
        old = sorted(folder.glob("*.parquet"))
        if not old:
            return 0
        sql = (
            f"SELECT {_COLUMNS} FROM {_SOURCE}) "
            f'QUALIFY row_number() OVER (PARTITION BY "user", mpxn, start {_LATEST} '
            'ORDER BY mpxn, start, "user"'
        )
        reader = self._db.sql(sql, params={"files": [str(p) for p in old]}).to_arrow_reader()
        kept = 0
        path = self._next_path(folder)
        temporary = path.with_name(path.name + ".tmp")
        # Stream batch by batch: a day of a large fleet need not fit in memory twice.
        with pq.ParquetWriter(temporary, SCHEMA, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch.cast(SCHEMA))
                kept += batch.num_rows
        temporary.replace(path)
        for stale in old:
            stale.unlink()
        return kept

    def _write(self, day: date, table: pa.Table) -> None:
        folder = self._folder(day)
        folder.mkdir(exist_ok=True)
        path = self._next_path(folder)
        temporary = path.with_name(path.name + ".tmp")
        pq.write_table(table, temporary, compression="zstd")
        temporary.replace(path)

    def _folder(self, day: date) -> Path:
        return self.root / f"day={day.isoformat()}"

    def _next_path(self, folder: Path) -> Path:
        self._seq += 1
        return folder / f"part-{self._seq:06d}.parquet"

    def _last_seq(self) -> int:
        """The highest part number under root, so a reopened store never reuses a name."""
        numbers = [0]
        for path in self.root.glob("day=*/part-*"):
            if path.name.endswith(".tmp"):
                path.unlink()  # a write interrupted before its rename: never visible, never whole
            elif match := _PART.match(path.name):
                numbers.append(int(match.group(1)))
        return max(numbers)


class _Where:
    """SQL filters and their named parameters, built up one condition at a time."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: dict[str, object] = {}

    def add(self, condition: str, **params: object) -> None:
        self.conditions.append(condition)
        self.params.update(params)

    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""


def _table(chunks: list[_Chunk]) -> pa.Table:
    """The buffered chunks as one Arrow table: per-chunk text repeated by index, not per row."""
    lengths = np.fromiter((c.starts.size for c in chunks), dtype=np.int64, count=len(chunks))
    index = pa.array(np.repeat(np.arange(len(chunks), dtype=np.int64), lengths))

    def repeated(values: list[Any], type_: pa.DataType) -> pa.Array:
        return pa.array(values, type=type_).take(index)

    return pa.table(
        {
            "user": repeated([c.user for c in chunks], pa.string()),
            "mpxn": repeated([c.mpxn for c in chunks], pa.string()),
            "fuel": repeated([c.fuel for c in chunks], pa.string()),
            "region": repeated([c.region for c in chunks], pa.int16()),
            "start": pa.array(
                np.concatenate([c.starts for c in chunks]), SCHEMA.field("start").type
            ),
            "value": pa.array(np.concatenate([c.values for c in chunks]), pa.int64()),
            "received": repeated([c.received_us for c in chunks], SCHEMA.field("received").type),
        },
        schema=SCHEMA,
    )


def _day_of(day_number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day_number)


# -- validation (each names the field and the value that is wrong) -------------------------------


def _user_text(user: bytes) -> str:
    if not isinstance(user, bytes | bytearray) or len(user) != EUI_LENGTH:
        raise ReadingsError("user", user, f"a user ID is an EUI-64 of {EUI_LENGTH} bytes")
    return format_eui(bytes(user))


def _mpxn(mpxn: str) -> str:
    if not isinstance(mpxn, str) or not mpxn.strip():
        raise ReadingsError("mpxn", mpxn, "an MPAN or MPRN must be non-empty text")
    return mpxn


def _fuel(fuel: str) -> str:
    if fuel not in FUELS:
        raise ReadingsError("fuel", fuel, f"must be one of {sorted(FUELS)}")
    return fuel


def _region(region: int) -> int:
    if not isinstance(region, int | np.integer) or isinstance(region, bool):
        raise ReadingsError("region", region, "must be an integer")
    if not 0 <= region <= _INT16_MAX:
        raise ReadingsError("region", region, "must fit a non-negative int16")
    return int(region)


def _received_us(received: datetime) -> int:
    if not isinstance(received, datetime) or received.utcoffset() is None:
        raise ReadingsError("received", received, "must be a timezone-aware datetime")
    return (received - _EPOCH) // timedelta(microseconds=1)


def _integers(field: str, given: npt.ArrayLike) -> npt.NDArray[np.int64]:
    array = np.asarray(given)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ReadingsError(field, array.dtype, f"must be a 1-D integer array (ndim {array.ndim})")
    # A copy: the caller may reuse its array for the next meter while this one waits to be written.
    return np.array(array, dtype=np.int64)


def _first_bad(
    field: str, array: npt.NDArray[np.int64], bad: npt.NDArray[np.bool_], why: str
) -> None:
    if bad.any():
        i = int(np.argmax(bad))
        raise ReadingsError(field, int(array[i]), f"at index {i}: {why}")


def _starts(given: npt.ArrayLike) -> npt.NDArray[np.int64]:
    starts = _integers("starts", given)
    off_grid = starts % HALF_HOUR != 0
    out_of_range = (starts < 0) | (starts >= _LAST_START)
    if (off_grid | out_of_range).any():  # one test for the usual good case, then which is wrong
        _first_bad("starts", starts, off_grid, "not a half-hour start (multiple of 1800 s)")
        _first_bad("starts", starts, out_of_range, "outside years 1970-9999")
    return starts


def _values(given: npt.ArrayLike) -> npt.NDArray[np.int64]:
    values = _integers("values", given)
    _first_bad("values", values, values < 0, "consumption cannot be negative")
    return values
