"""What the DCC remembers from non-device SRs beyond the inventory's devices and statuses:
device details (12.2, 8.4), premises addresses (for 8.2 by UPRN or address and 12.1), the GPF
that belongs to each CHF, comms hub installs and returns (8.14), opt-ins (8.6), local command
responses (8.13) and firmware distribution requests (11.1, 11.4) for the hub's firmware
distributor (``hub/firmware_distribution.py``) to carry out.

The inventory (``smetsnet.inventory``) keeps no manufacturer, model, firmware version or
address; they live here, keyed by EUI or premises id: in memory (plain dicts and lists), or,
given a :class:`~smetsnet.hub.records_store.RecordsStore` (``serve --state``), also on disk,
each change written before it is held, and reloaded by the next process. The store also keeps
the firmware distributor's progress (``store``). Schedules dropped by 8.3
(``schedule_removals``) stay in memory: the schedules themselves are not kept on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping, MutableSequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from smetsnet.errors import SmetsnetError
from smetsnet.hub.records_store import RecordsStore
from smetsnet.hub.schedules import Schedule


class RecordNotFound(SmetsnetError):
    """A record asked for by its key (a firmware request id) is not held."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceDetails:
    """XSD ``Device`` fields the inventory does not hold (12.2, 8.4 UpdateDeviceDetails)."""

    manufacturer: str = ""
    model: str = ""
    smets_chts_version: str | None = None
    firmware_version: str | None = None
    esme_variant: str | None = None
    notified_by: bytes | None = None  # the user whose 12.2 put the device in the inventory


@dataclass(frozen=True, slots=True, kw_only=True)
class PremisesAddress:
    """A premises' Unique Property Reference Number and address (XSD ``PropertyFilter``)."""

    uprn: int | None
    postcode: str
    address_identifier: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommsHubInstall:
    """8.14.1/8.14.2: where and how a comms hub was installed."""

    chf: bytes
    gpf: bytes
    premises_id: int
    mpxn: str
    install_type: str
    location: str
    aerial: bool
    sm_wan: bool  # False: 8.14.2, installed without SM WAN coverage
    by: bytes
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CommsHubReturn:
    """8.14.3/8.14.4: a comms hub sent back to its provider."""

    chf: bytes
    fault: bool
    return_type: str
    reason: str | None
    by: bytes
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OptIn:
    """8.6: a device opted back into DCC service from its opt-in date."""

    device: bytes
    import_mpxn: str
    secondary_import_mpan: str | None
    export_mpan: str | None
    opt_in_date: date
    by: bytes
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalCommandResponse:
    """8.13: a device's response to a locally delivered command, handed back by the user."""

    original_request_id: str | None
    device: bytes
    gbcs_response: bytes
    by: bytes
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareRequest:
    """11.1/11.4: an image for the DCC to distribute to ``devices`` (those that passed)."""

    request_id: str
    srv: str
    by: bytes
    version: str
    image: bytes = field(repr=False)
    devices: tuple[bytes, ...]
    at: datetime
    done: bool = False

    @property
    def image_hash(self) -> bytes:
        """SHA-256 of the image (what 11.3 ActivateFirmware later names)."""
        return hashlib.sha256(self.image).digest()


class NonDeviceRecords:
    """The records above (one per hub process): in memory, and in ``store`` when given (what
    it holds is loaded; :class:`~smetsnet.errors.ConfigurationError` names a file that does
    not read back)."""

    def __init__(self, store: RecordsStore | None = None) -> None:
        self.store = store
        self.details: MutableMapping[bytes, DeviceDetails] = {}
        self.addresses: MutableMapping[int, PremisesAddress] = {}
        self.gpf_of: MutableMapping[bytes, bytes] = {}  # CHF EUI -> its GPF's EUI
        self.installs: MutableMapping[bytes, CommsHubInstall] = {}
        self.returns: MutableSequence[CommsHubReturn] = []
        self.opt_ins: MutableSequence[OptIn] = []
        self.local_responses: MutableSequence[LocalCommandResponse] = []
        self.firmware: MutableSequence[FirmwareRequest] = []
        if store is not None:
            self.details = store.mapping("details", bytes, DeviceDetails)
            self.addresses = store.mapping("addresses", int, PremisesAddress)
            self.gpf_of = store.mapping("gpf_of", bytes, bytes)
            self.installs = store.mapping("installs", bytes, CommsHubInstall)
            self.returns = store.sequence("returns", CommsHubReturn)
            self.opt_ins = store.sequence("opt_ins", OptIn)
            self.local_responses = store.sequence("local_responses", LocalCommandResponse)
            self.firmware = store.sequence("firmware", FirmwareRequest)
        # Schedules dropped because their device left service (8.3): the engine tells their
        # owners (DCC alert DSPScheduleRemoval) and clears the list.
        self.schedule_removals: list[Schedule] = []

    def details_of(self, eui: bytes) -> DeviceDetails:
        return self.details.get(eui, DeviceDetails())

    def set_address(self, premises_id: int, address: PremisesAddress) -> None:
        self.addresses[premises_id] = address

    def premises_with_uprn(self, uprn: int) -> int | None:
        return next((p for p, a in self.addresses.items() if a.uprn == uprn), None)

    def premises_at(self, postcode: str, address_identifier: str) -> list[int]:
        """Premises whose postcode matches (spaces and case ignored) and whose address
        identifier starts with the one given (DCC's partial-address search)."""
        code, ident = _postcode_key(postcode), address_identifier.strip().casefold()
        return [
            p
            for p, a in self.addresses.items()
            if _postcode_key(a.postcode) == code
            and a.address_identifier.casefold().startswith(ident)
        ]

    def pending_firmware(self) -> list[FirmwareRequest]:
        """Distribution requests not finished yet, oldest first."""
        return [r for r in self.firmware if not r.done]

    def firmware_done(self, request_id: str) -> FirmwareRequest:
        """The distributor finished a request: every device served or given up (its devices are
        free for another)."""
        for i, request in enumerate(self.firmware):
            if request.request_id == request_id and not request.done:
                self.firmware[i] = replace(request, done=True)
                return self.firmware[i]
        raise RecordNotFound(f"no pending firmware distribution {request_id}")

    def distributing(self, device: bytes) -> bool:
        return any(device in r.devices for r in self.pending_firmware())


def _postcode_key(postcode: str) -> str:
    return "".join(postcode.split()).upper()
