"""The inventory's vocabulary: devices, premises, meter points, service users, registrations,
trust anchors and anti-replay counters, as frozen values.

Names follow DUIS (DOMAIN.md §0): device types and SMI statuses are the XSD enumerations (so
``DeviceStatus["InstalledNotCommissioned"]`` parses the DUIS text), user roles are the DUIS
abbreviations, remote-party roles and cell usages are the GBCS codes (DOMAIN.md §2.3).
EUIs are 8-byte ``bytes`` inside (as in ``smetsnet.gbcs``); times are timezone-aware datetimes
(UTC) that the stores keep as whole epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum

from smetsnet.errors import GbcsEncodeError

# The trust-anchor cell roles and cell usages are GBCS values: one definition, in the codec.
from smetsnet.gbcs.asn1.types import CellUsage as CellUsage
from smetsnet.gbcs.asn1.types import Role
from smetsnet.gbcs.eui import EUI_LENGTH, format_eui, parse_eui
from smetsnet.inventory.errors import InvalidIdentifier, UnknownRole


class DeviceType(IntEnum):
    """DUIS ``DeviceType``."""

    ESME = 1
    GSME = 2
    CHF = 3
    GPF = 4
    PPMID = 5
    IHD = 6
    HCALCS = 7
    CAD = 8


# The comms hub's two functions live on the hub itself; every other type joins its HAN.
HUB_TYPES = frozenset({DeviceType.CHF, DeviceType.GPF})
HAN_TYPES = frozenset(DeviceType) - HUB_TYPES


class DeviceStatus(IntEnum):
    """DUIS ``DeviceStatus`` (the SMI status); member names are the XSD spellings."""

    Pending = 1
    Whitelisted = 2
    InstalledNotCommissioned = 3
    Commissioned = 4
    Decommissioned = 5
    Withdrawn = 6
    Suspended = 7
    Recovery = 8
    Recovered = 9


class UserRole(IntEnum):
    """DUIS user roles; the values are bits so a user's roles fit one integer column."""

    IS = 1  # import supplier
    ES = 2  # export supplier
    GS = 4  # gas supplier
    ED = 8  # electricity distributor (network operator)
    GT = 16  # gas transporter
    OU = 32  # other user
    RSA = 64  # registered supplier agent


class MeterKind(IntEnum):
    """What an MPxN is: an import or export MPAN, or an MPRN."""

    IMPORT_MPAN = 1
    EXPORT_MPAN = 2
    MPRN = 3


class Region(IntEnum):
    """The 14 GB distribution regions, valued by distributor id (the first two MPAN digits)."""

    EASTERN = 10
    EAST_MIDLANDS = 11
    LONDON = 12
    MERSEYSIDE_NORTH_WALES = 13
    MIDLANDS = 14
    NORTHERN = 15
    NORTH_WESTERN = 16
    NORTH_SCOTLAND = 17
    SOUTH_SCOTLAND = 18
    SOUTH_EASTERN = 19
    SOUTHERN = 20
    SOUTH_WALES = 21
    SOUTH_WESTERN = 22
    YORKSHIRE = 23

    @property
    def gsp_group(self) -> str:
        """The settlement GSP group id (``_A`` … ``_P``) of the region."""
        return _GSP_GROUPS[self]


_GSP_GROUPS = dict(
    zip(
        Region,
        ("_A", "_B", "_C", "_D", "_E", "_F", "_G", "_P", "_N", "_J", "_H", "_K", "_L", "_M"),
        strict=True,
    )
)


RemotePartyRole = Role


class AnchorKeyUsage(IntEnum):
    """Key usage of a trust-anchor cell; the values are the X.509 KeyUsage bit numbers."""

    DIGITAL_SIGNATURE = 0
    KEY_AGREEMENT = 4
    KEY_CERT_SIGN = 5
    CRL_SIGN = 6


class UserStatus(IntEnum):
    ACTIVE = 1
    SUSPENDED = 2


# --- identifiers and times ----------------------------------------------------------------


def eui_of(value: bytes | str, what: str = "EUI-64") -> bytes:
    """An EUI as 8 bytes, from bytes or DUIS text; anything else is an InvalidIdentifier."""
    if isinstance(value, bytes):
        if len(value) != EUI_LENGTH:
            raise InvalidIdentifier(f"{what}: {value.hex()!r} is not 8 bytes")
        return value
    try:
        return parse_eui(value)
    except GbcsEncodeError as exc:
        raise InvalidIdentifier(f"{what}: {value!r} is not an EUI-64 (8 hex bytes)") from exc


def role_of(value: UserRole | str) -> UserRole:
    """A user role from its DUIS abbreviation (``"IS"``) or itself."""
    if isinstance(value, UserRole):
        return value
    try:
        return UserRole[value]
    except KeyError:
        known = ", ".join(r.name for r in UserRole)
        raise UnknownRole(f"{value!r} is not a user role (one of {known})") from None


def region_of(value: Region | int | str) -> Region:
    """A region from its distributor id (10-23), its name or its GSP group (``_A``)."""
    if isinstance(value, Region):
        return value
    try:
        if isinstance(value, int):
            return Region(value)
        if value.startswith("_"):
            return next(r for r in Region if r.gsp_group == value.upper())
        return Region[value.upper()] if not value.isdigit() else Region(int(value))
    except (KeyError, ValueError, StopIteration):
        raise InvalidIdentifier(f"{value!r} is not a GB distribution region") from None


def check_time(at: datetime, what: str = "time") -> datetime:
    if at.tzinfo is None:
        raise InvalidIdentifier(f"{what} {at.isoformat()} has no time zone (give UTC)")
    return at


def whole_seconds(at: datetime, what: str = "time") -> datetime:
    """The time as the stores keep it (whole seconds), so what is returned is what is stored."""
    return check_time(at, what).replace(microsecond=0)


def to_epoch(at: datetime) -> int:
    """Whole seconds since 1970 (what the stores keep)."""
    return int(check_time(at).timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    eui: bytes
    type: DeviceType
    status: DeviceStatus
    status_at: datetime
    premises_id: int | None = None  # where installed (the comms hub's premises)
    on_han_log: bool = False  # on that premises' comms-hub device log
    anchor_set_id: int | None = None  # the shared trust anchors it holds
    prior_status: DeviceStatus | None = None  # the status to restore after Suspended

    @property
    def label(self) -> str:
        return f"{self.type.name} {format_eui(self.eui)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Premises:
    id: int
    region: Region
    han_log_max: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterPoint:
    mpxn: str
    kind: MeterKind
    premises_id: int
    device_eui: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertRef:
    """A certificate as the inventory knows it: the SHA-256 of its DER and its subject EUI."""

    der_sha256: bytes
    subject: bytes

    def __post_init__(self) -> None:
        if len(self.der_sha256) != 32:
            raise InvalidIdentifier(
                f"certificate hash must be 32 bytes, got {len(self.der_sha256)}"
            )
        eui_of(self.subject, "certificate subject")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceUser:
    eui: bytes
    name: str
    roles: frozenset[UserRole]
    response_url: str
    xml_signing_cert: CertRef | None = None
    status: UserStatus = UserStatus.ACTIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """``user`` holds ``role`` for ``mpxn`` from ``valid_from`` until before ``valid_to``."""

    mpxn: str
    role: UserRole
    user: bytes
    valid_from: datetime
    valid_to: datetime | None = None  # open end

    def covers(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)

    def describe(self) -> str:
        end = "open end" if self.valid_to is None else self.valid_to.isoformat()
        return f"{self.role.name} {format_eui(self.user)} [{self.valid_from.isoformat()}, {end})"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleTimeline:
    """Every registration interval of one role on the MPxN that serves a device (cacheable)."""

    mpxn: str
    starts: tuple[int, ...]  # epoch seconds, ascending
    ends: tuple[int | None, ...]
    users: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class AnchorCell:
    """A device trust-anchor cell: (remote-party role, key usage, cell usage)."""

    role: RemotePartyRole
    key_usage: AnchorKeyUsage
    cell_usage: CellUsage = CellUsage.MANAGEMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorSet:
    """Trust anchors a whole population holds alike, stored once and referenced per device."""

    id: int
    name: str
    anchors: Mapping[AnchorCell, CertRef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorChange:
    """One trust-anchor replacement on a device: what was there, what replaced it, who, when."""

    device: bytes
    cell: AnchorCell
    old: CertRef | None
    new: CertRef
    replaced_by: bytes
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterState:
    """Anti-replay state of one (device, remote party): ``last`` accepted, ``floor`` minimum."""

    device: bytes
    party: bytes
    last: int | None
    floor: int
