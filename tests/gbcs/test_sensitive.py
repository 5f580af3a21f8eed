"""Device-side sealing of sensitive data opens again on the remote party's side only."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from smetsnet.demo import day_of_readings
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessResponse, CompactArray, Structure
from smetsnet.gbcs.dlms.specs import ResponseSpec
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.keystore import KeyUsage, MemoryKeyStore
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.sensitive import sealed_response_item

SUPPLIER = bytes.fromhex("90B3D51F30010000")
OTHER = bytes.fromhex("90B3D51F30030000")
METER = bytes.fromhex("00DB1234567890A0")


def _response(protection: Protection, reader: bytes) -> bytes:
    header = GroupingHeader(
        cra=Cra.RESPONSE, counter=77, originator=METER, recipient=reader, message_code=0x37
    )
    day = Structure(items=(day_of_readings(datetime(2026, 11, 27, tzinfo=UTC)),))
    item = sealed_response_item(protection, header, day, invocation_counter=5)
    payload = AccessResponse.build([(item, ResponseSpec(choice=3, result=0))], invoke_id=77)
    return build_message(
        payload=payload,
        message_code=0x37,
        cra=Cra.RESPONSE,
        originator=METER,
        recipient=reader,
        counter=77,
        protection=protection,
        sign=False,
    ).to_bytes()


def test_sealed_profile_opens_for_its_reader_only() -> None:
    keys = MemoryKeyStore()
    for party in (SUPPLIER, OTHER, METER):
        keys.generate(party)
    protection = Protection(keys)
    wire = _response(protection, SUPPLIER)
    message = decode_message(wire, protection=protection)
    assert message.to_bytes() == wire
    assert isinstance(message.payload, AccessResponse)
    content = message.payload.protected[0]
    assert content.status == "decrypted"
    assert isinstance(content.value, Structure)
    rows = content.value.items[0]
    assert isinstance(rows, CompactArray)
    times = rows.columns[0]
    assert len(times) == 48 and int(np.diff(np.asarray(times, dtype=np.int64))[0]) == 1800
    assert protection.verify(message.frame).mac == "valid"

    # Someone holding another supplier's keys under the supplier's name cannot read it.
    impostor = MemoryKeyStore()
    impostor.generate(SUPPLIER)
    meter_key = keys.public_key(METER, KeyUsage.KEY_AGREEMENT)
    assert meter_key is not None
    impostor.add_public(METER, KeyUsage.KEY_AGREEMENT, meter_key)
    other = decode_message(wire, protection=Protection(impostor))
    assert isinstance(other.payload, AccessResponse)
    assert other.payload.protected[0].status == "invalid"
    assert other.to_bytes() == wire
