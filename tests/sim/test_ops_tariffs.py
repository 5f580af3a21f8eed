"""Tariff changes in a running simulation: the chosen ESMEs run the new tariff from the next
midnight (their state holds the new prices and bills by them), the others are untouched, and the
suppliers verified the meters' signed responses."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import pytest

from smetsnet.devices.esme.tariff import esme_tariff
from smetsnet.duis import MessageId, Request, RequestHeader, to_xml
from smetsnet.duis.bodies import GenericBody
from smetsnet.duis.schema import DuisSchema
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_tariffs import (
    OFFERS,
    TariffTally,
    plan_tariff_changes,
    schedule_tariff_changes,
    tariff_body,
)
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import ELECTRICITY_SUPPLIERS, SUPPLIER_A
from tests.support.vectors import REFERENCE

FUTURE_DATED_ACTIONED = "0x8F66"


@dataclass
class Run:
    sim: Simulation
    tally: TariffTally
    #: user EUI -> GBCS messages it received that carried a signature
    signed: Counter[bytes]
    #: (user EUI, ESME) of each signed ECS01a response received
    responses: list[tuple[bytes, bytes]]


@pytest.fixture(scope="module")
def run() -> Run:
    config = SimConfig(
        premises=6,
        days=2,
        seed=5,
        tariff_change_day=0,
        tariff_change_share=0.5,
        on_demand_read_rate=0.0,
        outage_rate=0.0,
    )
    sim = Simulation(config)
    signed: Counter[bytes] = Counter()
    responses: list[tuple[bytes, bytes]] = []

    def listener(user: SimUser, received: Received) -> None:
        gbcs = received.gbcs
        if gbcs is None or not gbcs.frame.signature:
            return
        signed[user.eui] += 1
        if gbcs.use_case == "ECS01a":
            responses.append((user.eui, gbcs.header.originator))

    sim.listen(listener)
    tally = TariffTally()
    schedule_tariff_changes(sim, tally)
    sim.run()
    return Run(sim=sim, tally=tally, signed=signed, responses=responses)


def test_each_supplier_sends_to_its_share(run: Run) -> None:
    assert run.tally.outcomes() == {"tariff_changes_sent": 4, "tariff_changes_applied": 4}
    by_supplier = Counter(run.tally.targets.values())
    # three homes each, half of them (rounded half up): two each
    assert by_supplier == dict.fromkeys(ELECTRICITY_SUPPLIERS, 2)
    for esme, supplier in run.tally.targets.items():
        home = next(h for h in run.sim.world.homes if h.esme == esme)
        assert home.electricity_supplier == supplier


def test_targets_run_the_new_tariff_and_others_do_not(run: Run) -> None:
    for premises in run.sim.network.premises.values():
        esme = premises.esme
        state = esme.state
        tariff = esme_tariff(state.objects, state.standing_charge)
        supplier = run.tally.targets.get(esme.eui)
        if supplier is None:
            assert tariff is None
            assert (state.price, state.standing_charge, state.billed) == (0, 0, 0)
            assert state.tier_wh[1] == 0
            continue
        offer = OFFERS[supplier]
        assert tariff is not None
        assert list(tariff.tou_prices[:3]) == [offer.night_price, offer.day_price, 0]
        assert state.price == offer.night_price
        assert state.standing_charge == offer.standing_charge
        # In effect since midnight: the day's energy is billed, some of it at the day rate.
        assert state.billed > 0
        assert state.tier_wh[0] > 0 and state.tier_wh[1] > 0


def test_meters_held_the_tariff_until_midnight(run: Run) -> None:
    for supplier in ELECTRICITY_SUPPLIERS:
        user = run.sim.users[supplier]
        targets = [e for e, s in run.tally.targets.items() if s == supplier]
        # every activation of a held command is reported (at least one per meter)
        assert user.alerts[FUTURE_DATED_ACTIONED] >= len(targets)


def test_users_verified_the_signed_responses(run: Run) -> None:
    assert sorted(run.responses) == sorted((s, e) for e, s in run.tally.targets.items())
    for supplier in ELECTRICITY_SUPPLIERS:
        user = run.sim.users[supplier]
        checks = user.checks
        assert checks.signatures_verified == checks.messages_with_signature
        # Every DUIS answer's XML signature is counted once (each has one response code); the
        # rest are GBCS signatures, and they are exactly the signed payloads received.
        xml_signatures = sum(user.codes.values())
        assert checks.signatures_verified - xml_signatures == run.signed[supplier]
        assert run.signed[supplier] >= 2


@pytest.mark.parametrize("day", [None, 2, 5])
def test_no_change_without_a_day_in_the_run(day: int | None) -> None:
    sim = Simulation(SimConfig(premises=2, days=2, tariff_change_day=day))
    outcomes = plan_tariff_changes(sim)
    sim.run()
    assert outcomes() == {"tariff_changes_sent": 0, "tariff_changes_applied": 0}


@pytest.mark.parametrize("when", [None, datetime.fromisoformat("2026-01-06T00:00:00+00:00")])
def test_tariff_body_is_valid_duis(when: datetime | None) -> None:
    folder = REFERENCE / "duis" / "schema"
    if not folder.is_dir():
        pytest.skip(f"DUIS schema not found at {folder}")
    request = Request(
        header=RequestHeader(
            request_id=MessageId(originator=SUPPLIER_A, target=bytes(8), counter=7),
            command_variant=4,
            service_reference="1.1",
            service_reference_variant="1.1.1",
        ),
        body=GenericBody(node=tariff_body(OFFERS[SUPPLIER_A], when)),
    )
    DuisSchema(folder).validate(to_xml(request))
