"""The gas meter bills by its tariff (issue 4 §2): the reference GCS01a TOU command, re-built
with our PKI, sets the calendar and prices; days of half-hours are then billed at the tier the
calendar gives (season, weekday, special day). The GCS01a BLOCK command moves to the next block
price after each threshold. Tier and block registers sum to the energy of the volume register and
GCS13c reads them (Metering 0x0100, 0x0102, ...)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smetsnet.devices.gas import GasPremises
from smetsnet.devices.gas.state import GsmeState
from smetsnet.devices.gas.tariff import gsme_tariff
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import GbzMessage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.support import rebuild
from tests.devices.test_gas_reference_commands import (
    COMMANDS,
    NOW,
    join_ppmid,
    make_premises,
)

pytestmark = pytest.mark.skipif(not COMMANDS, reason="reference vectors not found")

#: GCS01a IMMEDIATE_TOU: price matrix tiers 1..4 and standing charge (10^-5 GBP).
TIER_PRICES = {1: 9600, 2: 10200, 3: 10750, 4: 11000}
STANDING = 22465 // 48
#: GCS01a FUTURE_DATED_BLOCK: block prices (ids 00..03), thresholds 1000/2000/3000 kWh.
BLOCK_PRICES = (9600, 10200, 10750, 11000)
BLOCK_STANDING = 54794 // 48
BLOCK_START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
HALF = timedelta(minutes=30)


def _send(premises: GasPremises, hub: Protection, name: str) -> None:
    path = next(p for p in COMMANDS if p.name.startswith(name))
    premises.deliver(rebuild(path, hub), NOW)
    [response] = premises.advance(NOW + HALF)
    assert decode_message(response).header.cra == Cra.RESPONSE


def _tou_premises(pki: Pki, hub: Protection) -> GasPremises:
    premises = make_premises(pki, start=NOW - timedelta(minutes=1))
    join_ppmid(pki, premises.gsme)
    _send(premises, hub, "GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS")
    return premises


@pytest.mark.parametrize(
    ("day", "tier"),
    [
        # before the first season start (20 March): the last season (21 June, week 2) runs
        (datetime(2015, 1, 5, tzinfo=UTC), 3),  # Monday: day profile 3
        (datetime(2015, 1, 10, tzinfo=UTC), 4),  # Saturday: day profile 4
        (datetime(2015, 4, 1, tzinfo=UTC), 1),  # spring season, week 1, Wednesday: day 1
        (datetime(2015, 4, 4, tzinfo=UTC), 2),  # spring Saturday: day 2
        (datetime(2015, 4, 6, tzinfo=UTC), 2),  # special day (a Monday): day 2
        (datetime(2015, 7, 1, tzinfo=UTC), 3),  # summer season, week 2, Wednesday: day 3
    ],
)
def test_tou_day_is_billed_at_the_calendar_tier(
    gas_pki: Pki, gas_hub: Protection, day: datetime, tier: int
) -> None:
    premises = _tou_premises(gas_pki, gas_hub)
    s = premises.gsme.state
    assert gsme_tariff(s) is not None and s.standing_charge == 22465
    billed, tiers = s.billed, s.tier_wh.copy()
    premises.gsme.record_half_hours(day, np.full(48, 1000))
    assert s.billed - billed == 48 * (TIER_PRICES[tier] + STANDING)
    gained = s.tier_wh - tiers
    assert int(gained[tier - 1]) == 48_000 and int(gained.sum()) == 48_000
    assert int(s.tier_wh.sum()) + int(s.block_wh.sum()) == s.energy_wh


def test_a_day_across_tiers_and_the_gcs13c_tier_reads(gas_pki: Pki, gas_hub: Protection) -> None:
    premises = _tou_premises(gas_pki, gas_hub)
    gsme = premises.gsme
    s = gsme.state
    # Friday then Saturday (spring): 48 half-hours in tier 1, then 48 in tier 2
    billed = s.billed
    wh = np.arange(96, dtype=np.int64) * 40 + 500
    gsme.record_half_hours(datetime(2015, 4, 10, tzinfo=UTC), wh)
    prices = np.repeat([TIER_PRICES[1], TIER_PRICES[2]], 48)
    cost = (wh * prices) // 1000 + STANDING
    assert s.billed - billed == int(cost.sum())
    assert int(s.tier_wh.sum()) + int(s.block_wh.sum()) == s.energy_wh
    # GCS13c (reference command, our PKI) reads tiers 1..4 from the GPF's mirror
    premises.gpf.refresh(s)
    path = next(p for p in COMMANDS if p.name.startswith("GCS13c_4.1.2_SUCCESS_RELIABLE_GPF"))
    [wire] = premises.deliver(rebuild(path, gas_hub), NOW + HALF)
    message = decode_message(wire, protection=gas_hub)
    assert isinstance(message.payload, GbzMessage)
    [component] = message.payload.components
    command = component.command
    assert command is not None and component.encryption is not None
    reads = [command[a].value for a in (0x0100, 0x0102, 0x0104, 0x0106)]  # type: ignore[index]
    expected = [int(w) * s.litres // s.energy_wh for w in s.tier_wh[:4]]
    assert reads == expected and reads[1] > 0
    assert s.litres - 4 <= sum(reads) <= s.litres  # the volume register, within a litre each


def _block_premises(pki: Pki, hub: Protection) -> GasPremises:
    """The future-dated GCS01a BLOCK command, run at the wake at its start time."""
    premises = make_premises(pki, start=NOW - timedelta(minutes=1))
    _send(premises, hub, "GCS01a_1.1.1_FUTURE_DATED_BLOCK_SUCCESS")
    premises.next_wake = BLOCK_START
    premises.advance(BLOCK_START)
    assert premises.gsme.held == []
    return premises


def test_block_tariff_moves_to_the_next_block_price_after_each_threshold(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _block_premises(gas_pki, gas_hub)
    s = premises.gsme.state
    assert s.standing_charge == 54794 and not s.block_used.any()
    billed, tiers = s.billed, s.tier_wh.copy()
    premises.gsme.record_half_hours(datetime(2030, 1, 16, tzinfo=UTC), np.full(48, 50_000))
    # 2,400 kWh: 1,000 in block 1, 1,000 in block 2, 400 in block 3 (no tier: block tier 0)
    assert list(s.block_wh[0]) == [1_000_000, 1_000_000, 400_000, 0]
    assert not s.block_wh[1:].any() and (s.tier_wh == tiers).all()
    energy = np.array([1_000_000, 1_000_000, 400_000, 0])
    assert s.billed - billed == int(energy @ BLOCK_PRICES) // 1000 + 48 * BLOCK_STANDING
    assert int(s.block_used[0]) == 2_400_000
    # the next day stays in block 3 until the last threshold, then block 4
    premises.gsme.record_half_hours(datetime(2030, 1, 17, tzinfo=UTC), np.full(48, 50_000))
    assert list(s.block_wh[0]) == [1_000_000, 1_000_000, 1_000_000, 1_800_000]
    assert int(s.tier_wh.sum()) + int(s.block_wh.sum()) == s.energy_wh


def test_registers_survive_json_and_old_state_loads(gas_pki: Pki, gas_hub: Protection) -> None:
    premises = _block_premises(gas_pki, gas_hub)
    s = premises.gsme.state
    premises.gsme.record_half_hours(datetime(2030, 1, 16, tzinfo=UTC), np.full(48, 50_000))
    again = GsmeState.from_json(s.to_json())
    assert (again.block_wh == s.block_wh).all() and again.block_wh.shape == (8, 4)
    assert (again.tier_wh == s.tier_wh).all() and (again.block_used == s.block_used).all()
    old = {k: v for k, v in s.to_json().items() if k not in ("tier_wh", "block_wh", "block_used")}
    loaded = GsmeState.from_json(old)
    assert int(loaded.tier_wh[0]) == s.energy_wh and not loaded.block_wh.any()


def test_without_tariff_information_the_single_price_is_billed(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = make_premises(gas_pki, start=NOW - timedelta(minutes=1))
    s = premises.gsme.state
    s.price, s.standing_charge = 3000, 4800
    assert gsme_tariff(s) is None
    billed = s.billed
    premises.gsme.record_half_hours(datetime(2015, 1, 5, tzinfo=UTC), np.full(48, 1000))
    assert s.billed - billed == 48 * (3000 + 100)
    assert int(s.tier_wh[0]) == s.energy_wh
