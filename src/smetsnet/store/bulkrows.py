"""The rows of a :class:`~smetsnet.inventory.bulk.PremisesBatch`, table by table, in key order.

Both back-ends write the same rows; each in its fastest way (``executemany`` in one transaction
for SQLite, ``COPY`` for PostgreSQL). Rows come in primary-key order so every b-tree grows at its
end instead of splitting pages all over (a several-fold difference at a million premises), and
are made into Python objects a chunk at a time, so a million premises never sits in memory as
millions of tuples at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
import numpy.typing as npt

from smetsnet.inventory.bulk import PremisesBatch
from smetsnet.inventory.model import DeviceType, MeterKind, UserRole, to_epoch

Row = tuple[object, ...]
CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class BulkRows:
    premises: list[Row]
    devices: Iterator[Row]
    meter_points: Iterator[Row]
    registrations: Iterator[Row]
    counts: tuple[int, int, int, int]


def _signed(eui: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return eui.view(np.int64)  # the same 8 bytes read as a signed key (see store.base.i64)


def bulk_rows(batch: PremisesBatch, first_id: int) -> BulkRows:
    n = len(batch)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    premises: list[Row] = list(
        zip(ids.tolist(), batch.region.tolist(), repeat(batch.han_log_max, n), strict=False)
    )
    return BulkRows(
        premises=premises,
        devices=_devices(batch, ids),
        meter_points=_meter_points(batch, ids),
        registrations=_registrations(batch),
        counts=(n, 4 * n, 2 * n, 4 * n),
    )


def _devices(batch: PremisesBatch, ids: npt.NDArray[np.int64]) -> Iterator[Row]:
    types = (DeviceType.CHF, DeviceType.GPF, DeviceType.ESME, DeviceType.GSME)
    eui = np.concatenate(
        [_signed(batch.chf), _signed(batch.gpf), _signed(batch.esme), _signed(batch.gsme)]
    )
    kind = np.repeat(np.array([int(t) for t in types], dtype=np.int64), ids.size)
    on_log = np.repeat(np.array([0, 0, 1, 1], dtype=np.int64), ids.size)  # meters on the log
    sets = np.concatenate([batch.chf_set, batch.gpf_set, batch.esme_set, batch.gsme_set])
    order = np.argsort(eui, kind="stable")
    columns = (eui[order], kind[order], np.tile(ids, 4)[order], on_log[order], sets[order])
    status, at = int(batch.status), to_epoch(batch.status_at)

    def chunk(i: int) -> Iterator[Row]:
        e, k, p, log, s = (c[i : i + CHUNK].tolist() for c in columns)
        n = len(e)
        return zip(e, k, repeat(status, n), repeat(None, n), repeat(at, n), p, log, s, strict=True)

    return chain.from_iterable(chunk(i) for i in range(0, eui.size, CHUNK))


def _mpxn_text(batch: PremisesBatch) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    return batch.mpan.astype("U13"), batch.mprn.astype("U10")


def _meter_points(batch: PremisesBatch, ids: npt.NDArray[np.int64]) -> Iterator[Row]:
    mpan, mprn = _mpxn_text(batch)
    text = np.concatenate([mpan.astype("U13"), mprn.astype("U13")])
    kind = np.repeat(np.array([MeterKind.IMPORT_MPAN, MeterKind.MPRN], dtype=np.int64), ids.size)
    device = np.concatenate([_signed(batch.esme), _signed(batch.gsme)])
    order = np.argsort(text, kind="stable")
    columns = (text[order], kind[order], np.tile(ids, 2)[order], device[order])

    def chunk(i: int) -> Iterator[Row]:
        t, k, p, d = (c[i : i + CHUNK].tolist() for c in columns)
        return zip(t, k, p, d, strict=True)

    return chain.from_iterable(chunk(i) for i in range(0, text.size, CHUNK))


def _registrations(batch: PremisesBatch) -> Iterator[Row]:
    """(mpxn, role, from, to, user): import supplier + distributor per MPAN, gas supplier +
    transporter per MPRN, in (mpxn, role) order."""
    mpan, mprn = _mpxn_text(batch)
    text = np.concatenate([mpan.astype("U13"), mprn.astype("U13")])
    order = np.argsort(text, kind="stable")
    first = np.concatenate([_signed(batch.import_supplier), _signed(batch.gas_supplier)])[order]
    second = np.concatenate([_signed(batch.distributor), _signed(batch.gas_transporter)])[order]
    is_gas = np.repeat(np.array([0, 1], dtype=np.int8), len(batch))[order]
    columns = (text[order], is_gas, first, second)
    start = to_epoch(batch.registered_from)
    roles = ((int(UserRole.IS), int(UserRole.ED)), (int(UserRole.GS), int(UserRole.GT)))
    for i in range(0, text.size, CHUNK):
        t, g, u1, u2 = (c[i : i + CHUNK].tolist() for c in columns)
        for mpxn, gas, user1, user2 in zip(t, g, u1, u2, strict=True):
            role1, role2 = roles[gas]
            yield (mpxn, role1, start, None, user1)
            yield (mpxn, role2, start, None, user2)
