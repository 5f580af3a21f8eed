"""The inventory service: lifecycle, HAN device logs, registration rules, trust anchors and
anti-replay counters, on top of any :class:`~smetsnet.inventory.repository.InventoryStore`.

Every public change is one store transaction: the rules are checked on what the transaction
reads, then everything is written, or nothing (a rule that fails half-way raises and the store
rolls back). The warm :class:`~smetsnet.inventory.cache.LookupCache` answers device and role
look-ups and is told about every change made through this service.

:class:`Inventory` is one object in four modules: ``_base`` (store, cache, clock, key look-ups),
``registrations`` (service users, registration data, ``who_holds``), ``trust`` (anchors,
counters) and this one (devices, lifecycle, premises, device logs, meter points, bulk loads).
"""

from __future__ import annotations

from datetime import datetime

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory import lifecycle
from smetsnet.inventory._base import need_device, need_hub, need_meter_point, need_premises
from smetsnet.inventory.bulk import LoadReport, PremisesBatch
from smetsnet.inventory.errors import (
    HanLogError,
    IllegalTransition,
    InvalidIdentifier,
    UnknownPremises,
)
from smetsnet.inventory.model import (
    HAN_TYPES,
    Device,
    DeviceStatus,
    DeviceType,
    MeterKind,
    MeterPoint,
    Premises,
    Region,
    eui_of,
    region_of,
)
from smetsnet.inventory.mpxn import parse_mpxn
from smetsnet.inventory.registrations import RegistrationService
from smetsnet.inventory.repository import InventoryWriter
from smetsnet.inventory.trust import TrustService

S = DeviceStatus
DEFAULT_HAN_LOG_MAX = 16  # our default device-log size; a premises may set its own


class Inventory(RegistrationService, TrustService):
    """The inventory service (users, registrations and trust come from its two bases)."""

    # --- devices and their lifecycle ------------------------------------------------------

    def add_device(
        self, eui: bytes | str, device_type: DeviceType, *, at: datetime | None = None
    ) -> Device:
        """A device enters the inventory as Pending (12.2 pre-notification, CSP delivery)."""
        device = Device(
            eui=eui_of(eui),
            type=device_type,
            status=lifecycle.INITIAL_STATUS,
            status_at=self._now(at),
        )
        with self.store.transaction() as tx:
            tx.add_device(device)
        self._changed_device(device.eui)
        return device

    def change_status(
        self, eui: bytes | str, target: DeviceStatus, *, at: datetime | None = None
    ) -> Device:
        """Move a device to ``target`` if the lifecycle table allows it from where it is."""
        key = eui_of(eui)
        with self.store.transaction() as tx:
            device = self._transition(tx, need_device(tx, key), target, self._now(at))
        self._changed_device(key)
        return device

    def apply(self, eui: bytes | str, event: str, *, at: datetime | None = None) -> Device:
        """Apply a named lifecycle event (``commission``, ``restore``, ...)."""
        key = eui_of(eui)
        with self.store.transaction() as tx:
            device = need_device(tx, key)
            target = lifecycle.target_of(
                key, device.type, device.status, event, device.prior_status
            )
            device = self._transition(tx, device, target, self._now(at))
        self._changed_device(key)
        return device

    def commission(self, eui: bytes | str, *, at: datetime | None = None) -> Device:
        return self.change_status(eui, S.Commissioned, at=at)

    def decommission(self, eui: bytes | str, *, at: datetime | None = None) -> Device:
        return self.change_status(eui, S.Decommissioned, at=at)

    def _transition(
        self, tx: InventoryWriter, device: Device, target: DeviceStatus, at: datetime
    ) -> Device:
        lifecycle.event_of(device.eui, device.type, device.status, target)
        if target is S.Suspended:
            prior: DeviceStatus | None = device.status  # what ``restore`` goes back to
        elif device.status is S.Suspended:
            if target is not S.Decommissioned and target is not device.prior_status:
                why = f"it was {device.prior_status.name if device.prior_status else '?'}"
                raise IllegalTransition(format_eui(device.eui), "Suspended", target.name, why)
            prior = None
        else:
            prior = device.prior_status
        if not tx.set_status(device.eui, device.status, target, prior, at):
            raise IllegalTransition(
                format_eui(device.eui), device.status.name, target.name, "changed meanwhile"
            )
        return Device(
            eui=device.eui,
            type=device.type,
            status=target,
            status_at=at,
            premises_id=device.premises_id,
            on_han_log=device.on_han_log,
            anchor_set_id=device.anchor_set_id,
            prior_status=prior,
        )

    # --- premises, comms hubs, device logs, meter points ---------------------------------

    def add_premises(
        self, region: Region | int | str, *, han_log_max: int = DEFAULT_HAN_LOG_MAX
    ) -> Premises:
        if not 1 <= han_log_max <= 255:
            raise InvalidIdentifier(f"device-log size {han_log_max} is not 1-255")
        reg = region_of(region)
        with self.store.transaction() as tx:
            pid = tx.add_premises(reg, han_log_max)
        return Premises(id=pid, region=reg, han_log_max=han_log_max)

    def premises(self, premises_id: int) -> Premises:
        found = self.store.premises(premises_id)
        if found is None:
            raise UnknownPremises(f"no premises {premises_id}")
        return found

    def install_comms_hub(
        self, premises_id: int, chf: bytes | str, gpf: bytes | str, *, at: datetime | None = None
    ) -> None:
        """8.14 install success: CHF and GPF placed at the premises, InstalledNotCommissioned."""
        when = self._now(at)
        keys = (eui_of(chf, "CHF"), eui_of(gpf, "GPF"))
        with self.store.transaction() as tx:
            need_premises(tx, premises_id, lock=True)
            if any(d.type is DeviceType.CHF for d in tx.devices_at(premises_id)):
                raise HanLogError(f"premises {premises_id} already has a comms hub")
            for key, wanted in zip(keys, (DeviceType.CHF, DeviceType.GPF), strict=True):
                device = need_device(tx, key)
                if device.type is not wanted:
                    raise HanLogError(f"{device.label} is not a {wanted.name}")
                tx.set_placement(key, premises_id, False)
                self._transition(tx, device, S.InstalledNotCommissioned, when)
        self._changed_placement(*keys)

    def add_to_han_log(
        self, chf: bytes | str, device_eui: bytes | str, *, at: datetime | None = None
    ) -> Device:
        """8.11: put a device on the hub's device log (Pending -> Whitelisted)."""
        hub_key, key = eui_of(chf, "CHF"), eui_of(device_eui)
        with self.store.transaction() as tx:
            hub = need_hub(tx, hub_key)
            assert hub.premises_id is not None  # need_hub checks it
            premises = need_premises(tx, hub.premises_id, lock=True)
            device = need_device(tx, key)
            if device.type not in HAN_TYPES:
                raise HanLogError(f"{device.label} is part of a hub, not a HAN device")
            if device.on_han_log:
                raise HanLogError(
                    f"{device.label} is already on premises {device.premises_id}'s log"
                )
            on_log = sum(d.on_han_log for d in tx.devices_at(premises.id))
            if on_log >= premises.han_log_max:
                raise HanLogError(
                    f"device log of {hub.label} is full ({on_log} of {premises.han_log_max})"
                )
            tx.set_placement(key, premises.id, True)
            if device.status is S.Pending:
                device = self._transition(tx, device, S.Whitelisted, self._now(at))
        self._changed_placement(key)
        return self.device(key)

    def remove_from_han_log(
        self, chf: bytes | str, device_eui: bytes | str, *, at: datetime | None = None
    ) -> Device:
        """8.11 removal: off the log (a Whitelisted device goes back to Pending)."""
        hub_key, key = eui_of(chf, "CHF"), eui_of(device_eui)
        with self.store.transaction() as tx:
            hub = need_hub(tx, hub_key)
            device = need_device(tx, key)
            if not device.on_han_log or device.premises_id != hub.premises_id:
                raise HanLogError(f"{device.label} is not on the device log of {hub.label}")
            if device.status is S.Whitelisted:
                self._transition(tx, device, S.Pending, self._now(at))
                tx.set_placement(key, None, False)
            else:
                tx.set_placement(key, device.premises_id, False)
        self._changed_placement(key)
        return self.device(key)

    def han_log(self, chf: bytes | str) -> list[Device]:
        hub = need_hub(self.store, eui_of(chf, "CHF"))
        assert hub.premises_id is not None
        return [d for d in self.store.devices_at(hub.premises_id) if d.on_han_log]

    def add_meter_point(self, mpxn: str, kind: MeterKind, premises_id: int) -> MeterPoint:
        point = MeterPoint(mpxn=parse_mpxn(mpxn, kind), kind=kind, premises_id=premises_id)
        with self.store.transaction() as tx:
            need_premises(tx, premises_id)
            tx.add_meter_point(point)
        self._changed_placement()
        return point

    def link_meter(self, mpxn: str, meter: bytes | str) -> MeterPoint:
        """The meter that measures an MPxN (ESME for an MPAN, GSME for an MPRN)."""
        key = eui_of(meter)
        with self.store.transaction() as tx:
            point = need_meter_point(tx, mpxn, lock=True)
            device = need_device(tx, key)
            wanted = DeviceType.GSME if point.kind is MeterKind.MPRN else DeviceType.ESME
            if device.type is not wanted:
                raise HanLogError(
                    f"{point.mpxn} is measured by a {wanted.name}, not {device.label}"
                )
            if device.premises_id not in (None, point.premises_id):
                raise HanLogError(
                    f"{device.label} is at premises {device.premises_id}, {point.mpxn} at "
                    f"premises {point.premises_id}"
                )
            if device.premises_id is None:
                tx.set_placement(key, point.premises_id, device.on_han_log)
            tx.link_meter_point(point.mpxn, key)
        self._changed_placement(key)
        return MeterPoint(
            mpxn=point.mpxn, kind=point.kind, premises_id=point.premises_id, device_eui=key
        )

    def premises_by_region(self) -> dict[Region, int]:
        """How many premises each distribution region has (network operators' aggregates)."""
        return self.store.premises_by_region()

    # --- bulk and cache ----------------------------------------------------------------------

    def load(self, batch: PremisesBatch) -> LoadReport:
        report = self.store.bulk_load(batch)
        if self.cache is not None:
            self.cache.clear()
        return report
