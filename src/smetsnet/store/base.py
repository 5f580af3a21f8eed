"""The inventory repositories over SQL, shared by the SQLite and PostgreSQL stores.

Keys are stored compactly: an EUI-64 as a signed 64-bit integer (its 8 bytes, big-endian, two's
complement), times as epoch seconds, enumerations as their small integer values, and unsigned
64-bit counters shifted down by 2**63 so that signed order is counter order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory.bulk import LoadReport, PremisesBatch
from smetsnet.inventory.errors import AlreadyExists
from smetsnet.inventory.model import (
    AnchorCell,
    AnchorChange,
    AnchorKeyUsage,
    AnchorSet,
    CellUsage,
    CertRef,
    CounterState,
    Device,
    DeviceStatus,
    DeviceType,
    MeterKind,
    MeterPoint,
    Premises,
    Region,
    Registration,
    RemotePartyRole,
    RoleTimeline,
    ServiceUser,
    UserRole,
    UserStatus,
    from_epoch,
    to_epoch,
)
from smetsnet.store import sql
from smetsnet.store.bulkrows import bulk_rows
from smetsnet.store.db import Db, Row
from smetsnet.store.migrations import migrate

COUNTER_SHIFT = 1 << 63


def i64(eui: bytes) -> int:
    return int.from_bytes(eui, "big", signed=True)


def eui8(value: int) -> bytes:
    return value.to_bytes(8, "big", signed=True)


def _opt_eui(value: int | None) -> bytes | None:
    return None if value is None else eui8(value)


def _device(row: Row) -> Device:
    eui, kind, status, prior, at, premises_id, on_log, set_id = row
    return Device(
        eui=eui8(eui),
        type=DeviceType(kind),
        status=DeviceStatus(status),
        prior_status=None if prior is None else DeviceStatus(prior),
        status_at=from_epoch(at),
        premises_id=premises_id,
        on_han_log=bool(on_log),
        anchor_set_id=set_id,
    )


def _meter_point(row: Row) -> MeterPoint:
    mpxn, kind, premises_id, device = row
    return MeterPoint(
        mpxn=mpxn, kind=MeterKind(kind), premises_id=premises_id, device_eui=_opt_eui(device)
    )


def _registration(row: Row) -> Registration:
    mpxn, role, start, end, user = row
    return Registration(
        mpxn=mpxn,
        role=UserRole(role),
        user=eui8(user),
        valid_from=from_epoch(start),
        valid_to=None if end is None else from_epoch(end),
    )


def _cell(row: Row) -> tuple[AnchorCell, CertRef]:
    role, usage, cell_usage, sha, subject = row
    cell = AnchorCell(
        role=RemotePartyRole(role),
        key_usage=AnchorKeyUsage(usage),
        cell_usage=CellUsage(cell_usage),
    )
    return cell, CertRef(der_sha256=bytes(sha), subject=eui8(subject))


def _kinds(kinds: tuple[MeterKind, ...]) -> tuple[int, int, int]:
    return (kinds[0], kinds[-1], kinds[0])


class SqlReader:
    """Reads; on the store itself (committed data) or inside a transaction."""

    def __init__(self, db: Db, set_cache: dict[int, AnchorSet] | None = None) -> None:
        self._db = db
        self._sets = set_cache  # anchor sets never change once written: cache committed ones

    def device(self, eui: bytes) -> Device | None:
        row = self._db.one(sql.DEVICE, (i64(eui),))
        return None if row is None else _device(row)

    def devices_at(self, premises_id: int) -> list[Device]:
        return [_device(r) for r in self._db.all(sql.DEVICES_AT, (premises_id,))]

    def premises(self, premises_id: int) -> Premises | None:
        return self._premises(sql.PREMISES, premises_id)

    def _premises(self, statement: str, premises_id: int) -> Premises | None:
        row = self._db.one(statement, (premises_id,))
        if row is None:
            return None
        return Premises(id=row[0], region=Region(row[1]), han_log_max=row[2])

    def meter_point(self, mpxn: str) -> MeterPoint | None:
        row = self._db.one(sql.METER_POINT, (mpxn,))
        return None if row is None else _meter_point(row)

    def meter_points_at(self, premises_id: int) -> list[MeterPoint]:
        return [_meter_point(r) for r in self._db.all(sql.METER_POINTS_AT, (premises_id,))]

    def user(self, eui: bytes) -> ServiceUser | None:
        row = self._db.one(sql.USER, (i64(eui),))
        if row is None:
            return None
        key, name, roles, url, sha, subject, status = row
        cert = None if sha is None else CertRef(der_sha256=bytes(sha), subject=eui8(subject))
        return ServiceUser(
            eui=eui8(key),
            name=name,
            roles=frozenset(r for r in UserRole if roles & r),
            response_url=url,
            xml_signing_cert=cert,
            status=UserStatus(status),
        )

    def registrations(self, mpxn: str, role: UserRole) -> list[Registration]:
        return [_registration(r) for r in self._db.all(sql.REGISTRATIONS, (mpxn, int(role)))]

    def who_holds(
        self, role: UserRole, kinds: tuple[MeterKind, ...], device: bytes, at: datetime
    ) -> bytes | None:
        t = to_epoch(at)
        row = self._db.one(sql.WHO_HOLDS, (i64(device), *_kinds(kinds), int(role), t))
        if row is None or (row[1] is not None and t >= row[1]):
            return None
        return eui8(row[0])

    def role_timeline(
        self, role: UserRole, kinds: tuple[MeterKind, ...], device: bytes
    ) -> RoleTimeline | None:
        rows = self._db.all(sql.ROLE_TIMELINE, (i64(device), *_kinds(kinds), int(role)))
        if not rows:
            row = self._db.one(sql.SERVING_MPXN, (i64(device), *_kinds(kinds)))
            if row is None:
                return None
            return RoleTimeline(mpxn=row[0], starts=(), ends=(), users=())
        return RoleTimeline(
            mpxn=rows[0][0],
            starts=tuple(r[1] for r in rows),
            ends=tuple(r[2] for r in rows),
            users=tuple(eui8(r[3]) for r in rows),
        )

    def anchor_set(self, set_id: int) -> AnchorSet | None:
        if self._sets is not None and set_id in self._sets:
            return self._sets[set_id]
        return self._anchor_set(self._db.one(sql.ANCHOR_SET, (set_id,)))

    def anchor_set_named(self, name: str) -> AnchorSet | None:
        return self._anchor_set(self._db.one(sql.ANCHOR_SET_NAMED, (name,)))

    def _anchor_set(self, row: Row | None) -> AnchorSet | None:
        if row is None:
            return None
        members = dict(_cell(r) for r in self._db.all(sql.ANCHOR_MEMBERS, (row[0],)))
        found = AnchorSet(id=row[0], name=row[1], anchors=members)
        if self._sets is not None:
            self._sets[found.id] = found
        return found

    def anchor_overrides(self, device: bytes) -> dict[AnchorCell, CertRef]:
        return dict(_cell(r) for r in self._db.all(sql.ANCHOR_OVERRIDES, (i64(device),)))

    def anchor_history(self, device: bytes) -> list[AnchorChange]:
        out = []
        for row in self._db.all(sql.ANCHOR_HISTORY, (i64(device),)):
            eui, role, usage, cell_usage, old_sha, old_subject, sha, subject, by, at, why = row
            cell, new = _cell((role, usage, cell_usage, sha, subject))
            old = None
            if old_sha is not None:
                old = CertRef(der_sha256=bytes(old_sha), subject=eui8(old_subject))
            out.append(
                AnchorChange(
                    device=eui8(eui),
                    cell=cell,
                    old=old,
                    new=new,
                    replaced_by=eui8(by),
                    at=from_epoch(at),
                    reason=why,
                )
            )
        return out

    def counter(self, device: bytes, party: bytes) -> CounterState | None:
        row = self._db.one(sql.COUNTER, (i64(device), i64(party)))
        if row is None:
            return None
        last = None if row[0] is None else row[0] + COUNTER_SHIFT
        return CounterState(device=device, party=party, last=last, floor=row[1] + COUNTER_SHIFT)

    def premises_by_region(self) -> dict[Region, int]:
        return {Region(r): n for r, n in self._db.all(sql.PREMISES_BY_REGION)}

    def row_counts(self) -> dict[str, int]:
        counts = {}
        for table in sql.TABLES:
            row = self._db.one(f"SELECT COUNT(*) FROM {table}")  # our own table names
            counts[table] = 0 if row is None else int(row[0])
        return counts


@contextmanager
def _unique(what: str) -> Iterator[None]:
    try:
        yield
    except AlreadyExists as exc:
        raise AlreadyExists(f"{what} already exists") from exc


class SqlWriter(SqlReader):
    """Reads and writes inside one transaction (see the repository contract)."""

    def lock_premises(self, premises_id: int) -> Premises | None:
        return self._premises(sql.PREMISES + self._db.dialect.for_update, premises_id)

    def lock_meter_point(self, mpxn: str) -> MeterPoint | None:
        row = self._db.one(sql.METER_POINT + self._db.dialect.for_update, (mpxn,))
        return None if row is None else _meter_point(row)

    def add_device(self, device: Device) -> None:
        prior = None if device.prior_status is None else int(device.prior_status)
        row = (
            i64(device.eui),
            int(device.type),
            int(device.status),
            prior,
            to_epoch(device.status_at),
            device.premises_id,
            int(device.on_han_log),
            device.anchor_set_id,
        )
        with _unique(f"device {format_eui(device.eui)}"):
            self._db.run(sql.INSERT_DEVICE, row)

    def set_status(
        self,
        eui: bytes,
        expected: DeviceStatus,
        new: DeviceStatus,
        prior: DeviceStatus | None,
        at: datetime,
    ) -> bool:
        prior_value = None if prior is None else int(prior)
        params = (int(new), prior_value, to_epoch(at), i64(eui), int(expected))
        return self._db.run(sql.SET_STATUS, params) == 1

    def set_placement(self, eui: bytes, premises_id: int | None, on_han_log: bool) -> None:
        self._db.run(sql.SET_PLACEMENT, (premises_id, int(on_han_log), i64(eui)))

    def set_device_anchor_set(self, eui: bytes, set_id: int | None) -> None:
        self._db.run(sql.SET_ANCHOR_SET, (set_id, i64(eui)))

    def add_premises(self, region: Region, han_log_max: int) -> int:
        row = self._db.one(sql.INSERT_PREMISES, (int(region), han_log_max))
        assert row is not None  # RETURNING always gives the row
        return int(row[0])

    def add_meter_point(self, point: MeterPoint) -> None:
        device = None if point.device_eui is None else i64(point.device_eui)
        with _unique(f"meter point {point.mpxn}"):
            self._db.run(
                sql.INSERT_METER_POINT, (point.mpxn, int(point.kind), point.premises_id, device)
            )

    def link_meter_point(self, mpxn: str, device: bytes | None) -> None:
        self._db.run(sql.LINK_METER_POINT, (None if device is None else i64(device), mpxn))

    def add_registration(self, reg: Registration) -> None:
        end = None if reg.valid_to is None else to_epoch(reg.valid_to)
        row = (reg.mpxn, int(reg.role), to_epoch(reg.valid_from), end, i64(reg.user))
        with _unique(f"registration {reg.mpxn} {reg.describe()}"):
            self._db.run(sql.INSERT_REGISTRATION, row)

    def end_registration(
        self, mpxn: str, role: UserRole, valid_from: datetime, valid_to: datetime | None
    ) -> None:
        end = None if valid_to is None else to_epoch(valid_to)
        self._db.run(sql.END_REGISTRATION, (end, mpxn, int(role), to_epoch(valid_from)))

    def delete_registration(self, mpxn: str, role: UserRole, valid_from: datetime) -> None:
        self._db.run(sql.DELETE_REGISTRATION, (mpxn, int(role), to_epoch(valid_from)))

    def add_user(self, user: ServiceUser) -> None:
        cert = user.xml_signing_cert
        row = (
            i64(user.eui),
            user.name,
            sum(user.roles),
            user.response_url,
            None if cert is None else cert.der_sha256,
            None if cert is None else i64(cert.subject),
            int(user.status),
        )
        with _unique(f"service user {format_eui(user.eui)}"):
            self._db.run(sql.INSERT_USER, row)

    def set_user_status(self, eui: bytes, status: UserStatus) -> None:
        self._db.run(sql.SET_USER_STATUS, (int(status), i64(eui)))

    def add_anchor_set(self, name: str, anchors: Mapping[AnchorCell, CertRef]) -> int:
        with _unique(f"anchor set {name!r}"):
            row = self._db.one(sql.INSERT_ANCHOR_SET, (name,))
        assert row is not None
        set_id = int(row[0])
        self._db.many(
            sql.INSERT_ANCHOR_MEMBER,
            [(set_id, *_cell_params(cell, cert)) for cell, cert in anchors.items()],
        )
        return set_id

    def set_anchor_override(self, device: bytes, cell: AnchorCell, cert: CertRef) -> None:
        self._db.run(sql.SET_ANCHOR_OVERRIDE, (i64(device), *_cell_params(cell, cert)))

    def add_anchor_change(self, change: AnchorChange) -> None:
        old = change.old
        self._db.run(
            sql.INSERT_ANCHOR_HISTORY,
            (
                i64(change.device),
                int(change.cell.role),
                int(change.cell.key_usage),
                int(change.cell.cell_usage),
                None if old is None else old.der_sha256,
                None if old is None else i64(old.subject),
                change.new.der_sha256,
                i64(change.new.subject),
                i64(change.replaced_by),
                to_epoch(change.at),
                change.reason,
            ),
        )

    def set_counter_floor(self, device: bytes, party: bytes, floor: int) -> None:
        self._db.run(sql.SET_COUNTER_FLOOR, (i64(device), i64(party), floor - COUNTER_SHIFT))


def _cell_params(cell: AnchorCell, cert: CertRef) -> tuple[int, int, int, bytes, int]:
    return (
        int(cell.role),
        int(cell.key_usage),
        int(cell.cell_usage),
        cert.der_sha256,
        i64(cert.subject),
    )


class SqlStore(SqlReader):
    """An :class:`~smetsnet.inventory.repository.InventoryStore` over one SQL connection."""

    def __init__(self, db: Db) -> None:
        super().__init__(db, set_cache={})
        self.db = db
        self.migrated = migrate(db)

    @contextmanager
    def transaction(self) -> Iterator[SqlWriter]:
        with self._db.transaction():
            yield SqlWriter(self._db)

    def bulk_load(self, batch: PremisesBatch) -> LoadReport:
        """The whole batch in one transaction (rows in key order; see ``store.bulkrows``)."""
        start = time.perf_counter()
        with self._db.transaction():
            row = self._db.one(sql.MAX_PREMISES)
            rows = bulk_rows(batch, (0 if row is None else int(row[0])) + 1)
            self._db.bulk_insert("premises", sql.PREMISES_COLUMNS, rows.premises)
            self._db.bulk_insert("device", sql.DEVICE_COLUMNS, rows.devices)
            self._db.bulk_insert("meter_point", sql.METER_POINT_COLUMNS, rows.meter_points)
            self._db.bulk_insert("registration", sql.REGISTRATION_COLUMNS, rows.registrations)
        self._db.after_bulk_load(("premises", "device", "meter_point", "registration"))
        premises, devices, points, registrations = rows.counts
        return LoadReport(
            premises=premises,
            devices=devices,
            meter_points=points,
            registrations=registrations,
            seconds=time.perf_counter() - start,
        )

    def advance_counter(self, device: bytes, party: bytes, counter: int) -> bool:
        value = counter - COUNTER_SHIFT
        floor = -COUNTER_SHIFT  # a first counter from a party with no floor: anything goes
        return self._db.run(sql.ADVANCE_COUNTER, (i64(device), i64(party), value, floor)) == 1

    def close(self) -> None:
        self._db.close()
