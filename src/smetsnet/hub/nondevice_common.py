"""What every non-device SR handler shares: the call's context, refusals with their DUIS code,
small helpers to read request trees and write answer trees, and "may this user act on that
device" in terms of registration data.

Response codes (see ``nondevice`` for the table): a refusal whose meaning DUIS documents in the
generic codes (E4 not registered, E5 status, E11 device type, E19 unknown device) gets that code;
a refusal only this SR can have gets the SR's own code (``E`` + SR major and minor + number, from
the XSD ``ResponseCode`` enumeration). DUIS's meanings of those numbers were not available to us
(SR-CATALOGUE.md §3) except E120201, so which number means what is our reading, stated where each
is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smetsnet.duis import GenericBody, Node
from smetsnet.duis.errors import DuisRejected, DuisSchemaError
from smetsnet.duis.header import parse_eui
from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.access import Accepted
from smetsnet.hub.nondevice_records import NonDeviceRecords
from smetsnet.hub.schedules import ScheduleStore
from smetsnet.inventory import Device, Inventory, UserRole
from smetsnet.inventory import UnknownRole as InventoryUnknownRole

# The generic codes used by the handlers (DOMAIN.md §1.4, SR-CATALOGUE.md §3).
NOT_REGISTERED = "E4"  # role not authorised for this device at the required date-time
STATUS_FORBIDS = "E5"  # device SMI status incompatible with the request
WRONG_DEVICE_TYPE = "E11"  # the request is not valid for the device type
UNKNOWN_DEVICE = "E19"  # the device does not exist
ROLE_NOT_ELIGIBLE = "E2"  # the role may not send this SR (here: the scheduled one)

SUCCESS = "I0"  # the DCC answers with data
# A successful non-device SR with nothing to return is answered I99 (SR-CATALOGUE.md §3: "also a
# successful non-device SR with no data to return").
DONE = "I99"


class Refused(DuisRejected):
    """A non-device request the DCC refuses; ``response_code`` is what the user is answered."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason, response_code=code)


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One accepted request being answered, with everything a handler may read or change."""

    accepted: Accepted
    now: datetime
    inventory: Inventory
    schedules: ScheduleStore
    records: NonDeviceRecords

    @property
    def user(self) -> bytes:
        return self.accepted.user.eui

    @property
    def request_id(self) -> str:
        return str(self.accepted.request.header.request_id)

    def body(self) -> Node:
        """The body as a tree (the generic model; dedicated models are read by their handler)."""
        body = self.accepted.request.body
        if not isinstance(body, GenericBody):
            raise DuisSchemaError(f"SR {self.accepted.sr.srv}: {type(body).__name__} unexpected")
        return body.node

    def device(self, eui: bytes) -> Device:
        found = self.inventory.find_device(eui)
        if found is None:
            raise Refused(UNKNOWN_DEVICE, f"no device {format_eui(eui)}")
        return found

    def acting_role(self, device: Device, roles: frozenset[UserRole] | None = None) -> UserRole:
        """The user's role (among ``roles``, default the SR's) registered for the device now."""
        role = holder_role(self.inventory, self.accepted, device, self.now, roles)
        if role is None:
            raise Refused(
                NOT_REGISTERED,
                f"user {format_eui(self.user)} is not registered for {device.label} at "
                f"{self.now.isoformat()}",
            )
        return role


def holder_role(
    inventory: Inventory,
    accepted: Accepted,
    device: Device,
    at: datetime,
    roles: frozenset[UserRole] | None = None,
) -> UserRole | None:
    """The first of the user's roles (within ``roles``, default those the SR allows) that the
    user holds for the device's MPxN at ``at``; None when none."""
    allowed = {r.name for r in accepted.sr.roles} if roles is None else {r.name for r in roles}
    for role in sorted(r for r in accepted.user.roles if r.name in allowed):
        try:
            holder = inventory.who_holds(role, device.eui, at)
        except InventoryUnknownRole:
            continue  # a role not held per MPxN (OU, RSA) is registered for no device
        if holder == accepted.user.eui:
            return role
    return None


# --- request trees ----------------------------------------------------------------------------


def text(node: Node, name: str) -> str | None:
    found = node.child(name)
    return None if found is None else found.text


def need(node: Node, name: str) -> str:
    found = node.child(name)
    if found is None:
        raise DuisSchemaError(f"{node.name}: {name} expected")
    return found.text


def need_eui(node: Node, name: str) -> bytes:
    return parse_eui(need(node, name).strip(), name)


def eui_list(value: str, field: str) -> tuple[bytes, ...]:
    """A DUIS ``DeviceIDList`` (comma-separated EUIs)."""
    return tuple(parse_eui(part.strip(), field) for part in value.split(","))


# --- answer trees -----------------------------------------------------------------------------


def leaf(name: str, value: str) -> Node:
    return Node(name, text=value)


def tree(name: str, *children: Node | None) -> Node:
    """A container; ``None`` children (optional elements left out) are dropped."""
    return Node(name, children=tuple(c for c in children if c is not None))


def optional(name: str, value: str | None) -> Node | None:
    return None if value is None else Node(name, text=value)


def eui_text(eui: bytes) -> str:
    return format_eui(eui)
