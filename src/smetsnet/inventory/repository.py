"""What the inventory needs from a store: repository interfaces (``typing.Protocol``).

``smetsnet.store`` implements them on SQLite and PostgreSQL. The contract:

* Reads (:class:`InventoryReader`) return values or None and never change anything.
* Every change happens inside ``store.transaction()`` (an :class:`InventoryWriter`): all of it
  is committed, or, when anything in the block raises, none of it. Writers do no rule checks
  (the service does them); they only report a key already held as AlreadyExists, and the
  ``lock_*`` reads serialise concurrent writers on the same premises or meter point.
* ``advance_counter`` is the one change outside a transaction block: a single atomic
  check-and-advance, safe across processes.
* Database failures surface as StoreError; no driver exception escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from smetsnet.inventory.bulk import LoadReport, PremisesBatch
from smetsnet.inventory.model import (
    AnchorCell,
    AnchorChange,
    AnchorSet,
    CertRef,
    CounterState,
    Device,
    DeviceStatus,
    MeterKind,
    MeterPoint,
    Premises,
    Region,
    Registration,
    RoleTimeline,
    ServiceUser,
    UserRole,
    UserStatus,
)


class InventoryReader(Protocol):
    def device(self, eui: bytes) -> Device | None: ...

    def premises(self, premises_id: int) -> Premises | None: ...

    def meter_point(self, mpxn: str) -> MeterPoint | None: ...

    def meter_points_at(self, premises_id: int) -> list[MeterPoint]: ...

    def devices_at(self, premises_id: int) -> list[Device]: ...

    def user(self, eui: bytes) -> ServiceUser | None: ...

    def registrations(self, mpxn: str, role: UserRole) -> list[Registration]: ...

    def who_holds(
        self, role: UserRole, kinds: tuple[MeterKind, ...], device: bytes, at: datetime
    ) -> bytes | None:
        """ONE query: device -> its premises' MPxN of ``kinds`` -> registration at ``at``.

        The MPxN linked to the device itself is preferred, then the order of ``kinds``.
        """
        ...

    def role_timeline(
        self, role: UserRole, kinds: tuple[MeterKind, ...], device: bytes
    ) -> RoleTimeline | None: ...

    def anchor_set(self, set_id: int) -> AnchorSet | None: ...

    def anchor_set_named(self, name: str) -> AnchorSet | None: ...

    def anchor_overrides(self, device: bytes) -> dict[AnchorCell, CertRef]: ...

    def anchor_history(self, device: bytes) -> list[AnchorChange]: ...

    def counter(self, device: bytes, party: bytes) -> CounterState | None: ...

    def premises_by_region(self) -> dict[Region, int]: ...

    def row_counts(self) -> dict[str, int]: ...


class InventoryWriter(InventoryReader, Protocol):
    def lock_premises(self, premises_id: int) -> Premises | None: ...

    def lock_meter_point(self, mpxn: str) -> MeterPoint | None: ...

    def add_device(self, device: Device) -> None: ...

    def set_status(
        self,
        eui: bytes,
        expected: DeviceStatus,
        new: DeviceStatus,
        prior: DeviceStatus | None,
        at: datetime,
    ) -> bool:
        """Compare-and-set: True when the device was still in ``expected``."""
        ...

    def set_placement(self, eui: bytes, premises_id: int | None, on_han_log: bool) -> None: ...

    def set_device_anchor_set(self, eui: bytes, set_id: int | None) -> None: ...

    def add_premises(self, region: Region, han_log_max: int) -> int: ...

    def add_meter_point(self, point: MeterPoint) -> None: ...

    def link_meter_point(self, mpxn: str, device: bytes | None) -> None: ...

    def add_registration(self, reg: Registration) -> None: ...

    def end_registration(
        self, mpxn: str, role: UserRole, valid_from: datetime, valid_to: datetime | None
    ) -> None: ...

    def delete_registration(self, mpxn: str, role: UserRole, valid_from: datetime) -> None: ...

    def add_user(self, user: ServiceUser) -> None: ...

    def set_user_status(self, eui: bytes, status: UserStatus) -> None: ...

    def add_anchor_set(self, name: str, anchors: Mapping[AnchorCell, CertRef]) -> int: ...

    def set_anchor_override(self, device: bytes, cell: AnchorCell, cert: CertRef) -> None: ...

    def add_anchor_change(self, change: AnchorChange) -> None: ...

    def set_counter_floor(self, device: bytes, party: bytes, floor: int) -> None: ...


class InventoryStore(InventoryReader, Protocol):
    def transaction(self) -> AbstractContextManager[InventoryWriter]: ...

    def advance_counter(self, device: bytes, party: bytes, counter: int) -> bool:
        """Atomically accept ``counter`` iff it is above the last one and not below the floor."""
        ...

    def bulk_load(self, batch: PremisesBatch) -> LoadReport:
        """Write a whole population in one transaction (the fastest way each back-end has)."""
        ...

    def close(self) -> None: ...
