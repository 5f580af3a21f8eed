"""A staged firmware rollout to the electricity meters (DOMAIN.md §6), from ``config.firmware_day``:

1. **distribute** (06:00): each electricity supplier signs the manufacturer's image (a ZigBee OTA
   file) with its digital-signing key and sends SR 11.1 Update Firmware to the DCC for the ESMEs
   it supplies. The hub carries out the distribution (``hub/firmware_distribution.py``): once per
   comms hub, in blocks over the WAN, a comms hub that does not answer (power cut) tried again
   hourly, three attempts in all. The comms hub hands the image to the ESME, which checks the
   supplier's signature and reports receipt to the supplier (0x00CE: 0x8F72 verified, 0x8F1C
   verification failed); the DCC tells the supplier per meter whether the image was delivered
   (DCC alert N60) or not (N61). This module only listens.
2. **activate, stage by stage**: the first stage (``firmware_stage_share[0]`` of the ESMEs, in a
   seeded order) gets SR 11.3 Activate Firmware (critical: the supplier signs the pre-command)
   with the image's SHA-256, future-dated to 03:00 the night after, at 14:00; only meters that
   reported a verified image are sent it. The meter activates when due and reports the outcome
   (0x8F66 actioned / 0x8F67 failed, and 0x8F43 running version changed).
3. **decide** (09:00 after each activation night): a stage's meters that did not report a new
   running version have failed; while the stage's failure rate is below
   ``firmware_halt_failure_rate`` the next stage is sent at once, else the rollout halts.

Failures are made as they happen in the field: a seeded share (``corruption_rate``) of comms hubs
gets a corrupted image (a WAN fault, :meth:`InMemoryWan.set_fault`, flips a bit in one block, an
error the network's checks missed) which the ESME refuses, so it has nothing to activate; power
cuts (``scenario.plan_outages``) may leave a comms hub off through its transfer's attempts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from smetsnet.devices.core.firmware import OTA_MAGIC, make_image
from smetsnet.duis.bodies import ActivateFirmware, Node, UpdateFirmware
from smetsnet.duis.header import parse_eui
from smetsnet.duis.responses import DCCAlertMessage, DeviceAlertMessage
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.asn1 import ActivateFirmwareAlert, ActivateFirmwareResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.firmware_distribution import DELIVERED_ALERT, FAILED_ALERT
from smetsnet.sim.engine import Simulation
from smetsnet.sim.users import NON_DEVICE, Received, SimUser
from smetsnet.sim.world import ACB, Home
from smetsnet.wan.firmware import FirmwareBlock, decode, is_firmware

#: The new firmware (the OTA file version, bytes 14-17 of the manufacturer image) and its size.
NEW_VERSION = bytes.fromhex("00020000")
IMAGE_BYTES = 8 * 1024
OTA_HEADER_BYTES = 56
DISTRIBUTE_AT = timedelta(hours=6)
FIRST_STAGE_AT = timedelta(hours=14)
ACTIVATE_AT = timedelta(hours=3)  # a night-time activation, when few consumers notice
EVALUATE_AT = timedelta(hours=9)
WAKE_AFTER = timedelta(minutes=1)
DEFAULT_CORRUPTION_RATE = 0.02
RECEIPT_VERIFIED, RECEIPT_FAILED = 0x8F72, 0x8F1C
ACTIONED, ACTION_FAILED, VERSION_CHANGED = 0x8F66, 0x8F67, 0x8F43
_ACCEPTED = ("I0", "I99", "W110101")  # 11.1 taken for all or some devices
_RNG_STREAM = 22  # this operation's stream of the run's seed


def manufacturer_image(version: bytes = NEW_VERSION, size: int = IMAGE_BYTES) -> bytes:
    """A ZigBee OTA upgrade file: the 56-byte header (file identifier, header version 0x0100,
    header length, field control, manufacturer code, image type, file version, stack version,
    header string, total size; little-endian as ZigBee writes it, the version as DUIS shows it)
    and a body derived from the version."""
    if len(version) != 4 or size < OTA_HEADER_BYTES:
        raise ConfigurationError(f"firmware image: 4-byte version and >= 56 bytes, not {size}")
    header = (
        OTA_MAGIC
        + (0x0100).to_bytes(2, "little")
        + OTA_HEADER_BYTES.to_bytes(2, "little")
        + bytes(2)
        + bytes.fromhex("DB20")  # manufacturer code [ours]
        + bytes.fromhex("0200")  # image type: ESME [ours]
        + version
        + (0x0002).to_bytes(2, "little")
        + b"smetsnet simulated ESME firmware".ljust(32, b" ")
        + size.to_bytes(4, "little")
    )
    body = hashlib.shake_256(b"smetsnet firmware " + version).digest(size - OTA_HEADER_BYTES)
    return header + body


def stage_plan(targets: list[bytes], shares: tuple[float, ...]) -> list[tuple[bytes, ...]]:
    """The stages: stage k takes the targets up to ``ceil(shares[k] * n)`` (cumulative shares);
    a stage that would be empty is dropped."""
    previous = 0.0
    for share in shares:
        if not previous < share <= 1.0:
            raise ConfigurationError(
                f"firmware_stage_share: increasing shares in (0, 1] expected, not {shares}"
            )
        previous = share
    stages, taken = [], 0
    for share in shares:
        upto = min(len(targets), math.ceil(share * len(targets)))
        if upto > taken:
            stages.append(tuple(targets[taken:upto]))
            taken = upto
    return stages


def corrupted(wire: bytes) -> bytes:
    """A WAN fault (for :meth:`InMemoryWan.set_fault`): the middle block of a firmware transfer
    arrives with one bit flipped in the middle of its data, inside the manufacturer image, so the
    supplier's signature no longer verifies; anything else passes unchanged."""
    if not is_firmware(wire):
        return wire
    block = decode(wire)
    if not isinstance(block, FirmwareBlock) or block.index != block.count // 2 or not block.data:
        return wire
    data = bytearray(block.data)
    data[len(data) // 2] ^= 0x01
    return FirmwareBlock(
        transfer=block.transfer,
        index=block.index,
        count=block.count,
        targets=block.targets,
        data=bytes(data),
    ).encode()


@dataclass(slots=True, kw_only=True)
class FirmwareRollout:
    """The rollout's state and figures; calling it gives the report's outcome."""

    sim: Simulation = field(repr=False)
    corruption_rate: float
    rng: np.random.Generator = field(repr=False)
    homes: dict[bytes, Home] = field(default_factory=dict)  # targeted ESME -> its home
    plan: list[tuple[bytes, ...]] = field(default_factory=list)
    digest: bytes = b""
    #: per ESME: True when it reported a verified image, False when verification failed
    receipts: dict[bytes, bool] = field(default_factory=dict)
    activated: set[bytes] = field(default_factory=set)  # reported the new version running
    activation_failed: set[bytes] = field(default_factory=set)
    stages: list[tuple[bytes, ...]] = field(default_factory=list)  # stages sent
    failed: set[bytes] = field(default_factory=set)  # meters of evaluated stages that failed
    halted: bool = False
    spoiled: dict[bytes, bytes] = field(default_factory=dict)  # comms hub with a WAN fault -> ESME
    delivered: set[bytes] = field(default_factory=set)  # the DCC said delivered (N60)
    corrupted: set[bytes] = field(default_factory=set)  # delivered through a WAN fault
    undelivered: set[bytes] = field(default_factory=set)  # the DCC said failed (N61)
    transfers: set[bytes] = field(default_factory=set)  # comms hubs that took the image
    _awaiting: dict[tuple[bytes, int], bytes] = field(default_factory=dict)  # 11.3 -> ESME

    def __call__(self) -> dict[str, Any]:
        sent = {d for stage in self.stages for d in stage}
        return {
            "firmware": {
                "targeted": len(self.homes),
                "distributed": sum(self.receipts.values()),
                "distribution_failures": len(self.corrupted | self.undelivered),
                "transfers": len(self.transfers),
                "blocks": self.sim.traffic.transfers()["block"],
                "activated": len(self.activated & sent),
                "failed": len(self.failed),
                "pending": len(sent - self.activated - self.failed),
                "stages_run": len(self.stages),
                "halted": self.halted,
                "version": NEW_VERSION.hex(),
            }
        }

    # --- 1. distribution --------------------------------------------------------------------

    def distribute(self, now: datetime) -> None:
        """Each supplier's 11.1 for its ESMEs (the hub distributes what it takes); the seeded
        share of comms hubs whose transfer the WAN will corrupt."""
        by_supplier: dict[bytes, list[bytes]] = {}
        for esme, home in self.homes.items():
            by_supplier.setdefault(self.sim.supplier_of(home, now), []).append(esme)
            if self.rng.random() < self.corruption_rate:
                self.spoiled[home.chf] = esme
                self.sim.network.wan.set_fault(home.chf, corrupted)
        manufacturer = manufacturer_image()
        self.digest = hashlib.sha256(manufacturer).digest()
        for supplier, esmes in by_supplier.items():
            image = self._signed(supplier, manufacturer)
            user = self.sim.users[supplier]
            body = UpdateFirmware(
                firmware_image=image, firmware_version=NEW_VERSION.hex(), device_ids=tuple(esmes)
            )
            request = user.request("11.1", body, target=ACB, now=now)
            user.send(self.sim.handle, request, now, sr_class=NON_DEVICE)

    def _signed(self, supplier: bytes, manufacturer: bytes) -> bytes:
        own = self.sim.world.setup.user_keys.get(supplier)
        key = own.private_key(supplier, KeyUsage.DIGITAL_SIGNATURE) if own else None
        if key is None:
            raise ConfigurationError(f"supplier {supplier.hex()} has no digital-signing key")
        return make_image(manufacturer, crypto.ecdsa_sign(key, manufacturer))

    def _distribution(self, code: str, alert: Node) -> None:
        """N60 (delivered to one meter through its comms hub) or N61 (these meters not)."""
        told: list[bytes] = []
        if code == DELIVERED_ALERT:
            status = alert.child("CSPFirmwareDeliveryStatus")
            target = status.child("TargetDeviceID") if status is not None else None
            chub = status.child("CommsHubDeviceID") if status is not None else None
            if target is None or chub is None:
                return
            esme = parse_eui(target.text, "TargetDeviceID")
            hub = parse_eui(chub.text, "CommsHubDeviceID")
            if esme in self.homes:
                self.delivered.add(esme)
                self.transfers.add(hub)
                if self.spoiled.get(hub) == esme:
                    self.corrupted.add(esme)
                told.append(esme)
        else:
            failure = alert.child("FirmwareDistributionFailure")
            meters = failure.child("MeterIDs") if failure is not None else None
            if meters is None:
                return
            esmes = [parse_eui(text, "MeterIDs") for text in meters.text.split(",")]
            told = [e for e in esmes if e in self.homes]
            self.undelivered.update(told)
        for esme in told:
            chf = self.homes[esme].chf
            if self.spoiled.get(chf) == esme:  # the transfer is over: the WAN is sound again
                self.sim.network.wan.set_fault(chf, None)

    # --- 2. activation by stages -------------------------------------------------------------

    def send_stage(self, index: int, now: datetime) -> None:
        """11.3 to the stage's meters that hold the verified image; decide the morning after."""
        if index >= len(self.plan) or self.halted:
            return
        stage = self.plan[index]
        self.stages.append(stage)
        due = _next(now, ACTIVATE_AT)
        for esme in stage:
            if self.receipts.get(esme):
                self._activate(esme, due, now)
        decide = (due - ACTIVATE_AT) + EVALUATE_AT
        self.sim.at(decide, partial(self.evaluate, index))

    def _activate(self, esme: bytes, due: datetime, now: datetime) -> None:
        user = self.sim.users[self.sim.supplier_of(self.homes[esme], now)]
        body = ActivateFirmware(firmware_hash=self.digest, execution_datetime=due)
        answer = user.send_critical(
            self.sim.handle, user.request("11.3", body, target=esme, now=now), now
        )
        rid = answer.response.header.request_id
        if answer.code == "I99" and rid is not None:
            self._awaiting[(rid.target, rid.counter)] = esme
            self.sim.at(due + WAKE_AFTER, partial(wake, self.sim, self.homes[esme].chf))
        else:
            self.activation_failed.add(esme)

    def evaluate(self, index: int, now: datetime) -> None:
        """The stage's failure rate decides whether the next stage goes."""
        stage = self.plan[index]
        failed = {esme for esme in stage if esme not in self.activated}
        self.failed |= failed
        if len(failed) / len(stage) >= self.sim.config.firmware_halt_failure_rate:
            self.halted = True
            return
        self.send_stage(index + 1, now)

    # --- what the supplier hears -------------------------------------------------------------

    def listen(self, _user: SimUser, received: Received) -> None:
        body, gbcs = received.response.body, received.gbcs
        if isinstance(body, DCCAlertMessage):
            if body.code in (DELIVERED_ALERT, FAILED_ALERT):
                self._distribution(body.code, body.alert)
            return
        if isinstance(body, DeviceAlertMessage):
            if gbcs is not None and gbcs.header.originator in self.homes:
                self._alert(gbcs.header.originator, body.alert_code, gbcs.payload)
            return
        rid = received.response.header.request_id
        esme = None if rid is None else self._awaiting.pop((rid.target, rid.counter), None)
        if esme is None:
            return
        payload = gbcs.payload if gbcs is not None else None
        if not isinstance(payload, ActivateFirmwareResponse):
            self.activation_failed.add(esme)  # refused or timed out (E-code)
        elif payload.outcome is not None:  # carried out at once rather than held
            target = self.activated if payload.outcome.code == 0 else self.activation_failed
            target.add(esme)

    def _alert(self, esme: bytes, code: int, payload: object) -> None:
        if code in (RECEIPT_VERIFIED, RECEIPT_FAILED):
            self.receipts[esme] = code == RECEIPT_VERIFIED
        elif code == VERSION_CHANGED:
            self.activated.add(esme)
        elif code in (ACTIONED, ACTION_FAILED):
            ok = isinstance(payload, ActivateFirmwareAlert) and payload.outcome.code == 0
            if ok and code == ACTIONED:
                self.activated.add(esme)
            else:
                self.activation_failed.add(esme)


def wake(sim: Simulation, chub: bytes, now: datetime) -> None:
    """Advance a premises to ``now`` so that a command its meter holds runs when due: the
    served network advances a premises with nothing to do only every ``idle_advance_h`` hours
    and does not look at what its devices hold."""
    premises = sim.network.premises.get(chub)
    if premises is None or now <= premises.clock:
        return
    for wire in premises.advance(now):
        sim.network.wan.emit(chub, wire, now)


def _next(now: datetime, at: timedelta) -> datetime:
    """The first moment at ``at`` after midnight that is at least an hour after ``now``."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    when = midnight + at
    while when < now + timedelta(hours=1):
        when += timedelta(days=1)
    return when


def plan_firmware_rollout(
    sim: Simulation, *, corruption_rate: float = DEFAULT_CORRUPTION_RATE
) -> FirmwareRollout:
    """Schedule the rollout on ``config.firmware_day`` (none when it is None or not within the
    run); the returned rollout, called, gives the outcome figures."""
    config = sim.config
    if not 0.0 <= corruption_rate <= 1.0:
        raise ConfigurationError(f"corruption_rate: a share from 0 to 1, not {corruption_rate}")
    if not 0.0 <= config.firmware_halt_failure_rate <= 1.0:
        rate = config.firmware_halt_failure_rate
        raise ConfigurationError(f"firmware_halt_failure_rate: a share from 0 to 1, not {rate}")
    rollout = FirmwareRollout(
        sim=sim,
        corruption_rate=corruption_rate,
        rng=np.random.default_rng(config.seed * 31 + _RNG_STREAM),
    )
    day = config.firmware_day
    if day is None or not 0 <= day < config.days:
        return rollout
    homes = list(sim.world.homes)
    order = rollout.rng.permutation(len(homes))
    rollout.homes = {homes[int(i)].esme: homes[int(i)] for i in order}
    rollout.plan = stage_plan(list(rollout.homes), config.firmware_stage_share)
    sim.listen(rollout.listen)
    first = sim.start + timedelta(days=day)
    sim.at(first + DISTRIBUTE_AT, rollout.distribute)
    sim.at(first + FIRST_STAGE_AT, partial(rollout.send_stage, 0))
    return rollout


__all__ = [
    "NEW_VERSION",
    "FirmwareRollout",
    "corrupted",
    "manufacturer_image",
    "plan_firmware_rollout",
    "stage_plan",
    "wake",
]
