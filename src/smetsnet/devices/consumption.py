"""Deterministic half-hourly electricity and gas demand for a whole population at once.

Every number is a pure function of (premises seed, day, fuel): no generator state is carried
between calls, so a premises' Tuesday is the same whether it is computed alone, with 100,000
neighbours, or a year later. Randomness comes from a counter-based hash (SplitMix64's finaliser)
of the seed, the day and the half-hour, vectorised over numpy ``uint64`` arrays.

The shape of the model (all figures are annual medians over the population):

- **Household**: a lognormal annual scale around Ofgem's typical domestic consumption values
  (TDCV, 2024: 2,700 kWh electricity, 11,500 kWh gas; "low" and "high" 1,800/4,100 and
  7,500/17,000, which is a spread of about σ = 0.4 on a log scale), electricity and gas scales
  correlated (bigger homes use more of both), and one of four archetypes with its own day.
- **Season**: electricity ±15 % around its mean, highest in January (lighting, some heating);
  gas = 22 % hot water and cooking spread evenly + 78 % space heating in proportion to heating
  degree-days (base 15.5 °C) of a smooth UK climate with a day-to-day weather anomaly shared by
  the whole population (a cold snap is cold for everyone).
- **Day**: archetype shapes built from a few Gaussian bumps: electricity has a morning peak and
  a larger evening peak (17:00-20:00); gas heating has morning and evening peaks, hot water
  smaller ones. Weekends start later.
- **Noise**: per household per day (σ 0.2) and per half-hour (σ 0.35 electricity, 0.3 gas),
  lognormal with mean 1, so the expected totals stay on the annual scale.

Values are whole Wh per half-hour (``uint32``). Meters accumulate exactly these integers, so
registers, profile logs and bills derived from them agree to the Wh.
"""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]


class Fuel(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"


#: Ofgem TDCV medians (kWh a year) and the log-scale spread of households around them.
ELECTRICITY_MEDIAN_KWH: Final = 2_700.0
GAS_MEDIAN_KWH: Final = 11_500.0
ELECTRICITY_SIGMA: Final = 0.42
GAS_SIGMA: Final = 0.38
#: Correlation of a household's electricity and gas scales (log space).
SCALE_CORRELATION: Final = 0.5
DAY_SIGMA: Final = 0.2
INTERVAL_SIGMA: Final = {Fuel.ELECTRICITY: 0.35, Fuel.GAS: 0.3}
ELECTRICITY_SEASON: Final = 0.15
GAS_BASE_SHARE: Final = 0.22
#: Gas meters measure volume: litres per Wh at a calorific value of 39.5 MJ/m³ with the
#: volume correction factor 1.02264 (the figures of GB gas bills): 1 m³ ≈ 11.22 kWh.
GAS_WH_PER_LITRE: Final = 39.5e6 * 1.02264 / 3600.0 / 1000.0

HALF_HOURS: Final = 48
_HOURS = (np.arange(HALF_HOURS, dtype=np.float64) + 0.5) / 2.0  # interval mid-points

#: Archetype weights: out at work all day, at home all day, family, late riser.
ARCHETYPE_WEIGHTS: Final = (0.35, 0.25, 0.3, 0.1)

# Stream constants: independent hash streams per purpose.
_S_ARCHETYPE, _S_SCALE_A, _S_SCALE_B, _S_SCALE_C, _S_SCALE_D = 1, 2, 3, 4, 5
_S_DAY, _S_INTERVAL, _S_WEATHER = 6, 7, 8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: U64) -> U64:
    """SplitMix64's finaliser: a bijective, well-avalanched hash of each uint64 (wraps)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


_MASK: Final = 0xFFFFFFFFFFFFFFFF


def _mix_int(x: int) -> int:
    """:func:`_mix` of one value in Python ints (the same wrapping uint64 arithmetic, so the
    same bits): one premises' hashes, without numpy's cost per call on a one-element array."""
    z = (x + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix_any(x: U64) -> U64:
    """:func:`_mix`, one value at a time in Python ints when there is just one."""
    if x.size != 1:
        return _mix(x)
    return np.full(x.shape, _mix_int(int(x.flat[0])), np.uint64)


def _key(x: U64, *salts: int) -> U64:
    if x.size == 1:  # one premises (its own model): the same bits in Python ints
        value = int(x.flat[0])
        for salt in salts:
            value = _mix_int(value ^ (salt * 0x632BE59BD9B4E019 & _MASK))
        return np.full(x.shape, value, np.uint64)
    for salt in salts:
        x = _mix(x ^ np.uint64(salt * 0x632BE59BD9B4E019 & _MASK))
    return x


def _uniform(h: U64) -> F64:
    """(0, 1) from the top 53 bits (never 0: the normal transform takes a log)."""
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / (1 << 53))


def _normal(h: U64) -> F64:
    """A standard normal per hash (Box-Muller from two uniforms drawn from one hash)."""
    u1 = _uniform(h)
    u2 = _uniform(_mix_any(h))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)


def _lognormal_mean_one(z: F64, sigma: float) -> F64:
    return np.exp(sigma * z - 0.5 * sigma * sigma)


# -- household parameters (independent of the day) ------------------------------------------
def archetypes(seeds: U64) -> NDArray[np.intp]:
    """The archetype index (0-3) of each premises."""
    edges = np.cumsum(ARCHETYPE_WEIGHTS)[:-1]
    return np.searchsorted(edges, _uniform(_key(seeds, _S_ARCHETYPE)), side="right")


def annual_scale_kwh(seeds: U64, fuel: Fuel | str) -> F64:
    """The expected annual use of each premises (kWh): lognormal around the TDCV median."""
    z_elec = _normal(_key(seeds, _S_SCALE_A))
    if Fuel(fuel) is Fuel.ELECTRICITY:
        return ELECTRICITY_MEDIAN_KWH * np.exp(ELECTRICITY_SIGMA * z_elec)
    own = _normal(_key(seeds, _S_SCALE_B))
    rho = SCALE_CORRELATION
    z_gas = rho * z_elec + math.sqrt(1.0 - rho * rho) * own
    return GAS_MEDIAN_KWH * np.exp(GAS_SIGMA * z_gas)


# -- shapes ----------------------------------------------------------------------------------
Bump = tuple[float, float, float]


def _bumps(base: float, *bumps: Bump) -> F64:
    """A normalised day (sums to 1) of a base load plus Gaussian bumps (hour, height, width)."""
    shape: F64 = np.full(HALF_HOURS, base, dtype=np.float64)
    for hour, height, width in bumps:
        shape += height * np.exp(-0.5 * ((_HOURS - hour) / width) ** 2)
    normalised: F64 = shape / shape.sum()
    return normalised


def _shift(bumps: tuple[Bump, ...], hours: float) -> list[Bump]:
    return [(h + hours, a, w * 1.3) for h, a, w in bumps]


# Electricity (archetype → bumps): the evening peak is the largest in every archetype.
_ELEC = (
    ((7.25, 0.9, 0.8), (18.75, 1.9, 1.6)),
    ((8.5, 0.7, 1.2), (12.5, 0.6, 1.5), (18.0, 1.6, 1.8)),
    ((7.5, 1.0, 0.9), (15.5, 0.5, 1.5), (18.0, 2.1, 1.7)),
    ((9.0, 0.5, 1.2), (20.5, 1.7, 2.0), (23.0, 0.6, 1.2)),
)
_ELEC_BASE = (0.3, 0.35, 0.3, 0.3)
# Gas space heating and hot water: morning and evening heating, daytime for those at home.
_HEAT = (
    ((6.75, 2.2, 1.0), (18.5, 1.8, 2.2)),
    ((7.0, 2.0, 1.2), (13.0, 0.7, 3.0), (18.5, 1.8, 2.2)),
    ((6.75, 2.3, 1.0), (17.5, 2.0, 2.2)),
    ((8.5, 1.8, 1.2), (20.0, 2.0, 2.2)),
)
_HOT_WATER = (
    ((7.25, 1.0, 0.7), (19.5, 0.8, 1.2)),
    ((8.5, 1.0, 1.0), (19.0, 0.8, 1.2)),
    ((7.25, 1.0, 0.7), (19.0, 1.2, 1.2)),
    ((9.5, 1.0, 1.0), (21.0, 0.8, 1.2)),
)


def _table(table: tuple[tuple[Bump, ...], ...], base: tuple[float, ...] | float) -> F64:
    """(2, archetypes, 48): weekday shapes, then weekend ones (later, broader, a midday use)."""
    bases = base if isinstance(base, tuple) else (base,) * len(table)
    weekday = [_bumps(b, *bumps) for b, bumps in zip(bases, table, strict=True)]
    weekend = [
        _bumps(b, *_shift(bumps, 1.25), (13.0, 0.4, 1.5))
        for b, bumps in zip(bases, table, strict=True)
    ]
    return np.stack([np.stack(weekday), np.stack(weekend)])


_SHAPES: Final = {"elec": _table(_ELEC, _ELEC_BASE), "heat": _table(_HEAT, 0.08)}
_SHAPES["water"] = _table(_HOT_WATER, 0.06)


# -- season ----------------------------------------------------------------------------------
def _climate_temperature(day_of_year: F64 | float) -> F64 | float:
    """Smooth UK daily mean temperature (°C): about 4.5 in mid-January, 16.5 in mid-July."""
    return 10.5 - 6.0 * np.cos(2.0 * math.pi * (np.asarray(day_of_year) - 20.0) / 365.25)


HEATING_BASE_C: Final = 15.5
WEATHER_SIGMA_C: Final = 2.0
_YEAR = np.arange(1, 366, dtype=np.float64)
#: Expected heating degree-days of a year (the anomaly's convexity included, by quadrature).
_ANOMALIES = np.linspace(-4.0, 4.0, 81)
_WEIGHTS = np.exp(-0.5 * _ANOMALIES**2) / np.exp(-0.5 * _ANOMALIES**2).sum()
_YEAR_HDD: Final = float(
    (
        np.maximum(
            0.0,
            HEATING_BASE_C
            - np.asarray(_climate_temperature(_YEAR))[:, None]
            - WEATHER_SIGMA_C * _ANOMALIES[None, :],
        )
        @ _WEIGHTS
    ).sum()
)


def day_temperature(day: date) -> float:
    """The day's mean temperature: climate plus an anomaly shared by the whole population."""
    anomaly = _normal(_key(np.array([day.toordinal()], dtype=np.uint64), _S_WEATHER))[0]
    climate = float(_climate_temperature(float(day.timetuple().tm_yday)))
    return climate + WEATHER_SIGMA_C * float(anomaly)


@lru_cache(maxsize=64)
def seasonal_share(day: date, fuel: Fuel | str) -> tuple[float, float]:
    """(share of the annual scale used on ``day``, the part of it that is space heating);
    cached: every premises of a simulated day asks for the same day's."""
    if Fuel(fuel) is Fuel.ELECTRICITY:
        doy = day.timetuple().tm_yday
        share = (1.0 + ELECTRICITY_SEASON * math.cos(2.0 * math.pi * (doy - 15) / 365.25)) / 365.25
        return share, 0.0
    hdd = max(0.0, HEATING_BASE_C - day_temperature(day))
    heating = (1.0 - GAS_BASE_SHARE) * hdd / _YEAR_HDD
    base = GAS_BASE_SHARE / 365.25
    return base + heating, heating


# -- the public functions ---------------------------------------------------------------------
def day_of_readings(seeds: NDArray[np.uint64], day: date, kind: Fuel | str) -> NDArray[np.uint32]:
    """Wh used in each half-hour of ``day`` (UTC) by each premises: shape (len(seeds), 48)."""
    fuel = Fuel(kind)
    seeds = np.asarray(seeds, dtype=np.uint64).reshape(-1)
    return _readings(seeds, archetypes(seeds), annual_scale_kwh(seeds, fuel), day, fuel)


def _readings(
    seeds: U64, kinds: NDArray[np.intp], scale_kwh: F64, day: date, fuel: Fuel
) -> NDArray[np.uint32]:
    """:func:`day_of_readings` given the households' archetypes and annual scales."""
    weekend = int(day.weekday() >= 5)
    share, heating = seasonal_share(day, fuel)
    salt_day = _key(seeds, _S_DAY, day.toordinal(), int(fuel is Fuel.GAS))
    daily_wh = scale_kwh * 1000.0 * share
    daily_wh *= _lognormal_mean_one(_normal(salt_day), DAY_SIGMA)
    if fuel is Fuel.ELECTRICITY:
        expected = daily_wh[:, None] * _SHAPES["elec"][weekend][kinds]
    else:
        heat_part = heating / share
        expected = daily_wh[:, None] * (
            heat_part * _SHAPES["heat"][weekend][kinds]
            + (1.0 - heat_part) * _SHAPES["water"][weekend][kinds]
        )
    slots = np.arange(HALF_HOURS, dtype=np.uint64)
    noise_keys = _key(_key(salt_day, _S_INTERVAL)[:, None] ^ slots[None, :], _S_INTERVAL)
    noise = _lognormal_mean_one(_normal(noise_keys), INTERVAL_SIGMA[fuel])
    wh: NDArray[np.uint32] = np.rint(expected * noise).astype(np.uint32)
    return wh


def half_hourly_wh(seed: int, day: date, kind: Fuel | str) -> NDArray[np.uint32]:
    """One premises' 48 half-hourly Wh for ``day`` (the same numbers as in a population)."""
    row: NDArray[np.uint32] = day_of_readings(np.array([seed], dtype=np.uint64), day, kind)[0]
    return row


class Household:
    """One premises' use of one fuel, its day-independent part (archetype, annual scale) worked
    out once, at its first day: a simulated premises asks for a new day of readings every day."""

    __slots__ = ("_fuel", "_parts", "_seed")

    def __init__(self, seed: int, kind: Fuel | str) -> None:
        self._seed, self._fuel = seed, Fuel(kind)
        self._parts: tuple[U64, NDArray[np.intp], F64] | None = None

    def half_hourly_wh(self, day: date) -> NDArray[np.uint32]:
        """The premises' 48 half-hourly Wh for ``day``: :func:`half_hourly_wh`'s numbers."""
        if self._parts is None:
            seeds = np.array([self._seed], dtype=np.uint64)
            self._parts = (seeds, archetypes(seeds), annual_scale_kwh(seeds, self._fuel))
        seeds, kinds, scale_kwh = self._parts
        row: NDArray[np.uint32] = _readings(seeds, kinds, scale_kwh, day, self._fuel)[0]
        return row


def gas_litres(wh: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """What a gas meter measures for this energy: whole litres (dm³, divisor 1000 on m³)."""
    litres: NDArray[np.uint32] = np.rint(wh / GAS_WH_PER_LITRE).astype(np.uint32)
    return litres


def seeds_for(n: int, population_seed: int) -> NDArray[np.uint64]:
    """``n`` distinct premises seeds derived from one population seed."""
    return _key(np.arange(n, dtype=np.uint64), population_seed & 0xFFFFFFFFFFFFFFFF)
