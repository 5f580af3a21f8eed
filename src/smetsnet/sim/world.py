"""The simulated world: a PKI, the service users of GB's roles, and N dual-fuel premises.

Who is there (test-PKI EUIs of DOMAIN.md §0 where DCC has them, our own otherwise):

- two electricity suppliers (import supplier role IS), two gas suppliers (GS: every home starts
  with the first; the second gains homes by a change of supplier), an electricity distributor
  (ED), a gas transporter (GT) and an other user (OU), each with its GBCS keys and an XML-signing
  key;
- the DCC's parties: the access control broker, the transitional CoS party, recovery, the WAN
  provider, the load controller;
- premises, each with a comms hub (CHF + GPF), an electricity meter (ESME), a gas meter (GSME), an
  IHD, and a PPMID where the premises pays in advance; spread over the 14 GB regions and WAN
  technologies; the electricity supplier alternates between the two suppliers.

Everything is derived from the seed, so the same seed builds the same world (keys included:
the PKI's keys are fresh, but nothing the report counts depends on key values).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smetsnet.gbcs.asn1 import Role
from smetsnet.hub.setup import (
    MeterPointPlan,
    NetworkPlan,
    NetworkSetup,
    PremisesPlan,
    RegistrationPlan,
    UserPlan,
    assemble,
)
from smetsnet.inventory import DeviceType, MeterKind, Region, UserRole
from smetsnet.inventory.mpxn import make_mpan
from smetsnet.smki.pki import DCC_TEST_PARTIES, Party, Pki
from smetsnet.smki.profile import RemotePartyRole
from smetsnet.wan.link import Technology


def _eui(text: str) -> bytes:
    return bytes.fromhex(text.replace("-", ""))


SUPPLIER_A = _eui("90-B3-D5-1F-30-01-00-00")
SUPPLIER_B = _eui("90-B3-D5-1F-30-03-00-00")
GAS_SUPPLIER = _eui("90-B3-D5-1F-30-04-00-00")
GAS_SUPPLIER_B = _eui("90-B3-D5-1F-30-06-00-00")
DISTRIBUTOR = _eui("90-B3-D5-1F-30-02-00-00")
TRANSPORTER = _eui("90-B3-D5-1F-30-05-00-00")
OTHER_USER = _eui("00-DB-12-34-56-78-00-04")
ACB = _eui("90-B3-D5-1F-30-00-00-02")

USERS: tuple[tuple[bytes, str, frozenset[UserRole]], ...] = (
    (SUPPLIER_A, "Supplier A", frozenset({UserRole.IS})),
    (SUPPLIER_B, "Supplier B", frozenset({UserRole.IS})),
    (GAS_SUPPLIER, "Gas supplier", frozenset({UserRole.GS})),
    (DISTRIBUTOR, "Electricity distributor", frozenset({UserRole.ED})),
    (TRANSPORTER, "Gas transporter", frozenset({UserRole.GT})),
    (OTHER_USER, "Other user", frozenset({UserRole.OU})),
    # Last, so the users before it keep their order (and a seed its run).
    (GAS_SUPPLIER_B, "Gas supplier B", frozenset({UserRole.GS})),
)
ELECTRICITY_SUPPLIERS = (SUPPLIER_A, SUPPLIER_B)
GAS_SUPPLIERS = (GAS_SUPPLIER, GAS_SUPPLIER_B)
_EXTRA_PARTIES = (
    Party(eui=GAS_SUPPLIER, role=RemotePartyRole.SUPPLIER, common_name="GASSUPPLIER"),
    Party(eui=GAS_SUPPLIER_B, role=RemotePartyRole.SUPPLIER, common_name="GASSUPPLIERB"),
    Party(eui=TRANSPORTER, role=RemotePartyRole.NETWORK_OPERATOR),
)
_DCC_PARTY_ROLES: dict[Role, bytes] = {
    Role.SUPPLIER: SUPPLIER_A,
    Role.NETWORK_OPERATOR: DISTRIBUTOR,
    Role.ACCESS_CONTROL_BROKER: ACB,
    Role.TRANSITIONAL_COS: _eui("90-B3-D5-1F-30-00-00-04"),
    Role.RECOVERY: _eui("90-B3-D5-1F-30-00-00-01"),
    Role.WAN_PROVIDER: _eui("90-B3-D5-1F-30-00-00-07"),
    Role.LOAD_CONTROLLER: _eui("90-B3-D5-1F-30-01-00-08"),
}
#: EUI-64 block of the simulated premises' devices: base + (index << 3) + device slot.
DEVICE_BASE = 0x00DB_2000_0000_0000
DEVICE_SLOTS: dict[DeviceType, int] = {
    DeviceType.CHF: 0,
    DeviceType.GPF: 1,
    DeviceType.ESME: 2,
    DeviceType.GSME: 3,
    DeviceType.IHD: 4,
    DeviceType.PPMID: 5,
}
_TECHNOLOGY_MIX = (
    (Technology.CELLULAR, 0.55),
    (Technology.LONG_RANGE_RADIO, 0.25),
    (Technology.MESH, 0.20),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Home:
    """One simulated premises as the scenario knows it (no keys, no state: the premises object
    and the inventory hold those)."""

    index: int
    region: Region
    prepayment: bool
    electricity_supplier: bytes
    devices: dict[DeviceType, bytes]
    mpan: str
    mprn: str

    @property
    def chf(self) -> bytes:
        return self.devices[DeviceType.CHF]

    @property
    def esme(self) -> bytes:
        return self.devices[DeviceType.ESME]

    @property
    def gsme(self) -> bytes:
        return self.devices[DeviceType.GSME]


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    setup: NetworkSetup
    homes: tuple[Home, ...]
    pki: Pki
    start: datetime


def device_eui(index: int, kind: DeviceType) -> bytes:
    return (DEVICE_BASE + (index << 3) + DEVICE_SLOTS[kind]).to_bytes(8, "big")


def plan_homes(count: int, *, seed: int, prepayment_share: float, first: int = 0) -> list[Home]:
    """``count`` premises from index ``first``, drawn from ``seed``: each home from its own
    index, so a partition of a world holds the same homes as the whole world does."""
    regions = list(Region)
    homes = []
    for index in range(first, first + count):
        region = regions[index % len(regions)]
        prepayment = random.Random(seed * 1_000_003 + index).random() < prepayment_share
        kinds = [DeviceType.CHF, DeviceType.GPF, DeviceType.ESME, DeviceType.GSME, DeviceType.IHD]
        if prepayment:
            kinds.append(DeviceType.PPMID)
        homes.append(
            Home(
                index=index,
                region=region,
                prepayment=prepayment,
                electricity_supplier=ELECTRICITY_SUPPLIERS[index % 2],
                devices={k: device_eui(index, k) for k in kinds},
                mpan=make_mpan(f"{region.value:02d}{index:010d}"),
                mprn=f"9{index:09d}",
            )
        )
    return homes


def _technology(rng: random.Random) -> Technology:
    draw, total = rng.random(), 0.0
    for technology, share in _TECHNOLOGY_MIX:
        total += share
        if draw < total:
            return technology
    return Technology.CELLULAR


def premises_plan(home: Home, *, since: datetime, seed: int) -> PremisesPlan:
    """The registration data of one home: its meter points and who holds them from ``since``."""
    rng = random.Random(seed * 7_919 + home.index)
    registrations = (
        RegistrationPlan(
            mpxn=home.mpan, role=UserRole.IS, user=home.electricity_supplier, valid_from=since
        ),
        RegistrationPlan(mpxn=home.mpan, role=UserRole.ED, user=DISTRIBUTOR, valid_from=since),
        RegistrationPlan(mpxn=home.mprn, role=UserRole.GS, user=GAS_SUPPLIER, valid_from=since),
        RegistrationPlan(mpxn=home.mprn, role=UserRole.GT, user=TRANSPORTER, valid_from=since),
    )
    return PremisesPlan(
        region=home.region,
        technology=_technology(rng),
        seed=seed * 100_003 + home.index,
        devices=home.devices,
        meter_points=(
            MeterPointPlan(mpxn=home.mpan, kind=MeterKind.IMPORT_MPAN, meter=home.esme),
            MeterPointPlan(mpxn=home.mprn, kind=MeterKind.MPRN, meter=home.gsme),
        ),
        registrations=registrations,
    )


def network_plan(homes: Sequence[Home], *, since: datetime, seed: int) -> NetworkPlan:
    return NetworkPlan(
        parties=_DCC_PARTY_ROLES,
        users=tuple(UserPlan(eui=e, name=n, roles=r) for e, n, r in USERS),
        premises=tuple(premises_plan(h, since=since, seed=seed) for h in homes),
    )


def new_pki(at: datetime) -> Pki:
    """Our PKI with the DCC test parties, two gas suppliers and a gas transporter."""
    pki = Pki.create(at=at)
    for party in (*DCC_TEST_PARTIES, *_EXTRA_PARTIES):
        pki.add_party(party, at=at)
    return pki


def build_world(
    premises: int,
    *,
    seed: int,
    start: datetime,
    prepayment_share: float = 0.2,
    first: int = 0,
) -> World:
    """A PKI and ``premises`` homes (indices from ``first``: a partition of a larger world),
    commissioned and registered a day before ``start``."""
    since = start - timedelta(days=1)
    pki = new_pki(since)
    homes = plan_homes(premises, seed=seed, prepayment_share=prepayment_share, first=first)
    plan = network_plan(homes, since=since, seed=seed)
    setup = assemble(list(pki.bundle), plan, now=since, device_pki=pki)
    return World(setup=setup, homes=tuple(homes), pki=pki, start=start)
