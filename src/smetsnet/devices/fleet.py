"""A fleet of premises (one ESME and one GSME each) held as columns, simulated a day at a time.

Scale decides the representation (issue 4 §5: 100,000 premises a day on one core in under a
minute, under 2 KB a premises including key material). So the fleet is one object of numpy
columns, not 200,000 device objects:

- identity: premises seed (drives :mod:`.consumption`), ESME and GSME EUI-64 (``uint64``), the
  index of the premises' supplier;
- key material per device as raw bytes in ``(n, 32) uint8`` columns: the key-agreement and
  digital-signing private scalars, and the static ECDH secrets Z already agreed with the
  supplier and with the access control broker (what a real meter computes once per
  certificate; ~50 µs each, so never per message). Not ``S32``: numpy strips trailing NUL bytes
  from ``S`` items, which would corrupt one key in 256;
- state: the ESME's active import register (Wh), the GSME's volume register (litres) and its
  battery charge (nAh, :mod:`.battery`).

A day records every half-hour (registers advance by the consumption model's integers, the gas
meter wakes and its battery drains) and then builds each meter's daily package, protected as
GBCS asks for a device's response to its supplier (GBCS §4.3; GBCS-PAYLOADS §1.6, §2.1):

- ESME: the ECS22b response (message code 0x0037): DLMS access-response whose one item is the
  protected profile (structure{protection parameters, 31 ‖ IC ‖ ciphertext ‖ tag}); the
  plaintext is structure{compact-array of (u32 capture time, u32 Wh)} like the RTDS vector;
- GSME: the GCS17 response (0x0078): GBZ, one encrypted Metering component carrying Get
  Sampled Data Response (48 u24 samples, litres);

each encrypted under the KDF type-4 key of (device, supplier) and MAC'd under the type-2 key.
The bytes are assembled directly (a few slices per message) because the typed builders cost
far more than the cryptography at this scale; ``tests/devices/test_fleet.py`` checks that they
equal what :mod:`smetsnet.gbcs.builders` builds and that :func:`decode_message` reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Final

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec
from numpy.typing import NDArray

from smetsnet.devices.core.keys import private_key
from smetsnet.gbcs import crypto
from smetsnet.gbcs.frame import MacHeader, mac_header_bytes
from smetsnet.gbcs.reader import encode_length

from . import consumption
from .battery import MESSAGES_PER_DAY, BatteryModel
from .consumption import HALF_HOURS, Fuel

ECS22B: Final = 0x0037
GCS17: Final = 0x0078
#: EUI-64 blocks of the simulated fleet (an organisation id of the test PKI's device range).
ESME_EUI_BASE: Final = 0x00DB_1200_0000_0000
GSME_EUI_BASE: Final = 0x00DB_1300_0000_0000
_P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_CURVE: Final = ec.SECP256R1()
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
_MAC_HEADER: Final = MacHeader()
_INVOCATION: Final = b"\x00\x00\x00\x00"  # fresh KDF key per message, so IC 0 (as RTDS)

_DEFAULT_BATTERY: Final = BatteryModel()
U8 = NDArray[np.uint8]
U64 = NDArray[np.uint64]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteParty:
    """A supplier or the access control broker as the fleet sees it: EUI and KA public key."""

    eui: bytes
    key_agreement: ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceKeys:
    """Key material of one device type across the fleet, 32 bytes a cell."""

    ka_private: U8
    ds_private: U8
    z_supplier: U8
    z_acb: U8

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, f.name).nbytes) for f in fields(self))

    def key_agreement_key(self, i: int) -> ec.EllipticCurvePrivateKey:
        """A transient key object for device ``i`` (export, tests; never kept per device)."""
        return private_key(self.ka_private[i].tobytes())


def _scalar(secret: bytes, eui: bytes, usage: bytes) -> int:
    digest = hashlib.sha256(secret + eui + usage).digest()
    return int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1


def issue_keys(
    euis: U64,
    supplier_of: U8,
    *,
    secret: bytes,
    suppliers: Sequence[RemoteParty],
    acb: RemoteParty,
) -> DeviceKeys:
    """Deterministic key pairs for each device and its Z with its supplier and with the ACB.

    The signing key is kept as its scalar only: its public point is needed for a certificate,
    which the fleet does not issue (GBCS responses to the supplier are MAC'd, not signed).
    """
    n = len(euis)
    out = {name: np.empty((n, 32), dtype=np.uint8) for name in ("ka", "ds", "zs", "za")}
    blobs = {name: bytearray(32 * n) for name in out}
    derive, ecdh = ec.derive_private_key, ec.ECDH()
    eui_bytes = euis.astype(">u8").tobytes()
    for i in range(n):
        eui = eui_bytes[8 * i : 8 * i + 8]
        ka = _scalar(secret, eui, b"ka")
        key = derive(ka, _CURVE)
        cell = slice(32 * i, 32 * i + 32)
        blobs["ka"][cell] = ka.to_bytes(32, "big")
        blobs["ds"][cell] = _scalar(secret, eui, b"ds").to_bytes(32, "big")
        blobs["zs"][cell] = key.exchange(ecdh, suppliers[supplier_of[i]].key_agreement)
        blobs["za"][cell] = key.exchange(ecdh, acb.key_agreement)
    for name, array in out.items():
        array[:] = np.frombuffer(bytes(blobs[name]), dtype=np.uint8).reshape(n, 32)
    return DeviceKeys(
        ka_private=out["ka"], ds_private=out["ds"], z_supplier=out["zs"], z_acb=out["za"]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """N premises as columns; the state columns are advanced in place by :func:`simulate_day`."""

    seeds: U64
    esme_eui: U64
    gsme_eui: U64
    supplier_of: U8
    suppliers: tuple[RemoteParty, ...]
    esme_keys: DeviceKeys
    gsme_keys: DeviceKeys
    import_wh: U64
    gas_litres: U64
    battery_nah: U64
    battery: BatteryModel = _DEFAULT_BATTERY

    def __len__(self) -> int:
        return len(self.seeds)

    @classmethod
    def commission(
        cls,
        n: int,
        *,
        seed: int,
        suppliers: Sequence[RemoteParty],
        acb: RemoteParty,
        battery: BatteryModel | None = None,
    ) -> Fleet:
        """N new premises: zero registers, full batteries, keys issued (the slow part)."""
        if n < 1 or not suppliers:
            raise ValueError("a fleet needs premises and at least one supplier")
        seeds = consumption.seeds_for(n, seed)
        index = np.arange(n, dtype=np.uint64)
        supplier_of = (seeds % np.uint64(len(suppliers))).astype(np.uint8)
        secret = hashlib.sha256(b"smetsnet fleet keys" + seed.to_bytes(8, "big")).digest()
        esme, gsme = index + np.uint64(ESME_EUI_BASE), index + np.uint64(GSME_EUI_BASE)
        model = battery or BatteryModel()
        return cls(
            seeds=seeds,
            esme_eui=esme,
            gsme_eui=gsme,
            supplier_of=supplier_of,
            suppliers=tuple(suppliers),
            esme_keys=issue_keys(esme, supplier_of, secret=secret, suppliers=suppliers, acb=acb),
            gsme_keys=issue_keys(gsme, supplier_of, secret=secret, suppliers=suppliers, acb=acb),
            import_wh=np.zeros(n, dtype=np.uint64),
            gas_litres=np.zeros(n, dtype=np.uint64),
            battery_nah=model.full(n),
            battery=model,
        )

    @property
    def nbytes(self) -> int:
        """Bytes of every per-premises column (key material included)."""
        columns = (self.seeds, self.esme_eui, self.gsme_eui, self.supplier_of)
        state = (self.import_wh, self.gas_litres, self.battery_nah)
        return (
            sum(int(c.nbytes) for c in columns + state)
            + self.esme_keys.nbytes
            + self.gsme_keys.nbytes
        )


def command_counter(day: date, index: int, fuel: Fuel) -> int:
    """The supplier's originator counter of the day's read of a meter (echoed by the response):
    strictly increasing per device from day to day, distinct per device within a day."""
    return (day.toordinal() << 32) | (2 * index + (fuel is Fuel.GAS))


# -- plaintexts, a chunk at a time ----------------------------------------------------------
_ESME_ROW = np.dtype([("time", ">u4"), ("wh", ">u4")])
#: structure(1){compact-array, type structure(2){u32, u32}, contents length 384}.
_ESME_PLAIN_HEAD = bytes.fromhex("0201130202060682") + (HALF_HOURS * 8).to_bytes(2, "big")


def day_start(day: date) -> int:
    """Seconds since 2000-01-01 UTC at 00:00 UTC of ``day``."""
    return int((datetime(day.year, day.month, day.day, tzinfo=UTC) - _EPOCH_2000).total_seconds())


def esme_plaintexts(day: date, wh: NDArray[np.uint32]) -> U8:
    """Rows of (capture time at each half-hour's end, Wh in it) for each meter: (m, 394)."""
    m = len(wh)
    rows = np.empty((m, HALF_HOURS), dtype=_ESME_ROW)
    rows["time"] = day_start(day) + 1800 * np.arange(1, HALF_HOURS + 1, dtype=np.uint32)
    rows["wh"] = wh
    out = np.empty((m, len(_ESME_PLAIN_HEAD) + HALF_HOURS * 8), dtype=np.uint8)
    out[:, : len(_ESME_PLAIN_HEAD)] = np.frombuffer(_ESME_PLAIN_HEAD, dtype=np.uint8)
    out[:, len(_ESME_PLAIN_HEAD) :] = rows.view(np.uint8).reshape(m, -1)
    return out


def gsme_plaintexts(day: date, litres: NDArray[np.uint32]) -> U8:
    """Get Sampled Data Response ZCL payloads (integers LE; samples u24): (m, 155)."""
    if litres.size and int(litres.max()) >= 1 << 24:
        raise ValueError("a half-hour's gas does not fit a u24 sample")
    m = len(litres)
    head = (
        b"\x00\x00"  # sample id 0
        + day_start(day).to_bytes(4, "little")  # sample start time (UTC, LE)
        + b"\x00"  # sample type 0: consumption delivered
        + (1800).to_bytes(2, "little")
        + HALF_HOURS.to_bytes(2, "little")
    )
    out = np.empty((m, len(head) + 3 * HALF_HOURS), dtype=np.uint8)
    out[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    samples = litres.astype("<u4").view(np.uint8).reshape(m, HALF_HOURS, 4)[:, :, :3]
    out[:, len(head) :] = samples.reshape(m, -1)
    return out


# -- protected messages ---------------------------------------------------------------------
_PARAMS_HEAD = bytes.fromhex("0101020216020205090904")
_PARAMS_TAIL = bytes.fromhex("0900020216020202090102 0900".replace(" ", ""))


def _frame(originator: bytes, recipient: bytes, counter: bytes, code: int, payload: bytes) -> bytes:
    """Grouping header (response, no date-time, other-information = the code) + payload + an
    empty signature, inside the MAC header, before the MAC."""
    return b"".join(
        (
            b"\xdf\x09\x02",
            counter,
            b"\x08",
            originator,
            b"\x08",
            recipient,
            b"\x00\x02",
            code.to_bytes(2, "big"),
            encode_length(len(payload)),
            payload,
            b"\x00",
        )
    )


def _protect(z: bytes, device: bytes, supplier: bytes, counter: int, inner: bytes) -> bytes:
    key = crypto.kdf(z, crypto.KdfType.RESPONSE, device, counter, supplier)
    mac = crypto.gmac_tag(key, crypto.mac_iv(device), crypto.MAC_AAD_PREFIX + inner)
    return mac_header_bytes(_MAC_HEADER, len(inner) + crypto.TAG_LENGTH) + inner + mac


def _ciphered(z: bytes, device: bytes, supplier: bytes, counter: int, plain: bytes) -> bytes:
    key = crypto.kdf(z, crypto.KdfType.SENSITIVE_DATA, device, counter, supplier)
    ciphertext, tag = crypto.seal_sensitive(key, device + _INVOCATION, plain)
    return b"\x31" + _INVOCATION + ciphertext + tag


def esme_package(z: bytes, esme: bytes, supplier: bytes, counter: int, plain: bytes) -> bytes:
    """ECS22b response: access-response, one protected item, action result success."""
    ctr = counter.to_bytes(8, "big")
    ciphered = _ciphered(z, esme, supplier, counter, plain)
    payload = b"".join(
        (
            b"\xda",
            (0x20000000 | counter & 0xFFFFFF).to_bytes(4, "big"),  # invoke id: counter's low 24
            b"\x00\x00\x01\x02\x02",  # no date-time, no spec echo, 1 item: structure(2)
            _PARAMS_HEAD,
            ctr,
            b"\x09\x08",
            esme,
            b"\x09\x08",
            supplier,
            _PARAMS_TAIL,
            b"\x09",
            encode_length(len(ciphered)),
            ciphered,
            b"\x01\x03\x00",  # 1 result: action, success
        )
    )
    return _protect(z, esme, supplier, counter, _frame(esme, supplier, ctr, ECS22B, payload))


def gsme_package(z: bytes, gsme: bytes, supplier: bytes, counter: int, plain: bytes) -> bytes:
    """GCS17 response: one encrypted Metering component, Get Sampled Data Response."""
    ciphered = _ciphered(z, gsme, supplier, counter, plain)
    body = b"\x00\x00\x19\x00\x07" + len(ciphered).to_bytes(2, "big") + ciphered
    payload = b"\x01\x09\x01\x03\x07\x02" + len(body).to_bytes(2, "big") + body
    ctr = counter.to_bytes(8, "big")
    return _protect(z, gsme, supplier, counter, _frame(gsme, supplier, ctr, GCS17, payload))


def _packages(
    build: Callable[[bytes, bytes, bytes, int, bytes], bytes],
    fleet: Fleet,
    keys: DeviceKeys,
    euis: U64,
    fuel: Fuel,
    day: date,
    start: int,
    plains: U8,
) -> list[bytes]:
    m, width = plains.shape
    stop = start + m
    z_blob = keys.z_supplier[start:stop].tobytes()
    eui_blob = euis[start:stop].astype(">u8").tobytes()
    plain_blob = plains.tobytes()
    supplier_euis = [s.eui for s in fleet.suppliers]
    owners = fleet.supplier_of[start:stop].tolist()
    base = (day.toordinal() << 32) + (fuel is Fuel.GAS)
    return [
        build(
            z_blob[32 * j : 32 * j + 32],
            eui_blob[8 * j : 8 * j + 8],
            supplier_euis[owners[j]],
            base + 2 * (start + j),
            plain_blob[width * j : width * j + width],
        )
        for j in range(m)
    ]


# -- a day ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DayReport:
    """What one simulated day produced (packages kept only when asked)."""

    day: date
    premises: int
    packages: int
    package_bytes: int
    digest: bytes
    esme_packages: tuple[bytes, ...] = ()
    gsme_packages: tuple[bytes, ...] = ()


def simulate_day(fleet: Fleet, day: date, *, chunk: int = 8_192, keep: bool = False) -> DayReport:
    """Record the 48 half-hours of ``day`` and build every meter's protected daily package."""
    # One digest per meter type, so that the day's digest does not depend on the chunking.
    digests = (hashlib.sha256(), hashlib.sha256())
    kept: tuple[list[bytes], list[bytes]] = ([], [])
    count = size = 0
    for start in range(0, len(fleet), chunk):
        stop = min(start + chunk, len(fleet))
        wh = consumption.day_of_readings(fleet.seeds[start:stop], day, Fuel.ELECTRICITY)
        litres = consumption.gas_litres(
            consumption.day_of_readings(fleet.seeds[start:stop], day, Fuel.GAS)
        )
        _record(fleet, start, stop, wh, litres)
        esme = _packages(
            esme_package, fleet, fleet.esme_keys, fleet.esme_eui, Fuel.ELECTRICITY, day, start,
            esme_plaintexts(day, wh),
        )  # fmt: skip
        gsme = _packages(
            gsme_package, fleet, fleet.gsme_keys, fleet.gsme_eui, Fuel.GAS, day, start,
            gsme_plaintexts(day, litres),
        )  # fmt: skip
        for digest, batch in zip(digests, (esme, gsme), strict=True):
            joined = b"".join(batch)
            digest.update(joined)
            size += len(joined)
            count += len(batch)
        if keep:
            kept[0].extend(esme)
            kept[1].extend(gsme)
    return DayReport(
        day=day,
        premises=len(fleet),
        packages=count,
        package_bytes=size,
        digest=hashlib.sha256(digests[0].digest() + digests[1].digest()).digest(),
        esme_packages=tuple(kept[0]),
        gsme_packages=tuple(kept[1]),
    )


def _record(
    fleet: Fleet, start: int, stop: int, wh: NDArray[np.uint32], litres: NDArray[np.uint32]
) -> None:
    """Each half-hour in turn: registers advance, the gas meter wakes (and its battery pays);
    then the day's messages are charged to the battery."""
    imports, gas = fleet.import_wh[start:stop], fleet.gas_litres[start:stop]
    battery = fleet.battery_nah[start:stop]
    for k in range(HALF_HOURS):
        imports += wh[:, k]
        gas += litres[:, k]
        fleet.battery.drain(battery, wakes=1)
    fleet.battery.drain(battery, wakes=0, messages=MESSAGES_PER_DAY)
