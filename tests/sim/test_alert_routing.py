"""Device alerts reach the role entitled to them, and a storm of them is throttled."""

from __future__ import annotations

from datetime import timedelta

from smetsnet.duis.schema import DuisSchema
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.scenario import _power_back, _power_cut
from smetsnet.sim.world import DISTRIBUTOR
from tests.support.vectors import REFERENCE, require_reference

QUIET = {
    "tariff_change_day": None,
    "firmware_day": None,
    "changes_of_supplier": 0,
    "installs": 0,
    "on_demand_read_rate": 0.0,
    "outage_rate": 0.0,
}


def test_outage_alerts_go_to_the_distributor_and_a_storm_is_throttled() -> None:
    sim = Simulation(SimConfig.from_dict({"premises": 2, "days": 1, **QUIET}))
    home = sim.world.homes[0]
    limit = sim.hub.config.alert_limit_per_hour
    # 25 power cuts in two hours: each restore raises the meter's outage alert to the network
    # operator (ECS80); at most `limit` of one code per hour are forwarded.
    for i in range(25):
        cut = sim.start + timedelta(hours=9, minutes=4 * i)
        sim.at(cut, lambda now, h=home: _power_cut(sim, h, now))
        sim.at(cut + timedelta(minutes=2), lambda now, h=home: _power_back(sim, h, now))
    sim.run()
    distributor = sim.users[DISTRIBUTOR]
    received = sum(distributor.alerts.values())
    assert received > 0
    suppliers = [u for eui, u in sim.users.items() if eui != DISTRIBUTOR]
    assert not any(u.alerts for u in suppliers)  # outage alerts are the operator's
    # each cut's last gasp reached the DCC: AD1 (PowerOutageEvent) to the distributor
    assert distributor.alerts["AD1"] == 25
    per_code = max(n for code, n in distributor.alerts.items() if code.startswith("0x"))
    assert per_code <= 2 * limit + 1  # two hourly windows (plus the one that tells the count)
    assert sim.hub.alerts.throttle.held_back > 0
    assert sim.hub.metrics()["alerts_held_back"] == sim.hub.alerts.throttle.held_back


def test_the_power_outage_alert_is_valid_duis() -> None:
    schema_folder = REFERENCE / "duis" / "schema"
    require_reference(schema_folder)
    sim = Simulation(SimConfig.from_dict({"premises": 1, "days": 1, **QUIET}))
    home = sim.world.homes[0]
    told = sim.hub.comms_hub_power_lost(home.chf, sim.start + timedelta(hours=3))
    assert told == DISTRIBUTOR
    (outbound,) = sim.hub.outbox.due(sim.start + timedelta(hours=3), 10)
    assert DuisSchema(schema_folder).errors(outbound.body) == []
    text = outbound.body.decode()
    assert "PowerOutageEvent" in text and home.mpan in text and "AD1" in text
