"""A hub restarted mid-rollout (``serve --state``): the non-device records and the firmware
distribution's progress come back from ``records.sqlite``, unfinished transfers resume, and every
device of an accepted 11.1 is told its outcome (N60/N61) exactly once."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from smetsnet.devices.core.firmware import make_image
from smetsnet.duis.bodies import UpdateFirmware
from smetsnet.duis.header import format_eui
from smetsnet.duis.responses import DCCAlertMessage
from smetsnet.duis.xmldsig import certificate_index
from smetsnet.errors import ConfigurationError, SmetsnetError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.audit import AuditLog, Check
from smetsnet.hub.build import build_hub
from smetsnet.hub.firmware_distribution import (
    DELIVERED_ALERT,
    FAILED_ALERT,
    DistributionSettings,
    FirmwareDistributor,
)
from smetsnet.hub.nondevice import NonDeviceServices
from smetsnet.hub.nondevice_records import (
    CommsHubInstall,
    CommsHubReturn,
    DeviceDetails,
    FirmwareRequest,
    LocalCommandResponse,
    NonDeviceRecords,
    OptIn,
    PremisesAddress,
)
from smetsnet.hub.records_store import RecordsStore
from smetsnet.hub.service import Hub
from smetsnet.hub.traffic import TrafficMeter
from smetsnet.sim.ops_firmware import NEW_VERSION, manufacturer_image
from smetsnet.sim.users import NON_DEVICE, SimUser
from smetsnet.sim.world import ACB, World, build_world
from smetsnet.wan.firmware import FirmwareBlock, FirmwareReceiver, decode
from smetsnet.wan.link import Technology
from smetsnet.wan.memory import InMemoryWan
from tests.hub.test_firmware_distribution import (
    ESME_A,
    ESME_B,
    FAST,
    GSME_A,
    HUB_A,
    HUB_B,
    START,
    USER,
    CommsHubSide,
)

IMAGE = bytes(range(256)) * 16  # 4096 bytes: 8 blocks of 512


# --- the distributor on its own, comms hubs that outlive the hub's restart ------------------


@dataclass
class LastingCommsHub(CommsHubSide):
    """A comms hub that outlives the hub's restart: its receiver keeps the blocks it got."""

    receiver: FirmwareReceiver = field(init=False)

    def __post_init__(self) -> None:
        self.receiver = FirmwareReceiver(self.hand_over)


@dataclass
class Process:
    """One hub process: its records (from the store), WAN and distributor."""

    records: NonDeviceRecords
    wan: InMemoryWan
    distributor: FirmwareDistributor
    audit: AuditLog
    alerts: list[tuple[str, dict[str, str]]]
    now: datetime

    def step(self) -> bool:
        due = [t for t in (self.wan.next_due(), self.distributor.next_due()) if t]
        if not due:
            return False
        self.now = max(min(due), self.now)
        assert self.distributor.advance(self.now, self.wan.advance(self.now)) == []
        return True

    def sent(self) -> list[str]:
        return [e.detail for e in self.audit.entries() if e.check is Check.SENT]


def _hubs() -> dict[bytes, LastingCommsHub]:
    """Hub A serves ESME_A (which takes the image) and GSME_A (which does not), hub B ESME_B."""
    return {
        HUB_A: LastingCommsHub(frozenset({ESME_A})),
        HUB_B: LastingCommsHub(frozenset({ESME_B})),
    }


def _process(path: Path, hubs: dict[bytes, LastingCommsHub], now: datetime) -> Process:
    wan = InMemoryWan(seed=5, profiles={Technology.CELLULAR: FAST})
    for chub, side in hubs.items():

        def endpoint(wire: bytes, at: datetime, r: FirmwareReceiver = side.receiver) -> list[bytes]:
            block = decode(wire)
            assert isinstance(block, FirmwareBlock)
            return r.receive(block, at)

        wan.attach(chub, endpoint, Technology.CELLULAR)
    serving = {ESME_A: HUB_A, GSME_A: HUB_A, ESME_B: HUB_B}
    records, audit = NonDeviceRecords(RecordsStore(path)), AuditLog()
    alerts: list[tuple[str, dict[str, str]]] = []

    def alert(_user: bytes, code: str, node: object, _at: datetime) -> None:
        (body,) = node.children  # type: ignore[attr-defined]
        alerts.append((code, {c.name: c.text for c in body.children}))

    distributor = FirmwareDistributor(
        wan=wan,
        records=lambda: records,
        comms_hub=serving.__getitem__,
        alert=alert,
        traffic=TrafficMeter(),
        audit=audit,
        settings=DistributionSettings(block_bytes=512),
    )
    return Process(records, wan, distributor, audit, alerts, now)


def _request(devices: tuple[bytes, ...]) -> FirmwareRequest:
    return FirmwareRequest(
        request_id="R1", srv="11.1", by=USER, version="00020000", image=IMAGE,
        devices=devices, at=START,
    )  # fmt: skip


def test_a_transfer_resumes_from_its_first_unacknowledged_block(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    hubs = {
        HUB_A: LastingCommsHub(frozenset({ESME_A})),
        HUB_B: LastingCommsHub(frozenset({ESME_B})),
    }
    first = _process(path, hubs, START)
    first.records.firmware.append(_request((ESME_A, GSME_A, ESME_B)))
    while sum(e.check is Check.RECEIVED for e in first.audit.entries()) < 6:
        assert first.step()
    assert first.alerts == [] and all(not side.handed for side in hubs.values())
    saved = {t.chub: t.next_block for t in RecordsStore(path).saved_transfers()}
    assert set(saved) == {HUB_A, HUB_B} and all(0 < k < 8 for k in saved.values())
    # The hub stops (what is in flight on the WAN is lost); the comms hubs keep their blocks.
    second = _process(path, hubs, first.now + timedelta(minutes=5))
    assert second.records.pending_firmware() == [_request((ESME_A, GSME_A, ESME_B))]
    while second.step():
        pass
    resumed = {
        chub: next(d for d in second.sent() if format_eui(chub) in d) for chub in (HUB_A, HUB_B)
    }
    for chub, detail in resumed.items():
        assert f"firmware block {saved[chub] + 1}/8" in detail  # not block 1 again
    assert hubs[HUB_A].handed == [(IMAGE, (ESME_A, GSME_A))]
    assert hubs[HUB_B].handed == [(IMAGE, (ESME_B,))]
    told = first.alerts + second.alerts
    delivered = Counter(leaves["TargetDeviceID"] for code, leaves in told if code == "N60")
    assert delivered == Counter({format_eui(ESME_A): 1, format_eui(ESME_B): 1})
    assert [leaves["MeterIDs"] for code, leaves in told if code == "N61"] == [format_eui(GSME_A)]
    assert second.records.pending_firmware() == [] and second.distributor.in_progress == 0
    third = NonDeviceRecords(RecordsStore(path))
    assert [r.done for r in third.firmware] == [True]
    assert RecordsStore(path).saved_transfers() == []


def test_a_waiting_transfer_keeps_its_retry_time_and_attempt(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    hubs = {
        HUB_A: LastingCommsHub(frozenset({ESME_A})),
        HUB_B: LastingCommsHub(frozenset({ESME_B})),
    }
    first = _process(path, hubs, START)
    first.wan.set_down(HUB_B)
    first.records.firmware.append(_request((ESME_B,)))
    while (due := first.distributor.next_due()) is not None and due < START + timedelta(hours=1):
        assert first.step()
    (saved,) = RecordsStore(path).saved_transfers()
    assert (saved.state, saved.attempt, saved.next_block) == ("waiting", 2, 0)
    assert saved.retry_at == START + timedelta(seconds=4 * 60 + 3600)
    second = _process(path, hubs, first.now)  # the comms hub is back
    assert second.distributor.next_due() == START  # the request: taken at once
    assert second.step() and second.sent() == []
    assert second.distributor.next_due() == saved.retry_at  # nothing goes before
    while second.step():
        pass
    assert hubs[HUB_B].handed == [(IMAGE, (ESME_B,))]
    assert [code for code, _ in first.alerts + second.alerts] == [DELIVERED_ALERT]


# --- the records ----------------------------------------------------------------------------

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_every_kind_of_record_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    records = NonDeviceRecords(RecordsStore(path))
    details = DeviceDetails(
        manufacturer="AB01", model="010A", firmware_version="0001", notified_by=USER
    )
    address = PremisesAddress(uprn=100023336956, postcode="CH1 1AA", address_identifier="1 St")
    install = CommsHubInstall(
        chf=HUB_A, gpf=HUB_B, premises_id=3, mpxn="1000999888", install_type="Install",
        location="A", aerial=True, sm_wan=False, by=USER, at=AT,
    )  # fmt: skip
    returned = CommsHubReturn(chf=HUB_A, fault=True, return_type="R", reason=None, by=USER, at=AT)
    opt_in = OptIn(
        device=ESME_A, import_mpxn="1312345678119", secondary_import_mpan=None,
        export_mpan=None, opt_in_date=date(2026, 3, 3), by=USER, at=AT,
    )  # fmt: skip
    local = LocalCommandResponse(
        original_request_id=None, device=ESME_A, gbcs_response=b"\xdd\x00", by=USER, at=AT
    )
    records.details[ESME_A] = DeviceDetails()
    records.details[ESME_A] = details  # replaced
    records.set_address(7, address)
    records.gpf_of[HUB_A] = HUB_B
    records.installs[HUB_A] = install
    records.returns.append(returned)
    records.opt_ins.append(opt_in)
    records.local_responses.append(local)
    records.firmware.append(_request((ESME_A,)))
    records.firmware.append(_request((ESME_B,)))
    records.firmware_done("R1")
    again = NonDeviceRecords(RecordsStore(path))
    assert dict(again.details) == {ESME_A: details}
    assert again.premises_with_uprn(100023336956) == 7 and again.addresses[7] == address
    assert dict(again.gpf_of) == {HUB_A: HUB_B} and dict(again.installs) == {HUB_A: install}
    assert list(again.returns) == [returned] and list(again.opt_ins) == [opt_in]
    assert list(again.local_responses) == [local]
    assert [(r.devices, r.done, r.image) for r in again.firmware] == [
        ((ESME_A,), True, IMAGE),
        ((ESME_B,), False, IMAGE),
    ]
    del again.gpf_of[HUB_A]
    assert dict(NonDeviceRecords(RecordsStore(path)).gpf_of) == {}
    with pytest.raises(TypeError, match="only appended"):
        again.returns.insert(0, returned)
    with pytest.raises(TypeError, match="never removed"):
        again.returns.pop()


def test_without_a_store_the_records_are_plain_containers() -> None:
    records = NonDeviceRecords()
    assert records.store is None
    assert type(records.details) is dict and type(records.firmware) is list


def test_unreadable_state_names_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "records.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigurationError, match=r"records\.sqlite: not a readable"):
        RecordsStore(garbage)
    bad_row = tmp_path / "bad.sqlite"
    NonDeviceRecords(RecordsStore(bad_row)).gpf_of[HUB_A] = HUB_B
    with sqlite3.connect(bad_row) as db:
        db.execute("UPDATE records SET value = '\"zz\"' WHERE kind = 'gpf_of'")
    with pytest.raises(ConfigurationError, match=r"bad\.sqlite: record gpf_of '00db1200000000a0'"):
        NonDeviceRecords(RecordsStore(bad_row))
    bad_transfer = tmp_path / "transfer.sqlite"
    RecordsStore(bad_transfer)
    with sqlite3.connect(bad_transfer) as db:
        db.execute(
            "INSERT INTO transfers VALUES (4, 0, ?, ?, 'flying', 0, 8, 1, NULL)",
            (HUB_A, ESME_A),
        )
    with pytest.raises(ConfigurationError, match=r"transfer\.sqlite: firmware transfer 4.*flying"):
        RecordsStore(bad_transfer).saved_transfers()


# --- a served hub: the whole network rebuilt on the same state folder -------------------------


def _supplier(eui: bytes, world: World) -> SimUser:
    entry = world.pki.bundle.xml_signing(eui)
    assert entry is not None and entry.private_key is not None and entry.certificate is not None
    return SimUser(
        eui=eui,
        name="supplier",
        xml_key=entry.private_key,
        xml_certificate=entry.certificate,
        protection=world.setup.user_protection(eui),
        hub_certificates=certificate_index([world.setup.dsp_certificate]),
    )


def _run(
    hub: Hub, now: datetime, inbox: list[bytes], *, stop: Callable[[], bool] | None = None
) -> datetime:
    """Advance ``hub`` event by event (taking every message for the user) until nothing is
    due, or ``stop()`` holds."""
    while stop is None or not stop():
        due = hub.next_due()
        if due is None or due > now + timedelta(days=1):
            break
        now = max(now, due)
        hub.advance(now)
        for out in hub.outbound_due(now, 1000):
            inbox.append(out.body)
            hub.delivered(out.id)
    return now


def test_a_served_hub_restarted_mid_rollout_finishes_it(tmp_path: Path) -> None:
    world = build_world(4, seed=2, start=START, prepayment_share=0.0)
    setup = world.setup
    supplier = Counter(h.electricity_supplier for h in world.homes).most_common(1)[0][0]
    homes = [h for h in world.homes if h.electricity_supplier == supplier]
    assert len(homes) >= 2
    user = _supplier(supplier, world)
    setup.response_urls[supplier] = "sim://supplier"
    key = setup.user_keys[supplier].private_key(supplier, KeyUsage.DIGITAL_SIGNATURE)
    assert key is not None
    manufacturer = manufacturer_image()
    image = make_image(manufacturer, crypto.ecdsa_sign(key, manufacturer))
    state = tmp_path / "state"
    hub, _ = build_hub(setup, state_dir=state)
    assert isinstance(hub.nondevice, NonDeviceServices)
    address = PremisesAddress(uprn=1, postcode="CH1 1AA", address_identifier="1 Watergate St")
    hub.nondevice.records.set_address(42, address)
    body = UpdateFirmware(
        firmware_image=image,
        firmware_version=NEW_VERSION.hex(),
        device_ids=tuple(h.esme for h in homes),
    )
    answer = user.send(
        lambda xml, endpoint, at: hub.handle(xml, endpoint=endpoint, now=at),
        user.request("11.1", body, target=ACB, now=START),
        START,
        sr_class=NON_DEVICE,
    )
    assert answer.code == "I99"
    inbox: list[bytes] = []
    blocks = len(image) // 512 + 1
    now = _run(hub, START, inbox, stop=lambda: hub.firmware.blocks_sent >= blocks)
    assert hub.firmware.finished == 0 and hub.firmware.in_progress == len(homes)
    hub.close()
    # A new process: new WAN, new comms hub receivers (they lost their blocks), same devices.
    again, _ = build_hub(setup, state_dir=state)
    assert isinstance(again.nondevice, NonDeviceServices)
    kept = again.nondevice.records
    assert kept.premises_with_uprn(1) == 42 and kept.addresses[42] == address
    (request,) = kept.pending_firmware()
    assert request.image == image and request.devices == body.device_ids
    now = _run(again, now + timedelta(minutes=1), inbox)
    again.close()
    alerts = [user.receive(xml, now).response.body for xml in inbox]
    told = [a for a in alerts if isinstance(a, DCCAlertMessage)]
    assert not [a for a in told if a.code == FAILED_ALERT]
    delivered = Counter(
        a.alert.children[0].child("TargetDeviceID").text  # type: ignore[union-attr]
        for a in told
        if a.code == DELIVERED_ALERT
    )
    assert delivered == Counter({format_eui(h.esme): 1 for h in homes})
    for home in homes:
        assert setup.premises[home.chf].esme.state.firmware_image == image
    assert again.firmware.in_progress == 0 and kept.pending_firmware() == []
    assert NonDeviceRecords(RecordsStore(state / "records.sqlite")).firmware[0].done


def test_a_bad_records_file_stops_the_build_naming_it(tmp_path: Path) -> None:
    world = build_world(1, seed=2, start=START, prepayment_share=0.0)
    (tmp_path / "records.sqlite").write_bytes(b"garbage" * 200)
    with pytest.raises(SmetsnetError, match=r"records\.sqlite"):
        build_hub(world.setup, state_dir=tmp_path)
