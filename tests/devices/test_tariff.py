"""Tariffs the meter bills with (issue 4 §2): the reference ECS01a TOU and BLOCK commands,
re-built with our PKI, set the calendar, prices and thresholds; a day of readings is then billed
half-hour by half-hour at the tier the calendar gives, and the tier registers hold the import."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from smetsnet.devices import Esme
from smetsnet.devices.core import metering
from smetsnet.devices.core.tariff import Tariff
from smetsnet.devices.esme.tariff import esme_tariff
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessRequest, LongUnsigned, seconds_since_2000
from smetsnet.gbcs.protection import Protection
from tests.devices.conftest import NOW
from tests.devices.support import rebuild
from tests.devices.test_esme_security import _command
from tests.support.vectors import RTDS, read_hex, require_reference

ECS01A = "1.1.1_ECS01a/ECS01a_1.1.1_IMMEDIATE_{}_SUCCESS_COMMAND_GBCS.HEX"
STANDING = 20_000 // 48  # the vectors' standing charge, per half-hour
TIER_1, TIER_2, TIER_3 = 2121, 3127, 4744  # TOU price matrix 0x01..0x03 (10^-5 GBP/kWh)
BLOCK_A, BLOCK_B, BLOCK_C = 1361, 2289, 5566  # block prices 0xA1, 0xB1, 0xC1


def _tariffed(esme: Esme, hub: Protection, variant: str) -> int:
    """Send the reference ECS01a (our PKI); the counter it used."""
    require_reference()
    path = RTDS / ECS01A.format(variant)
    out = esme.receive(rebuild(path, hub), NOW)
    assert out.response is not None
    return decode_message(read_hex(path)).header.counter


def _day(esme: Esme, day: datetime, wh: int = 1000) -> np.ndarray:
    before = esme.state.billed
    esme.record_half_hours(day, np.full(48, wh))
    assert esme.state.billed > before
    tariff = esme_tariff(esme.state.objects, esme.state.standing_charge)
    assert tariff is not None
    return metering.bill(day, np.full(48, wh), esme.state, 0, tariff).cost


def _expected(tiers: list[tuple[int, int]]) -> np.ndarray:
    """(half-hours, price) runs -> cost of 1000 Wh per half-hour."""
    return np.concatenate([np.full(n, price + STANDING) for n, price in tiers])


@pytest.mark.parametrize(
    ("day", "runs"),
    [
        # winter (from 27 Oct) weekday: day profile 1, 00:00 tier 2, 07:00 tier 3
        (datetime(2025, 1, 15, tzinfo=UTC), [(14, TIER_2), (34, TIER_3)]),
        # winter weekend: day profile 3, tier 1 all day
        (datetime(2025, 1, 18, tzinfo=UTC), [(48, TIER_1)]),
        # summer (from 29 Mar) weekday: day profile 2, 06:00 tier 3, 23:00 tier 2 (and before 6)
        (datetime(2025, 6, 4, tzinfo=UTC), [(12, TIER_2), (34, TIER_3), (2, TIER_2)]),
        # special day 25 December (any year) on a Thursday: day profile 3
        (datetime(2025, 12, 25, tzinfo=UTC), [(48, TIER_1)]),
    ],
)
def test_tou_tariff_bills_each_half_hour_at_the_calendar_tier(
    esme: Esme, hub: Protection, day: datetime, runs: list[tuple[int, int]]
) -> None:
    _tariffed(esme, hub, "TOU")
    assert list(_day(esme, day)) == list(_expected(runs))
    s = esme.state
    assert s.billed == int(_expected(runs).sum())
    # registers per tier hold the day, and sum to the import
    for n, price in runs:
        tier = {TIER_1: 0, TIER_2: 1, TIER_3: 2}[price]
        assert s.tier_wh[tier] >= n * 1000
    assert int(s.tier_wh.sum()) + int(s.block_wh.sum()) == s.import_wh == 48_000


def test_block_tariff_moves_to_the_next_block_price_after_each_threshold(
    esme: Esme, hub: Protection
) -> None:
    _tariffed(esme, hub, "BLOCK")
    day = datetime(2025, 1, 15, tzinfo=UTC)
    esme.record_half_hours(day, np.full(48, 1500))
    s = esme.state
    # block tier 1: thresholds 10,000 and 20,000 Wh; the 7th half-hour crosses the first
    assert list(s.block_wh[0]) == [10_000, 10_000, 52_000, 0]
    expected = 10_000 * BLOCK_A + 10_000 * BLOCK_B + 52_000 * BLOCK_C
    half_hours = 48 * STANDING
    # per-half-hour rounding loses under 1 unit each
    assert expected // 1000 - 48 <= s.billed - half_hours <= expected // 1000
    assert int(s.block_wh.sum()) + int(s.tier_wh.sum()) == s.import_wh == 72_000
    assert int(s.block_used[0]) == 72_000


def test_ecs05_resets_the_block_counters(esme: Esme, hub: Protection) -> None:
    counter = _tariffed(esme, hub, "BLOCK")
    day = datetime(2025, 1, 15, tzinfo=UTC)
    esme.record_half_hours(day, np.full(48, 500))
    assert int(esme.state.block_used[0]) == 24_000
    assert list(esme.state.block_wh[0]) == [10_000, 10_000, 4_000, 0]
    reset = AccessRequest.action(9, "0-0:10.0.100.255", 1, LongUnsigned(value=99), invoke_id=1)
    assert esme.receive(_command(hub, 0x001D, reset, counter=counter + 1), NOW).response
    assert int(esme.state.block_used[0]) == 0
    # a new block period: back to the first block's price
    esme.record_half_hours(day.replace(day=16), np.full(48, 100))
    assert list(esme.state.block_wh[0]) == [14_800, 10_000, 4_000, 0]


def test_single_price_is_one_tier_and_matches_the_old_bill() -> None:
    tariff = Tariff.single(25_000, 20_000)
    wh = np.arange(48) * 37
    out = tariff.cost(seconds_since_2000(NOW), wh)
    assert list(out.cost) == list((wh * 25_000) // 1000 + 20_000 // 48)
    assert int(out.tier_wh[0]) == int(wh.sum()) and not out.tier_wh[1:].any()
