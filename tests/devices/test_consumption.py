"""The consumption model: determinism, Ofgem-like annual medians and spread, daily and seasonal
shape; and the gas meter's battery life at the modelled message rate."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from smetsnet.devices.battery import MESSAGES_PER_DAY, BatteryModel
from smetsnet.devices.consumption import (
    GAS_WH_PER_LITRE,
    Fuel,
    annual_scale_kwh,
    archetypes,
    day_of_readings,
    gas_litres,
    half_hourly_wh,
    seeds_for,
)

SEEDS = seeds_for(2_000, 20_250_101)
YEAR = [date(2025, 1, 1) + timedelta(days=d) for d in range(365)]


@pytest.fixture(scope="module")
def year() -> dict[Fuel, np.ndarray]:
    """Wh per premises per half-hour slot summed over a whole year: (fuel) → (2000, 365, 48)
    would be large, so keep per premises per day totals and per day-of-year profile sums."""
    out: dict[Fuel, np.ndarray] = {}
    for fuel in Fuel:
        out[fuel] = np.stack([day_of_readings(SEEDS, day, fuel).sum(axis=1) for day in YEAR])
    return out


def test_same_seed_and_day_give_the_same_numbers() -> None:
    day = date(2025, 3, 4)
    for fuel in Fuel:
        population = day_of_readings(SEEDS[:50], day, fuel)
        assert population.dtype == np.uint32 and population.shape == (50, 48)
        assert np.array_equal(population, day_of_readings(SEEDS[:50], day, fuel))
        alone = half_hourly_wh(int(SEEDS[7]), day, fuel.value)
        assert np.array_equal(alone, population[7])
        other_day = day_of_readings(SEEDS[:50], day + timedelta(days=1), fuel)
        assert not np.array_equal(population, other_day)
    assert not np.array_equal(
        day_of_readings(SEEDS[:50], day, Fuel.GAS), day_of_readings(SEEDS[:50], day, "electricity")
    )


def test_annual_medians_are_near_ofgem_typical_values(year: dict[Fuel, np.ndarray]) -> None:
    electricity = year[Fuel.ELECTRICITY].sum(axis=0) / 1000.0  # kWh per premises
    gas = year[Fuel.GAS].sum(axis=0) / 1000.0
    assert 2_700 * 0.95 < np.median(electricity) < 2_700 * 1.05
    assert 11_500 * 0.95 < np.median(gas) < 11_500 * 1.05
    # A realistic spread: Ofgem's low/high TDCVs (1,800/4,100; 7,500/17,000) lie inside the
    # 10th-90th percentiles, and no premises is absurd.
    for kwh, low, high in ((electricity, 1_800, 4_100), (gas, 7_500, 17_000)):
        p10, p90 = np.percentile(kwh, [10, 90])
        assert p10 < low * 1.05 and p90 > high * 0.95
        assert p10 > low * 0.6 and p90 < high * 1.6
        assert kwh.min() > 0 and kwh.max() < 12 * np.median(kwh)


def test_scales_are_lognormal_around_the_median_and_archetypes_are_mixed() -> None:
    seeds = seeds_for(20_000, 3)
    for fuel, median in ((Fuel.ELECTRICITY, 2_700), (Fuel.GAS, 11_500)):
        logs = np.log(annual_scale_kwh(seeds, fuel))
        assert abs(np.median(logs) - np.log(median)) < 0.02
        assert 0.3 < logs.std() < 0.5
    counts = np.bincount(archetypes(seeds), minlength=4) / len(seeds)
    assert np.allclose(counts, (0.35, 0.25, 0.3, 0.1), atol=0.02)


def test_electricity_peaks_in_the_evening_and_gas_in_morning_and_evening() -> None:
    days = YEAR[::7]
    elec = sum(day_of_readings(SEEDS, d, Fuel.ELECTRICITY).sum(axis=0) for d in days)
    gas = sum(day_of_readings(SEEDS, d, Fuel.GAS).sum(axis=0) for d in days)
    assert isinstance(elec, np.ndarray) and isinstance(gas, np.ndarray)
    hour = np.arange(48) / 2
    assert 16.5 <= hour[int(np.argmax(elec))] <= 20.5
    evening, morning = elec[34:40].mean(), elec[12:18].mean()
    night = elec[4:10].mean()
    assert evening > 1.5 * morning > 1.5 * night
    assert 5.5 <= hour[int(np.argmax(gas[:24]))] <= 9.0  # morning heating peak
    assert 16.5 <= hour[24 + int(np.argmax(gas[24:]))] <= 21.5  # evening heating peak
    assert gas[12:18].mean() > 3 * gas[4:8].mean() and gas[34:42].mean() > 3 * gas[4:8].mean()


def test_gas_peaks_in_winter_and_electricity_varies_mildly(year: dict[Fuel, np.ndarray]) -> None:
    months = np.array([d.month for d in YEAR])
    for fuel, low, high in ((Fuel.GAS, 3.0, 10.0), (Fuel.ELECTRICITY, 1.15, 1.6)):
        daily = year[fuel].sum(axis=1)
        january, july = daily[months == 1].mean(), daily[months == 7].mean()
        assert low < january / july < high, fuel


def test_registers_are_cumulative_sums_and_gas_is_metered_in_litres() -> None:
    wh = day_of_readings(SEEDS[:10], date(2025, 1, 20), Fuel.GAS)
    litres = gas_litres(wh)
    assert litres.dtype == np.uint32
    assert np.allclose(litres, wh / GAS_WH_PER_LITRE, atol=0.5)
    assert 11.0 < GAS_WH_PER_LITRE < 11.4  # 1 m³ ≈ 11.2 kWh on a GB bill
    register = np.cumsum(litres, axis=1, dtype=np.uint64)
    assert np.array_equal(register[:, -1], litres.sum(axis=1))


# -- battery ----------------------------------------------------------------------------------
def test_gas_meter_battery_lasts_fifteen_years_at_the_modelled_rate() -> None:
    model = BatteryModel()
    assert model.lifetime_years() >= 15.0
    assert model.lifetime_years() < 30.0  # and not implausibly long
    assert model.lifetime_years(4 * MESSAGES_PER_DAY) < model.lifetime_years()
    # The columnar drain agrees with the closed form: a simulated year, day by day.
    remaining = model.full(3)
    for _ in range(365):
        for _ in range(48):
            model.drain(remaining, wakes=1)
        model.drain(remaining, wakes=0, messages=MESSAGES_PER_DAY)
    used = model.capacity_nah - int(remaining[0])
    assert used == 365 * model.per_day_nah()
    assert model.capacity_nah / used >= 15.0
    assert not model.low(remaining).any()


def test_battery_drains_to_zero_and_flags_low() -> None:
    model = BatteryModel(capacity_nah=100_000)
    remaining = model.full(2)
    model.drain(remaining, wakes=5, messages=np.array([0, 3]))
    assert remaining.tolist() == [100_000 - 5 * 13_000, 100_000 - 5 * 13_000 - 12_000]
    assert model.low(remaining).tolist() == [False, False]
    model.drain(remaining, wakes=10)
    assert remaining.tolist() == [0, 0] and model.low(remaining).all()
    with pytest.raises(ValueError, match="positive"):
        BatteryModel(capacity_nah=0)
