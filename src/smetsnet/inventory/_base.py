"""What every part of the inventory service shares: the store, the cache, the clock, and the
look-ups that turn a missing key into an error naming it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory.cache import MISS, LookupCache
from smetsnet.inventory.errors import (
    HanLogError,
    InvalidIdentifier,
    UnknownDevice,
    UnknownMeterPoint,
    UnknownPremises,
)
from smetsnet.inventory.model import (
    AnchorCell,
    CertRef,
    Device,
    DeviceType,
    MeterPoint,
    Premises,
    eui_of,
    whole_seconds,
)
from smetsnet.inventory.repository import InventoryStore, InventoryWriter

COUNTER_MAX = 2**64 - 1  # GBCS originator counters are unsigned 64-bit
Reader = InventoryWriter | InventoryStore


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ServiceBase:
    def __init__(
        self,
        store: InventoryStore,
        *,
        cache: LookupCache | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.cache = cache
        self._clock = clock

    def _now(self, at: datetime | None) -> datetime:
        return whole_seconds(self._clock() if at is None else at)

    def find_device(self, eui: bytes | str) -> Device | None:
        key = eui_of(eui)
        if self.cache is None:
            return self.store.device(key)
        hit = self.cache.devices.get(key)
        if hit is not MISS:
            return hit
        device = self.store.device(key)
        self.cache.devices.put(key, device)
        return device

    def device(self, eui: bytes | str) -> Device:
        device = self.find_device(eui)
        if device is None:
            raise UnknownDevice(f"no device {format_eui(eui_of(eui))} in the inventory")
        return device

    def _changed_device(self, *euis: bytes) -> None:
        if self.cache is not None:
            for eui in euis:
                self.cache.drop_device(eui)

    def _changed_user(self, eui: bytes) -> None:
        if self.cache is not None:
            self.cache.drop_user(eui)

    def _changed_placement(self, *euis: bytes) -> None:
        self._changed_device(*euis)
        if self.cache is not None:
            self.cache.drop_timelines()

    def _changed_registrations(self, mpxn: str) -> None:
        if self.cache is not None:
            self.cache.drop_mpxn(mpxn)


def check_counter(value: int) -> int:
    if not 0 <= value <= COUNTER_MAX:
        raise InvalidIdentifier(f"counter {value} is not an unsigned 64-bit number")
    return value


def effective_anchors(reader: Reader, device: Device) -> dict[AnchorCell, CertRef]:
    shared = reader.anchor_set(device.anchor_set_id) if device.anchor_set_id is not None else None
    base = dict(shared.anchors) if shared is not None else {}
    base.update(reader.anchor_overrides(device.eui))
    return base


def need_device(reader: Reader, eui: bytes) -> Device:
    device = reader.device(eui)
    if device is None:
        raise UnknownDevice(f"no device {format_eui(eui)} in the inventory")
    return device


def need_hub(reader: Reader, eui: bytes) -> Device:
    hub = need_device(reader, eui)
    if hub.type is not DeviceType.CHF:
        raise HanLogError(f"{hub.label} is not a comms hub function (CHF)")
    if hub.premises_id is None:
        raise HanLogError(f"{hub.label} is not installed at any premises (8.14 first)")
    return hub


def need_premises(tx: InventoryWriter, premises_id: int, *, lock: bool = False) -> Premises:
    found = tx.lock_premises(premises_id) if lock else tx.premises(premises_id)
    if found is None:
        raise UnknownPremises(f"no premises {premises_id}")
    return found


def need_meter_point(tx: InventoryWriter, mpxn: str, *, lock: bool = False) -> MeterPoint:
    key = "".join(mpxn.split())
    found = tx.lock_meter_point(key) if lock else tx.meter_point(key)
    if found is None:
        raise UnknownMeterPoint(f"no meter point {mpxn!r}")
    return found
