"""The tariff's shortcuts give what the plain computation gives: a run of half-hours within a
day takes its tiers from the day's row (:meth:`Calendar.tiers`), against the tier of each time
looked up on its own; and a meter's own block counters are copied, not converted."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from smetsnet.devices.core.tariff import BLOCK_TIERS, Calendar, DayProfile, Tariff

DAY = 86_400
START = int((datetime(2025, 3, 28, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())


def _calendar() -> Calendar:
    """Two seasons, weekdays and weekends apart, a special day, and a day with no switches."""
    peak = DayProfile(minutes=np.array([0, 420, 960, 1140]), tiers=np.array([1, 2, 3, 2]))
    weekend = DayProfile(minutes=np.array([600]), tiers=np.array([4]))
    flat = DayProfile(minutes=np.zeros(0, np.int64), tiers=np.zeros(0, np.int64))
    return Calendar(
        seasons=((1, 1, 1), (4, 1, 2)),
        weeks={1: (1, 1, 1, 1, 1, 2, 2), 2: (2, 1, 1, 1, 3, 2, 2)},
        days={1: peak, 2: weekend, 3: flat},
        special={(2025, 4, 2): 3, (-1, 3, 30): 2},
    )


def _one_by_one(calendar: Calendar, start_s: int, n: int, default: int) -> list[int]:
    """Each half-hour's tier on its own: its day's profile at its minute (else ``default``)."""
    out = []
    for t in range(start_s, start_s + 1800 * n, 1800):
        profile = calendar._day_profile(t // DAY)
        if profile is None or not len(profile.minutes):
            out.append(default)
        else:
            out.append(int(profile.tiers_at(np.array([(t % DAY) // 60]))[0]))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10 * 48),
    st.sampled_from([0, 0, 0, 60, 900]),
    st.integers(min_value=0, max_value=120),
    st.sampled_from([1, 0]),
)
def test_a_days_row_gives_each_half_hours_tier(slot: int, shift: int, n: int, default: int) -> None:
    calendar = _calendar()
    start = START + slot * 1800 + shift
    for _ in range(2):  # worked out, then from the rows kept
        tiers = calendar.tiers(start, n, default)
        assert tiers.tolist() == _one_by_one(calendar, start, n, default)
        tiers[:] = 99  # the caller's own copy: the kept row is untouched


def test_a_meters_own_block_counters_are_copied() -> None:
    tariff = Tariff.single(20_000, 50_000)
    counters = np.arange(BLOCK_TIERS, dtype=np.int64)
    used = tariff.cost(START, np.array([5, 7]), counters).block_used
    assert used is not counters and used.tolist() == counters.tolist()
    assert tariff.cost(START, np.array([5]), [3, 4]).block_used.tolist() == [3, 4] + [0] * 6
    assert tariff.cost(START, np.array([5]), range(12)).block_used.tolist() == list(range(8))
