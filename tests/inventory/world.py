"""One premises built through the service: comms hub, meters, MPxNs, users, registrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from smetsnet.inventory import DeviceType, Inventory, MeterKind, Premises, Region
from smetsnet.inventory.mpxn import make_mpan

START = datetime(2024, 1, 1, tzinfo=UTC)
SUPPLIER = bytes.fromhex("90b3d51f30010000")
SUPPLIER2 = bytes.fromhex("90b3d51f30030000")
GAS_SUPPLIER = bytes.fromhex("90b3d51f30110000")
DNO = bytes.fromhex("90b3d51f30020000")
GT = bytes.fromhex("90b3d51f30210000")
OTHER = bytes.fromhex("00db123456780004")


@dataclass(frozen=True, slots=True)
class World:
    premises: Premises
    chf: bytes
    gpf: bytes
    esme: bytes
    gsme: bytes
    mpan: str
    mprn: str


def add_users(inv: Inventory) -> None:
    inv.add_user(SUPPLIER, "Supplier", ["IS", "GS"], "https://supplier.example/duis")
    inv.add_user(SUPPLIER2, "Second supplier", ["IS"], "https://second.example/duis")
    inv.add_user(GAS_SUPPLIER, "Gas supplier", ["GS"], "https://gas.example/duis")
    inv.add_user(DNO, "Network operator", ["ED"], "https://dno.example/duis")
    inv.add_user(GT, "Gas transporter", ["GT"], "https://gt.example/duis")
    inv.add_user(OTHER, "Other user", ["OU"], "https://other.example/duis")


def build(inv: Inventory, n: int = 0, *, register: bool = True) -> World:
    """Premises number ``n`` with everything installed (users must exist when registering)."""
    base = 0x00DB_1234_5678_9000 + 16 * n
    chf, gpf, esme, gsme = ((base + k).to_bytes(8, "big") for k in (2, 3, 0, 1))
    premises = inv.add_premises(Region.LONDON, han_log_max=4)
    for eui, kind in (
        (chf, DeviceType.CHF),
        (gpf, DeviceType.GPF),
        (esme, DeviceType.ESME),
        (gsme, DeviceType.GSME),
    ):
        inv.add_device(eui, kind)
    inv.install_comms_hub(premises.id, chf, gpf)
    inv.add_to_han_log(chf, esme)
    inv.add_to_han_log(chf, gsme)
    mpan, mprn = make_mpan(f"12{n:010d}"), f"{1_000_000 + n}"
    inv.add_meter_point(mpan, MeterKind.IMPORT_MPAN, premises.id)
    inv.add_meter_point(mprn, MeterKind.MPRN, premises.id)
    inv.link_meter(mpan, esme)
    inv.link_meter(mprn, gsme)
    if register:
        inv.register(mpan, "IS", SUPPLIER, START)
        inv.register(mpan, "ED", DNO, START)
        inv.register(mprn, "GS", GAS_SUPPLIER, START)
        inv.register(mprn, "GT", GT, START)
    return World(premises=premises, chf=chf, gpf=gpf, esme=esme, gsme=gsme, mpan=mpan, mprn=mprn)
