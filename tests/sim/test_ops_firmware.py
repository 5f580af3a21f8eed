"""A staged firmware rollout in a running simulation (issue 6): 11.1 distributes a signed image
to every ESME, 11.3 activates it stage by stage, the new version runs on exactly the meters the
supplier was told activated it, a corrupted transfer leaves a meter on its old version, and a
stage that fails too often stops the rollout. The gas meters' rollout is staged by 11.1 itself
(a GSME runs a verified image at its next wake): a GSME runs the new gas version exactly when
its supplier heard N60 and a verified 0x00CF, a corrupted transfer leaves it on its old version
with 0x8F1C, and the report's gas figures are the device states'."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.devices.core.firmware import split_image
from smetsnet.devices.gas import GasPremises
from smetsnet.errors import ConfigurationError
from smetsnet.inventory import DeviceType
from smetsnet.sim.config import SimConfig
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_firmware import (
    GAS_VERSION,
    NEW_VERSION,
    FirmwareRollout,
    corrupted,
    manufacturer_image,
    plan_firmware_rollout,
    stage_plan,
)
from smetsnet.wan.firmware import FirmwareBlock, decode, split_blocks

OLD_VERSION = bytes.fromhex("00010000")
ESME = bytes.fromhex("00DB120000000001")
GSME = bytes.fromhex("00DB120000000003")
BLOCKS, GAS_BLOCKS = 17, 13  # 8 KiB and 6 KiB manufacturer images + 66 bytes, 512-byte blocks
DAY0 = datetime(2026, 1, 5, tzinfo=UTC)  # SimConfig's default start; firmware_day 0


def _config(**overrides: object) -> SimConfig:
    values: dict[str, object] = {
        "premises": 8,
        "days": 3,
        "seed": 4,
        "prepayment_share": 0.0,
        "on_demand_read_rate": 0.0,
        "outage_rate": 0.0,
        "firmware_day": 0,
        "firmware_stage_share": (0.5, 1.0),
    }
    values.update(overrides)
    return SimConfig(**values)  # type: ignore[arg-type]


def _run(config: SimConfig, corruption_rate: float) -> tuple[Simulation, FirmwareRollout]:
    sim = Simulation(config)
    rollout = plan_firmware_rollout(sim, corruption_rate=corruption_rate)
    sim.run()
    return sim, rollout


def _versions(sim: Simulation) -> dict[bytes, bytes]:
    return {h.esme: sim.network.premises[h.chf].esme.state.firmware for h in sim.world.homes}


def _gas(sim: Simulation, chf: bytes) -> GasPremises:
    gas = sim.network.premises[chf].gas
    assert gas is not None
    return gas


def _gas_versions(sim: Simulation) -> dict[bytes, bytes]:
    return {h.gsme: _gas(sim, h.chf).gsme.state.firmware for h in sim.world.homes}


@pytest.fixture(scope="module")
def staged() -> tuple[Simulation, FirmwareRollout]:
    # Never halts (a stage would need every meter to fail), so both stages run.
    return _run(_config(firmware_halt_failure_rate=1.0), corruption_rate=0.3)


def test_the_new_version_runs_on_exactly_the_meters_that_passed(
    staged: tuple[Simulation, FirmwareRollout],
) -> None:
    sim, rollout = staged
    out = rollout()["firmware"]
    versions = _versions(sim)
    changed = {esme for esme, v in versions.items() if v == NEW_VERSION}
    assert set(versions.values()) <= {OLD_VERSION, NEW_VERSION}
    assert changed == rollout.activated and changed
    assert out["activated"] == len(changed)
    # The seed corrupts some transfers: those meters refused the image and did not change.
    assert rollout.corrupted and not rollout.corrupted & changed
    assert {e for e, ok in rollout.receipts.items() if not ok} == rollout.corrupted
    assert rollout.failed == set(versions) - changed
    assert out["failed"] == len(versions) - len(changed)
    assert out | {"activated": 0, "failed": 0} == {
        "targeted": 8,
        "distributed": 8 - len(rollout.corrupted),
        "distribution_failures": len(rollout.corrupted),
        "transfers": 8,
        "blocks": 8 * (BLOCKS + GAS_BLOCKS),  # both fuels' transfers
        "activated": 0,
        "failed": 0,
        "pending": 0,
        "stages_run": 2,
        "halted": False,
        "version": "00020000",
    }


def test_the_meters_held_the_verified_image_and_the_hub_finished_the_distribution(
    staged: tuple[Simulation, FirmwareRollout],
) -> None:
    sim, rollout = staged
    digest = hashlib.sha256(manufacturer_image()).digest()
    for home in sim.world.homes:
        state = sim.network.premises[home.chf].esme.state
        if home.esme in rollout.corrupted:
            assert state.firmware_image is None
        else:
            held = split_image(state.firmware_image or b"")
            assert held is not None and held.hash == digest and held.version == NEW_VERSION
    records = sim.hub.nondevice.records  # type: ignore[union-attr]
    # One 11.1 per electricity supplier; one per gas stage from the (only) gas supplier.
    assert [r.version for r in records.firmware] == ["00020000", "00020000", *["00020001"] * 2]
    assert records.pending_firmware() == []
    srvs = sim.traffic.by_srv()
    assert srvs["11.3"] >= len(rollout.activated)


def test_a_rollout_that_fails_too_often_halts_after_stage_one() -> None:
    config = _config(firmware_stage_share=(0.25, 1.0), firmware_halt_failure_rate=0.2)
    sim, rollout = _run(config, corruption_rate=1.0)
    out = rollout()["firmware"]
    assert out["stages_run"] == 1 and out["halted"] is True
    assert out["activated"] == 0 and out["failed"] == 2  # ceil(0.25 * 8)
    assert set(_versions(sim).values()) == {OLD_VERSION}
    # Stage two was never sent: no 11.3 at all (stage one's meters held no valid image).
    assert "11.3" not in sim.traffic.by_srv()
    assert rollout.stages == [tuple(rollout.plan[0])]
    # The gas rollout halts too: its first stage's two GSMEs refused their images.
    gas = rollout()["gas_firmware"]
    assert (gas["stages_run"], gas["halted"], gas["failed"], gas["pending"]) == (1, True, 2, 0)
    assert gas["receipts_failed"] == 2 and gas["receipts_verified"] == 0
    assert gas["running_new_version"] == gas["version_changed"] == 0
    assert set(_gas_versions(sim).values()) == {OLD_VERSION}
    records = sim.hub.nondevice.records  # type: ignore[union-attr]
    gas_requests = [r for r in records.firmware if r.version == "00020001"]
    assert [r.devices for r in gas_requests] == [rollout.gas.plan[0]]


def test_no_rollout_without_a_firmware_day_in_the_run() -> None:
    sim = Simulation(_config(premises=2, days=1, firmware_day=None))
    rollout = plan_firmware_rollout(sim)
    sim.run()
    assert rollout()["firmware"]["stages_run"] == 0
    assert rollout()["gas_firmware"]["stages_run"] == rollout()["gas_firmware"]["sent"] == 0
    assert set(_gas_versions(sim).values()) == {OLD_VERSION}
    assert set(_versions(sim).values()) == {OLD_VERSION}


def test_stages_take_cumulative_shares_and_drop_empty_ones() -> None:
    targets = [bytes([i]) * 8 for i in range(10)]
    assert [len(s) for s in stage_plan(targets, (0.1, 0.5, 1.0))] == [1, 4, 5]
    assert [len(s) for s in stage_plan(targets[:1], (0.1, 0.5, 1.0))] == [1]
    assert sum(stage_plan(targets, (0.3, 1.0)), ()) == tuple(targets)
    with pytest.raises(ConfigurationError, match="increasing"):
        stage_plan(targets, (0.5, 0.4))


def test_the_image_is_an_ota_file_and_the_wan_fault_flips_one_bit_of_its_middle_block() -> None:
    image = manufacturer_image()
    assert image[:4] == bytes.fromhex("1EF1EE0B") and image[14:18] == NEW_VERSION
    assert int.from_bytes(image[52:56], "little") == len(image)
    blocks = split_blocks(image)
    wires = [
        FirmwareBlock(transfer=1, index=i, count=len(blocks), targets=(ESME,), data=b).encode()
        for i, b in enumerate(blocks)
    ]
    spoiled = [corrupted(w) for w in wires]
    changed = [i for i, (w, c) in enumerate(zip(wires, spoiled, strict=True)) if w != c]
    assert changed == [len(blocks) // 2]
    received = b"".join(
        block.data for block in map(decode, spoiled) if isinstance(block, FirmwareBlock)
    )
    flipped = [i for i, (a, b) in enumerate(zip(image, received, strict=True)) if a != b]
    assert len(received) == len(image) and len(flipped) == 1
    assert bin(image[flipped[0]] ^ received[flipped[0]]).count("1") == 1
    assert corrupted(b"\xdd" + bytes(40)) == b"\xdd" + bytes(40)  # GBCS passes untouched


def test_the_dcc_tells_the_supplier_per_meter_what_was_delivered(
    staged: tuple[Simulation, FirmwareRollout],
) -> None:
    sim, rollout = staged
    assert rollout.delivered == set(rollout.homes) and not rollout.undelivered
    assert rollout.transfers == {h.chf for h in sim.world.homes}
    # One block and one acknowledgement per block: WAN transfer units, not messages.
    blocks = 8 * (BLOCKS + GAS_BLOCKS)  # electricity and gas transfers, once per comms hub each
    assert sim.traffic.transfers() == {"block": blocks, "ack": blocks}
    assert sim.traffic.by_srv()["11.1"] == 4  # 2 electricity suppliers, 2 gas stages
    metrics = sim.hub.metrics()  # what /metrics shows of the distribution
    assert metrics["firmware_blocks_sent"] == blocks
    assert metrics["firmware_transfers_finished"] == 16
    assert metrics["firmware_transfers_in_progress"] == metrics["firmware_transfers_given_up"] == 0


def test_a_comms_hub_off_through_every_attempt_is_given_up_and_keeps_its_firmware() -> None:
    config = _config(firmware_halt_failure_rate=1.0)
    sim = Simulation(config)
    rollout = plan_firmware_rollout(sim, corruption_rate=0.0)
    off, late = sim.world.homes[0], sim.world.homes[1]
    distribute = sim.start + timedelta(hours=6)
    wan, cut = sim.network.wan, sim.network.premises[late.chf]

    def power_back(now: datetime) -> None:
        for wire in cut.power_restored(now):
            wan.emit(late.chf, wire, now)

    # ``off`` is unreachable all morning (three hourly attempts fail); ``late`` has a power cut
    # through the first attempt (its comms hub handles no block), so the second one delivers.
    sim.at(distribute - timedelta(minutes=1), lambda _: wan.set_down(off.chf))
    sim.at(distribute - timedelta(minutes=1), cut.power_outage)
    sim.at(distribute + timedelta(minutes=30), power_back)
    sim.at(distribute + timedelta(hours=5), lambda _: wan.set_down(off.chf, False))
    sim.run()
    assert rollout.undelivered == {off.esme}
    assert rollout.delivered == set(rollout.homes) - {off.esme}
    assert off.esme not in rollout.receipts and rollout.receipts[late.esme] is True
    versions = _versions(sim)
    assert versions[off.esme] == OLD_VERSION
    assert {e for e, v in versions.items() if v == NEW_VERSION} == set(rollout.homes) - {off.esme}
    assert rollout()["firmware"]["distribution_failures"] == 1
    # 17 blocks to each of the 7 ESMEs served, 4 sends of block 1 in ``late``'s failed first
    # attempt, 3 attempts of 4 sends to ``off``; 13 to each GSME (all served: ``off`` is back
    # at 11:00), after 4 sends of block 1 to ``off`` if its GSME is in the 10:00 gas stage.
    gas_first = 4 if off.gsme in rollout.gas.plan[0] else 0
    assert rollout.gas.delivered == set(rollout.gas.homes)
    assert set(_gas_versions(sim).values()) == {GAS_VERSION}
    assert sim.traffic.transfers()["block"] == 7 * 17 + 4 + 3 * 4 + 8 * GAS_BLOCKS + gas_first
    assert sim.hub.nondevice.records.pending_firmware() == []  # type: ignore[union-attr]


def test_gas_meters_run_the_new_version_exactly_when_n60_and_a_verified_receipt_came(
    staged: tuple[Simulation, FirmwareRollout],
) -> None:
    sim, rollout = staged
    gas = rollout.gas
    versions = _gas_versions(sim)
    assert set(versions.values()) <= {OLD_VERSION, GAS_VERSION}
    running = {gsme for gsme, v in versions.items() if v == GAS_VERSION}
    told_ok = {g for g in gas.delivered if gas.receipts.get(g) is True}
    assert running == told_ok == gas.changed and running
    # The seed corrupts some gas transfers: 0x8F1C, and the meter keeps its version.
    assert gas.corrupted and not gas.corrupted & running
    assert {g for g, ok in gas.receipts.items() if not ok} == gas.corrupted
    assert all(versions[g] == OLD_VERSION for g in gas.corrupted)
    assert rollout.faults.spoiled == {}  # every fault lifted once its transfer was told
    for home in sim.world.homes:
        premises = _gas(sim, home.chf)
        assert premises.gpf.firmware is None  # every held image was taken
        assert premises.gpf.mirror.firmware == versions[home.gsme]  # GCS38 from the GPF agrees


def test_the_gas_figures_are_the_device_states(
    staged: tuple[Simulation, FirmwareRollout],
) -> None:
    sim, rollout = staged
    gas = rollout()["gas_firmware"]
    versions = _gas_versions(sim)
    running = sum(v == GAS_VERSION for v in versions.values())
    corrupted = len(rollout.gas.corrupted)
    assert gas == {
        "targeted": 8,
        "sent": 8,
        "refused": 0,
        "delivered": 8,
        "not_delivered": 0,
        "corrupted": corrupted,
        "transfers": 8,
        "receipts_verified": running,
        "receipts_failed": corrupted,
        "version_changed": running,
        "running_new_version": running,
        "failed": 8 - running,
        "pending": 0,
        "stages_run": 2,
        "halted": False,
        "version": "00020001",
    }
    assert running == 8 - corrupted
    # Stage two went when stage one was judged, six hours after it: 10:00 and 16:00.
    records = sim.hub.nondevice.records  # type: ignore[union-attr]
    gas_requests = [r for r in records.firmware if r.version == "00020001"]
    assert [r.at for r in gas_requests] == [DAY0 + timedelta(hours=10), DAY0 + timedelta(hours=16)]
    assert [r.devices for r in gas_requests] == rollout.gas.plan
    assert rollout.gas.plan == stage_plan(list(rollout.gas.homes), (0.5, 1.0))
    for request in gas_requests:
        held = split_image(request.image)
        assert held is not None and held.hash == rollout.gas.digest
        assert held.version == GAS_VERSION


def test_the_gas_image_is_the_gas_meters_own_ota_file() -> None:
    gas = manufacturer_image(GAS_VERSION, 6 * 1024, device=DeviceType.GSME)
    esme = manufacturer_image()
    assert gas[:4] == esme[:4] and gas[14:18] == GAS_VERSION
    assert (gas[12:14], esme[12:14]) == (bytes.fromhex("0300"), bytes.fromhex("0200"))
    assert int.from_bytes(gas[52:56], "little") == len(gas) == 6 * 1024
    assert b"GSME" in gas[20:52]
    with pytest.raises(ConfigurationError, match="ESME or a GSME"):
        manufacturer_image(device=DeviceType.IHD)


def test_a_targeted_wan_fault_spoils_only_the_chosen_meters_transfer() -> None:
    image = manufacturer_image()
    blocks = split_blocks(image)
    middle = len(blocks) // 2
    for targets, hit in (((ESME,), True), ((GSME,), False), ((GSME, ESME), True)):
        wire = FirmwareBlock(
            transfer=1, index=middle, count=len(blocks), targets=targets, data=blocks[middle]
        ).encode()
        assert (corrupted(wire, frozenset({ESME})) != wire) is hit
        assert corrupted(wire) != wire  # untargeted: any transfer
