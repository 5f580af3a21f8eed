"""Change of supplier in a running simulation (issue 6 acceptance): after the change the hub
refuses the losing supplier (E4), the meter refuses what the losing supplier might still get to
it, readings go to the gaining supplier only, and the meter trusts the gaining supplier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from smetsnet.devices import Role
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.keys import point_of
from smetsnet.duis import MessageId, Node, Request, RequestHeader, to_xml
from smetsnet.duis.bodies import GenericBody, ReadInstantaneousImportRegisters
from smetsnet.duis.schema import DuisSchema
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_and_verify, decode_message
from smetsnet.gbcs.dlms import (
    AccessRequest,
    Array,
    Integer,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
)
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.smi_updates import CHANGE_OF_SUPPLIER_ALERT
from smetsnet.inventory import UserRole
from smetsnet.sim import scenario
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import (
    cos_body,
    gaining_supplier,
    plan_changes_of_supplier,
    plan_gas_changes_of_supplier,
)
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import SUPPLIER_A, SUPPLIER_B, Home
from tests.support.vectors import REFERENCE

DS = KeyUsage.DIGITAL_SIGNATURE
STANDING_CHARGE = "0-0:19.20.4.255"


@dataclass
class Run:
    sim: Simulation
    outcomes: dict[str, object]
    home: Home
    at: datetime
    losing: bytes
    gaining: bytes
    #: (user, originator, arrival, raw GBCS) of every profile read (ECS22b) users received
    reads: list[tuple[bytes, bytes, datetime, bytes]]


@pytest.fixture(scope="module")
def run() -> Run:
    config = SimConfig(
        premises=4,
        days=2,
        seed=3,
        changes_of_supplier=1,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    sim = Simulation(config)
    homes = list(sim.world.homes)
    sim.at(sim.start, lambda now: scenario.install_daily_reads(sim, homes, now))
    reads: list[tuple[bytes, bytes, datetime, bytes]] = []

    def listener(user: SimUser, received: Received) -> None:
        gbcs = received.gbcs
        if gbcs is not None and gbcs.use_case == "ECS22b":
            raw = gbcs.frame.to_bytes()
            reads.append((user.eui, gbcs.header.originator, received.at, raw))

    sim.listen(listener)
    outcomes = plan_changes_of_supplier(sim)
    sim.run()
    (changed,) = [h for h in homes if h.esme in sim.supplier]
    registrations = sim.hub.inventory.registrations(changed.mpan, UserRole.IS)
    at = max(r.valid_from for r in registrations)
    losing = changed.electricity_supplier
    return Run(
        sim=sim,
        outcomes=outcomes(),
        home=changed,
        at=at,
        losing=losing,
        gaining=sim.supplier[changed.esme],
        reads=reads,
    )


def test_the_change_is_counted_and_the_meter_carried_it_out(run: Run) -> None:
    assert run.outcomes == {"changes_of_supplier": 1, "cos_updates_ok": 1}
    assert run.gaining == gaining_supplier(run.losing) != run.losing
    # The registration data: the losing supplier's interval closed at the change, the gaining
    # supplier's open from then.
    regs = sorted(
        run.sim.hub.inventory.registrations(run.home.mpan, UserRole.IS),
        key=lambda r: r.valid_from,
    )
    assert [(r.user, r.valid_to) for r in regs] == [(run.losing, run.at), (run.gaining, None)]
    assert run.sim.start < run.at < run.sim.end


def test_the_losing_supplier_is_told_by_a_dcc_alert(run: Run) -> None:
    """When the ESME answered the 6.23, the hub sent ChangeOfSupplier to the losing supplier."""
    alerts = run.sim.users[run.losing].alerts
    assert alerts[CHANGE_OF_SUPPLIER_ALERT] == 1
    assert run.sim.users[run.gaining].alerts[CHANGE_OF_SUPPLIER_ALERT] == 0


def test_hub_refuses_the_losing_supplier_with_e4(run: Run) -> None:
    sim, now = run.sim, run.sim.end
    old = sim.users[run.losing]
    # Its daily package was ended by the hub at the first run after the change.
    assert old.codes["E4"] >= 1
    request = old.request(
        "4.1.1", ReadInstantaneousImportRegisters(), target=run.home.esme, now=now
    )
    assert old.send(sim.handle, request, now).code == "E4"
    new = sim.users[run.gaining]
    request = new.request(
        "4.1.1", ReadInstantaneousImportRegisters(), target=run.home.esme, now=now
    )
    assert new.send(sim.handle, request, now).code == "I99"


def _standing_charge_command(user: SimUser, esme: bytes, pence: int, now: datetime) -> bytes:
    """ECS01b-style SET of the standing charge, as a supplier's client and the ACB would make it:
    signed with the supplier's key, MAC'd with the ACB's (the user's key chain holds both)."""
    price = Structure(
        items=(
            Structure(items=(Integer(value=0), Integer(value=-5))),
            Structure(items=(LongUnsigned(value=0), OctetString(value=bytes(6)), Integer(value=0))),
            Array(items=(Structure(items=(OctetString(value=b""), Long(value=pence))),)),
        )
    )
    counter = user.next_counter(now)
    request = AccessRequest.set(113, STANDING_CHARGE, 6, price, invoke_id=counter % 1000)
    return build_message(
        payload=request,
        originator=user.eui,
        recipient=esme,
        counter=counter,
        use_case="ECS01b",
        protection=user.protection,
        sign=True,
    ).frame.to_bytes()


def test_meter_refuses_a_command_from_the_losing_supplier(run: Run) -> None:
    sim, now = run.sim, run.sim.end
    premises = sim.network.premises[run.home.chf]
    esme = premises.esme
    before = esme.state.standing_charge
    wire = _standing_charge_command(sim.users[run.losing], run.home.esme, 12345, now)
    out = premises.deliver(wire, now)
    # No response: only a security alert, to the gaining supplier; nothing executed.
    assert len(out) == 1
    alert = decode_message(out[0])
    assert alert.header.cra == Cra.ALERT
    assert alert.header.recipient == run.gaining
    payload = alert.payload.to_json()
    assert isinstance(payload, dict) and int(str(payload["alert_code"])) == (
        codes.SOURCE_LACKS_AUTHORITY
    )
    assert esme.state.standing_charge == before
    # The same command from the gaining supplier is carried out: the refusal was the sender.
    wire = _standing_charge_command(sim.users[run.gaining], run.home.esme, 12345, now)
    (response, *_) = premises.deliver(wire, now)
    assert decode_message(response).header.cra == Cra.RESPONSE
    assert esme.state.standing_charge == 12345


def test_readings_go_to_the_gaining_supplier_only(run: Run) -> None:
    after = [r for r in run.reads if r[1] == run.home.esme and r[2] > run.at]
    before = [r for r in run.reads if r[1] == run.home.esme and r[2] < run.at]
    assert after and before
    assert {user for user, *_ in before} == {run.losing}
    assert {user for user, *_ in after} == {run.gaining}
    old, new = run.sim.users[run.losing], run.sim.users[run.gaining]
    for *_, raw in after:
        assert decode_and_verify(raw, new.protection)[1].mac == "valid"
        # MAC'd between the meter and the gaining supplier: the losing one cannot check it.
        assert decode_and_verify(raw, old.protection)[1].mac == "no-key"


def test_meter_trusts_the_gaining_supplier(run: Run) -> None:
    esme = run.sim.network.premises[run.home.chf].esme
    anchor = esme.anchors[(Role.SUPPLIER, DS, False)]
    key = run.sim.world.pki.public_key(run.gaining, DS)
    assert key is not None
    assert anchor.eui == run.gaining and anchor.point == point_of(key)
    assert run.losing not in {a.eui for a in esme.anchors.values()}


@pytest.mark.parametrize(
    ("plan", "names"),
    [
        (plan_changes_of_supplier, ("changes_of_supplier", "cos_updates_ok")),
        (plan_gas_changes_of_supplier, ("gas_changes_of_supplier", "gas_cos_updates_ok")),
    ],
    ids=["electricity", "gas"],
)
def test_no_change_in_a_one_day_run(
    plan: Callable[[Simulation], Callable[[], dict[str, Any]]], names: tuple[str, str]
) -> None:
    sim = Simulation(SimConfig(premises=2, days=1, changes_of_supplier=2))
    outcomes = plan(sim)
    sim.run()
    assert outcomes() == dict.fromkeys(names, 0)
    assert sim.supplier == {}


def test_gaining_supplier_is_the_other_one() -> None:
    assert gaining_supplier(SUPPLIER_A) == SUPPLIER_B
    assert gaining_supplier(SUPPLIER_B) == SUPPLIER_A


def test_cos_body_is_valid_duis(run: Run) -> None:
    validate_cos_request(
        run.gaining, run.home.esme, cos_body(run.sim, run.home, run.gaining, run.at)
    )


def validate_cos_request(gaining: bytes, meter: bytes, body: Node) -> None:
    """The 6.23 request the gaining supplier sends with ``body`` validates against DUIS."""
    folder = REFERENCE / "duis" / "schema"
    if not folder.is_dir():
        pytest.skip(f"DUIS schema not found at {folder}")
    request = Request(
        header=RequestHeader(
            request_id=MessageId(originator=gaining, target=meter, counter=7),
            command_variant=1,
            service_reference="6.23",
            service_reference_variant="6.23",
        ),
        body=GenericBody(node=body),
    )
    DuisSchema(folder).validate(to_xml(request))
