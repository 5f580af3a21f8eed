"""Installs during a run (issue 6): a new home is pre-notified, installed, joined, commissioned
and read the next day; a device the DCC was never told about cannot be commissioned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from smetsnet.duis.bodies import CommissionDeviceSynchroniseClock, DevicePrenotification
from smetsnet.inventory import DeviceStatus, DeviceType, UserRole
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_install import install_day, plan_installs
from smetsnet.sim.users import NON_DEVICE
from smetsnet.sim.world import ACB, GAS_SUPPLIER, Home, device_eui, plan_homes

S = DeviceStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    sim: Simulation
    home: Home
    outcome: dict[str, Any]
    probe: dict[str, str]


STRANGER = device_eui(999, DeviceType.ESME)  # never pre-notified
NOTIFIED = device_eui(998, DeviceType.ESME)  # pre-notified, never installed


def _probe(sim: Simulation, supplier: bytes, out: dict[str, str], now: datetime) -> None:
    """8.1.1 to a device the DCC does not know, then to one only pre-notified."""
    user = sim.users[supplier]
    body = CommissionDeviceSynchroniseClock(current_datetime=now, tolerance_period=60)
    request = user.request("8.1.1", body, target=STRANGER, now=now)
    out["never pre-notified"] = user.send_critical(sim.handle, request, now).code
    notice = DevicePrenotification(
        device_id=NOTIFIED, device_manufacturer="0A0B", device_model="51A00001", device_type="ESME"
    )
    note = user.request("12.2", notice, target=ACB, now=now)
    out["12.2"] = user.send(sim.handle, note, now, sr_class=NON_DEVICE).code
    request = user.request("8.1.1", body, target=NOTIFIED, now=now)
    out["pre-notified only"] = user.send_critical(sim.handle, request, now).code


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    config = SimConfig(premises=2, days=3, installs=1, prepayment_share=1.0, seed=3)
    sim = Simulation(config, out=tmp_path_factory.mktemp("install"))
    outcome = plan_installs(sim)
    (home,) = plan_homes(1, seed=3, prepayment_share=1.0, first=2)
    probe: dict[str, str] = {}
    when = sim.start + timedelta(days=2, hours=12)
    sim.at(when, partial(_probe, sim, home.electricity_supplier, probe))
    sim.run()
    return Run(sim=sim, home=home, outcome=outcome(), probe=probe)


def test_new_home_ends_in_service_on_its_install_day(run: Run) -> None:
    inventory, home = run.sim.hub.inventory, run.home
    assert run.outcome["installs"] == 1
    assert run.outcome["installed"] == 1
    assert run.outcome["failed"] == {}
    steps = run.outcome["steps"]
    # CHF (with its GPF), ESME, GSME, IHD, PPMID and a spare IHD pre-notified
    assert steps["12.2"] == 6
    assert steps["8.14.1"] == 1 and steps["8.1.1"] == 2
    assert steps["8.7.1"] == 2 and steps["8.7.2"] == 2  # ESME/GSME with the PPMID, GSME-IHD
    assert steps["8.11"] == 4  # ESME, GSME, IHD, PPMID on the comms hub's device log
    # the hub keeps the SMI from the devices' answers; the simulation only enters the
    # registration data and joins the whitelisted devices on site (no SR for either)
    assert run.outcome["inventory_api"] == {"registration data": 1, "HAN join": 4}
    install_day_date = (run.sim.start + timedelta(days=1)).date()
    for kind in (DeviceType.CHF, DeviceType.GPF, DeviceType.ESME, DeviceType.GSME):
        device = inventory.device(home.devices[kind])
        assert device.status is S.Commissioned, kind
        assert device.status_at.date() == install_day_date
        assert device.premises_id is not None
    assert inventory.device(home.devices[DeviceType.PPMID]).status is S.Commissioned
    # registration data: the meter points measure the new meters, the suppliers hold them
    point = inventory.store.meter_point(home.mpan)
    assert point is not None and point.device_eui == home.esme
    at = run.sim.end
    assert inventory.who_holds(UserRole.IS, home.esme, at) == home.electricity_supplier
    assert inventory.who_holds(UserRole.GS, home.gsme, at) == GAS_SUPPLIER


def test_new_home_is_read_the_next_day_by_its_suppliers(run: Run) -> None:
    sim, home = run.sim, run.home
    assert sim.readings is not None
    assert sim.readings_received > 0  # no other home is read in this run
    next_day = (sim.start + timedelta(days=2)).date()
    for user, mpxn in ((home.electricity_supplier, home.mpan), (GAS_SUPPLIER, home.mprn)):
        table = sim.readings.readings(user=user, mpxn=mpxn).to_pylist()
        assert table, f"no readings of {mpxn} at its supplier"
        assert {row["received"].date() for row in table} == {next_day}
        # a meter installed on day 1 reports nothing from before it was installed
        commissioned = sim.hub.inventory.device(home.esme).status_at
        assert min(row["start"] for row in table) >= commissioned - timedelta(hours=2)
    assert home.esme in sim.meters and sim.meters[home.esme].mpxn == home.mpan


def test_decommission_and_withdraw_at_the_end(run: Run) -> None:
    inventory, home = run.sim.hub.inventory, run.home
    assert run.outcome["decommissioned"] == 1 and run.outcome["withdrawn"] == 1
    assert inventory.device(home.devices[DeviceType.IHD]).status is S.Decommissioned
    spare = (int.from_bytes(home.chf, "big") + 6).to_bytes(8, "big")
    assert inventory.device(spare).status is S.Withdrawn


def test_a_device_never_pre_notified_cannot_be_commissioned(run: Run) -> None:
    assert run.probe["never pre-notified"] == "E19"  # unknown device
    assert run.sim.hub.inventory.find_device(STRANGER) is None
    assert run.probe["12.2"] == "I99"
    # pre-notified but not installed: known, but its status forbids commissioning
    assert run.probe["pre-notified only"] == "E5"
    assert run.sim.hub.inventory.device(NOTIFIED).status is S.Pending


def test_install_days_are_spread_after_the_first_day() -> None:
    assert install_day(0, 1, 3) == 1
    assert [install_day(i, 3, 7) for i in range(3)] == [1, 3, 5]
    assert install_day(0, 2, 1) == 0  # a one-day run installs on its only day
    assert all(1 <= install_day(i, 10, 4) <= 3 for i in range(10))


def test_no_installs_plan_nothing() -> None:
    sim = Simulation(SimConfig(premises=1, days=1, installs=0, changes_of_supplier=0))
    outcome = plan_installs(sim)
    sim.run()
    result = outcome()
    assert result["installs"] == 0 and result["installed"] == 0 and result["steps"] == {}
    assert sim.hub.inventory.find_device(device_eui(1, DeviceType.CHF)) is None
