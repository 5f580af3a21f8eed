"""A gas change of supplier in a running simulation (issue 6): the MPRN's gas supplier role moves
to the world's other gas supplier, its 6.23 reaches the GSME through the gas proxy and replaces
the meter's supplier trust anchors; then the hub refuses the losing gas supplier (E4), the GSME
refuses what the losing supplier might still get to it, and the gas readings go to the gaining
supplier only, protected for it alone. Electricity changes and everything else a seed draws are
left as they were by adding gas changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from smetsnet.devices import Role
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.keys import point_of
from smetsnet.duis.bodies import ReadInstantaneousImportRegisters
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_and_verify, decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import GbzAlert, GbzComponent, GbzMessage, cluster_command
from smetsnet.gbcs.gbz.spec import C2S, METERING
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.smi_updates import CHANGE_OF_SUPPLIER_ALERT
from smetsnet.inventory import UserRole
from smetsnet.sim import scenario
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import (
    cos_body,
    gaining_gas_supplier,
    gas_supplier_of,
    plan_changes_of_supplier,
    plan_gas_changes_of_supplier,
)
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import GAS_SUPPLIER, GAS_SUPPLIER_B, Home
from tests.sim.test_ops_cos import validate_cos_request

DS = KeyUsage.DIGITAL_SIGNATURE
GCS39 = 0x0085  # Arm Valve in GSME (critical)
ARMED = 1  # ZSE proposed supply status


@dataclass
class Run:
    sim: Simulation
    outcomes: dict[str, object]
    home: Home
    at: datetime
    losing: bytes
    gaining: bytes
    #: (user, originator, arrival, raw GBCS) of every gas profile read (GCS17) users received
    reads: list[tuple[bytes, bytes, datetime, bytes]]


def _simulation(seed: int = 3) -> Simulation:
    config = SimConfig(
        premises=4,
        days=2,
        seed=seed,
        changes_of_supplier=1,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    sim = Simulation(config)
    homes = list(sim.world.homes)
    sim.at(sim.start, lambda now: scenario.install_daily_reads(sim, homes, now))
    return sim


@pytest.fixture(scope="module")
def run() -> Run:
    sim = _simulation()
    reads: list[tuple[bytes, bytes, datetime, bytes]] = []

    def listener(user: SimUser, received: Received) -> None:
        gbcs = received.gbcs
        if gbcs is not None and gbcs.use_case == "GCS17":
            raw = gbcs.frame.to_bytes()
            reads.append((user.eui, gbcs.header.originator, received.at, raw))

    sim.listen(listener)
    outcomes = plan_gas_changes_of_supplier(sim)
    sim.run()
    (changed,) = [h for h in sim.world.homes if h.gsme in sim.supplier]
    registrations = sim.hub.inventory.registrations(changed.mprn, UserRole.GS)
    return Run(
        sim=sim,
        outcomes=outcomes(),
        home=changed,
        at=max(r.valid_from for r in registrations),
        losing=GAS_SUPPLIER,
        gaining=gas_supplier_of(sim, changed),
        reads=reads,
    )


def test_the_gas_change_is_counted_and_the_gsme_carried_it_out(run: Run) -> None:
    assert run.outcomes == {"gas_changes_of_supplier": 1, "gas_cos_updates_ok": 1}
    assert run.gaining == GAS_SUPPLIER_B == gaining_gas_supplier(run.losing)
    regs = sorted(
        run.sim.hub.inventory.registrations(run.home.mprn, UserRole.GS),
        key=lambda r: r.valid_from,
    )
    assert [(r.user, r.valid_to) for r in regs] == [(run.losing, run.at), (run.gaining, None)]
    assert run.sim.start < run.at < run.sim.end
    # the electricity side of the home did not move
    assert run.home.esme not in run.sim.supplier
    assert [r.user for r in run.sim.hub.inventory.registrations(run.home.mpan, UserRole.IS)] == [
        run.home.electricity_supplier
    ]


def test_the_losing_gas_supplier_is_told_by_a_dcc_alert(run: Run) -> None:
    """When the GSME answered the 6.23, the hub sent ChangeOfSupplier to the losing supplier."""
    alerts = run.sim.users[run.losing].alerts
    assert alerts[CHANGE_OF_SUPPLIER_ALERT] == 1
    assert run.sim.users[run.gaining].alerts[CHANGE_OF_SUPPLIER_ALERT] == 0


def test_the_gsme_trusts_the_gaining_gas_supplier(run: Run) -> None:
    gas = run.sim.network.premises[run.home.chf].gas
    assert gas is not None
    anchor = gas.gsme.anchors[(Role.SUPPLIER, DS, False)]
    key = run.sim.world.pki.public_key(run.gaining, DS)
    assert key is not None
    assert anchor.eui == run.gaining and anchor.point == point_of(key)
    assert run.losing not in {a.eui for a in gas.gsme.anchors.values()}


def test_hub_refuses_the_losing_gas_supplier_with_e4(run: Run) -> None:
    sim, now = run.sim, run.sim.end
    old, new = sim.users[run.losing], sim.users[run.gaining]
    # its daily package for the GSME was ended by the hub at the first run after the change
    assert old.codes["E4"] >= 1
    read = ReadInstantaneousImportRegisters()
    request = old.request("4.1.1", read, target=run.home.gsme, now=now)
    assert old.send(sim.handle, request, now).code == "E4"
    request = new.request("4.1.1", read, target=run.home.gsme, now=now)
    assert new.send(sim.handle, request, now).code == "I99"
    # the losing supplier keeps the homes it did not lose
    other = next(h for h in sim.world.homes if h is not run.home)
    request = old.request("4.1.1", read, target=other.gsme, now=now)
    assert old.send(sim.handle, request, now).code == "I99"


def _arm_valve(user: SimUser, gsme: bytes, now: datetime) -> bytes:
    """GCS39 (critical) as a supplier's client and the ACB make it: signed with the supplier's
    key, MAC'd with the ACB's (the user's key chain holds both)."""
    change = cluster_command(
        METERING, 0x0B, server_to_client=C2S, provider_id=0, issuer_event_id=0,
        request_date_time=0, implementation_date_time=0, proposed_supply_status=ARMED,
        supply_control_bits=0,
    )  # fmt: skip
    payload = GbzMessage.of(components=[GbzComponent.of(cluster_id=METERING, command=change)])
    return build_message(
        payload=payload,
        originator=user.eui,
        recipient=gsme,
        counter=user.next_counter(now),
        message_code=GCS39,
        protection=user.protection,
        sign=True,
    ).frame.to_bytes()


def test_gsme_refuses_a_command_from_the_losing_gas_supplier(run: Run) -> None:
    sim, now = run.sim, run.sim.end
    premises = sim.network.premises[run.home.chf]
    gas = premises.gas
    assert gas is not None
    before = gas.gsme.state.supply
    # through the gas proxy: queued by the GPF, taken by the GSME at its next wake
    out = premises.deliver(_arm_valve(sim.users[run.losing], run.home.gsme, now), now)
    out += premises.advance(now + timedelta(minutes=30))
    messages = [decode_message(w) for w in out]
    assert [m for m in messages if m.header.cra == Cra.RESPONSE] == []
    (alert,) = [m for m in messages if m.header.cra == Cra.ALERT]
    assert alert.header.recipient == run.gaining
    assert isinstance(alert.payload, GbzAlert)
    assert alert.payload.alert_code == codes.SOURCE_LACKS_AUTHORITY
    assert gas.gsme.state.supply == before
    # the same command from the gaining supplier is carried out: the refusal was the sender
    later = now + timedelta(hours=1)
    out = premises.deliver(_arm_valve(sim.users[run.gaining], run.home.gsme, later), later)
    out += premises.advance(later + timedelta(minutes=30))
    (response,) = [m for m in map(decode_message, out) if m.header.cra == Cra.RESPONSE]
    assert response.header.recipient == run.gaining
    assert gas.gsme.state.supply == "armed"


def test_gas_readings_go_to_the_gaining_supplier_only(run: Run) -> None:
    after = [r for r in run.reads if r[1] == run.home.gsme and r[2] > run.at]
    before = [r for r in run.reads if r[1] == run.home.gsme and r[2] < run.at]
    assert after and before
    assert {user for user, *_ in before} == {run.losing}
    assert {user for user, *_ in after} == {run.gaining}
    old, new = run.sim.users[run.losing], run.sim.users[run.gaining]
    for *_, raw in after:
        assert decode_and_verify(raw, new.protection)[1].mac == "valid"
        # MAC'd between the meter and the gaining supplier: the losing one cannot check it
        assert decode_and_verify(raw, old.protection)[1].mac == "no-key"


def _changes(with_gas: bool) -> tuple[dict[bytes, bytes], list[datetime]]:
    """What one seed's electricity changes did, with or without gas changes in the run."""
    sim = _simulation(seed=11)
    plan_changes_of_supplier(sim)
    if with_gas:
        plan_gas_changes_of_supplier(sim)
    sim.run()
    changed = [h for h in sim.world.homes if h.esme in sim.supplier]
    times = [
        max(r.valid_from for r in sim.hub.inventory.registrations(h.mpan, UserRole.IS))
        for h in changed
    ]
    return {h.esme: sim.supplier[h.esme] for h in changed}, times


def test_gas_changes_leave_the_electricity_changes_as_they_were() -> None:
    alone = _changes(with_gas=False)
    assert alone[0]  # one electricity change happened
    assert _changes(with_gas=True) == alone


def test_the_same_seed_changes_the_same_gas_home_at_the_same_time(run: Run) -> None:
    sim = _simulation()
    plan_gas_changes_of_supplier(sim)
    sim.run()
    (again,) = [h for h in sim.world.homes if h.gsme in sim.supplier]
    assert again.index == run.home.index
    registrations = sim.hub.inventory.registrations(again.mprn, UserRole.GS)
    assert max(r.valid_from for r in registrations) == run.at


def test_gaining_gas_supplier_is_the_other_one() -> None:
    assert gaining_gas_supplier(GAS_SUPPLIER) == GAS_SUPPLIER_B
    assert gaining_gas_supplier(GAS_SUPPLIER_B) == GAS_SUPPLIER


def test_gas_cos_body_is_valid_duis(run: Run) -> None:
    body = cos_body(run.sim, run.home, run.gaining, run.at, mpxn=run.home.mprn)
    meter_point = body.child("ImportMPxN")
    assert meter_point is not None and meter_point.text == run.home.mprn
    validate_cos_request(run.gaining, run.home.gsme, body)
