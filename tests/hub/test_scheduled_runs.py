"""ScheduledRuns: a schedule's runs from its kept template are the requests the XML round trip
(``scheduled_request``) gives, run after run, and a changed schedule gets a new template."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from smetsnet.duis import Node
from smetsnet.duis.bodies import GenericBody, ReadActiveImportProfileData
from smetsnet.duis.catalogue import catalogue
from smetsnet.errors import SmetsnetError
from smetsnet.hub.scheduled import ScheduledRuns, scheduled_request
from smetsnet.hub.schedules import Frequency, Schedule, ScheduleError
from smetsnet.inventory import UserRole

USER = bytes.fromhex("90b3d51f30010000")
ESME = bytes.fromhex("00db1234567890a0")
SCHEDULABLE = sorted(i.srv for i in catalogue().values() if i.dcc_schedulable)


def _period(start: str, end: str, start_time: str | None, end_time: str | None) -> Node:
    kids = [Node("StartDateOffset", text=start)]
    if start_time is not None:
        kids.append(Node("StartTime", text=start_time))
    kids.append(Node("EndDateOffset", text=end))
    if end_time is not None:
        kids.append(Node("EndTime", text=end_time))
    return Node("DSPScheduled", children=tuple(kids))


def _schedule(srv: str, scheduled: Node, ka: bytes | None = None, sid: int = 1) -> Schedule:
    return Schedule(
        id=sid,
        owner=USER,
        role=UserRole.IS,
        srv=srv,
        service_reference=catalogue()[srv].service_reference,
        device=ESME,
        frequency=Frequency.DAILY,
        start_date=date(2026, 1, 1),
        scheduled=scheduled,
        ka_credential=ka,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


BODIES = [
    Node("DSPScheduled"),
    _period("-1", "0", "00:00:00.00Z", "00:00:00.00Z"),
    _period("-7", "-1", None, None),
    _period("-2", "0", "23:30:00.5+01:00", "01:15:30Z"),
]


@pytest.mark.parametrize("srv", SCHEDULABLE)
@pytest.mark.parametrize("scheduled", BODIES)
@pytest.mark.parametrize("ka", [None, bytes(range(65))])
def test_runs_from_the_template_equal_the_round_trip(
    srv: str, scheduled: Node, ka: bytes | None
) -> None:
    runs = ScheduledRuns()
    schedule = _schedule(srv, scheduled, ka)
    first = datetime(2026, 2, 27, 1, 30, tzinfo=UTC)
    for day in range(0, 400, 13):  # month ends, a leap year's February, a year on
        run_at = first + timedelta(days=day)
        try:
            expected = scheduled_request(schedule, run_at, 100 + day)
        except SmetsnetError as exc:  # a body the SR's model refuses: refused the same way
            with pytest.raises(type(exc), match=re.escape(str(exc))):
                runs.request(schedule, run_at, 100 + day)
            continue
        assert runs.request(schedule, run_at, 100 + day) == expected


def test_the_profile_read_keeps_its_dedicated_model() -> None:
    runs = ScheduledRuns()
    schedule = _schedule("4.8.1", BODIES[1])
    request = runs.request(schedule, datetime(2026, 3, 2, tzinfo=UTC), 5)
    assert isinstance(request.body, ReadActiveImportProfileData)
    assert request.body.start == datetime(2026, 3, 1, tzinfo=UTC)
    daily = runs.request(_schedule("4.6.1", BODIES[1], sid=2), datetime(2026, 3, 2, tzinfo=UTC), 6)
    assert isinstance(daily.body, GenericBody)


def test_a_changed_schedule_gets_a_new_template() -> None:
    runs = ScheduledRuns()
    run_at = datetime(2026, 3, 2, tzinfo=UTC)
    schedule = _schedule("4.6.1", BODIES[1])
    runs.request(schedule, run_at, 1)
    for changed in (
        replace(schedule, scheduled=BODIES[2]),
        replace(schedule, ka_credential=b"\x01\x02"),
        replace(schedule, srv="4.8.1", service_reference="4.8"),
    ):
        assert runs.request(changed, run_at, 2) == scheduled_request(changed, run_at, 2)
    runs.forget(schedule.id)
    assert runs.request(schedule, run_at, 3) == scheduled_request(schedule, run_at, 3)


def test_an_sr_not_in_the_catalogue_is_refused_as_before() -> None:
    schedule = _schedule("4.6.1", BODIES[1])
    unknown = replace(schedule, srv="99.9")
    with pytest.raises(ScheduleError, match="not in the catalogue"):
        ScheduledRuns().request(unknown, datetime(2026, 3, 2, tzinfo=UTC), 1)


def test_a_moved_schedule_is_the_replaced_one() -> None:
    from smetsnet.hub.schedules import _moved

    schedule = _schedule("4.6.1", BODIES[1], ka=b"\x05")
    at = datetime(2026, 3, 2, tzinfo=UTC)
    for runs, next_run in ((3, at), (4, None)):
        moved = _moved(schedule, runs, next_run)
        assert moved == replace(schedule, runs=runs, next_run=next_run)
        assert all(getattr(moved, f) is getattr(schedule, f) for f in ("scheduled", "owner"))
