"""DUIS access control (sans-I/O): the checks a service request passes before the hub acts on it.

:meth:`AccessControl.check` runs the checks of issue 5 §2 in order, writes one audit entry per
check (a request's entries are appended together, in order, when its run ends, however it ends:
one lock and one pass over the chain instead of nine), and stops at the first failure with the
DUIS error it maps to. The caller supplies the clock (``now``) and the endpoint the request
arrived on.

Signature failures answer **E1**: DOMAIN.md §1.4 gives E1 as "invalid user/role", and DUIS has no
dedicated code for a bad signature, so a request whose signer cannot be authenticated (or is not
the RequestID's originator) is treated as coming from no valid user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from lxml import etree

from smetsnet.duis import MessageId, Request, SrInfo, from_element, parse_xml, sr_info
from smetsnet.duis.catalogue import Role
from smetsnet.duis.errors import (
    DeviceStatusForbids,
    DeviceTypeMismatch,
    DuisError,
    DuisRejected,
    DuisSchemaError,
    NotAuthorisedForDevice,
    RoleNotEligible,
    UnknownDevice,
    UnknownUser,
    UserStatusForbids,
    WrongEndpoint,
)
from smetsnet.duis.execution import future_execution
from smetsnet.duis.xml import DEFAULT_MAX_BYTES
from smetsnet.duis.xmldsig import DuisSignatureError, IssuerSerial, verify_element
from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.audit import AuditLog, Check, Outcome, Step
from smetsnet.inventory import (
    Device,
    DeviceStatus,
    DeviceType,
    Inventory,
    MeterKind,
    ServiceUser,
    UserRole,
    UserStatus,
)
from smetsnet.inventory import UnknownRole as InventoryUnknownRole
from smetsnet.inventory.registration import ROLE_KINDS
from smetsnet.smki.profile import eui_of


class SignatureRejected(DuisRejected):
    """No valid signature by the originator's XML-signing certificate (E1, see module doc)."""

    response_code = "E1"


class ReplayedRequest(DuisRejected):
    """The RequestID counter is not above the last accepted one from this user.

    DUIS gives no code of its own for a replay; E1 (invalid user) is answered, as for a
    request that cannot be attributed to the user."""

    response_code = "E1"


# Device statuses in which the hub sends device SRs (SMI statuses, DUIS DeviceStatus). A
# device not yet installed (Pending, Whitelisted) or out of service (Decommissioned,
# Withdrawn, Suspended, Recovery, Recovered) gets E5. Kept deliberately small: per-SR
# exceptions (e.g. 8.3 decommissioning a Suspended device) are added here when needed.
DEVICE_STATUSES_ALLOWED: frozenset[DeviceStatus] = frozenset(
    {DeviceStatus.Commissioned, DeviceStatus.InstalledNotCommissioned}
)

# The endpoint a command variant must arrive on (DCC Boxed: /api/v1/serviceS|T|D).
ENDPOINT_OF_CV: Mapping[int, str] = {4: "serviceT", 8: "serviceD"}
DEFAULT_ENDPOINT = "serviceS"

# Roles whose entitlement to a device is not held in MPxN registration data (SEC: an Other
# User acts with the consumer's consent, not as a registered party); check 7 passes for them.
T = TypeVar("T")

UNREGISTERED_ROLES: frozenset[UserRole] = frozenset({UserRole.OU})
#: Who signed a schedule's run: no user (the DCC sends it; the 5.1 request was signed).
_SCHEDULE_SIGNER = IssuerSerial(issuer="DCC schedule", serial=0)
#: Signing certificates whose EUI is remembered (far more than a network's users).
_SIGNERS_KEPT = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """A request that passed every check."""

    request: Request
    user: ServiceUser
    sr: SrInfo
    device: Device | None  # None for a non-device SR
    role: UserRole  # the role the user acts in
    signer: IssuerSerial


@dataclass(slots=True)
class _Run:
    """The state of one check run: what its audit entries carry, and the entries (one step
    each, in order), appended to the log together when the run ends, however it ends."""

    now: datetime
    request_id: str | None = None
    user: bytes | None = None
    steps: list[Step] = field(default_factory=list)

    def audit_to(self, log: AuditLog) -> None:
        if self.steps:
            log.record(self.now, self.request_id, self.user, self.steps)


class AccessControl:
    """The hub's access control over an :class:`Inventory` and the users' XML-signing
    certificates (``certificates``: the index ``xmldsig.certificate_index`` builds)."""

    def __init__(
        self,
        inventory: Inventory,
        certificates: Mapping[IssuerSerial, x509.Certificate],
        *,
        audit: AuditLog | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.inventory = inventory
        self.certificates = certificates
        self.audit = audit if audit is not None else AuditLog()
        self.max_bytes = max_bytes
        self._last_counter: dict[bytes, int] = {}
        #: XML signatures checked on requests, and how many were valid (the traffic report)
        self.signatures_checked = 0
        self.signatures_valid = 0
        #: The last refused request's RequestID and SR variant, once parsed far enough to answer
        #: it in DUIS (``None`` when it never became a request).
        self.refused: tuple[MessageId, str] | None = None
        self._signer_euis: dict[int, tuple[x509.Certificate, bytes | None]] = {}

    def last_counter(self, user: bytes) -> int | None:
        return self._last_counter.get(user)

    def check(self, xml: bytes, *, endpoint: str, now: datetime) -> Accepted:
        """Run the checks in order; raise the first failure's error (audited) or accept."""
        run = _Run(now=now)
        try:
            return self._checked(xml, endpoint, run)
        finally:
            run.audit_to(self.audit)

    def _checked(self, xml: bytes, endpoint: str, run: _Run) -> Accepted:
        now = run.now
        self.refused = None
        request, root = self._step(run, Check.SHAPE, lambda: _shape(xml, self.max_bytes, run))
        header = request.header
        self.refused = (header.request_id, header.service_reference_variant)
        signer = self._step(run, Check.SIGNATURE, lambda: self._signature(root, run.user))
        user = self._step(run, Check.USER, lambda: self._user(header.request_id.originator))
        sr = sr_info(header.service_reference_variant)  # known: the shape check looked it up
        roles = self._step(run, Check.ROLE, lambda: _eligible_roles(user, sr))
        device: Device | None = None
        role = min(roles)
        if sr.non_device:
            for skipped in (Check.DEVICE, Check.DEVICE_TYPE, Check.REGISTRATION):
                self._record(run, skipped, Outcome.SKIP, f"SR {sr.srv} is a non-device SR")
        else:
            target = header.request_id.target
            device = self._step(run, Check.DEVICE, lambda: self._device(target))
            self._step(run, Check.DEVICE_TYPE, lambda: _fits_type(sr, device))
            at = _execution_time(request, now)
            role = self._step(run, Check.REGISTRATION, lambda: self._holds(user, roles, device, at))
        self._step(
            run, Check.COMMAND_VARIANT, lambda: _variant(sr, header.command_variant, endpoint)
        )
        counter = header.request_id.counter
        self._step(run, Check.COUNTER, lambda: self._counter(user.eui, counter))
        self._last_counter[user.eui] = counter
        self.refused = None
        return Accepted(request=request, user=user, sr=sr, device=device, role=role, signer=signer)

    def check_scheduled(self, request: Request, *, now: datetime) -> Accepted:
        """A DCC schedule's run (DUIS 5.1): the DCC sends it on its owner's behalf, so there is
        no XML signature (the 5.1 request was signed) and the counter is the next of the
        owner's (:meth:`reserve_counter`); the user, role, device, type and registration are
        checked again at the run's time, so a schedule outlives no change of supplier."""
        header = request.header
        run = _Run(now=now, request_id=str(header.request_id))
        run.user = header.request_id.originator
        try:
            return self._checked_scheduled(request, run)
        finally:
            run.audit_to(self.audit)

    def _checked_scheduled(self, request: Request, run: _Run) -> Accepted:
        header, now = request.header, run.now
        run.steps.append(_SCHEDULED_SIGNATURE)
        user = self._step(run, Check.USER, lambda: self._user(header.request_id.originator))
        sr = sr_info(header.service_reference_variant)
        roles = self._step(run, Check.ROLE, lambda: _eligible_roles(user, sr))
        target = header.request_id.target
        device = self._step(run, Check.DEVICE, lambda: self._device(target))
        self._step(run, Check.DEVICE_TYPE, lambda: _fits_type(sr, device))
        role = self._step(run, Check.REGISTRATION, lambda: self._holds(user, roles, device, now))
        return Accepted(
            request=request, user=user, sr=sr, device=device, role=role, signer=_SCHEDULE_SIGNER
        )

    def reserve_counter(self, user: bytes, floor: int = 0) -> int:
        """The next RequestID counter of ``user`` (above every one accepted), now taken: the
        DCC uses it for a command it sends on the user's behalf (a schedule's run)."""
        counter = max((self._last_counter.get(user) or 0) + 1, floor)
        self._last_counter[user] = counter
        return counter

    # --- the checks ------------------------------------------------------------------------

    def _signature(self, root: etree._Element, originator: bytes | None) -> IssuerSerial:
        self.signatures_checked += 1
        try:
            verified = verify_element(root, self.certificates)
        except DuisSignatureError as exc:
            raise SignatureRejected(exc.reason) from exc
        self.signatures_valid += 1
        if self._eui_of(verified.certificate) != originator:
            who = format_eui(originator) if originator else "?"
            raise SignatureRejected(
                f"signed by {verified.signer.issuer} serial "
                f"{verified.signer.serial}, not by the originator {who}"
            )
        return verified.signer

    def _eui_of(self, certificate: x509.Certificate) -> bytes | None:
        """The signer's EUI, read once per certificate (by identity; the entry keeps the
        certificate alive so its id is not reused)."""
        cached = self._signer_euis.get(id(certificate))
        if cached is not None and cached[0] is certificate:
            return cached[1]
        eui = eui_of(certificate)
        if len(self._signer_euis) >= _SIGNERS_KEPT:
            self._signer_euis.clear()
        self._signer_euis[id(certificate)] = (certificate, eui)
        return eui

    def _user(self, eui: bytes) -> ServiceUser:
        found = self.inventory.find_user(eui)
        if found is None:
            raise UnknownUser(f"no service user {format_eui(eui)}")
        if found.status is not UserStatus.ACTIVE:
            raise UserStatusForbids(f"user {format_eui(eui)} is {found.status.name}")
        return found

    def _device(self, eui: bytes) -> Device:
        device = self.inventory.find_device(eui)
        if device is None:
            raise UnknownDevice(f"no device {format_eui(eui)}")
        if device.status not in DEVICE_STATUSES_ALLOWED:
            raise DeviceStatusForbids(f"{device.label} is {device.status.name}")
        return device

    def _holds(
        self, user: ServiceUser, roles: tuple[UserRole, ...], device: Device, at: datetime
    ) -> UserRole:
        for role in roles:
            if role in UNREGISTERED_ROLES:
                return role
            if not _fuel_fits(role, device.type):
                continue  # e.g. the premises' gas supplier is not the ESME's
            try:
                holder = self.inventory.who_holds(role, device.eui, at)
            except InventoryUnknownRole:
                continue  # a role not held per MPxN (RSA) entitles nobody here
            if holder == user.eui:
                return role
        names = "/".join(r.name for r in roles)
        raise NotAuthorisedForDevice(
            f"user {format_eui(user.eui)} is not registered as {names} for "
            f"{format_eui(device.eui)}'s MPxN at {at.isoformat()}"
        )

    def _counter(self, user: bytes, counter: int) -> None:
        last = self._last_counter.get(user)
        if last is not None and counter <= last:
            raise ReplayedRequest(f"counter {counter} is not above the last accepted {last}")

    # --- audit -----------------------------------------------------------------------------

    def record_failure(
        self, accepted: Accepted, check: Check, error: DuisError, now: datetime
    ) -> None:
        """Audit a refusal that comes after access control (e.g. an altered pre-command)."""
        run = _Run(now=now, request_id=str(accepted.request.header.request_id))
        run.user = accepted.user.eui
        self._record(run, check, Outcome.FAIL, error.reason, error.response_code)
        run.audit_to(self.audit)

    def _step(self, run: _Run, check: Check, body: Callable[[], T]) -> T:
        try:
            result = body()
        except DuisError as exc:
            self._record(run, check, Outcome.FAIL, exc.reason, exc.response_code)
            raise
        run.steps.append(_PASSED[check._value_])  # by value: an Enum's hash is Python code
        return result

    @staticmethod
    def _record(
        run: _Run, check: Check, outcome: Outcome, reason: str = "", code: str | None = None
    ) -> None:
        run.steps.append((check, outcome, reason, code, ""))


#: A passed check's step, by the check's value (shared: steps are tuples, most checks pass).
_PASSED: dict[str, Step] = {check.value: (check, Outcome.PASS, "", None, "") for check in Check}
#: A schedule run's signature step: the 5.1 request was signed, the run is the DCC's.
_SCHEDULED_SIGNATURE: Step = (
    Check.SIGNATURE,
    Outcome.SKIP,
    "a DCC schedule's run (5.1 was signed)",
    None,
    "",
)


# --- checks that need no state ---------------------------------------------------------------


def _shape(xml: bytes, max_bytes: int, run: _Run) -> tuple[Request, etree._Element]:
    """Hardened parse (no DTD/entities, size limit) kept exact for the signature, then the
    model; errors carry no DUIS code (the request never became one)."""
    root = parse_xml(xml, max_bytes=max_bytes)
    message = from_element(root)
    if not isinstance(message, Request):
        raise DuisSchemaError("a DUIS Response was sent where a Request was expected")
    run.request_id = str(message.header.request_id)  # from here on, entries name it
    run.user = message.header.request_id.originator
    sr_info(message.header.service_reference_variant)  # an unknown SR variant is malformed
    return message, root


def _eligible_roles(user: ServiceUser, sr: SrInfo) -> tuple[UserRole, ...]:
    """The user's roles the catalogue allows for the SR, in a fixed order (E2 when none).

    Kept per (roles held, roles the SR allows), all it depends on: every request and schedule
    run asks, and both are immutable sets (a user whose roles change holds a new one)."""
    key = (user.roles, sr.roles)
    roles = _ROLES_FOR.get(key)
    if roles is None:
        roles = _roles_for(user, sr)  # raises E2 when none (not kept: the next ask raises too)
        if len(_ROLES_FOR) >= _ROLE_SETS_KEPT:
            _ROLES_FOR.clear()
        _ROLES_FOR[key] = roles
    return roles


#: Eligible roles by (roles held, roles allowed): a network has a handful of each.
_ROLES_FOR: dict[tuple[frozenset[UserRole], frozenset[Role]], tuple[UserRole, ...]] = {}
_ROLE_SETS_KEPT = 4096


def _roles_for(user: ServiceUser, sr: SrInfo) -> tuple[UserRole, ...]:
    allowed = {role.name for role in sr.roles}
    roles = tuple(sorted(r for r in user.roles if r.name in allowed))
    if not roles:
        held = "/".join(sorted(r.name for r in user.roles))
        raise RoleNotEligible(f"SR {sr.srv} is not open to role {held}")
    return roles


def _fits_type(sr: SrInfo, device: Device) -> None:
    # An empty ``target_types`` means the catalogue does not restrict it.
    if sr.target_types and device.type.name not in sr.target_types:
        raise DeviceTypeMismatch(
            f"SR {sr.srv} applies to {'/'.join(sr.target_types)}, not {device.label}"
        )


#: The MPxNs a device is associated with (DUIS E4: the user must hold its role for the MPxN
#: associated with the device): an electricity meter and its load controller with the
#: electricity MPANs, a gas meter and its proxy with the MPRN; the comms hub function and the
#: consumer devices with every MPxN of their premises.
_DEVICE_KINDS: dict[DeviceType, frozenset[MeterKind]] = {
    DeviceType.ESME: frozenset({MeterKind.IMPORT_MPAN, MeterKind.EXPORT_MPAN}),
    DeviceType.HCALCS: frozenset({MeterKind.IMPORT_MPAN, MeterKind.EXPORT_MPAN}),
    DeviceType.GSME: frozenset({MeterKind.MPRN}),
    DeviceType.GPF: frozenset({MeterKind.MPRN}),
}


def _fuel_fits(role: UserRole, device_type: DeviceType) -> bool:
    """Whether ``role`` is held on an MPxN the device is associated with."""
    kinds = _DEVICE_KINDS.get(device_type)
    return kinds is None or not kinds.isdisjoint(ROLE_KINDS.get(role, ()))


def _execution_time(request: Request, now: datetime) -> datetime:
    """When the command runs: the body's ExecutionDateTime if future-dated (typed or generic
    body, e.g. 6.23's), else now; a cancellation (3000-12-31) runs now."""
    return future_execution(request.body, now) or now


def endpoint_for(command_variant: int) -> str:
    return ENDPOINT_OF_CV.get(command_variant, DEFAULT_ENDPOINT)


def _variant(sr: SrInfo, command_variant: int, endpoint: str) -> None:
    sr.check_command_variant(command_variant)  # E12
    arrived = endpoint.rstrip("/").rsplit("/", 1)[-1]
    wanted = endpoint_for(command_variant)
    if arrived != wanted:
        raise WrongEndpoint(f"command variant {command_variant} goes to {wanted}, not {arrived}")
