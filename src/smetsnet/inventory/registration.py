"""Registration-data rules: effective-dated intervals of who holds a role for an MPxN.

For one (MPxN, role) the intervals ``[valid_from, valid_to)`` form ONE unbroken timeline: no two
overlap, and no gap lies between the first and the last (the registration data of an MPAN/MPRN
always names a supplier and a network operator once it names one; DOMAIN.md §4). Only the last
interval may be open-ended. A change of supplier on a date closes the current (open) interval at
that date and opens the gaining supplier's from it; it may lie in the future, and may be
cancelled before it happens. These functions only decide; the service writes the result.

Which MPxN a role is read from (DUIS access control, E4): suppliers and distributors of
electricity from the MPAN (import; export for the export supplier; the distributor from either),
gas suppliers and transporters from the MPRN. Other users and registered supplier agents are
not in registration data.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from datetime import datetime

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory.errors import RegistrationConflict, UnknownRole
from smetsnet.inventory.model import MeterKind, Registration, RoleTimeline, UserRole

K = MeterKind
# Role -> the meter kinds it is registered on, in order of preference for a device.
ROLE_KINDS: dict[UserRole, tuple[MeterKind, ...]] = {
    UserRole.IS: (K.IMPORT_MPAN,),
    UserRole.ES: (K.EXPORT_MPAN,),
    UserRole.ED: (K.IMPORT_MPAN, K.EXPORT_MPAN),
    UserRole.GS: (K.MPRN,),
    UserRole.GT: (K.MPRN,),
}


def kinds_for(role: UserRole) -> tuple[MeterKind, ...]:
    kinds = ROLE_KINDS.get(role)
    if kinds is None:
        raise UnknownRole(f"role {role.name} is not held per MPAN/MPRN in registration data")
    return kinds


def check_role_on(role: UserRole, kind: MeterKind, mpxn: str) -> None:
    if kind not in kinds_for(role):
        raise RegistrationConflict(f"{mpxn}: a {kind.name} has no {role.name} registration")


def _end(reg: Registration) -> str:
    return "open end" if reg.valid_to is None else reg.valid_to.isoformat()


def check_new_interval(existing: Sequence[Registration], new: Registration) -> None:
    """Raise RegistrationConflict unless ``new`` keeps the timeline unbroken and unshared."""
    if new.valid_to is not None and new.valid_to <= new.valid_from:
        raise RegistrationConflict(f"{new.mpxn}: interval {new.describe()} ends before it starts")
    timeline = sorted([*existing, new], key=lambda r: r.valid_from)
    for prev, nxt in itertools.pairwise(timeline):
        if prev.valid_to is None or prev.valid_to > nxt.valid_from:
            other = prev if nxt is new else nxt
            raise RegistrationConflict(f"{new.mpxn}: {new.describe()} overlaps {other.describe()}")
        if prev.valid_to < nxt.valid_from:
            raise RegistrationConflict(
                f"{new.mpxn}: {new.describe()} leaves a gap for {new.role.name} from "
                f"{prev.valid_to.isoformat()} to {nxt.valid_from.isoformat()}"
            )


def plan_change(
    existing: Sequence[Registration], role: UserRole, mpxn: str, user: bytes, on: datetime
) -> tuple[Registration, Registration]:
    """A change of holder on ``on``: (the current interval closed at ``on``, the new one)."""
    if not existing:
        raise RegistrationConflict(f"{mpxn}: no {role.name} registration to change")
    last = max(existing, key=lambda r: r.valid_from)
    if last.valid_to is not None:
        raise RegistrationConflict(
            f"{mpxn}: the last {role.name} registration {last.describe()} is closed; "
            "register the next holder instead"
        )
    if on <= last.valid_from:
        raise RegistrationConflict(
            f"{mpxn}: change of {role.name} on {on.isoformat()} is not after the start of "
            f"{last.describe()} (cancel that change first)"
        )
    if last.user == user:
        raise RegistrationConflict(
            f"{mpxn}: {format_eui(user)} already holds {role.name} from {last.valid_from}"
        )
    closed = Registration(
        mpxn=mpxn, role=role, user=last.user, valid_from=last.valid_from, valid_to=on
    )
    return closed, Registration(mpxn=mpxn, role=role, user=user, valid_from=on)


def plan_cancel(
    existing: Sequence[Registration], role: UserRole, mpxn: str, on: datetime
) -> tuple[Registration, Registration]:
    """Undo a change on ``on``: (the interval to delete, the previous one reopened)."""
    ordered = sorted(existing, key=lambda r: r.valid_from)
    if len(ordered) < 2 or ordered[-1].valid_from != on or ordered[-1].valid_to is not None:
        raise RegistrationConflict(f"{mpxn}: no open {role.name} change starting {on} to cancel")
    prev = ordered[-2]
    reopened = Registration(mpxn=mpxn, role=role, user=prev.user, valid_from=prev.valid_from)
    return ordered[-1], reopened


def holder_at(timeline: RoleTimeline, at: int) -> bytes | None:
    """Who the timeline names at epoch second ``at`` (binary search; for the warm cache)."""
    i = bisect.bisect_right(timeline.starts, at) - 1
    if i < 0:
        return None
    end = timeline.ends[i]
    return timeline.users[i] if end is None or at < end else None
