"""The DCC's firmware distribution over the in-memory WAN: one transfer per comms hub, in blocks,
each acknowledged; lost blocks re-sent; a comms hub that never answers tried hourly, then given
up; the requesting user told per device by DCC alert N60 (delivered) / N61 (failed)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.duis import Node, Response, to_xml
from smetsnet.duis.header import ResponseHeader, format_eui
from smetsnet.duis.responses import DCCAlertMessage
from smetsnet.duis.schema import DuisSchema
from smetsnet.errors import SmetsnetError
from smetsnet.hub.audit import AuditLog, Check, Outcome
from smetsnet.hub.firmware_distribution import (
    DELIVERED_ALERT,
    FAILED_ALERT,
    DistributionSettings,
    FirmwareDistributor,
)
from smetsnet.hub.nondevice_records import FirmwareRequest, NonDeviceRecords
from smetsnet.hub.traffic import TrafficMeter
from smetsnet.wan.firmware import FirmwareBlock, FirmwareReceiver, TransferStatus, decode
from smetsnet.wan.link import LinkProfile, Technology
from smetsnet.wan.memory import InMemoryWan
from tests.support.vectors import REFERENCE

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
USER = bytes.fromhex("90B3D51F30010000")
HUB_A, HUB_B = bytes.fromhex("00DB1200000000A0"), bytes.fromhex("00DB1200000000B0")
ESME_A, GSME_A, ESME_B = (
    bytes.fromhex(h) for h in ("00DB120000000A01", "00DB120000000A02", "00DB120000000B01")
)
HOMELESS = bytes.fromhex("00DB120000000C01")
OFF_HAN_A = bytes.fromhex("00DB120000000A03")  # served by hub A but not on its HAN
IMAGE = bytes(range(256)) * 5 + b"tail"  # 1284 bytes: 3 blocks of 512
REQUEST_ID = f"{format_eui(USER)}:{format_eui(bytes.fromhex('0000000000000000'))}:1"
FAST = LinkProfile(median_s=0.5, p99_s=2.0)


@dataclass
class CommsHubSide:
    """A comms hub's side: the receiver, and what it handed to which device."""

    takes: frozenset[bytes]
    handed: list[tuple[bytes, tuple[bytes, ...]]] = field(default_factory=list)

    def hand_over(
        self, image: bytes, targets: tuple[bytes, ...], _now: datetime
    ) -> tuple[Mapping[bytes, TransferStatus], list[bytes]]:
        self.handed.append((image, targets))
        return {
            t: TransferStatus.SUCCESS if t in self.takes else TransferStatus.FAILURE
            for t in targets
        }, []


@dataclass
class Bench:
    wan: InMemoryWan
    distributor: FirmwareDistributor
    records: NonDeviceRecords
    hubs: dict[bytes, CommsHubSide]
    alerts: list[tuple[bytes, str, Node, datetime]]
    traffic: TrafficMeter
    audit: AuditLog
    now: datetime = START

    def request(self, *devices: bytes) -> None:
        self.records.firmware.append(
            FirmwareRequest(
                request_id=REQUEST_ID,
                srv="11.1",
                by=USER,
                version="00020000",
                image=IMAGE,
                devices=devices,
                at=self.now,
            )
        )

    def run(self, until: timedelta = timedelta(hours=6)) -> None:
        """Advance the WAN and the distributor event by event, as the hub does."""
        stop = START + until
        while True:
            due = [t for t in (self.wan.next_due(), self.distributor.next_due()) if t]
            if not due or min(due) > stop:
                return
            self.now = max(min(due), self.now)
            rest = self.distributor.advance(self.now, self.wan.advance(self.now))
            assert rest == []  # nothing but firmware on this WAN

    def sent_at(self) -> list[datetime]:
        return [e.time for e in self.audit.entries() if e.check is Check.SENT]


def _bench(profile: LinkProfile = FAST, *, seed: int = 1) -> Bench:
    wan = InMemoryWan(seed=seed, profiles={Technology.CELLULAR: profile})
    # The GSME takes the image too (the GPF holds it for its next wake).
    takes_a = frozenset({ESME_A, GSME_A})
    hubs = {HUB_A: CommsHubSide(takes_a), HUB_B: CommsHubSide(frozenset({ESME_B}))}
    for chub, side in hubs.items():
        receiver = FirmwareReceiver(side.hand_over)

        def endpoint(wire: bytes, now: datetime, r: FirmwareReceiver = receiver) -> list[bytes]:
            block = decode(wire)
            assert isinstance(block, FirmwareBlock)
            return r.receive(block, now)

        wan.attach(chub, endpoint, Technology.CELLULAR)
    serving = {ESME_A: HUB_A, GSME_A: HUB_A, OFF_HAN_A: HUB_A, ESME_B: HUB_B}

    def comms_hub(device: bytes) -> bytes:
        if device not in serving:
            raise SmetsnetError("no comms hub at the device's premises")
        return serving[device]

    records, traffic, audit = NonDeviceRecords(), TrafficMeter(), AuditLog()
    alerts: list[tuple[bytes, str, Node, datetime]] = []
    distributor = FirmwareDistributor(
        wan=wan,
        records=lambda: records,
        comms_hub=comms_hub,
        alert=lambda user, code, node, now: alerts.append((user, code, node, now)),
        traffic=traffic,
        audit=audit,
        settings=DistributionSettings(block_bytes=512),
    )
    return Bench(wan, distributor, records, hubs, alerts, traffic, audit)


def _leaves(node: Node) -> dict[str, str]:
    (body,) = node.children
    return {c.name: c.text for c in body.children}


def test_an_image_goes_once_per_comms_hub_in_acknowledged_blocks() -> None:
    bench = _bench()
    bench.request(ESME_A, GSME_A, OFF_HAN_A, ESME_B)
    bench.run()
    # One transfer per comms hub: hub A took the image once for all three of its devices.
    assert bench.hubs[HUB_A].handed == [(IMAGE, (ESME_A, GSME_A, OFF_HAN_A))]
    assert bench.hubs[HUB_B].handed == [(IMAGE, (ESME_B,))]
    # ceil(1284 / 512) = 3 blocks per comms hub, each acknowledged; nothing lost, nothing re-sent.
    assert bench.distributor.blocks_sent == 6
    assert bench.traffic.transfers() == {"block": 6, "ack": 6}
    # transfer units, not messages: no message total, category, SR or meter count
    assert bench.traffic.total() == 0
    assert bench.traffic.by_category() == bench.traffic.by_srv() == bench.traffic.by_meter() == {}
    checks = [(e.check, e.outcome) for e in bench.audit.entries()]
    assert checks.count((Check.SENT, Outcome.PASS)) == checks.count((Check.RECEIVED, Outcome.PASS))
    assert len(checks) == 12 and all(e.request_id == REQUEST_ID for e in bench.audit.entries())
    # Per device: N60 for those that took it (the GSME too), N61 for the one off the HAN.
    by_code = [(code, _leaves(node)) for _, code, node, _ in bench.alerts]
    delivered = [leaves for code, leaves in by_code if code == DELIVERED_ALERT]
    assert sorted(d["TargetDeviceID"] for d in delivered) == sorted(
        format_eui(e) for e in (ESME_A, GSME_A, ESME_B)
    )
    assert {d["CommsHubTransferStatus"] for d in delivered} == {"Success"}
    assert [leaves for code, leaves in by_code if code == FAILED_ALERT] == [
        {"UpdateFirmwareRequestID": REQUEST_ID, "MeterIDs": format_eui(OFF_HAN_A)}
    ]
    assert {user for user, *_ in bench.alerts} == {USER}
    assert bench.records.pending_firmware() == [] and bench.distributor.in_progress == 0


def test_lost_blocks_and_acknowledgements_are_sent_again() -> None:
    bench = _bench(LinkProfile(median_s=0.5, p99_s=2.0, loss=0.3), seed=3)
    bench.request(ESME_A)
    bench.run()
    lost = bench.wan.stats(Technology.CELLULAR).lost
    assert lost > 0
    # Every loss (a block or its ack) costs one more block; the hub took the image once, whole.
    assert bench.distributor.blocks_sent == 3 + lost
    assert bench.traffic.transfers()["block"] == 3 + lost
    assert bench.hubs[HUB_A].handed == [(IMAGE, (ESME_A,))]
    assert [code for _, code, _, _ in bench.alerts] == [DELIVERED_ALERT]
    assert bench.records.pending_firmware() == []


def test_a_comms_hub_that_never_answers_is_tried_hourly_then_given_up() -> None:
    bench = _bench()
    bench.wan.set_down(HUB_B)
    bench.request(ESME_A, ESME_B)
    bench.run()
    settings = bench.distributor.settings
    sent_b = [
        e.time
        for e in bench.audit.entries()
        if e.check is Check.SENT and format_eui(HUB_B) in e.detail
    ]
    # Three attempts of four sends of block 1, a minute apart; the next attempt an hour later.
    assert len(sent_b) == settings.attempts * settings.block_sends == 12
    attempts = [sent_b[i : i + 4] for i in range(0, 12, 4)]
    for attempt in attempts:
        gaps = [b - a for a, b in itertools.pairwise(attempt)]
        assert gaps == [timedelta(seconds=60)] * 3
    for before, after in itertools.pairwise(attempts):
        assert after[0] - before[-1] == timedelta(seconds=60 + 3600)
    assert bench.hubs[HUB_B].handed == []
    codes = {code: node for _, code, node, _ in bench.alerts}
    assert _leaves(codes[FAILED_ALERT]) == {
        "UpdateFirmwareRequestID": REQUEST_ID,
        "MeterIDs": format_eui(ESME_B),
    }
    assert _leaves(codes[DELIVERED_ALERT])["TargetDeviceID"] == format_eui(ESME_A)
    given_up = [e for e in bench.audit.entries() if e.check is Check.TIMEOUT]
    assert len(given_up) == 1 and given_up[0].outcome is Outcome.FAIL
    assert bench.distributor.given_up == 1 and bench.distributor.finished == 1
    assert bench.records.pending_firmware() == []


def test_a_comms_hub_back_for_a_later_attempt_gets_the_rest_of_the_image() -> None:
    bench = _bench()
    bench.request(ESME_A)
    bench.run(until=timedelta(seconds=1))  # the first block is out
    bench.wan.set_down(HUB_A)
    bench.run(until=timedelta(minutes=30))
    assert bench.hubs[HUB_A].handed == [] and bench.records.pending_firmware()
    bench.wan.set_down(HUB_A, False)
    bench.run(until=timedelta(hours=2))
    assert bench.hubs[HUB_A].handed == [(IMAGE, (ESME_A,))]
    assert [code for _, code, _, _ in bench.alerts] == [DELIVERED_ALERT]
    assert bench.records.pending_firmware() == []


def test_devices_no_comms_hub_serves_fail_at_once_and_the_rest_go_on() -> None:
    bench = _bench()
    bench.request(HOMELESS, ESME_B)
    bench.run(until=timedelta(seconds=0))
    assert [(code, _leaves(node)) for _, code, node, _ in bench.alerts] == [
        (FAILED_ALERT, {"UpdateFirmwareRequestID": REQUEST_ID, "MeterIDs": format_eui(HOMELESS)})
    ]
    bench.run()
    assert [code for _, code, _, _ in bench.alerts] == [FAILED_ALERT, DELIVERED_ALERT]
    assert bench.records.pending_firmware() == []


def test_at_most_max_concurrent_transfers_run_at_once() -> None:
    bench = _bench()
    bench.distributor.settings = DistributionSettings(max_concurrent=1)
    bench.request(ESME_A, ESME_B)
    bench.run()
    sent = [(e.time, e.detail.split()[2]) for e in bench.audit.entries() if e.check is Check.SENT]
    hubs_in_order = [hub for _, hub in sent]
    # All of one comms hub's blocks before any of the other's.
    assert hubs_in_order == [hubs_in_order[0]] * 3 + [hubs_in_order[-1]] * 3
    assert hubs_in_order[0] != hubs_in_order[-1]


def test_the_alerts_are_valid_duis() -> None:
    folder = REFERENCE / "duis" / "schema"
    if not folder.is_dir():
        pytest.skip(f"DUIS schema not found at {folder}")
    bench = _bench()
    bench.request(ESME_A, GSME_A, OFF_HAN_A)
    bench.run()
    schema = DuisSchema(folder)
    assert {code for _, code, _, _ in bench.alerts} == {DELIVERED_ALERT, FAILED_ALERT}
    for _, code, node, now in bench.alerts:
        header = ResponseHeader(response_code="I0", response_datetime=now)
        schema.validate(
            to_xml(Response(header=header, body=DCCAlertMessage(code=code, alert=node)))
        )


def test_settings_are_checked() -> None:
    with pytest.raises(SmetsnetError, match="block_sends"):
        DistributionSettings(block_sends=0)
    with pytest.raises(SmetsnetError, match="retry_after_s"):
        DistributionSettings(retry_after_s=0)
