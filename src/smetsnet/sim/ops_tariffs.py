"""Tariff changes: on one day of the run each electricity supplier re-prices a share of its meters.

Each change is DUIS SR 1.1.1 Update Import Tariff Primary Element (GBCS ECS01a), the whole
primary tariff: a switching table (a night rate from 00:00, a day rate from 07:00; Christmas Day
at the night rate all day), the block thresholds (no blocks), the currency, the standing charge
and the price matrix. It is critical, so it goes the long way (CV 4 transform, the supplier signs
the pre-command, CV 5), and it is future-dated to the next midnight, as suppliers do: the meter
accepts and holds it (its response says so, signed), and at midnight it activates the new
tariff and reports each activation with a future-dated-command alert.

Who gets one is drawn at the start of the day from the ESMEs each supplier then supplies (after
any change of supplier), and the sends are spread over the day's waking hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from smetsnet.duis import Node
from smetsnet.duis.bodies import GenericBody
from smetsnet.duis.header import format_datetime
from smetsnet.gbcs.dlms import AccessResponse
from smetsnet.sim.engine import Simulation, spread
from smetsnet.sim.users import Received, SimUser, answer_to
from smetsnet.sim.world import ELECTRICITY_SUPPLIERS, SUPPLIER_A, SUPPLIER_B, Home

_RNG_STREAM = 12  # this operation's stream of the run's seed (scenario.py uses 1 and 2)
_SUCCESS = 0  # DLMS data-access-result success
_NO_BLOCK_LIMIT = "4294967295"  # a block threshold that is never reached: no block pricing
_BLOCK_TIERS = 8
_NIGHT, _DAY = 1, 2  # the TOU rates (price matrix indexes 1 and 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class TariffOffer:
    """A two-rate tariff. Prices in 10^-5 GBP (the ESME's currency unit, DUIS scale -5): per kWh
    for the rates, per day for the standing charge; DUIS prices are xs:short (at most 32767)."""

    night_price: int
    day_price: int
    standing_charge: int
    day_starts: str = "07:00:00.00Z"


#: What each electricity supplier offers (about 15p/27p per kWh and 30p a day).
OFFERS: dict[bytes, TariffOffer] = {
    SUPPLIER_A: TariffOffer(night_price=14_500, day_price=27_500, standing_charge=30_000),
    SUPPLIER_B: TariffOffer(night_price=15_250, day_price=26_800, standing_charge=31_500),
}


@dataclass(slots=True)
class TariffTally:
    """Tariffs sent (accepted by the hub) and carried out by the meter."""

    sent: int = 0
    applied: int = 0
    #: ESME -> the supplier whose tariff it was sent
    targets: dict[bytes, bytes] = field(default_factory=dict)
    #: (ESME, RequestID counter) of each CV 5 request awaiting the meter's response
    pending: set[tuple[bytes, int]] = field(default_factory=set)

    def outcomes(self) -> dict[str, Any]:
        return {"tariff_changes_sent": self.sent, "tariff_changes_applied": self.applied}

    def listen(self, _user: SimUser, received: Received) -> None:
        """Count a tariff whose every SET the meter answered with success."""
        payload = answer_to(self.pending, received)
        if isinstance(payload, AccessResponse) and all(
            r.result == _SUCCESS for r in payload.results
        ):
            self.applied += 1


def plan_tariff_changes(sim: Simulation) -> Callable[[], dict[str, Any]]:
    """Schedule the tariff day's changes (none when ``config.tariff_change_day`` is None or
    not a day of the run)."""
    tally = TariffTally()
    schedule_tariff_changes(sim, tally)
    return tally.outcomes


def schedule_tariff_changes(sim: Simulation, tally: TariffTally) -> None:
    day_index = sim.config.tariff_change_day
    sim.listen(tally.listen)
    if day_index is None or not 0 <= day_index < sim.config.days:
        return
    rng = np.random.default_rng(sim.config.seed * 31 + _RNG_STREAM)
    day = sim.start + timedelta(days=day_index)
    sim.at(day, partial(_choose, sim, tally, rng))


def _choose(sim: Simulation, tally: TariffTally, rng: np.random.Generator, now: datetime) -> None:
    """Draw each supplier's share of the ESMEs it supplies now; spread the sends over the day."""
    share = sim.config.tariff_change_share
    chosen: list[Home] = []
    for supplier in ELECTRICITY_SUPPLIERS:
        homes = [h for h in sim.world.homes if sim.supplier_of(h, now) == supplier]
        count = min(len(homes), int(share * len(homes) + 0.5))
        if count:
            chosen += [homes[int(i)] for i in rng.choice(len(homes), size=count, replace=False)]
    # Interleave the suppliers over the day (chosen is grouped by supplier).
    order = rng.permutation(len(chosen))
    for i, when in zip(order, spread(rng, now, len(chosen)), strict=True):
        sim.at(when, partial(send_tariff, sim, chosen[int(i)], tally=tally))


def send_tariff(sim: Simulation, home: Home, now: datetime, *, tally: TariffTally) -> None:
    """The home's supplier (at ``now``) sends its offer, to take effect at the next midnight."""
    supplier = sim.supplier_of(home, now)
    user = sim.users[supplier]
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    body = GenericBody(node=tariff_body(OFFERS[supplier], midnight))
    answer = user.send_critical(
        sim.handle, user.request("1.1.1", body, target=home.esme, now=now), now
    )
    rid = answer.response.header.request_id
    if answer.code != "I99" or rid is None:
        return
    tally.sent += 1
    tally.targets[home.esme] = supplier
    tally.pending.add((rid.target, rid.counter))


# -- the request body (DUIS UpdateImportTariffPrimaryElement) ------------------------------------


def _leaf(name: str, text: str) -> Node:
    return Node(name=name, text=text)


def _node(name: str, *children: Node) -> Node:
    return Node(name=name, children=children)


def _wild_date(month: int, day: int) -> Node:
    """Every year's ``month``/``day``, any weekday."""
    return _node(
        "Date",
        _node("Year", _node("NonSpecifiedYear")),
        _node("Month", _leaf("SpecifiedMonth", f"{month:02d}")),
        _node("DayOfMonth", _leaf("SpecifiedDayOfMonth", f"{day:02d}")),
        _node("DayOfWeek", _node("NonSpecifiedDayOfWeek")),
    )


def _day_profile(day_name: int, *switches: tuple[str, int]) -> Node:
    return _node(
        "DayProfile",
        _leaf("DayName", str(day_name)),
        *(
            _node("ProfileSchedule", _leaf("StartTime", at), _leaf("TOUTariffAction", str(rate)))
            for at, rate in switches
        ),
    )


def _switching_table(offer: TariffOffer) -> Node:
    """Day 1: night rate, then day rate from ``offer.day_starts``; day 2: night rate all day;
    one week of day 1s, one season all year."""
    week = _node(
        "WeekProfile",
        _leaf("WeekName", "1"),
        *(
            Node(name="ReferencedDayName", attributes=(("index", str(i)),), text="1")
            for i in range(1, 8)
        ),
    )
    start = _wild_date(1, 1)
    season = _node(
        "Season",
        _leaf("SeasonName", "allyear"),
        Node(name="SeasonStartDate", children=start.children),
        _leaf("ReferencedWeekName", "1"),
    )
    return _node(
        "SwitchingTable",
        _node(
            "DayProfiles",
            _day_profile(1, ("00:00:00.00Z", _NIGHT), (offer.day_starts, _DAY)),
            _day_profile(2, ("00:00:00.00Z", _NIGHT)),
        ),
        _node("WeekProfiles", week),
        _node("Seasons", season),
    )


def _threshold_matrix() -> Node:
    return _node(
        "ThresholdMatrix",
        *(
            Node(
                name="Thresholds",
                attributes=(("index", str(t)),),
                children=(
                    Node(name="BlockThreshold", attributes=(("index", "1"),), text=_NO_BLOCK_LIMIT),
                ),
            )
            for t in range(1, _BLOCK_TIERS + 1)
        ),
    )


def _prices(offer: TariffOffer) -> Node:
    tou = (
        Node(name="TOUPrice", attributes=(("index", str(rate)),), text=str(price))
        for rate, price in ((_NIGHT, offer.night_price), (_DAY, offer.day_price))
    )
    return _node(
        "PriceElements",
        _node(
            "ElectricityPriceElements",
            _leaf("StandingCharge", str(offer.standing_charge)),
            _leaf("StandingChargeScale", "-5"),
            _leaf("PriceScale", "-5"),
            _node("TOUTariff", *tou),
        ),
    )


def tariff_body(offer: TariffOffer, execution: datetime | None = None) -> Node:
    """``UpdateImportTariffPrimaryElement`` for ``offer``, held by the meter until ``execution``
    (None: at once)."""
    christmas = _node("SpecialDay", _wild_date(12, 25), _leaf("ReferencedDayName", "2"))
    elements = _node(
        "ElecTariffElements",
        _leaf("CurrencyUnits", "GBP"),
        _switching_table(offer),
        _node("SpecialDays", christmas),
        _threshold_matrix(),
    )
    when = () if execution is None else (_leaf("ExecutionDateTime", format_datetime(execution)),)
    return _node("UpdateImportTariffPrimaryElement", *when, elements, _prices(offer))


__all__ = [
    "OFFERS",
    "TariffOffer",
    "TariffTally",
    "plan_tariff_changes",
    "schedule_tariff_changes",
    "send_tariff",
    "tariff_body",
]
