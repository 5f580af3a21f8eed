"""A premises' own consumption model (:class:`Household`, its archetype and annual scale worked
out once) gives exactly the numbers of the population model and of :func:`half_hourly_wh`,
every season, weekday and fuel."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from smetsnet.devices.consumption import (
    Fuel,
    Household,
    day_of_readings,
    half_hourly_wh,
    seeds_for,
)

SEEDS = seeds_for(64, 2024)


@pytest.mark.parametrize("fuel", list(Fuel))
def test_a_households_days_are_the_populations(fuel: Fuel) -> None:
    households = [Household(int(seed), fuel) for seed in SEEDS]
    for offset in range(0, 371, 11):
        day = date(2024, 1, 1) + timedelta(days=offset)
        population = day_of_readings(SEEDS, day, fuel)
        for index, household in enumerate(households):
            assert np.array_equal(household.half_hourly_wh(day), population[index])
    seed = int(SEEDS[0])
    assert np.array_equal(households[0].half_hourly_wh(day), half_hourly_wh(seed, day, fuel))
