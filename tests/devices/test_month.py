"""Follow one premises through a month (issue 4 §4): 30 days of half-hours from the consumption
model recorded by the ESME; profile, registers, bills and prepayment credit agree; a UTRN typed
on the PPMID tops up; supply is disabled at zero credit and re-armed after the top-up. The gas
side (GSME + GPF on the same premises): the profile agrees with the volume register, the bill
with the gas tariff, prepayment credit falls and a remote top-up (CS01b) raises it, and the
battery drains by the model per wake and per message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smetsnet.devices import Esme
from smetsnet.devices.consumption import Fuel, gas_litres, half_hourly_wh
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.gas import GasPremises, Gpf, Gsme
from smetsnet.devices.han import CommsHub, Ihd, Ppmid
from smetsnet.devices.premises import Premises
from smetsnet.gbcs import crypto
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, PARTIES, SUPPLIER
from tests.devices.test_gas_premises import Hub, _top_up
from tests.devices.test_gas_reference_commands import GPF_EUI, GSME_EUI

CHF = bytes.fromhex("00DB1234567890A2")
PPMID = bytes.fromhex("00DB1234567890A4")
IHD = bytes.fromhex("00DB1234567890A5")
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 30
SEED = 20250101
PRICE = 25_000  # 25p/kWh in 10^-5 GBP: Wh × 25 exactly
STANDING = 48_000  # 48p/day: 1p per half-hour exactly
MONTH_WH = sum(
    int(half_hourly_wh(SEED, (START + timedelta(days=d)).date(), Fuel.ELECTRICITY).sum())
    for d in range(DAYS)
)
GAS_PRICE = 7_000  # 7p/kWh: Wh × 7 exactly
GAS_STANDING = 28_800  # 28.8p/day: 600 per half-hour exactly
GAS_WH = np.concatenate(
    [half_hourly_wh(SEED, (START + timedelta(days=d)).date(), Fuel.GAS) for d in range(DAYS)]
)


@pytest.fixture(scope="module")
def month_pki(pki: Pki) -> Pki:
    for eui in (CHF, PPMID, GSME_EUI, GPF_EUI):
        if pki.public_key(eui, KeyUsage.KEY_AGREEMENT) is None:
            pki.add_device(eui)
    return pki


def _premises(pki: Pki, *, credit_pence: int, gas: GasPremises | None = None) -> Premises:
    esme = Esme.from_keystore(ESME_EUI, pki, PARTIES)
    s = esme.state
    s.payment_mode, s.price, s.standing_charge = "prepayment", PRICE, STANDING
    s.balance = credit_pence * 1000
    premises = Premises(
        seed=SEED,
        clock=START,
        hub=CommsHub.from_keystore(CHF, pki, PARTIES),
        esme=esme,
        ppmid=Ppmid.from_keystore(PPMID, pki, PARTIES),
        ihd=Ihd(eui=IHD),
        gas=gas,
    )
    premises.commission(START)
    return premises


def _gas(pki: Pki, *, credit_pence: int) -> GasPremises:
    gsme = Gsme.from_keystore(GSME_EUI, pki, PARTIES)
    s = gsme.state
    s.payment_mode, s.price, s.standing_charge = "prepayment", GAS_PRICE, GAS_STANDING
    s.balance = credit_pence * 1000
    gpf = Gpf.from_keystore(GPF_EUI, pki, PARTIES)
    return GasPremises(gsme=gsme, gpf=gpf, start=START, seed=SEED)


def _utrn(pki: Pki, counter: int, pence: int) -> str:
    pp = pki.private_key(SUPPLIER, KeyUsage.KEY_AGREEMENT, prepayment=True)
    dev = pki.public_key(ESME_EUI, KeyUsage.KEY_AGREEMENT)
    assert pp is not None and dev is not None
    z = crypto.shared_secret(pp, dev)
    return make_utrn(z, supplier=SUPPLIER, device=ESME_EUI, counter=counter, pence=pence)


def _codes(alerts: list[bytes], pki: Pki) -> list[int]:
    out = []
    for wire in alerts:
        payload = decode_message(wire, protection=Protection(pki)).payload
        out.append(payload.alert_code)  # type: ignore[attr-defined]
    return out


def test_a_month_of_profile_registers_and_bills_agree(month_pki: Pki) -> None:
    premises = _premises(month_pki, credit_pence=1_000_000)  # enough for the month
    s = premises.esme.state
    alerts = []
    for day in range(1, DAYS + 1):
        alerts += premises.advance(START + timedelta(days=day))
    assert alerts == []
    assert len(s.profile_wh) == 48 * DAYS
    assert int(s.profile_wh.sum()) == s.import_wh == MONTH_WH
    expected_bill = PRICE * MONTH_WH // 1000 + STANDING * DAYS
    assert s.billed == expected_bill
    assert s.balance == 1_000_000 * 1000 - expected_bill
    shown = premises.ppmid.display(premises.clock)  # type: ignore[union-attr]
    assert shown is not None
    assert shown.electricity_credit_pence == s.balance // 1000
    assert shown.electricity_import_wh == MONTH_WH
    ihd = premises.ihd.display(premises.clock)  # type: ignore[union-attr]
    assert ihd == shown


def test_credit_runs_out_then_a_typed_utrn_rearms_the_supply(month_pki: Pki) -> None:
    premises = _premises(month_pki, credit_pence=3_000)  # £30: gone within the month
    s, ppmid = premises.esme.state, premises.ppmid
    assert ppmid is not None
    daily = []
    alerts: list[bytes] = []
    for day in range(1, 16):
        before = s.balance
        alerts += premises.advance(START + timedelta(days=day))
        daily.append(before - s.balance)
        if s.supply == "disabled":
            break
    assert all(d > 0 for d in daily)  # credit falls every day
    assert s.supply == "disabled" and s.balance <= 0
    # low credit (below £1) on the day it falls under, then the supply cut: once each
    assert _codes(alerts, month_pki) == [codes.LOW_CREDIT, codes.CREDIT_BELOW_DISABLEMENT]
    cut_at = s.import_wh
    premises.advance(premises.clock + timedelta(days=1))
    assert s.import_wh == cut_at  # nothing flows while disabled
    # The consumer types a £20 UTRN on the PPMID: credited, supply armed, then enabled.
    now = premises.clock
    utrn = _utrn(month_pki, 7 << 32, 2_000)
    result = ppmid.enter_utrn(utrn, now)
    assert result.accepted
    assert _codes(result.alerts, month_pki) == [codes.SUPPLY_ARMED]
    assert s.supply == "armed"
    assert ppmid.enable_supply() and s.supply == "enabled"
    # The same UTRN again is a duplicate; another meter's is not for this device.
    again = ppmid.enter_utrn(utrn, now)
    assert not again.accepted
    assert _codes(again.alerts, month_pki) == [codes.DUPLICATE_UTRN]
    premises.advance(now + timedelta(days=1))
    assert s.import_wh > cut_at
    assert int(np.asarray(s.profile_wh).sum()) == s.import_wh


def test_a_month_of_gas_profile_bill_credit_top_up_and_battery(month_pki: Pki) -> None:
    gas = _gas(month_pki, credit_pence=50_000)  # £500
    premises = _premises(month_pki, credit_pence=1_000_000, gas=gas)
    s, battery = gas.gsme.state, gas.battery
    credit = [s.balance]
    for day in range(1, DAYS + 1):
        if day == 15:  # a £20 remote top-up, queued on the GPF until the next wake
            assert (
                premises.deliver(_top_up(Hub(Protection(month_pki)), gas, 2_000), premises.clock)
                == []
            )
        out = premises.advance(START + timedelta(days=day))
        credit.append(s.balance)
        if day == 15:
            (response,) = out  # the CS01b response, passed back at the wake
            assert decode_message(response).header.originator == GSME_EUI
    assert s.supply == "enabled"
    # profile and registers
    assert len(s.profile_l) == 48 * DAYS
    assert int(s.profile_l.sum()) == s.litres == int(gas_litres(GAS_WH.astype(np.uint32)).sum())
    assert s.energy_wh == int(GAS_WH.sum())
    # the bill at the gas tariff; credit falls every day except the top-up's
    billed = GAS_PRICE * int(GAS_WH.sum()) // 1000 + GAS_STANDING * DAYS
    assert s.billed == billed
    assert s.balance == 50_000 * 1000 - billed + 2_000 * 1000
    falls = np.diff(credit).tolist()
    assert all(f < 0 for i, f in enumerate(falls) if i != 14)
    assert falls[14] > 0  # the top-up outweighs a day's gas
    # battery: every wake, plus the top-up command and its response
    per_wake = battery.sleep_nah_per_wake + battery.wake_nah
    used = battery.capacity_nah - int(s.battery_nah[0])
    assert used == 48 * DAYS * per_wake + 2 * battery.message_nah
    # the consumer devices show the gas side
    shown = premises.ppmid.display(premises.clock)  # type: ignore[union-attr]
    assert shown is not None and shown.gas_credit_pence == s.balance // 1000


def test_quiet_wakes_run_at_once_leave_the_meter_as_wake_by_wake(month_pki: Pki) -> None:
    """A gas meter advanced in one jump (its quiet wakes run together) ends exactly as one
    advanced wake by wake: registers, profile, bill, credit, battery and the alerts raised."""
    one_by_one, at_once = _gas(month_pki, credit_pence=300), _gas(month_pki, credit_pence=300)
    for meter in (one_by_one, at_once):
        meter.gsme.state.payment_mode = "credit"
    end = START + timedelta(days=4, minutes=10)
    alerts_a: list[bytes] = []
    now = START
    while now < end:
        now = min(now + timedelta(minutes=30), end)
        alerts_a += one_by_one.advance(now)
    alerts_b = at_once.advance(end)
    a, b = one_by_one.gsme.state, at_once.gsme.state
    assert np.array_equal(a.profile_l, b.profile_l) and a.profile_start == b.profile_start
    assert (a.litres, a.energy_wh, a.billed) == (b.litres, b.energy_wh, b.billed)
    assert a.balance == b.balance
    assert np.array_equal(a.tier_wh, b.tier_wh) and np.array_equal(a.block_wh, b.block_wh)
    assert np.array_equal(a.battery_nah, b.battery_nah)
    assert one_by_one.next_wake == at_once.next_wake
    assert _codes(alerts_a, month_pki) == _codes(alerts_b, month_pki)
    assert a.billed > 0 and a.litres > 0  # the run used gas: not a comparison of idle meters
