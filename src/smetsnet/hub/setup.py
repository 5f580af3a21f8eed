"""The network a hub serves, built once at start: :class:`NetworkSetup` (issue 5 §3).

Two things make a network: *key material* (the users' and the DCC's certificates and keys) and
*registration data* (who the users are, the premises and their devices, the meter points and who
holds which role for them from when). The key material comes from a DCC Boxed ``keystore.json``
(:mod:`smetsnet.hub.boxed`) or from our own PKI folder (:func:`smetsnet.hub.boxed.load_own`);
the registration data is a JSON document of the shape of ``hub/data/boxed.json``
(:func:`smetsnet.hub.boxed.parse_plan` reads it, naming what is wrong and where). :func:`assemble`
then builds the same things for either source:

- the inventory (an in-memory SQLite store): users ACTIVE with their roles, every device
  Commissioned at its premises (comms hub installed, HAN devices on its device log), meter points
  linked to their meters, registrations effective-dated as written;
- the simulated premises: fresh device key pairs and certificates from a device CA (DCC Boxed
  does not publish its devices' private keys), trust anchors naming the parties' certificates of
  the key material, so commands signed with the users' keys and MAC'd with the ACB's key are
  accepted and responses are protected for the users' keys;
- the keys the hub needs (ACB private keys; public keys of everyone else), each user's own
  private keys, the index of the certificates users may sign DUIS with, the DSP's signing key.

Where the key material holds several certificates for one key (DCC Boxed's ``Z1`` and ``Z1b``),
the one named ``Z1-…`` is the one in use (DCC Boxed's devices and tools use the Z1 set); the
others still verify DUIS signatures and are published in the SMKI look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.devices.core.keys import Role
from smetsnet.devices.esme import Esme, Hcalcs
from smetsnet.devices.gas import GasPremises, Gpf, Gsme
from smetsnet.devices.han import CommsHub, Ihd, Ppmid
from smetsnet.devices.premises import Premises
from smetsnet.duis.xmldsig import IssuerSerial, certificate_index
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.asn1.types import ROLE_NAMES
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.keystore import KeyChain, KeyStore, KeyUsage, MemoryKeyStore
from smetsnet.gbcs.protection import Protection
from smetsnet.inventory import (
    CertRef,
    DeviceType,
    Inventory,
    InventoryError,
    LookupCache,
    MeterKind,
    Region,
    UserRole,
)
from smetsnet.smki.bundle import CertificateEntry
from smetsnet.smki.pki import Pki
from smetsnet.smki.profile import CertificateKind, RemotePartyRole
from smetsnet.smki.selection import in_use
from smetsnet.store import SqliteStore
from smetsnet.wan.link import Technology

DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT
HALF_HOUR = timedelta(minutes=30)
#: The parties every network names: devices trust them (registered holders come first).
REQUIRED_PARTIES = (Role.SUPPLIER, Role.NETWORK_OPERATOR, Role.ACCESS_CONTROL_BROKER)
#: Every premises has these; the others (GSME, PPMID, IHD, HCALCS) are optional.
REQUIRED_DEVICES = (DeviceType.CHF, DeviceType.GPF, DeviceType.ESME)
#: HAN devices without GBCS credentials (a type-2 device: no certificates, no anchors).
NO_CREDENTIALS = frozenset({DeviceType.IHD, DeviceType.CAD})


@dataclass(kw_only=True)
class NetworkSetup:
    """Everything the hub engine consumes, built by :func:`assemble`."""

    inventory: Inventory
    #: every certificate a user may sign DUIS with, by KeyInfo's issuer and serial
    xml_certificates: Mapping[IssuerSerial, x509.Certificate]
    dsp_key: ec.EllipticCurvePrivateKey = field(repr=False)
    dsp_certificate: x509.Certificate
    #: the hub's GBCS keys: the ACB's private keys, public keys of users and devices
    hub_keys: KeyStore
    premises: dict[bytes, Premises]  # by comms hub (CHF) EUI
    technologies: dict[bytes, Technology]  # WAN technology per comms hub
    certificates_by_eui: Mapping[bytes, list[x509.Certificate]]  # SMKI look-up
    response_urls: dict[bytes, str] = field(default_factory=dict)  # user EUI -> URL
    #: per user (and other remote party): its own GBCS private keys, for clients and tests
    user_keys: Mapping[bytes, KeyStore] = field(default_factory=dict, repr=False)

    def user_protection(self, user: bytes) -> Protection:
        """What a user's client protects and reads GBCS with: its own keys before the hub's
        (it signs with its key; the ACB's key MACs commands; it opens its responses)."""
        own = self.user_keys.get(user)
        if own is None:
            raise ConfigurationError(f"no GBCS keys of {format_eui(user)} in this network")
        return Protection(KeyChain(own, self.hub_keys))


# --- registration data --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UserPlan:
    eui: bytes
    name: str
    roles: frozenset[UserRole]
    response_url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterPointPlan:
    mpxn: str
    kind: MeterKind
    meter: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationPlan:
    mpxn: str
    role: UserRole
    user: bytes
    valid_from: datetime
    valid_to: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


@dataclass(frozen=True, slots=True, kw_only=True)
class PremisesPlan:
    region: Region
    technology: Technology
    seed: int
    devices: Mapping[DeviceType, bytes]
    meter_points: tuple[MeterPointPlan, ...]
    registrations: tuple[RegistrationPlan, ...]

    def holder(self, role: UserRole, kind: MeterKind, at: datetime) -> bytes | None:
        """Who holds ``role`` at ``at`` on this premises' meter point of ``kind``."""
        points = {p.mpxn for p in self.meter_points if p.kind is kind}
        for reg in self.registrations:
            if reg.role is role and reg.mpxn in points and reg.covers(at):
                return reg.user
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkPlan:
    """A registration document, checked: see ``hub/data/boxed.json`` for its shape."""

    parties: Mapping[Role, bytes]
    users: tuple[UserPlan, ...]
    premises: tuple[PremisesPlan, ...]


# --- building -----------------------------------------------------------------------------


def assemble(
    entries: Sequence[CertificateEntry], plan: NetworkPlan, *, now: datetime, device_pki: Pki
) -> NetworkSetup:
    """Build the network of ``plan`` on the key material ``entries`` (parties, users, DSP);
    devices get keys and certificates from ``device_pki`` (issued at ``now`` where missing)."""
    if now.tzinfo is None:
        raise ConfigurationError(f"now {now.isoformat()} has no time zone (give UTC)")
    chosen = in_use(entries)
    acb = plan.parties[Role.ACCESS_CONTROL_BROKER]
    # The DCC's own parties: the hub originates commands as them (ACB, transitional CoS).
    dcc_parties = {acb} | {plan.parties[r] for r in (Role.TRANSITIONAL_COS,) if r in plan.parties}
    hub_keys = MemoryKeyStore()
    user_keys: dict[bytes, MemoryKeyStore] = {}
    for (eui, usage, prepayment), entry in chosen.items():
        if eui in dcc_parties and entry.private_key is not None:
            hub_keys.add_private(eui, usage, entry.private_key, prepayment=prepayment)
        if eui == acb:
            continue
        hub_keys.add_public(eui, usage, entry.public_key, prepayment=prepayment)
        if entry.private_key is not None:
            own = user_keys.setdefault(eui, MemoryKeyStore())
            own.add_private(eui, usage, entry.private_key, prepayment=prepayment)
    for usage in (DS, KA):
        if hub_keys.private_key(acb, usage) is None:
            raise ConfigurationError(
                f"the key material holds no {usage.value} private key of the access control "
                f"broker {format_eui(acb)}: the hub cannot protect commands"
            )
    for role, eui in plan.parties.items():
        if hub_keys.public_key(eui, DS) is None:
            raise ConfigurationError(
                f"the key material holds no certificate of the {ROLE_NAMES[role]} "
                f"{format_eui(eui)} named in the registration data"
            )
    device_certificates = issue_devices(plan, device_pki, now, hub_keys)
    device_store = KeyChain(device_pki, hub_keys)
    premises: dict[bytes, Premises] = {}
    technologies: dict[bytes, Technology] = {}
    for where in plan.premises:
        chf = where.devices[DeviceType.CHF]
        if chf in premises:
            raise ConfigurationError(f"comms hub {format_eui(chf)} is at two premises")
        premises[chf] = build_premises(where, plan.parties, device_store, hub_keys, now=now)
        technologies[chf] = where.technology
    dsp_key, dsp_certificate = _dsp(entries)
    by_eui: dict[bytes, list[x509.Certificate]] = {}
    for entry in [*entries, *device_certificates]:
        if entry.certificate is not None:
            by_eui.setdefault(entry.eui, []).append(entry.certificate)
    return NetworkSetup(
        inventory=build_inventory(plan, entries, now=now),
        xml_certificates=_xml_index(plan, entries),
        dsp_key=dsp_key,
        dsp_certificate=dsp_certificate,
        hub_keys=hub_keys,
        premises=premises,
        technologies=technologies,
        certificates_by_eui=by_eui,
        response_urls={u.eui: u.response_url for u in plan.users if u.response_url},
        user_keys=user_keys,
    )


def issue_devices(
    plan: NetworkPlan, pki: Pki, now: datetime, hub_keys: MemoryKeyStore
) -> list[CertificateEntry]:
    """Every device with GBCS credentials gets its keys and certificates (unless the PKI holds
    them); the hub learns their public keys."""
    pki.bundle.refresh(now)
    issued = []
    for where in plan.premises:
        for kind, eui in where.devices.items():
            if kind in NO_CREDENTIALS:
                continue
            if pki.private_key(eui, DS) is None or pki.private_key(eui, KA) is None:
                pki.add_device(eui, at=now)
            for usage in (DS, KA):
                entry = pki.bundle.current(eui, usage)
                if entry is None:
                    raise ConfigurationError(f"no {usage.value} certificate for {format_eui(eui)}")
                hub_keys.add_public(eui, usage, entry.public_key)
                issued.append(entry)
    return issued


def _dsp(
    entries: Iterable[CertificateEntry],
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    for entry in entries:
        info = entry.info
        if (
            info is not None
            and info.role is RemotePartyRole.DSP_XML_SIGNING
            and entry.private_key is not None
            and entry.certificate is not None
        ):
            return entry.private_key, entry.certificate
    raise ConfigurationError(
        "the key material holds no DSP XML-signing certificate (role 89) with its private key:"
        " the hub cannot sign its responses"
    )


def _xml_index(
    plan: NetworkPlan, entries: Iterable[CertificateEntry]
) -> dict[IssuerSerial, x509.Certificate]:
    """Every digital-signing certificate of every user: DCC Boxed accepts a DUIS signature made
    with any of them (the XML-signing one, role 87, or the user's GBCS signing ones)."""
    users = {u.eui for u in plan.users}
    return certificate_index(
        entry.certificate
        for entry in entries
        if entry.eui in users
        and entry.usage is DS
        and entry.certificate is not None
        and entry.kind in (CertificateKind.ORGANISATION, CertificateKind.XML_SIGNING)
    )


def _cert_ref(certificate: x509.Certificate, eui: bytes) -> CertRef:
    return CertRef(der_sha256=certificate.fingerprint(hashes.SHA256()), subject=eui)


def build_inventory(
    plan: NetworkPlan, entries: Iterable[CertificateEntry], *, now: datetime
) -> Inventory:
    """An in-memory inventory holding the plan: users, premises, devices, MPxNs, registrations.

    With the warm lookup cache: the hub reads the user, the device and who holds the role for
    it on every request, and every change goes through the inventory service (which drops what
    it changes) or clears the cache itself (``nondevice_commshub``); the store is this process's
    own (``:memory:``), so no other writer goes unseen."""
    xml = {
        e.eui: e.certificate
        for e in entries
        if e.kind is CertificateKind.XML_SIGNING and e.certificate is not None
    }
    inventory = Inventory(SqliteStore(":memory:"), cache=LookupCache())
    try:
        for user in plan.users:
            cert = xml.get(user.eui)
            inventory.add_user(
                user.eui,
                user.name,
                user.roles,
                user.response_url,
                xml_signing_cert=None if cert is None else _cert_ref(cert, user.eui),
            )
        for where in plan.premises:
            _install(inventory, where, now)
    except InventoryError as exc:
        raise ConfigurationError(f"the registration data does not fit together: {exc}") from exc
    return inventory


def _install(inventory: Inventory, plan: PremisesPlan, now: datetime) -> None:
    place = inventory.add_premises(plan.region)
    devices = plan.devices
    for kind, eui in devices.items():
        inventory.add_device(eui, kind, at=now)
    chf, gpf = devices[DeviceType.CHF], devices[DeviceType.GPF]
    inventory.install_comms_hub(place.id, chf, gpf, at=now)
    for kind, eui in devices.items():
        if kind not in (DeviceType.CHF, DeviceType.GPF):
            inventory.add_to_han_log(chf, eui, at=now)
            inventory.apply(eui, "join", at=now)
        inventory.commission(eui, at=now)
    for point in plan.meter_points:
        inventory.add_meter_point(point.mpxn, point.kind, place.id)
        inventory.link_meter(point.mpxn, point.meter)
    for reg in sorted(plan.registrations, key=lambda r: (r.mpxn, r.role, r.valid_from)):
        inventory.register(reg.mpxn, reg.role, reg.user, reg.valid_from, reg.valid_to)


def _anchored_parties(
    plan: PremisesPlan, parties: Mapping[Role, bytes], now: datetime, *, gas: bool
) -> dict[Role, bytes]:
    """The remote parties a device of the electricity (or gas) side trusts: the registered
    supplier and network operator (gas supplier and transporter) now, else the default ones,
    and the DCC's parties."""
    out = dict(parties)
    if gas:
        supplier = plan.holder(UserRole.GS, MeterKind.MPRN, now)
        operator = plan.holder(UserRole.GT, MeterKind.MPRN, now)
    else:
        supplier = plan.holder(UserRole.IS, MeterKind.IMPORT_MPAN, now)
        operator = plan.holder(UserRole.ED, MeterKind.IMPORT_MPAN, now)
    out[Role.SUPPLIER] = supplier or parties[Role.SUPPLIER]
    out[Role.NETWORK_OPERATOR] = operator or parties[Role.NETWORK_OPERATOR]
    return out


def _without(parties: Mapping[Role, bytes], *roles: Role) -> dict[Role, bytes]:
    return {role: eui for role, eui in parties.items() if role not in roles}


def build_premises(
    plan: PremisesPlan,
    parties: Mapping[Role, bytes],
    keys: KeyStore,
    party_keys: KeyStore,
    *,
    now: datetime,
) -> Premises:
    """The simulated premises of ``plan``, commissioned (every HAN device whitelisted, joined)
    at the half-hour that starts ``now``'s. The WAN provider is anchored by the comms hub only
    and the load controller by the ESME and the auxiliary switch only (as in the RTDS set)."""
    electric = _anchored_parties(plan, parties, now, gas=False)
    gas_side = _anchored_parties(plan, parties, now, gas=True)
    for role, eui in {**electric, **gas_side}.items():
        if party_keys.public_key(eui, DS) is None:
            raise ConfigurationError(
                f"{format_eui(eui)}, the {ROLE_NAMES[role]} that devices must trust, has no "
                "certificate in the key material"
            )
    meter = _without(electric, Role.WAN_PROVIDER)
    consumer = _without(electric, Role.WAN_PROVIDER, Role.LOAD_CONTROLLER)
    hub_parties = _without(electric, Role.LOAD_CONTROLLER)
    gas = _without(gas_side, Role.WAN_PROVIDER, Role.LOAD_CONTROLLER)
    devices = plan.devices
    clock = now.replace(minute=now.minute - now.minute % 30, second=0, microsecond=0)
    gas_premises = None
    if DeviceType.GSME in devices:
        gas_premises = GasPremises(
            gsme=Gsme.from_keystore(devices[DeviceType.GSME], keys, gas),
            gpf=Gpf.from_keystore(devices[DeviceType.GPF], keys, gas),
            start=clock,
            seed=plan.seed,
        )
    ppmid, ihd, auxiliary = (
        devices.get(k) for k in (DeviceType.PPMID, DeviceType.IHD, DeviceType.HCALCS)
    )
    premises = Premises(
        seed=plan.seed,
        clock=clock,
        hub=CommsHub.from_keystore(devices[DeviceType.CHF], keys, hub_parties),
        esme=Esme.from_keystore(devices[DeviceType.ESME], keys, meter),
        ppmid=None if ppmid is None else Ppmid.from_keystore(ppmid, keys, consumer),
        ihd=None if ihd is None else Ihd(eui=ihd),
        gas=gas_premises,
        auxiliary=None if auxiliary is None else Hcalcs.from_keystore(auxiliary, keys, meter),
    )
    premises.commission(clock)
    return premises
