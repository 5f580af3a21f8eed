"""Service users and registration data: who holds which role for an MPxN, over time, and for
a device at a moment (DUIS access control, E4). The rules are in ``registration``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory._base import ServiceBase, need_meter_point
from smetsnet.inventory.cache import MISS
from smetsnet.inventory.errors import InvalidIdentifier, RegistrationConflict, UnknownUser
from smetsnet.inventory.model import (
    CertRef,
    MeterPoint,
    Registration,
    ServiceUser,
    UserRole,
    UserStatus,
    check_time,
    eui_of,
    role_of,
    to_epoch,
    whole_seconds,
)
from smetsnet.inventory.registration import (
    check_new_interval,
    check_role_on,
    holder_at,
    kinds_for,
    plan_cancel,
    plan_change,
)
from smetsnet.inventory.repository import InventoryWriter


class RegistrationService(ServiceBase):
    # --- service users ---------------------------------------------------------------------

    def add_user(
        self,
        eui: bytes | str,
        name: str,
        roles: Iterable[UserRole | str],
        response_url: str,
        *,
        xml_signing_cert: CertRef | None = None,
    ) -> ServiceUser:
        user = ServiceUser(
            eui=eui_of(eui, "user EUI"),
            name=name,
            roles=frozenset(role_of(r) for r in roles),
            response_url=response_url,
            xml_signing_cert=xml_signing_cert,
        )
        if not user.roles:
            raise InvalidIdentifier(f"user {format_eui(user.eui)} needs at least one role")
        with self.store.transaction() as tx:
            tx.add_user(user)
        self._changed_user(user.eui)
        return user

    def user(self, eui: bytes | str) -> ServiceUser:
        key = eui_of(eui, "user EUI")
        found = self.find_user(key)
        if found is None:
            raise UnknownUser(f"no service user {format_eui(key)}")
        return found

    def find_user(self, eui: bytes) -> ServiceUser | None:
        """The service user with this EUI (8 bytes), or None; from the cache when there is one
        (access control reads it on every request)."""
        cache = self.cache
        if cache is None:
            return self.store.user(eui)
        hit = cache.users.get(eui)
        if hit is not MISS:
            return hit
        found = self.store.user(eui)
        cache.users.put(eui, found)
        return found

    def set_user_status(self, eui: bytes | str, status: UserStatus) -> ServiceUser:
        key = eui_of(eui, "user EUI")
        with self.store.transaction() as tx:
            if tx.user(key) is None:
                raise UnknownUser(f"no service user {format_eui(key)}")
            tx.set_user_status(key, status)
        self._changed_user(key)
        return self.user(key)

    # --- registration data -------------------------------------------------------------------

    def register(
        self,
        mpxn: str,
        role: UserRole | str,
        user: bytes | str,
        valid_from: datetime,
        valid_to: datetime | None = None,
    ) -> Registration:
        """Record that ``user`` holds ``role`` for ``mpxn`` over ``[valid_from, valid_to)``."""
        reg = Registration(
            mpxn=mpxn,
            role=role_of(role),
            user=eui_of(user, "user EUI"),
            valid_from=whole_seconds(valid_from, "valid_from"),
            valid_to=None if valid_to is None else whole_seconds(valid_to, "valid_to"),
        )
        with self.store.transaction() as tx:
            point = self._registrable(tx, reg.mpxn, reg.role, reg.user)
            reg = Registration(
                mpxn=point.mpxn,
                role=reg.role,
                user=reg.user,
                valid_from=reg.valid_from,
                valid_to=reg.valid_to,
            )
            check_new_interval(tx.registrations(point.mpxn, reg.role), reg)
            tx.add_registration(reg)
        self._changed_registrations(reg.mpxn)
        return reg

    def change_holder(
        self, mpxn: str, role: UserRole | str, user: bytes | str, on: datetime
    ) -> Registration:
        """A change of supplier (or operator) on ``on``, which may be in the future."""
        the_role, new_user = role_of(role), eui_of(user, "user EUI")
        with self.store.transaction() as tx:
            point = self._registrable(tx, mpxn, the_role, new_user)
            existing = tx.registrations(point.mpxn, the_role)
            closed, opened = plan_change(
                existing, the_role, point.mpxn, new_user, whole_seconds(on)
            )
            tx.end_registration(point.mpxn, the_role, closed.valid_from, closed.valid_to)
            tx.add_registration(opened)
        self._changed_registrations(point.mpxn)
        return opened

    def cancel_change(self, mpxn: str, role: UserRole | str, on: datetime) -> Registration:
        """Cancel the change starting ``on``; the previous holder's interval is open again."""
        the_role = role_of(role)
        with self.store.transaction() as tx:
            point = need_meter_point(tx, mpxn, lock=True)
            existing = tx.registrations(point.mpxn, the_role)
            dropped, reopened = plan_cancel(existing, the_role, point.mpxn, whole_seconds(on))
            tx.delete_registration(point.mpxn, the_role, dropped.valid_from)
            tx.end_registration(point.mpxn, the_role, reopened.valid_from, None)
        self._changed_registrations(point.mpxn)
        return reopened

    def registrations(self, mpxn: str, role: UserRole | str) -> list[Registration]:
        return self.store.registrations(mpxn, role_of(role))

    def who_holds(self, role: UserRole | str, device: bytes | str, at: datetime) -> bytes | None:
        """The user holding ``role`` for the device's MPxN at ``at`` (None: nobody)."""
        the_role = role_of(role)
        kinds = kinds_for(the_role)
        key = eui_of(device)
        cache = self.cache
        if cache is None:
            user = self.store.who_holds(the_role, kinds, key, check_time(at))
            if user is None:
                self.device(key)  # an unknown device is an error, not "nobody"
            return user
        timeline = cache.timelines.get((key, the_role))
        if timeline is MISS:
            timeline = self.store.role_timeline(the_role, kinds, key)
            if timeline is None:
                self.device(key)
            cache.put_timeline(key, the_role, timeline)
        return None if timeline is None else holder_at(timeline, to_epoch(at))

    def _registrable(
        self, tx: InventoryWriter, mpxn: str, role: UserRole, user: bytes
    ) -> MeterPoint:
        point = need_meter_point(tx, mpxn, lock=True)
        check_role_on(role, point.kind, point.mpxn)
        holder = tx.user(user)
        if holder is None:
            raise UnknownUser(f"no service user {format_eui(user)} to register on {point.mpxn}")
        if role not in holder.roles:
            raise RegistrationConflict(
                f"{point.mpxn}: user {format_eui(user)} does not have role {role.name}"
            )
        return point
