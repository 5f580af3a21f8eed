"""Errors of the device inventory and registration data.

::

    SmetsnetError
    └── InventoryError                anything about devices, premises, users or registrations
        ├── InvalidIdentifier         a malformed EUI-64, MPAN, MPRN, region or time
        ├── NotFound                  something asked for by its key is not held
        │   ├── UnknownDevice         no device with that EUI
        │   ├── UnknownPremises       no premises with that id
        │   ├── UnknownMeterPoint     no MPAN/MPRN
        │   ├── UnknownUser           no service user with that EUI
        │   └── UnknownAnchorSet      no trust-anchor set of that name or id
        ├── UnknownRole               a role name that does not exist, or that cannot be used so
        ├── AlreadyExists             a key already held (device, premises, meter point, user)
        ├── IllegalTransition         a device status change the lifecycle table does not allow
        ├── HanLogError               the communications hub's device log refuses a device
        ├── RegistrationConflict      an overlap, a gap or a role that registration data refuses
        ├── CounterRejected           an originator counter not above the last one (or the floor)
        └── StoreError                the database failed (the driver's error, translated)
            └── SchemaVersionError    the database schema is newer than this code

Every message names what is wrong (the EUI, the MPxN, the interval, the statuses).
"""

from __future__ import annotations

from smetsnet.errors import SmetsnetError


class InventoryError(SmetsnetError):
    """Something about devices, premises, service users or registration data."""


class InvalidIdentifier(InventoryError):
    """A malformed identifier: EUI-64, MPAN (13 digits + check digit), MPRN, region, time."""


class NotFound(InventoryError):
    """Something asked for by its key is not held."""


class UnknownDevice(NotFound):
    """No device with that EUI-64 is in the inventory."""


class UnknownPremises(NotFound):
    """No premises with that id."""


class UnknownMeterPoint(NotFound):
    """No meter point with that MPAN or MPRN."""


class UnknownUser(NotFound):
    """No service user with that EUI-64."""


class UnknownAnchorSet(NotFound):
    """No trust-anchor set with that name or id."""


class UnknownRole(InventoryError):
    """A role name that does not exist, or a role that cannot be used the way asked."""


class AlreadyExists(InventoryError):
    """The key (device EUI, MPxN, user EUI, anchor-set name) is already held."""


class IllegalTransition(InventoryError):
    """The lifecycle table has no transition from the device's status to the one asked for."""

    def __init__(self, device: str, current: str, target: str, why: str = "") -> None:
        self.device = device
        self.current = current
        self.target = target
        detail = f": {why}" if why else ""
        super().__init__(f"device {device}: no transition from {current} to {target}{detail}")


class HanLogError(InventoryError):
    """The communications hub's device log refuses the device (full, wrong type, elsewhere)."""


class RegistrationConflict(InventoryError):
    """Registration data refuses the interval: an overlap, a gap, or a role the MPxN cannot have."""


class CounterRejected(InventoryError):
    """An originator counter that is not above the last accepted one, or is below the floor."""

    def __init__(self, device: str, party: str, counter: int, last: int | None, floor: int) -> None:
        self.counter = counter
        self.last = last
        self.floor = floor
        seen = "none accepted yet" if last is None else f"last accepted {last}"
        super().__init__(
            f"device {device}, party {party}: counter {counter} rejected ({seen}, floor {floor})"
        )


class StoreError(InventoryError):
    """The database failed; the driver's own error is chained as ``__cause__``."""


class SchemaVersionError(StoreError):
    """The database was written by a newer schema than this code knows."""
