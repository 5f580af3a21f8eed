"""A small fleet for a day: registers agree with the model, packages are valid GBCS that the
supplier verifies and decrypts to the model's readings, and the bytes equal the typed builders'."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.devices import consumption
from smetsnet.devices.battery import MESSAGES_PER_DAY
from smetsnet.devices.consumption import Fuel
from smetsnet.devices.fleet import (
    ECS22B,
    GCS17,
    DayReport,
    Fleet,
    RemoteParty,
    command_counter,
    day_start,
    simulate_day,
)
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessResponse, CompactArray, Structure, TypeDescription
from smetsnet.gbcs.dlms import tags as dlms_tags
from smetsnet.gbcs.dlms.specs import ResponseSpec
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.gbz import ClusterCommand, GbzMessage
from smetsnet.gbcs.keystore import KeyUsage, MemoryKeyStore
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection
from smetsnet.gbcs.sensitive import sealed_response_item

N = 200
DAY = date(2025, 1, 15)
SUPPLIER_EUIS = (bytes.fromhex("90B3D51F30010000"), bytes.fromhex("90B3D51F30020000"))


def _key(i: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(1_000_003 + i, ec.SECP256R1())


SUPPLIER_KEYS = tuple(_key(i) for i in range(len(SUPPLIER_EUIS)))
ACB_KEY = _key(99)
SUPPLIERS = tuple(
    RemoteParty(eui=e, key_agreement=k.public_key())
    for e, k in zip(SUPPLIER_EUIS, SUPPLIER_KEYS, strict=True)
)
ACB = RemoteParty(eui=ACCESS_CONTROL_BROKER, key_agreement=ACB_KEY.public_key())


def _fleet() -> Fleet:
    return Fleet.commission(N, seed=11, suppliers=SUPPLIERS, acb=ACB)


@pytest.fixture(scope="module")
def day_one() -> tuple[Fleet, DayReport]:
    fleet = _fleet()
    return fleet, simulate_day(fleet, DAY, chunk=64, keep=True)


def _eui(value: np.uint64) -> bytes:
    return int(value).to_bytes(8, "big")


def _supplier_side(fleet: Fleet, i: int) -> Protection:
    """What the supplier holds: its own private key, the meters' public keys."""
    keys = MemoryKeyStore()
    s = int(fleet.supplier_of[i])
    keys.add_private(SUPPLIER_EUIS[s], KeyUsage.KEY_AGREEMENT, SUPPLIER_KEYS[s])
    for euis, device_keys in ((fleet.esme_eui, fleet.esme_keys), (fleet.gsme_eui, fleet.gsme_keys)):
        public = device_keys.key_agreement_key(i).public_key()
        keys.add_public(_eui(euis[i]), KeyUsage.KEY_AGREEMENT, public)
    return Protection(keys)


def test_key_material_is_lean_raw_and_agrees_with_ecdh(day_one: tuple[Fleet, DayReport]) -> None:
    fleet, _ = day_one
    for keys in (fleet.esme_keys, fleet.gsme_keys):
        for column in (keys.ka_private, keys.ds_private, keys.z_supplier, keys.z_acb):
            assert column.dtype == np.uint8 and column.shape == (N, 32)
        i = 17
        device = keys.key_agreement_key(i)
        supplier = SUPPLIER_KEYS[int(fleet.supplier_of[i])]
        assert keys.z_supplier[i].tobytes() == supplier.exchange(ec.ECDH(), device.public_key())
        assert keys.z_acb[i].tobytes() == ACB_KEY.exchange(ec.ECDH(), device.public_key())
    assert fleet.nbytes / N < 400  # key material and state, per premises
    assert len(set(map(bytes, fleet.esme_keys.ka_private))) == N
    assert set(fleet.supplier_of.tolist()) == {0, 1}


def test_a_day_is_deterministic_and_registers_follow_the_model(
    day_one: tuple[Fleet, DayReport],
) -> None:
    fleet, report = day_one
    assert report.packages == 2 * N and len(report.esme_packages) == N
    again = _fleet()
    assert simulate_day(again, DAY).digest == report.digest  # chunking does not matter
    assert np.array_equal(again.import_wh, fleet.import_wh)
    wh = consumption.day_of_readings(fleet.seeds, DAY, Fuel.ELECTRICITY)
    litres = consumption.gas_litres(consumption.day_of_readings(fleet.seeds, DAY, Fuel.GAS))
    assert np.array_equal(fleet.import_wh, wh.sum(axis=1))
    assert np.array_equal(fleet.gas_litres, litres.sum(axis=1))
    per_day = fleet.battery.per_day_nah(MESSAGES_PER_DAY)
    assert (fleet.battery.capacity_nah - fleet.battery_nah == per_day).all()
    # The next day's counters are higher, the registers keep accumulating.
    before = fleet.import_wh.copy()
    nxt = simulate_day(fleet, date(2025, 1, 16))
    assert nxt.digest != report.digest and (fleet.import_wh > before).all()
    assert command_counter(date(2025, 1, 16), 0, Fuel.ELECTRICITY) > command_counter(
        DAY, N, Fuel.GAS
    )


@pytest.mark.parametrize("i", [0, 1, 63, 64, 150, N - 1])
def test_packages_decode_verify_and_decrypt_to_the_model(
    day_one: tuple[Fleet, DayReport], i: int
) -> None:
    fleet, report = day_one
    protection = _supplier_side(fleet, i)
    supplier = SUPPLIER_EUIS[int(fleet.supplier_of[i])]
    seed = int(fleet.seeds[i])

    esme = decode_message(report.esme_packages[i], protection=protection)
    assert esme.message_code == ECS22B and esme.header.cra == Cra.RESPONSE
    assert (esme.header.originator, esme.header.recipient) == (_eui(fleet.esme_eui[i]), supplier)
    assert esme.header.counter == command_counter(DAY, i, Fuel.ELECTRICITY)
    assert protection.verify(esme.frame).mac == "valid"
    assert esme.to_bytes() == report.esme_packages[i]
    payload = esme.payload
    assert isinstance(payload, AccessResponse) and payload.results[0].ok
    (content,) = payload.protected
    assert content.status == "decrypted" and isinstance(content.value, Structure)
    rows = content.value.items[0]
    assert isinstance(rows, CompactArray)
    times, wh = (np.asarray(c, dtype=np.int64) for c in rows.columns[:2])
    assert np.array_equal(wh, consumption.half_hourly_wh(seed, DAY, Fuel.ELECTRICITY))
    assert times[0] == day_start(DAY) + 1800 and np.all(np.diff(times) == 1800)

    gsme = decode_message(report.gsme_packages[i], protection=protection)
    assert gsme.message_code == GCS17 and gsme.header.originator == _eui(fleet.gsme_eui[i])
    assert protection.verify(gsme.frame).mac == "valid"
    assert gsme.to_bytes() == report.gsme_packages[i]
    assert isinstance(gsme.payload, GbzMessage)
    (component,) = gsme.payload.components
    assert component.encryption is not None and component.encryption.status == "decrypted"
    command = component.command
    assert isinstance(command, ClusterCommand) and command.name == "Get Sampled Data Response"
    assert command["sample_start_time"] == day_start(DAY)
    assert command["number_of_samples"] == 48 and command["sample_request_interval"] == 1800
    litres = consumption.gas_litres(consumption.half_hourly_wh(seed, DAY, Fuel.GAS))
    assert np.array_equal(np.asarray(command["samples"]["value"]), litres)


def test_another_supplier_cannot_read_or_forge(day_one: tuple[Fleet, DayReport]) -> None:
    fleet, report = day_one
    i = next(j for j in range(N) if fleet.supplier_of[j] == 0)
    keys = MemoryKeyStore()
    keys.add_private(SUPPLIER_EUIS[0], KeyUsage.KEY_AGREEMENT, SUPPLIER_KEYS[1])  # wrong key
    device = fleet.esme_keys.key_agreement_key(i).public_key()
    keys.add_public(_eui(fleet.esme_eui[i]), KeyUsage.KEY_AGREEMENT, device)
    impostor = Protection(keys)
    message = decode_message(report.esme_packages[i], protection=impostor)
    assert impostor.verify(message.frame).mac == "invalid"
    assert isinstance(message.payload, AccessResponse)
    assert message.payload.protected[0].status == "invalid"


def test_lean_esme_package_equals_the_typed_builders(day_one: tuple[Fleet, DayReport]) -> None:
    fleet, report = day_one
    i = 5
    esme, supplier = _eui(fleet.esme_eui[i]), SUPPLIER_EUIS[int(fleet.supplier_of[i])]
    keys = MemoryKeyStore()
    keys.add_private(esme, KeyUsage.KEY_AGREEMENT, fleet.esme_keys.key_agreement_key(i))
    keys.add_public(
        supplier, KeyUsage.KEY_AGREEMENT, SUPPLIERS[int(fleet.supplier_of[i])].key_agreement
    )
    device = Protection(keys)
    counter = command_counter(DAY, i, Fuel.ELECTRICITY)
    header = GroupingHeader(
        cra=Cra.RESPONSE, counter=counter, originator=esme, recipient=supplier, message_code=ECS22B
    )
    u32 = TypeDescription.simple(dlms_tags.DOUBLE_LONG_UNSIGNED)
    times = day_start(DAY) + 1800 * np.arange(1, 49, dtype=np.uint32)
    wh = consumption.half_hourly_wh(int(fleet.seeds[i]), DAY, Fuel.ELECTRICITY)
    rows = CompactArray.from_columns(TypeDescription.structure(u32, u32), [times, wh])
    item = sealed_response_item(device, header, Structure(items=(rows,)))
    typed = build_message(
        payload=AccessResponse.build([(item, ResponseSpec(choice=3, result=0))], invoke_id=counter),
        message_code=ECS22B,
        cra=Cra.RESPONSE,
        originator=esme,
        recipient=supplier,
        counter=counter,
        protection=device,
        sign=False,
    )
    assert typed.to_bytes() == report.esme_packages[i]
