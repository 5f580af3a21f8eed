"""The SMI status lifecycle of a device: ONE table of allowed (from, to) transitions.

A device enters the Smart Metering Inventory as **Pending** (DUIS 12.2 Device Pre-notification
by a supplier, or the CSP's delivery of a comms hub). Our reading of DUIS, transition by
transition (event name in brackets; DOMAIN.md §0 lists the statuses):

* Pending → Whitelisted (``add_to_han_log``): 8.11 Update HAN Device Log adds the device to its
  comms hub's device log, so it may join the HAN. Whitelisted → Pending (``remove_from_han_log``):
  8.11 removes it again before it is installed.
* Whitelisted → InstalledNotCommissioned (``join``): the device joined the comms hub's HAN.
* Pending → InstalledNotCommissioned (``ch_install``): 8.14 Communications Hub Status Update
  (install success) for the CHF and the GPF, which never sit on a device log.
* InstalledNotCommissioned → Commissioned (``commission``): 8.1 Commission Device.
* Pending, Whitelisted, InstalledNotCommissioned → Withdrawn (``withdraw``): 8.4 Update Inventory
  (or the 8.14 withdrawal of a hub) takes a device that never went live out of use.
  Withdrawn → Pending (``pre_notify``): 12.2 notifies the same device again (back from stock).
* InstalledNotCommissioned, Commissioned, Suspended, Recovery, Recovered → Decommissioned
  (``decommission``): 8.3 Decommission Device. Decommissioned is final.
* Pending, Whitelisted, InstalledNotCommissioned, Commissioned → Suspended (``suspend``): the
  device's firmware version is not on the Central Products List (e.g. after 11.x activation of an
  image whose version does not match). Suspended → the status it had before (``restore``) when
  the firmware matches the list again; the device keeps that prior status for this.
* InstalledNotCommissioned, Commissioned → Recovery (``start_recovery``): the SMKI recovery
  procedure replaces the device's anchors (CS02 anyExceptAbnormalRootByRecovery);
  Recovery → Recovered (``recover``) when done; Recovered → Commissioned (``recommission``,
  8.1 again).

Some events only make sense for some device types (:data:`EVENT_DEVICE_TYPES`): the hub's
functions are installed by 8.14, never whitelisted; HAN devices are whitelisted, never 8.14'd.
"""

from __future__ import annotations

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory.errors import IllegalTransition
from smetsnet.inventory.model import HAN_TYPES, HUB_TYPES, DeviceStatus, DeviceType

S = DeviceStatus
INITIAL_STATUS = S.Pending

# The table. Every legal (from, to) pair and the event that causes it; nothing else is legal.
TRANSITIONS: dict[tuple[DeviceStatus, DeviceStatus], str] = {
    (S.Pending, S.Whitelisted): "add_to_han_log",
    (S.Whitelisted, S.Pending): "remove_from_han_log",
    (S.Whitelisted, S.InstalledNotCommissioned): "join",
    (S.Pending, S.InstalledNotCommissioned): "ch_install",
    (S.InstalledNotCommissioned, S.Commissioned): "commission",
    (S.Pending, S.Withdrawn): "withdraw",
    (S.Whitelisted, S.Withdrawn): "withdraw",
    (S.InstalledNotCommissioned, S.Withdrawn): "withdraw",
    (S.Withdrawn, S.Pending): "pre_notify",
    (S.InstalledNotCommissioned, S.Decommissioned): "decommission",
    (S.Commissioned, S.Decommissioned): "decommission",
    (S.Suspended, S.Decommissioned): "decommission",
    (S.Recovery, S.Decommissioned): "decommission",
    (S.Recovered, S.Decommissioned): "decommission",
    (S.Pending, S.Suspended): "suspend",
    (S.Whitelisted, S.Suspended): "suspend",
    (S.InstalledNotCommissioned, S.Suspended): "suspend",
    (S.Commissioned, S.Suspended): "suspend",
    (S.Suspended, S.Pending): "restore",
    (S.Suspended, S.Whitelisted): "restore",
    (S.Suspended, S.InstalledNotCommissioned): "restore",
    (S.Suspended, S.Commissioned): "restore",
    (S.InstalledNotCommissioned, S.Recovery): "start_recovery",
    (S.Commissioned, S.Recovery): "start_recovery",
    (S.Recovery, S.Recovered): "recover",
    (S.Recovered, S.Commissioned): "recommission",
}

EVENTS = frozenset(TRANSITIONS.values())

EVENT_DEVICE_TYPES: dict[str, frozenset[DeviceType]] = {
    "add_to_han_log": HAN_TYPES,
    "remove_from_han_log": HAN_TYPES,
    "join": HAN_TYPES,
    "ch_install": HUB_TYPES,
}


def event_of(
    eui: bytes, device_type: DeviceType, current: DeviceStatus, target: DeviceStatus
) -> str:
    """The event that takes ``current`` to ``target``, or IllegalTransition naming both."""
    event = TRANSITIONS.get((current, target))
    if event is None:
        raise IllegalTransition(format_eui(eui), current.name, target.name)
    allowed = EVENT_DEVICE_TYPES.get(event)
    if allowed is not None and device_type not in allowed:
        why = f"{event} does not apply to a {device_type.name}"
        raise IllegalTransition(format_eui(eui), current.name, target.name, why)
    return event


def target_of(
    eui: bytes,
    device_type: DeviceType,
    current: DeviceStatus,
    event: str,
    prior: DeviceStatus | None = None,
) -> DeviceStatus:
    """Where ``event`` takes a device in ``current`` (``restore`` goes back to ``prior``)."""
    if event not in EVENTS:
        raise IllegalTransition(format_eui(eui), current.name, "?", f"no event named {event!r}")
    if event == "restore":
        if prior is None:
            raise IllegalTransition(format_eui(eui), current.name, "?", "no status to restore")
        event_of(eui, device_type, current, prior)
        return prior
    for (src, dst), name in TRANSITIONS.items():
        if src is current and name == event:
            event_of(eui, device_type, current, dst)
            return dst
    raise IllegalTransition(
        format_eui(eui), current.name, "?", f"{event} is not possible from {current.name}"
    )
