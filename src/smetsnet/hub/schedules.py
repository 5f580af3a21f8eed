"""DCC schedules (DUIS 5.1-5.3): what the DCC runs on a user's behalf, and when.

A schedule is a DSP request (``DSPRetrieveImportDailyReadLog`` and kin: date *offsets* instead of
date-times) that the DCC turns into the real service request at every occurrence. Occurrence
``n`` lies on ``ScheduleStartDate`` plus ``n`` periods at ``ScheduleExecutionStartTime`` (UTC);
month-based frequencies keep the start date's day and clamp it to the month's end (a schedule
starting on 31 January runs on 28/29 February, then 31 March), so months never drift.
Occurrences after ``ScheduleEndDate`` do not happen.

:class:`ScheduleStore` keeps schedules in memory with a heap of next runs, so asking "what is
due by <time>" costs the number of due schedules, not the number held; ``to_json``/``from_json``
persist it. The engine asks :meth:`ScheduleStore.due`, sends each run's request
(:meth:`Schedule.request_body`) and calls :meth:`ScheduleStore.advance`.
"""

from __future__ import annotations

import base64
import calendar
import heapq
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import Enum
from functools import lru_cache
from typing import Any

from smetsnet.duis import Node
from smetsnet.duis.header import format_datetime
from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory import UserRole

#: XSD ``scheduleID``: a non-negative integer up to 10**12.
MAX_SCHEDULE_ID = 10**12
#: When ScheduleExecutionStartTime is absent the DCC picks the time; we run at midnight UTC.
DEFAULT_EXECUTION_TIME = time(0, 0, tzinfo=UTC)
_XSD_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6})\d*)?(Z|[+-]\d\d:\d\d)?\Z")


class ScheduleError(SmetsnetError):
    """A schedule the store cannot hold or find (its message names the id or field)."""


class Frequency(Enum):
    """XSD ``ScheduleFrequency``; the value is the DUIS text."""

    DAILY = "Daily"
    WEEKLY = "Weekly"
    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"
    HALF_YEARLY = "Half-Yearly"
    YEARLY = "Yearly"

    @classmethod
    def parse(cls, text: str) -> Frequency:
        try:
            return cls(text.strip())
        except ValueError:
            known = ", ".join(f.value for f in cls)
            raise ScheduleError(f"ScheduleFrequency {text!r} is not one of {known}") from None


_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7}
_MONTHS = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 3,
    Frequency.HALF_YEARLY: 6,
    Frequency.YEARLY: 12,
}


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, its day clamped to the target month's last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def occurrence_date(frequency: Frequency, start: date, n: int) -> date:
    """The date of occurrence ``n`` (0 = the start date), always counted from ``start``."""
    days = _DAYS.get(frequency)
    if days is not None:
        return start + timedelta(days=days * n)
    return add_months(start, _MONTHS[frequency] * n)


@lru_cache(maxsize=1024)
def parse_time(text: str) -> time:
    """An ``xs:time`` as an aware time (no zone is read as UTC, as DCC schedules run on UTC).

    Cached: every occurrence of a schedule reads its execution time (a ``time`` is immutable)."""
    m = _XSD_TIME.match(text.strip())
    if m is None:
        raise ScheduleError(f"{text!r} is not an xs:time (hh:mm:ss[.fff][Z|+hh:mm])")
    hour, minute, second, frac, zone = m.groups()
    tz: timezone = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return time(
            int(hour), int(minute), int(second), int((frac or "0").ljust(6, "0")), tzinfo=tz
        )
    except ValueError as exc:
        raise ScheduleError(f"{text!r} is not an xs:time ({exc})") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """One DCC schedule: who owns it, what it runs on which device, and its next run."""

    id: int
    owner: bytes  # the user's EUI
    role: UserRole  # the role the owner acts in for the scheduled SR
    srv: str  # the scheduled SR variant (4.6.1, ...)
    service_reference: str  # its ServiceReference (4.6)
    device: bytes
    frequency: Frequency
    start_date: date
    scheduled: Node  # the DSP… element, as the user sent it
    end_date: date | None = None
    execution_start_time: str | None = None  # as the user wrote it (echoed by 5.2)
    ka_credential: bytes | None = None
    created_at: datetime
    runs: int = 0  # index of the next occurrence
    next_run: datetime | None = None  # None: no occurrence left

    @property
    def execution_time(self) -> time:
        text = self.execution_start_time
        return DEFAULT_EXECUTION_TIME if text is None else parse_time(text)

    def occurrence(self, n: int) -> datetime | None:
        """When occurrence ``n`` runs (UTC), or None when it falls after the end date."""
        day = occurrence_date(self.frequency, self.start_date, n)
        if self.end_date is not None and day > self.end_date:
            return None
        return datetime.combine(day, self.execution_time).astimezone(UTC)

    def request_body(self, run_at: datetime, body_element: str) -> Node:
        """The service request body for the run at ``run_at``: each date offset becomes a
        date-time (the run's date plus the offset in days, at the given time of day).

        ``body_element`` is the scheduled SR's element (catalogue ``body_element``)."""
        children: list[Node] = []
        period = run_period(self.scheduled)
        if period is not None:
            start_days, start_clock, end_days, end_clock = period
            day = run_at.astimezone(UTC).date()
            start = datetime.combine(day + timedelta(days=start_days), start_clock)
            end = datetime.combine(day + timedelta(days=end_days), end_clock)
            period_nodes = (
                Node("StartDateTime", text=format_datetime(start.astimezone(UTC))),
                Node("EndDateTime", text=format_datetime(end.astimezone(UTC))),
            )
            children.append(Node("ReadLogPeriod", children=period_nodes))
            if self.ka_credential is not None:
                text = base64.b64encode(self.ka_credential).decode("ascii")
                children.append(Node("KAPublicSecurityCredentials", text=text))
        return Node(body_element, children=tuple(children))

    def describe(self) -> str:
        return (
            f"schedule {self.id} ({self.srv} on {format_eui(self.device)}, {self.frequency.value})"
        )


def run_period(scheduled: Node) -> tuple[int, time, int, time] | None:
    """A DSP element's read-log period: the start and end date offsets (days) and times of day
    (``StartTime``/``EndTime``, midnight UTC when absent); None when it has no offsets."""
    kids = {c.name: c.text for c in scheduled.children}
    if "StartDateOffset" not in kids:
        return None
    start_days = int(kids["StartDateOffset"])
    start_clock = _clock(kids.get("StartTime", ""))
    end_days = int(kids["EndDateOffset"])
    return start_days, start_clock, end_days, _clock(kids.get("EndTime", ""))


def _clock(at: str) -> time:
    return parse_time(at) if at else DEFAULT_EXECUTION_TIME


def _first_run(schedule: Schedule, now: datetime) -> Schedule:
    """The schedule positioned on its first occurrence not before ``now``."""
    return _position(schedule, schedule.runs, now, inclusive=True)


def _position(schedule: Schedule, n: int, after: datetime, *, inclusive: bool) -> Schedule:
    # Step over the occurrences before ``after``; a jump estimate first keeps a schedule whose
    # start lies years back (or an engine that slept for months) from looping per occurrence.
    start = datetime.combine(schedule.start_date, schedule.execution_time).astimezone(UTC)
    if after > start:
        # occurrence(n) lies at most n periods of 31 days per month after the start, so this
        # estimate never passes an occurrence that is still to come.
        span = (after - start).days
        days = _DAYS.get(schedule.frequency) or 31 * _MONTHS[schedule.frequency]
        n = max(n, span // days - 1)
    while True:
        at = schedule.occurrence(n)
        if at is None or at > after or (inclusive and at == after):
            return _moved(schedule, n, at)
        n += 1


def _moved(schedule: Schedule, runs: int, next_run: datetime | None) -> Schedule:
    """``replace(schedule, runs=runs, next_run=next_run)`` without its generic machinery (the
    schedule has no checks to run again): every run moves a schedule, a third of the cost."""
    moved: Schedule = _new_object(Schedule)
    for name, set_field in _FIELD_SETTERS:
        set_field(moved, getattr(schedule, name))
    _set_runs(moved, runs)
    _set_next_run(moved, next_run)
    return moved


_new_object = object.__new__
_FIELD_SETTERS = tuple(
    (f.name, Schedule.__dict__[f.name].__set__)
    for f in fields(Schedule)
    if f.name not in ("runs", "next_run")
)
_set_runs, _set_next_run = (Schedule.__dict__[name].__set__ for name in ("runs", "next_run"))


class ScheduleStore:
    """Schedules in memory, ordered by next run; ids are handed out in sequence from 1."""

    def __init__(self) -> None:
        self._by_id: dict[int, Schedule] = {}
        self._heap: list[tuple[datetime, int]] = []  # (next_run, id); stale entries skipped
        self._next_id = 1
        #: schedule ids per device: "the user's schedules on this device" without a scan (a
        #: national network holds a schedule or two per meter)
        self._by_device: dict[bytes, set[int]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Schedule]:
        return iter(sorted(self._by_id.values(), key=lambda s: s.id))

    # --- changes ---------------------------------------------------------------------------

    def add(
        self,
        *,
        owner: bytes,
        role: UserRole,
        srv: str,
        service_reference: str,
        device: bytes,
        frequency: Frequency,
        start_date: date,
        scheduled: Node,
        now: datetime,
        end_date: date | None = None,
        execution_start_time: str | None = None,
        ka_credential: bytes | None = None,
    ) -> Schedule:
        """Hold a new schedule; its first run is the first occurrence not before ``now``."""
        if end_date is not None and end_date < start_date:
            raise ScheduleError(f"end date {end_date} is before start date {start_date}")
        if execution_start_time is not None:
            parse_time(execution_start_time)
        if self._next_id > MAX_SCHEDULE_ID:
            raise ScheduleError(f"schedule ids are exhausted (limit {MAX_SCHEDULE_ID})")
        schedule = Schedule(
            id=self._next_id,
            owner=owner,
            role=role,
            srv=srv,
            service_reference=service_reference,
            device=device,
            frequency=frequency,
            start_date=start_date,
            end_date=end_date,
            execution_start_time=execution_start_time,
            ka_credential=ka_credential,
            scheduled=scheduled,
            created_at=now,
        )
        self._next_id += 1
        return self._put(_first_run(schedule, now))

    def remove(self, schedule_id: int) -> Schedule:
        found = self._by_id.pop(schedule_id, None)
        if found is None:
            raise ScheduleError(f"no schedule {schedule_id}")
        ids = self._by_device.get(found.device)
        if ids is not None:
            ids.discard(schedule_id)
            if not ids:
                del self._by_device[found.device]
        return found

    def advance(self, schedule_id: int, *, after: datetime | None = None) -> Schedule:
        """Move a schedule past its current run (and past ``after``, for runs missed while
        the engine was down). A schedule with no occurrence left keeps ``next_run=None``
        and is never due again; the engine removes it when it wants to."""
        schedule = self.get(schedule_id)
        if schedule.next_run is None:
            return schedule
        floor = schedule.next_run if after is None or after < schedule.next_run else after
        return self._put(_position(schedule, schedule.runs + 1, floor, inclusive=False))

    def _put(self, schedule: Schedule) -> Schedule:
        self._by_id[schedule.id] = schedule
        self._by_device.setdefault(schedule.device, set()).add(schedule.id)
        if schedule.next_run is not None:
            heapq.heappush(self._heap, (schedule.next_run, schedule.id))
        return schedule

    # --- queries ---------------------------------------------------------------------------

    def get(self, schedule_id: int) -> Schedule:
        found = self._by_id.get(schedule_id)
        if found is None:
            raise ScheduleError(f"no schedule {schedule_id}")
        return found

    def find(self, schedule_id: int) -> Schedule | None:
        return self._by_id.get(schedule_id)

    def of_owner(self, owner: bytes, device: bytes | None = None) -> list[Schedule]:
        """The owner's schedules (on one device, if given), by id."""
        if device is None:
            return [s for s in self if s.owner == owner]
        return [s for s in self.on_device(device) if s.owner == owner]

    def on_device(self, device: bytes) -> list[Schedule]:
        """Every user's schedules on a device (a decommissioned device loses them all), by id."""
        return [self._by_id[i] for i in sorted(self._by_device.get(device, ()))]

    def _live(self, entry: tuple[datetime, int]) -> bool:
        held = self._by_id.get(entry[1])
        return held is not None and held.next_run == entry[0]

    def next_due(self) -> datetime | None:
        """When the earliest run is (None: nothing scheduled)."""
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def due(self, by: datetime) -> list[Schedule]:
        """Schedules whose next run is at or before ``by``, earliest first (ties by id)."""
        self.next_due()  # drop stale entries from the top
        heap, found = self._heap, []
        stack = [0] if heap else []
        while stack:  # walk the heap as a tree, only below entries that are due
            i = stack.pop()
            entry = heap[i]
            if entry[0] > by:
                continue
            if self._live(entry):
                found.append(self._by_id[entry[1]])
            stack.extend(j for j in (2 * i + 1, 2 * i + 2) if j < len(heap))
        found.sort(key=lambda s: (s.next_run, s.id))
        return found

    # --- persistence -----------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {"next_id": self._next_id, "schedules": [_schedule_json(s) for s in self]},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> ScheduleStore:
        try:
            data = json.loads(text)
            store = cls()
            for item in data["schedules"]:
                store._put(_schedule_from(item))
            store._next_id = int(data["next_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ScheduleError(f"not a schedule store document: {exc!r}") from exc
        if store._by_id and store._next_id <= max(store._by_id):
            raise ScheduleError(f"next_id {store._next_id} is not above the ids held")
        return store


def _node_json(node: Node) -> list[Any]:
    return [node.name, [list(a) for a in node.attributes], node.text,
            [_node_json(c) for c in node.children]]  # fmt: skip


def _node_from(item: list[Any]) -> Node:
    name, attributes, text, children = item
    return Node(
        str(name),
        tuple((str(k), str(v)) for k, v in attributes),
        str(text),
        tuple(_node_from(c) for c in children),
    )


def _opt(value: Any, convert: Any) -> Any:
    return None if value is None else convert(value)


def _schedule_json(s: Schedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "owner": s.owner.hex(),
        "role": s.role.name,
        "srv": s.srv,
        "service_reference": s.service_reference,
        "device": s.device.hex(),
        "frequency": s.frequency.value,
        "start_date": s.start_date.isoformat(),
        "end_date": _opt(s.end_date, date.isoformat),
        "execution_start_time": s.execution_start_time,
        "ka_credential": _opt(s.ka_credential, bytes.hex),
        "scheduled": _node_json(s.scheduled),
        "created_at": s.created_at.isoformat(),
        "runs": s.runs,
        "next_run": _opt(s.next_run, datetime.isoformat),
    }


def _schedule_from(item: dict[str, Any]) -> Schedule:
    return Schedule(
        id=int(item["id"]),
        owner=bytes.fromhex(item["owner"]),
        role=UserRole[item["role"]],
        srv=str(item["srv"]),
        service_reference=str(item["service_reference"]),
        device=bytes.fromhex(item["device"]),
        frequency=Frequency(item["frequency"]),
        start_date=date.fromisoformat(item["start_date"]),
        end_date=_opt(item["end_date"], date.fromisoformat),
        execution_start_time=item["execution_start_time"],
        ka_credential=_opt(item["ka_credential"], bytes.fromhex),
        scheduled=_node_from(item["scheduled"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        runs=int(item["runs"]),
        next_run=_opt(item["next_run"], datetime.fromisoformat),
    )
