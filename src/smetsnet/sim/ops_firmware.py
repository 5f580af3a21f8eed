"""A staged firmware rollout to the electricity meters, and one to the gas meters (DOMAIN.md §6),
from ``config.firmware_day``.

Electricity (ESMEs):

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

Gas (GSMEs, :class:`GasRollout`): the gas meter's own image (:data:`GAS_VERSION`, OTA image type
0x0003 and 6 KiB: ours), signed by each gas supplier for the GSMEs it supplies. 11.3 is for ESMEs
only (catalogue) and a GSME runs a verified image as soon as it has it (``devices/gas/meter.py``,
[inferred]), so **the 11.1 itself is the activation**: the gas rollout is staged by distribution.
From 10:00 (after the electricity distribution's usual three hourly attempts, to spread the WAN
load [ours]) the first stage (the same ``firmware_stage_share``, over the GSMEs in a seeded order
of their own) is sent 11.1. The hub distributes it once per comms hub; the GPF holds the image
until the meter's next wake (about 30 minutes; on hearing N60 we advance the premises to that
wake, as for a held 11.3, since the served network does not look at what a GPF holds); the GSME
checks the gas supplier's signature and reports receipt (0x00CF: 0x8F72 verified / 0x8F1C failed,
with the image hash), then runs a verified image and raises 0x8F43. Six hours after a stage went
(three hourly attempts, a wake and the alerts' way back fit in it [ours]) the stage is judged as
an electricity stage is: its GSMEs that did not report 0x8F43 have failed, and the next stage
goes at once while the failure rate is below ``firmware_halt_failure_rate``, else the gas rollout
halts. The device states at the end of the run give the gas meters running the new version.

Failures are made as they happen in the field: a seeded share (``corruption_rate``) of the
transfers (each ESME's, and each GSME's from a stream of its own) is corrupted by a WAN fault
(:meth:`InMemoryWan.set_fault`: one bit flipped in the middle block of that transfer only, an
error the network's checks missed), which the meter refuses (0x8F1C), keeping its version; power
cuts (``scenario.plan_outages``) may leave a comms hub off through its transfer's attempts.

Figures: ``firmware`` (the ESMEs) and ``gas_firmware`` (the GSMEs). ``firmware.blocks`` is every
firmware block the WAN carried, of both fuels: the traffic account does not tell the two 11.1
distributions apart.
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
from smetsnet.inventory import DeviceType
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import gas_supplier_of
from smetsnet.sim.users import NON_DEVICE, Received, SimUser
from smetsnet.sim.world import ACB, Home
from smetsnet.wan.firmware import FirmwareBlock, decode, is_firmware

#: The new firmware (the OTA file version, bytes 14-17 of the manufacturer image) and its size.
NEW_VERSION = bytes.fromhex("00020000")
IMAGE_BYTES = 8 * 1024
#: The gas meters' new firmware and its size [ours].
GAS_VERSION = bytes.fromhex("00020001")
GAS_IMAGE_BYTES = 6 * 1024
OTA_HEADER_BYTES = 56
DISTRIBUTE_AT = timedelta(hours=6)
FIRST_STAGE_AT = timedelta(hours=14)
ACTIVATE_AT = timedelta(hours=3)  # a night-time activation, when few consumers notice
EVALUATE_AT = timedelta(hours=9)
GAS_FIRST_STAGE_AT = timedelta(hours=10)
GAS_SETTLE = timedelta(hours=6)  # from a gas stage's 11.1 to its judgement
WAKE_AFTER = timedelta(minutes=1)
DEFAULT_CORRUPTION_RATE = 0.02
RECEIPT_VERIFIED, RECEIPT_FAILED = 0x8F72, 0x8F1C
ACTIONED, ACTION_FAILED, VERSION_CHANGED = 0x8F66, 0x8F67, 0x8F43
_ACCEPTED = ("I0", "I99", "W110101")  # 11.1 taken for all or some devices
_RNG_STREAM = 22  # this operation's stream of the run's seed
_GAS_RNG_STREAM = 24  # the gas rollout's own stream
#: Each meter's image: OTA image type (little-endian) and header string [ours].
_IMAGE_KINDS = {
    DeviceType.ESME: (bytes.fromhex("0200"), b"smetsnet simulated ESME firmware"),
    DeviceType.GSME: (bytes.fromhex("0300"), b"smetsnet simulated GSME firmware"),
}


def manufacturer_image(
    version: bytes = NEW_VERSION, size: int = IMAGE_BYTES, *, device: DeviceType = DeviceType.ESME
) -> bytes:
    """A ZigBee OTA upgrade file for ``device`` (ESME or GSME): the 56-byte header (file
    identifier, header version 0x0100, header length, field control, manufacturer code, image
    type, file version, stack version, header string, total size; little-endian as ZigBee writes
    it, the version as DUIS shows it) and a body derived from the version."""
    if len(version) != 4 or size < OTA_HEADER_BYTES:
        raise ConfigurationError(
            f"firmware image: a 4-byte version and >= 56 bytes, not {version.hex()}, {size}"
        )
    kind = _IMAGE_KINDS.get(device)
    if kind is None:
        raise ConfigurationError(f"firmware image: for an ESME or a GSME, not a {device.name}")
    image_type, label = kind
    header = (
        OTA_MAGIC
        + (0x0100).to_bytes(2, "little")
        + OTA_HEADER_BYTES.to_bytes(2, "little")
        + bytes(2)
        + bytes.fromhex("DB20")  # manufacturer code [ours]
        + image_type
        + version
        + (0x0002).to_bytes(2, "little")
        + label.ljust(32, b" ")
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


def corrupted(wire: bytes, targets: frozenset[bytes] | None = None) -> bytes:
    """A WAN fault (for :meth:`InMemoryWan.set_fault`): the middle block of a firmware transfer
    (with ``targets``: of a transfer to one of them only) arrives with one bit flipped in the
    middle of its data, inside the manufacturer image, so the supplier's signature no longer
    verifies; anything else passes unchanged."""
    if not is_firmware(wire):
        return wire
    block = decode(wire)
    if not isinstance(block, FirmwareBlock) or block.index != block.count // 2 or not block.data:
        return wire
    if targets is not None and targets.isdisjoint(block.targets):
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


def signed_image(sim: Simulation, supplier: bytes, manufacturer: bytes) -> bytes:
    """The upgrade image: ``manufacturer`` signed with ``supplier``'s digital-signing key."""
    own = sim.world.setup.user_keys.get(supplier)
    key = own.private_key(supplier, KeyUsage.DIGITAL_SIGNATURE) if own else None
    if key is None:
        raise ConfigurationError(f"supplier {supplier.hex()} has no digital-signing key")
    return make_image(manufacturer, crypto.ecdsa_sign(key, manufacturer))


@dataclass(slots=True)
class WanFaults:
    """The transfers the WAN corrupts: per comms hub, the meters whose transfer it hits (an ESME's
    and a GSME's may share a comms hub, and only the chosen one is hit); the fault is lifted when
    the DCC has told the outcome for each of them."""

    sim: Simulation = field(repr=False)
    spoiled: dict[bytes, set[bytes]] = field(default_factory=dict)

    def spoil(self, chub: bytes, device: bytes) -> None:
        devices = self.spoiled.setdefault(chub, set())
        devices.add(device)
        self.sim.network.wan.set_fault(chub, partial(corrupted, targets=frozenset(devices)))

    def hits(self, chub: bytes, device: bytes) -> bool:
        return device in self.spoiled.get(chub, ())

    def told(self, chub: bytes, device: bytes) -> None:
        """The device's transfer is over (or never began): the WAN is sound again for it."""
        devices = self.spoiled.get(chub)
        if devices is None or device not in devices:
            return
        devices.discard(device)
        if devices:
            self.sim.network.wan.set_fault(chub, partial(corrupted, targets=frozenset(devices)))
        else:
            del self.spoiled[chub]
            self.sim.network.wan.set_fault(chub, None)


@dataclass(slots=True, kw_only=True)
class GasRollout:
    """The gas meters' rollout, staged by distribution (module docstring); calling it gives the
    ``gas_firmware`` figures."""

    sim: Simulation = field(repr=False)
    faults: WanFaults = field(repr=False)
    corruption_rate: float
    rng: np.random.Generator = field(repr=False)
    homes: dict[bytes, Home] = field(default_factory=dict)  # targeted GSME -> its home
    plan: list[tuple[bytes, ...]] = field(default_factory=list)
    digest: bytes = b""  # SHA-256 of the gas manufacturer image
    images: dict[bytes, bytes] = field(default_factory=dict, repr=False)  # gas supplier -> image
    stages: list[tuple[bytes, ...]] = field(default_factory=list)  # stages sent
    sent: set[bytes] = field(default_factory=set)  # in an 11.1 the DCC took
    refused: set[bytes] = field(default_factory=set)  # in an 11.1 the DCC refused
    delivered: set[bytes] = field(default_factory=set)  # the DCC said delivered (N60)
    undelivered: set[bytes] = field(default_factory=set)  # the DCC said failed (N61)
    corrupted: set[bytes] = field(default_factory=set)  # delivered through a WAN fault
    transfers: set[bytes] = field(default_factory=set)  # comms hubs that took the gas image
    #: per GSME: True when it reported a verified image (0x8F72), False when not (0x8F1C)
    receipts: dict[bytes, bool] = field(default_factory=dict)
    changed: set[bytes] = field(default_factory=set)  # reported a new running version (0x8F43)
    failed: set[bytes] = field(default_factory=set)  # GSMEs of judged stages that failed
    halted: bool = False

    def __call__(self) -> dict[str, Any]:
        """The figures: GSMEs targeted, sent in an 11.1 the DCC took (or refused), the DCC said
        delivered (N60) or not (N61), delivered through a WAN fault, comms hubs that took the
        image, receipts (0x00CF) verified (0x8F72) or failed (0x8F1C), 0x8F43 heard, running
        the new version by their own state now; judged failed, neither judged nor changed yet;
        stages sent, halted."""
        staged = {gsme for stage in self.stages for gsme in stage}
        verified = sum(self.receipts.values())
        return {
            "targeted": len(self.homes),
            "sent": len(self.sent),
            "refused": len(self.refused),
            "delivered": len(self.delivered),
            "not_delivered": len(self.undelivered),
            "corrupted": len(self.corrupted),
            "transfers": len(self.transfers),
            "receipts_verified": verified,
            "receipts_failed": len(self.receipts) - verified,
            "version_changed": len(self.changed),
            "running_new_version": len(self.running_new_version()),
            "failed": len(self.failed),
            "pending": len(staged - self.changed - self.failed),
            "stages_run": len(self.stages),
            "halted": self.halted,
            "version": GAS_VERSION.hex(),
        }

    def running_new_version(self) -> set[bytes]:
        """The targeted GSMEs whose own state says they run :data:`GAS_VERSION` now."""
        running = set()
        for gsme, home in self.homes.items():
            premises = self.sim.network.premises.get(home.chf)
            gas = premises.gas if premises is not None else None
            if gas is not None and gas.gsme.state.firmware == GAS_VERSION:
                running.add(gsme)
        return running

    def send_stage(self, index: int, now: datetime) -> None:
        """Each gas supplier's 11.1 for the stage's GSMEs it supplies (the seeded share of their
        transfers the WAN will corrupt); the stage is judged :data:`GAS_SETTLE` later."""
        if index >= len(self.plan) or self.halted:
            return
        stage = self.plan[index]
        self.stages.append(stage)
        by_supplier: dict[bytes, list[bytes]] = {}
        for gsme in stage:
            home = self.homes[gsme]
            by_supplier.setdefault(gas_supplier_of(self.sim, home), []).append(gsme)
            if self.rng.random() < self.corruption_rate:
                self.faults.spoil(home.chf, gsme)
        for supplier, gsmes in by_supplier.items():
            user = self.sim.users[supplier]
            body = UpdateFirmware(
                firmware_image=self._image(supplier),
                firmware_version=GAS_VERSION.hex(),
                device_ids=tuple(gsmes),
            )
            request = user.request("11.1", body, target=ACB, now=now)
            answer = user.send(self.sim.handle, request, now, sr_class=NON_DEVICE)
            if answer.code in _ACCEPTED:
                self.sent.update(gsmes)
                continue
            self.refused.update(gsmes)
            for gsme in gsmes:  # nothing will go
                self.faults.told(self.homes[gsme].chf, gsme)
        self.sim.at(now + GAS_SETTLE, partial(self.decide, index))

    def _image(self, supplier: bytes) -> bytes:
        image = self.images.get(supplier)
        if image is None:
            manufacturer = manufacturer_image(GAS_VERSION, GAS_IMAGE_BYTES, device=DeviceType.GSME)
            image = self.images[supplier] = signed_image(self.sim, supplier, manufacturer)
        return image

    def decide(self, index: int, now: datetime) -> None:
        """The stage's GSMEs that did not report a new running version have failed; the failure
        rate decides whether the next stage goes."""
        stage = self.plan[index]
        failed = {gsme for gsme in stage if gsme not in self.changed}
        self.failed |= failed
        if len(failed) / len(stage) >= self.sim.config.firmware_halt_failure_rate:
            self.halted = True
            return
        self.send_stage(index + 1, now)

    # --- what the gas supplier hears ---------------------------------------------------------

    def was_delivered(self, gsme: bytes, chub: bytes, now: datetime) -> None:
        """N60: the GPF holds the image; the meter takes it at its next wake, which we run."""
        self.delivered.add(gsme)
        self.transfers.add(chub)
        home = self.homes[gsme]
        if self.faults.hits(home.chf, gsme):
            self.corrupted.add(gsme)
        self.faults.told(home.chf, gsme)
        premises = self.sim.network.premises.get(home.chf)
        if premises is not None and premises.gas is not None:
            when = max(premises.gas.next_wake, now) + WAKE_AFTER
            self.sim.at(when, partial(wake, self.sim, home.chf))

    def was_not_delivered(self, gsme: bytes) -> None:
        self.undelivered.add(gsme)
        self.faults.told(self.homes[gsme].chf, gsme)

    def alert(self, gsme: bytes, code: int) -> None:
        if code in (RECEIPT_VERIFIED, RECEIPT_FAILED):
            self.receipts[gsme] = code == RECEIPT_VERIFIED
        elif code == VERSION_CHANGED:
            self.changed.add(gsme)


@dataclass(slots=True, kw_only=True)
class FirmwareRollout:
    """The electricity rollout's state and figures, with the gas rollout (``gas``); calling it
    gives the report's outcome."""

    sim: Simulation = field(repr=False)
    corruption_rate: float
    rng: np.random.Generator = field(repr=False)
    faults: WanFaults = field(repr=False)
    gas: GasRollout
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
            },
            "gas_firmware": self.gas(),
        }

    # --- 1. distribution --------------------------------------------------------------------

    def distribute(self, now: datetime) -> None:
        """Each supplier's 11.1 for its ESMEs (the hub distributes what it takes); the seeded
        share of ESME transfers the WAN will corrupt."""
        by_supplier: dict[bytes, list[bytes]] = {}
        for esme, home in self.homes.items():
            by_supplier.setdefault(self.sim.supplier_of(home, now), []).append(esme)
            if self.rng.random() < self.corruption_rate:
                self.faults.spoil(home.chf, esme)
        manufacturer = manufacturer_image()
        self.digest = hashlib.sha256(manufacturer).digest()
        for supplier, esmes in by_supplier.items():
            image = signed_image(self.sim, supplier, manufacturer)
            user = self.sim.users[supplier]
            body = UpdateFirmware(
                firmware_image=image, firmware_version=NEW_VERSION.hex(), device_ids=tuple(esmes)
            )
            request = user.request("11.1", body, target=ACB, now=now)
            user.send(self.sim.handle, request, now, sr_class=NON_DEVICE)

    def _distribution(self, code: str, alert: Node, now: datetime) -> None:
        """N60 (delivered to one meter through its comms hub) or N61 (these meters not), for an
        ESME or a GSME of the rollouts."""
        if code == DELIVERED_ALERT:
            status = alert.child("CSPFirmwareDeliveryStatus")
            target = status.child("TargetDeviceID") if status is not None else None
            chub = status.child("CommsHubDeviceID") if status is not None else None
            if target is None or chub is None:
                return
            device = parse_eui(target.text, "TargetDeviceID")
            hub = parse_eui(chub.text, "CommsHubDeviceID")
            if device in self.homes:
                self.delivered.add(device)
                self.transfers.add(hub)
                if self.faults.hits(self.homes[device].chf, device):
                    self.corrupted.add(device)
                self.faults.told(self.homes[device].chf, device)
            elif device in self.gas.homes:
                self.gas.was_delivered(device, hub, now)
            return
        failure = alert.child("FirmwareDistributionFailure")
        meters = failure.child("MeterIDs") if failure is not None else None
        if meters is None:
            return
        for device in (parse_eui(text, "MeterIDs") for text in meters.text.split(",")):
            if device in self.homes:
                self.undelivered.add(device)
                self.faults.told(self.homes[device].chf, device)
            elif device in self.gas.homes:
                self.gas.was_not_delivered(device)

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

    # --- what the suppliers hear -------------------------------------------------------------

    def listen(self, _user: SimUser, received: Received) -> None:
        body, gbcs = received.response.body, received.gbcs
        if isinstance(body, DCCAlertMessage):
            if body.code in (DELIVERED_ALERT, FAILED_ALERT):
                self._distribution(body.code, body.alert, received.at)
            return
        if isinstance(body, DeviceAlertMessage):
            originator = gbcs.header.originator if gbcs is not None else None
            if originator in self.homes:
                self._alert(originator, body.alert_code, gbcs.payload if gbcs else None)
            elif originator in self.gas.homes:
                self.gas.alert(originator, body.alert_code)
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
    """Advance a premises to ``now`` so that a command its meter holds runs when due (and a gas
    meter takes the image its GPF holds): the served network advances a premises with nothing
    to do only every ``idle_advance_h`` hours and does not look at what its devices hold."""
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
    """Schedule both rollouts on ``config.firmware_day`` (none when it is None or not within
    the run); the returned rollout, called, gives the outcome figures."""
    config = sim.config
    if not 0.0 <= corruption_rate <= 1.0:
        raise ConfigurationError(f"corruption_rate: a share from 0 to 1, not {corruption_rate}")
    if not 0.0 <= config.firmware_halt_failure_rate <= 1.0:
        rate = config.firmware_halt_failure_rate
        raise ConfigurationError(f"firmware_halt_failure_rate: a share from 0 to 1, not {rate}")
    faults = WanFaults(sim)
    gas = GasRollout(
        sim=sim,
        faults=faults,
        corruption_rate=corruption_rate,
        rng=np.random.default_rng(config.seed * 31 + _GAS_RNG_STREAM),
    )
    rollout = FirmwareRollout(
        sim=sim,
        corruption_rate=corruption_rate,
        rng=np.random.default_rng(config.seed * 31 + _RNG_STREAM),
        faults=faults,
        gas=gas,
    )
    day = config.firmware_day
    if day is None or not 0 <= day < config.days:
        return rollout
    homes = list(sim.world.homes)
    order = rollout.rng.permutation(len(homes))
    rollout.homes = {homes[int(i)].esme: homes[int(i)] for i in order}
    rollout.plan = stage_plan(list(rollout.homes), config.firmware_stage_share)
    gas.homes = {homes[int(i)].gsme: homes[int(i)] for i in gas.rng.permutation(len(homes))}
    gas.plan = stage_plan(list(gas.homes), config.firmware_stage_share)
    gas_image = manufacturer_image(GAS_VERSION, GAS_IMAGE_BYTES, device=DeviceType.GSME)
    gas.digest = hashlib.sha256(gas_image).digest()
    sim.listen(rollout.listen)
    first = sim.start + timedelta(days=day)
    sim.at(first + DISTRIBUTE_AT, rollout.distribute)
    sim.at(first + FIRST_STAGE_AT, partial(rollout.send_stage, 0))
    sim.at(first + GAS_FIRST_STAGE_AT, partial(gas.send_stage, 0))
    return rollout


__all__ = [
    "GAS_VERSION",
    "NEW_VERSION",
    "FirmwareRollout",
    "GasRollout",
    "WanFaults",
    "corrupted",
    "manufacturer_image",
    "plan_firmware_rollout",
    "signed_image",
    "stage_plan",
    "wake",
]
