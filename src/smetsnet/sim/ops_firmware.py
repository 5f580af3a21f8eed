"""A staged firmware rollout to the electricity meters (DOMAIN.md §6), from ``config.firmware_day``:

1. **distribute** (06:00): each electricity supplier signs the manufacturer's image (a ZigBee OTA
   file) with its digital-signing key and sends SR 11.1 Update Firmware to the DCC for the ESMEs
   it supplies. The DCC keeps the devices it can serve (``hub/nondevice_firmware.py``) and
   distributes the image once per comms hub, in blocks over the WAN, paced over a few hours. The
   hub only records the request, so this module carries out the DCC's distribution (see
   :meth:`FirmwareRollout.transfer`): the transfer time is the blocks' round trips drawn from the
   comms hub's WAN link profile; a comms hub that is off (power cut, WAN down) when its transfer
   is due is tried again hourly, three times in all. The comms hub hands the image to the ESME,
   which checks the supplier's signature and reports receipt to the supplier (0x00CE: 0x8F72
   verified, 0x8F1C verification failed).
2. **activate, stage by stage**: the first stage (``firmware_stage_share[0]`` of the ESMEs, in a
   seeded order) gets SR 11.3 Activate Firmware (critical: the supplier signs the pre-command)
   with the image's SHA-256, future-dated to 03:00 the night after, at 14:00; only meters that
   reported a verified image are sent it. The meter activates when due and reports the outcome
   (0x8F66 actioned / 0x8F67 failed, and 0x8F43 running version changed).
3. **decide** (09:00 after each activation night): a stage's meters that did not report a new
   running version have failed; while the stage's failure rate is below
   ``firmware_halt_failure_rate`` the next stage is sent at once, else the rollout halts.

Failures are made as they happen in the field: a seeded share (``corruption_rate``) of comms hubs
gets a corrupted image (a flipped bit in the transfer) which the ESME refuses, so it has nothing
to activate; power cuts (``scenario.plan_outages``) may leave a comms hub off at its transfer.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from smetsnet.devices.esme.services import OTA_MAGIC, make_image
from smetsnet.duis.bodies import ActivateFirmware, UpdateFirmware
from smetsnet.duis.responses import DeviceAlertMessage
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.asn1 import ActivateFirmwareAlert, ActivateFirmwareResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.build import wan_profiles
from smetsnet.hub.nondevice_records import NonDeviceRecords, RecordNotFound
from smetsnet.sim.engine import Simulation
from smetsnet.sim.users import NON_DEVICE, Received, SimUser
from smetsnet.sim.world import ACB, Home
from smetsnet.wan.link import DEFAULT_PROFILES, LinkProfile, Technology

#: The new firmware (the OTA file version, bytes 14-17 of the manufacturer image) and its size.
NEW_VERSION = bytes.fromhex("00020000")
IMAGE_BYTES = 8 * 1024
#: The DCC's WAN block for a distribution [inferred: DCC publishes no block size].
BLOCK_BYTES = 512
OTA_HEADER_BYTES = 56
DISTRIBUTE_AT = timedelta(hours=6)
DISTRIBUTION_DELAY = timedelta(minutes=10)
DISTRIBUTION_WINDOW_S = 4 * 3600
RETRY_AFTER = timedelta(hours=1)
TRANSFER_ATTEMPTS = 3
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


def corrupted(image: bytes) -> bytes:
    """The image with one bit flipped in the middle of the manufacturer image (a transfer error
    the WAN's checks missed): the supplier's signature no longer verifies."""
    spoiled = bytearray(image)
    spoiled[(len(image) - 66) // 2] ^= 0x01
    return bytes(spoiled)


@dataclass(slots=True, kw_only=True)
class FirmwareRollout:
    """The rollout's state and figures; calling it gives the report's outcome."""

    sim: Simulation = field(repr=False)
    corruption_rate: float
    rng: np.random.Generator = field(repr=False)
    wan_rng: random.Random = field(repr=False)
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
    corrupted: set[bytes] = field(default_factory=set)  # ESMEs sent a corrupted image
    undelivered: set[bytes] = field(default_factory=set)  # comms hub off at every attempt
    transfers: int = 0
    blocks: int = 0
    _remaining: dict[str, set[bytes]] = field(default_factory=dict)  # 11.1 -> ESMEs to serve
    _awaiting: dict[tuple[bytes, int], bytes] = field(default_factory=dict)  # 11.3 -> ESME

    def __call__(self) -> dict[str, Any]:
        sent = {d for stage in self.stages for d in stage}
        return {
            "firmware": {
                "targeted": len(self.homes),
                "distributed": sum(self.receipts.values()),
                "distribution_failures": len(self.corrupted | self.undelivered),
                "transfers": self.transfers,
                "blocks": self.blocks,
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
        """Each supplier's 11.1 for its ESMEs; the DCC's transfers of what it took."""
        by_supplier: dict[bytes, list[bytes]] = {}
        for esme, home in self.homes.items():
            by_supplier.setdefault(self.sim.supplier_of(home, now), []).append(esme)
        manufacturer = manufacturer_image()
        self.digest = hashlib.sha256(manufacturer).digest()
        for supplier, esmes in by_supplier.items():
            image = self._signed(supplier, manufacturer)
            user = self.sim.users[supplier]
            body = UpdateFirmware(
                firmware_image=image, firmware_version=NEW_VERSION.hex(), device_ids=tuple(esmes)
            )
            request = user.request("11.1", body, target=ACB, now=now)
            if user.send(self.sim.handle, request, now, sr_class=NON_DEVICE).code in _ACCEPTED:
                self._plan_transfers(supplier, image, now)

    def _signed(self, supplier: bytes, manufacturer: bytes) -> bytes:
        own = self.sim.world.setup.user_keys.get(supplier)
        key = own.private_key(supplier, KeyUsage.DIGITAL_SIGNATURE) if own else None
        if key is None:
            raise ConfigurationError(f"supplier {supplier.hex()} has no digital-signing key")
        return make_image(manufacturer, crypto.ecdsa_sign(key, manufacturer))

    def _records(self) -> NonDeviceRecords:
        records = getattr(self.sim.hub.nondevice, "records", None)
        if not isinstance(records, NonDeviceRecords):
            raise ConfigurationError("the hub keeps no non-device records: nothing to distribute")
        return records

    def _plan_transfers(self, supplier: bytes, image: bytes, now: datetime) -> None:
        """One transfer per comms hub of each new 11.1 the DCC took from ``supplier``."""
        for request in self._records().pending_firmware():
            if request.by != supplier or request.request_id in self._remaining:
                continue
            self._remaining[request.request_id] = set(request.devices)
            by_hub: dict[bytes, list[bytes]] = {}
            for esme in request.devices:
                by_hub.setdefault(self.homes[esme].chf, []).append(esme)
            for chub, esmes in by_hub.items():
                start = DISTRIBUTION_DELAY + timedelta(
                    seconds=float(self.rng.uniform(0, DISTRIBUTION_WINDOW_S))
                )
                spoil = bool(self.rng.random() < self.corruption_rate)
                when = now + start + timedelta(seconds=self._transfer_s(chub, len(image)))
                action = partial(self.transfer, request.request_id, chub, tuple(esmes), image)
                self.sim.at(when, partial(action, spoil, 1))

    def _transfer_s(self, chub: bytes, size: int) -> float:
        """Seconds to move ``size`` bytes: each block down and its acknowledgement back."""
        technology = self.sim.world.setup.technologies.get(chub, Technology.CELLULAR)
        profile = _profiles(self.sim).get(technology, DEFAULT_PROFILES[technology])
        count = math.ceil(size / BLOCK_BYTES)
        return sum(profile.sample_latency(self.wan_rng) for _ in range(2 * count))

    def transfer(
        self,
        request_id: str,
        chub: bytes,
        esmes: tuple[bytes, ...],
        image: bytes,
        spoil: bool,
        attempt: int,
        now: datetime,
    ) -> None:
        """The image reaches the comms hub (or not: it is off) and goes on to its ESME."""
        premises = self.sim.network.premises.get(chub)
        wan = self.sim.network.wan
        if premises is None or not wan.is_reachable(chub) or premises.outage_since is not None:
            if attempt < TRANSFER_ATTEMPTS:
                retry = partial(self.transfer, request_id, chub, esmes, image, spoil, attempt + 1)
                self.sim.at(now + RETRY_AFTER, retry)
            else:
                self.undelivered.update(esmes)
                self._served(request_id, esmes)
            return
        self.transfers += 1
        self.blocks += math.ceil(len(image) / BLOCK_BYTES)
        if spoil:
            image = corrupted(image)
            self.corrupted.update(esmes)
        wake(self.sim, chub, now)  # as for any message: the clock moves to the arrival first
        esme = premises.esme
        if esme.eui in esmes and premises.hub.joined(esme.eui):
            for wire in esme.receive_firmware_image(image, now):
                wan.emit(chub, wire, now)
        self._served(request_id, esmes)

    def _served(self, request_id: str, esmes: tuple[bytes, ...]) -> None:
        remaining = self._remaining.get(request_id)
        if remaining is None:
            return
        remaining.difference_update(esmes)
        if not remaining:
            with contextlib.suppress(RecordNotFound):  # finished already
                self._records().firmware_done(request_id)

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


def _profiles(sim: Simulation) -> dict[Technology, LinkProfile]:
    return {**DEFAULT_PROFILES, **wan_profiles(sim.config.wan)}


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
        wan_rng=random.Random(f"smetsnet.firmware:{config.seed}"),
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
