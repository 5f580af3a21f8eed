"""A simulated user's own requests stay clear of the counters the hub takes from its sequence
for its schedules' runs (``SimUser.next_counter``'s gap): a request sent while runs' answers are
still on their way (a gas meter answers at its next wake) is not refused as a replay (E1)."""

from __future__ import annotations

from collections import Counter

import pytest

from smetsnet.duis.bodies import ReadInstantaneousImportRegisters
from smetsnet.hub.build import build_hub
from smetsnet.sim import users
from smetsnet.sim.world import build_world
from tests.hub.test_firmware_restart import START, _supplier

RUNS = 5_000  # counters the hub took for runs since the user's last request


@pytest.mark.parametrize(("gap", "code"), [(users.SCHEDULE_RUNS_GAP, "I99"), (1, "E1")])
def test_own_request_after_schedule_runs(
    gap: int, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users, "SCHEDULE_RUNS_GAP", gap)
    world = build_world(2, seed=3, start=START, prepayment_share=0.0)
    supplier = Counter(h.electricity_supplier for h in world.homes).most_common(1)[0][0]
    home = next(h for h in world.homes if h.electricity_supplier == supplier)
    user = _supplier(supplier, world)
    hub, _ = build_hub(world.setup)

    def handle(xml: bytes, endpoint: str, at: object) -> object:
        return hub.handle(xml, endpoint=endpoint, now=START)

    read = ReadInstantaneousImportRegisters()
    first = user.send(handle, user.request("4.1.1", read, target=home.esme, now=START), START)
    assert first.code == "I99"
    for _ in range(RUNS):  # the DCC runs the user's schedules on its behalf
        hub.access.reserve_counter(supplier)
    again = user.send(handle, user.request("4.1.1", read, target=home.esme, now=START), START)
    assert again.code == code
