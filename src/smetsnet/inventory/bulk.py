"""A population of premises as ONE columnar object, for bulk loads (and a synthetic one).

Each premises of a :class:`PremisesBatch` is a comms hub (CHF + GPF) with an electricity meter
(ESME, import MPAN) and a gas meter (GSME, MPRN) on its device log, every device in one status,
and four registrations from one date: import supplier and distributor on the MPAN, gas supplier
and transporter on the MPRN. Trust anchors are referenced by anchor-set id, never copied per
device. EUIs are unsigned 64-bit integers here (big-endian value of the 8 bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from smetsnet.inventory.errors import InvalidIdentifier
from smetsnet.inventory.model import DeviceStatus, Region, check_time
from smetsnet.inventory.mpxn import mpan_cores, mpan_valid

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_EUI_COLUMNS = ("chf", "gpf", "esme", "gsme")
_USER_COLUMNS = ("import_supplier", "distributor", "gas_supplier", "gas_transporter")
_SET_COLUMNS = ("chf_set", "gpf_set", "esme_set", "gsme_set")
_REGIONS = np.array([r.value for r in Region], dtype=np.uint8)


@dataclass(frozen=True, slots=True, kw_only=True)
class PremisesBatch:
    region: npt.NDArray[np.uint8]  # distributor id, 10-23
    chf: U64
    gpf: U64
    esme: U64
    gsme: U64
    mpan: I64  # 13-digit MPAN cores
    mprn: I64  # 6-10 digits
    import_supplier: U64  # user EUIs
    distributor: U64
    gas_supplier: U64
    gas_transporter: U64
    chf_set: I64  # anchor-set ids
    gpf_set: I64
    esme_set: I64
    gsme_set: I64
    registered_from: datetime
    status: DeviceStatus = DeviceStatus.Commissioned
    status_at: datetime
    han_log_max: int = 16

    def __post_init__(self) -> None:
        n = self.region.size
        for name in (*_EUI_COLUMNS, *_USER_COLUMNS, *_SET_COLUMNS, "mpan", "mprn"):
            if getattr(self, name).shape != (n,):
                raise InvalidIdentifier(f"premises batch: column {name} is not {n} long")
        check_time(self.registered_from, "registered_from")
        check_time(self.status_at, "status_at")
        if not np.isin(self.region, _REGIONS).all():
            raise InvalidIdentifier("premises batch: a region is not a GB distributor id 10-23")
        bad = ~mpan_valid(self.mpan)
        if bad.any():
            raise InvalidIdentifier(f"premises batch: MPAN {int(self.mpan[bad][0])} is invalid")
        if ((self.mprn < 100_000) | (self.mprn >= 10_000_000_000)).any():
            raise InvalidIdentifier("premises batch: an MPRN is not 6 to 10 digits")

    def __len__(self) -> int:
        return int(self.region.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadReport:
    premises: int
    devices: int
    meter_points: int
    registrations: int
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationParties:
    """Who a synthetic population is registered to, and the anchor sets its devices hold."""

    import_suppliers: tuple[int, ...]  # user EUIs as integers
    gas_suppliers: tuple[int, ...]
    distributors: Mapping[Region, int]  # one network operator per region
    gas_transporters: tuple[int, ...]
    esme_sets: Mapping[tuple[int, Region], int]  # (import supplier, region) -> anchor set
    gsme_sets: Mapping[int, int]  # gas supplier -> anchor set
    chf_set: int
    gpf_set: int


EUI_BASE = 0x00DB_5000_0000_0000


def synthetic_batch(
    n: int,
    parties: PopulationParties,
    *,
    first: int = 0,
    seed: int = 0,
    registered_from: datetime,
) -> PremisesBatch:
    """``n`` premises numbered from ``first`` (so several batches never share a key)."""
    rng = np.random.default_rng(seed + first)
    index = np.arange(first, first + n, dtype=np.int64)
    region_i = rng.integers(0, len(Region), n)
    region = _REGIONS[region_i]
    eui = np.uint64(EUI_BASE) + (index.astype(np.uint64) << np.uint64(2))
    sup_i = rng.integers(0, len(parties.import_suppliers), n)
    gas_i = rng.integers(0, len(parties.gas_suppliers), n)
    regions = list(Region)
    esme_table = np.array(
        [[parties.esme_sets[(s, r)] for r in regions] for s in parties.import_suppliers]
    )
    dno = np.array([parties.distributors[r] for r in regions], dtype=np.uint64)
    first12 = region.astype(np.int64) * 10**10 + index  # distributor id + serial
    return PremisesBatch(
        region=region,
        chf=eui,
        gpf=eui + np.uint64(1),
        esme=eui + np.uint64(2),
        gsme=eui + np.uint64(3),
        mpan=mpan_cores(first12),
        mprn=9_000_000_000 + index,
        import_supplier=np.array(parties.import_suppliers, dtype=np.uint64)[sup_i],
        distributor=dno[region_i],
        gas_supplier=np.array(parties.gas_suppliers, dtype=np.uint64)[gas_i],
        gas_transporter=np.array(parties.gas_transporters, dtype=np.uint64)[
            rng.integers(0, len(parties.gas_transporters), n)
        ],
        chf_set=np.full(n, parties.chf_set, dtype=np.int64),
        gpf_set=np.full(n, parties.gpf_set, dtype=np.int64),
        esme_set=esme_table[sup_i, region_i].astype(np.int64),
        gsme_set=np.array([parties.gsme_sets[g] for g in parties.gas_suppliers])[gas_i].astype(
            np.int64
        ),
        registered_from=registered_from,
        status_at=registered_from,
    )
