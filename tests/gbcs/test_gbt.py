"""General Block Transfer: block codec, splitting and the reassembler."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.gbt import (
    GbtBlock,
    GbtLimits,
    GbtReassemblyError,
    Reassembler,
    RoutingHeader,
    blocks_from_bytes,
    is_gbt,
    routing_header_for,
    split_message,
)
from tests.support.vectors import RawVector, require_reference, rtds_vectors

SUPPLIER = bytes.fromhex("90b3d51f30000001")
ESME = bytes.fromhex("00db1234567890a0")
ROUTING = RoutingHeader(
    cra=1, originator_counter=0x1B58, originator=SUPPLIER, recipient=ESME, message_code=0x0108
)

# Written out by hand from GBCS-PAYLOADS.md §6, independently of the encoder.
BLOCK_HEX = (
    "dd"  # general-ciphering
    "09 01 0000000000001b58"  # transaction id: CRA command, originator counter 7000
    "08 90b3d51f30000001"  # originator
    "08 00db1234567890a0"  # recipient
    "00"  # date-time absent
    "02 0108"  # other-information: message code
    "00"  # key-info absent
    "0e"  # 14 bytes follow
    "00 00000000"  # security control, invocation counter
    "e0 81 0002 0001 02 df09"  # GBT: last, window 1, block 2, ack 1, 2 bytes of data
)
BLOCK = bytes.fromhex(BLOCK_HEX.replace(" ", ""))


def message_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


# -- block codec -----------------------------------------------------------------------------


def test_block_layout_is_byte_exact() -> None:
    block = GbtBlock(routing=ROUTING, block_number=2, ack_number=1, last=True, data=b"\xdf\x09")
    assert block.to_bytes() == BLOCK
    assert is_gbt(BLOCK)
    assert not is_gbt(b"\xdd\x00\x00") and not is_gbt(b"\xdf\x09") and not is_gbt(b"")


def test_block_decodes_to_values() -> None:
    block = GbtBlock.from_bytes(BLOCK)
    assert block.routing == ROUTING
    assert block.key == (SUPPLIER, 7000)
    assert (block.block_number, block.ack_number, block.window) == (2, 1, 1)
    assert block.last and not block.streaming and not block.is_ack
    assert block.data == b"\xdf\x09"
    assert block.to_json()["routing"] == {
        "cra": 1,
        "originator_counter": 7000,
        "originator": SUPPLIER.hex(),
        "recipient": ESME.hex(),
        "message_code": 0x0108,
        "date_time": "",
        "other_info_extra": "",
        "key_info": "",
        "security_control": 0,
        "invocation_counter": 0,
    }


def test_optional_parts_and_non_minimal_lengths_round_trip() -> None:
    raw = bytes.fromhex(
        "dd 09 03 00000000000000ff 08 00db1234567890a0 08 90b3d51f30000001"
        " 0c 07df0101ff000000008000ff"  # a date-time
        " 04 1001 abcd"  # other-information with two extra bytes
        " 01 7f"  # key-info
        " 82 0010"  # non-minimal length of the 16 bytes that follow
        " 11 00000005"
        " e0 7f 0001 0000 81 03 010203".replace(" ", "")
    )
    block = GbtBlock.from_bytes(raw)
    assert block.routing.cra == 3 and block.routing.message_code == 0x1001
    assert block.routing.date_time == bytes.fromhex("07df0101ff000000008000ff")
    assert block.routing.other_info_extra == b"\xab\xcd" and block.routing.key_info == b"\x7f"
    assert (block.routing.security_control, block.routing.invocation_counter) == (0x11, 5)
    assert block.streaming and not block.last and block.window == 0x3F
    assert (block.ciphered_length_width, block.data_length_width) == (3, 2)
    assert block.to_bytes() == raw


def test_concatenated_blocks() -> None:
    blocks = split_message(message_of(50), block_size=20, routing=ROUTING)
    raw = b"".join(b.to_bytes() for b in blocks)
    assert blocks_from_bytes(raw) == blocks
    with pytest.raises(GbcsDecodeError):
        GbtBlock.from_bytes(raw)  # one block then trailing bytes


@pytest.mark.parametrize(
    ("pos", "value", "field"),
    [
        (0, 0xDF, "routing.tag"),
        (1, 0x00, "routing.transaction_id.length"),
        (2, 0x04, "routing.cra"),
        (11, 0x07, "routing.originator.length"),
        (29, 0x05, "routing.date_time.length"),
        (30, 0x01, "routing.other_info"),
        (33, 0x80, "routing.key_info.length"),
        (34, 0x0F, "routing.content"),
        (40, 0xC4, "gbt.tag"),
    ],
)
def test_decode_errors_name_offset_and_field(pos: int, value: int, field: str) -> None:
    bad = bytearray(BLOCK)
    bad[pos] = value
    with pytest.raises(GbcsDecodeError) as info:
        GbtBlock.from_bytes(bytes(bad), base=100)
    assert info.value.field.startswith(field)
    assert info.value.offset >= 100


def test_every_truncation_is_a_decode_error() -> None:
    for n in range(len(BLOCK)):
        with pytest.raises(GbcsDecodeError):
            GbtBlock.from_bytes(BLOCK[:n])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_blocks_decode_or_fail_cleanly(data: st.DataObject) -> None:
    raw = bytearray(BLOCK)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    sample = bytes(raw[:cut]) + data.draw(st.binary(max_size=8))
    try:
        block = GbtBlock.from_bytes(sample)
    except GbcsDecodeError:
        return
    assert block.to_bytes() == sample


@given(st.binary(max_size=80))
def test_random_bytes_decode_or_fail_cleanly(sample: bytes) -> None:
    try:
        block = GbtBlock.from_bytes(b"\xdd\x09" + sample)
    except GbcsDecodeError:
        return
    assert block.to_bytes() == b"\xdd\x09" + sample


def test_constructor_validates() -> None:
    with pytest.raises(GbcsEncodeError, match=r"gbt.window"):
        GbtBlock(routing=ROUTING, block_number=1, data=b"x", window=64)
    with pytest.raises(GbcsEncodeError, match=r"gbt.block_number"):
        GbtBlock(routing=ROUTING, block_number=0x10000, data=b"x")
    with pytest.raises(GbcsEncodeError, match=r"routing.originator"):
        RoutingHeader(cra=1, originator_counter=1, originator=b"1", recipient=ESME, message_code=1)
    with pytest.raises(GbcsEncodeError, match=r"routing.cra"):
        RoutingHeader(cra=4, originator_counter=1, originator=ESME, recipient=ESME, message_code=1)
    with pytest.raises(GbcsEncodeError, match=r"routing.date_time"):
        RoutingHeader(
            cra=1, originator_counter=1, originator=ESME, recipient=ESME, message_code=1,
            date_time=b"\x00",
        )  # fmt: skip


# -- splitting -------------------------------------------------------------------------------


def test_split_numbers_blocks_from_one_and_flags_the_last() -> None:
    blocks = split_message(message_of(2500), routing=ROUTING)
    assert [b.block_number for b in blocks] == [1, 2, 3]
    assert [b.last for b in blocks] == [False, False, True]
    assert [len(b.data) for b in blocks] == [1149, 1149, 202]
    assert all(b.routing is ROUTING and b.ack_number == 0 for b in blocks)


def test_split_limits() -> None:
    with pytest.raises(GbcsEncodeError, match="nothing to send"):
        split_message(b"", routing=ROUTING)
    with pytest.raises(GbcsEncodeError, match="block size"):
        split_message(b"x", block_size=0, routing=ROUTING)
    assert len(split_message(message_of(63 * 1149), routing=ROUTING)) == 63
    with pytest.raises(GbcsEncodeError, match="64 blocks"):
        split_message(message_of(63 * 1149 + 1), routing=ROUTING)
    with pytest.raises(GbcsEncodeError, match="limit is 3"):
        split_message(message_of(40), block_size=10, routing=ROUTING, max_blocks=3)


def test_routing_header_for_garbage_is_a_decode_error() -> None:
    for junk in (b"", b"\x30\x00", b"\xdd\x01", b"\xdf\x09\x01"):
        with pytest.raises(GbcsDecodeError):
            routing_header_for(junk)


@pytest.fixture(scope="module")
def vectors() -> list[RawVector]:
    require_reference()
    return rtds_vectors()


def test_every_reference_message_splits_and_reassembles(vectors: list[RawVector]) -> None:
    reassembler = Reassembler()
    for v in vectors:
        for size in (1149, 97):
            blocks = split_message(v.message, block_size=size)
            routing = blocks[0].routing
            assert (routing.cra, routing.message_code) == (v.cra, v.message_code)
            assert routing.originator == v.message[v.message.index(0xDF) + 12 :][:8]
            wire = [b.to_bytes() for b in blocks]
            assert all(is_gbt(w) for w in wire)
            result = [reassembler.accept(GbtBlock.from_bytes(w)) for w in reversed(wire)]
            assert result[-1] == v.message and result[:-1] == [None] * (len(wire) - 1)
    assert len(reassembler) == 0


# -- reassembly ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    block_size=st.integers(1, 40),
    blocks=st.integers(1, 12),
    delta=st.sampled_from([-1, 0, 1]),
    seed=st.integers(0, 2**32),
)
def test_round_trip_around_block_boundaries(
    block_size: int, blocks: int, delta: int, seed: int
) -> None:
    size = max(1, block_size * blocks + delta)
    message = message_of(size, seed)
    parts = split_message(message, block_size=block_size, routing=ROUTING, max_blocks=63)
    assert len(parts) == -(-size // block_size)
    rng = random.Random(seed)
    arrivals = parts + rng.sample(parts, k=min(3, len(parts)))  # some blocks twice
    rng.shuffle(arrivals)
    reassembler = Reassembler()
    results = [reassembler.accept(b, now=i) for i, b in enumerate(arrivals)]
    done = [r for r in results if r is not None]
    # Exactly once, unless a repeat of a block arrives after completion (a new partial).
    assert done[0] == message
    assert all(r == message for r in done)


def test_missing_blocks_are_reported() -> None:
    parts = split_message(message_of(60), block_size=10, routing=ROUTING)
    r = Reassembler()
    for n in (1, 3, 5):
        assert r.accept(parts[n - 1]) is None
    assert r.missing(ROUTING.key) == [2, 4]
    assert r.accept(parts[5]) is None  # block 6, the last
    assert r.missing(ROUTING.key) == [2, 4]
    assert r.pending() == [ROUTING.key]
    assert r.accept(parts[3]) is None
    assert r.missing(ROUTING.key) == [2]
    assert r.accept(parts[1]) == message_of(60)
    with pytest.raises(KeyError, match="no pending GBT message"):
        r.missing(ROUTING.key)


def test_duplicates_are_harmless_and_conflicts_are_refused() -> None:
    parts = split_message(message_of(30), block_size=10, routing=ROUTING)
    r = Reassembler()
    assert r.accept(parts[0]) is None
    assert r.accept(parts[0]) is None
    forged = GbtBlock(routing=ROUTING, block_number=1, data=b"x" * 10)
    with pytest.raises(GbtReassemblyError, match="different content") as info:
        r.accept(forged)
    assert info.value.key == ROUTING.key and info.value.field == "gbt.data"
    as_last = GbtBlock(routing=ROUTING, block_number=1, data=parts[0].data, last=True)
    with pytest.raises(GbtReassemblyError, match="different content"):
        r.accept(as_last)
    assert r.missing(ROUTING.key) == []  # state unchanged by the refused blocks
    assert r.accept(parts[2]) is None
    assert r.accept(parts[1]) == message_of(30)


def test_last_block_rules() -> None:
    parts = split_message(message_of(40), block_size=10, routing=ROUTING)
    r = Reassembler()
    r.accept(parts[3])  # block 4, last
    with pytest.raises(GbtReassemblyError, match="after last 4"):
        r.accept(GbtBlock(routing=ROUTING, block_number=5, data=b"y"))
    with pytest.raises(GbtReassemblyError, match="already the last"):
        r.accept(GbtBlock(routing=ROUTING, block_number=2, data=b"y", last=True))
    other = RoutingHeader(
        cra=1, originator_counter=1, originator=ESME, recipient=SUPPLIER, message_code=1
    )
    r.accept(GbtBlock(routing=other, block_number=3, data=b"z"))
    with pytest.raises(GbtReassemblyError, match="flagged last but block 3 exists"):
        r.accept(GbtBlock(routing=other, block_number=2, data=b"z", last=True))
    changed = RoutingHeader(
        cra=1, originator_counter=1, originator=ESME, recipient=SUPPLIER, message_code=2
    )
    with pytest.raises(GbtReassemblyError, match="message code changed"):
        r.accept(GbtBlock(routing=changed, block_number=1, data=b"z"))


def test_limits_are_enforced() -> None:
    r = Reassembler(GbtLimits(max_blocks=4, max_block_size=8, max_message_size=20, max_pending=2))
    with pytest.raises(GbtReassemblyError, match=r"outside 1\.\.4"):
        r.accept(GbtBlock(routing=ROUTING, block_number=5, data=b"a"))
    with pytest.raises(GbtReassemblyError, match=r"outside 1\.\.4"):
        r.accept(GbtBlock(routing=ROUTING, block_number=0, data=b"a"))
    with pytest.raises(GbtReassemblyError, match="9 bytes > 8"):
        r.accept(GbtBlock(routing=ROUTING, block_number=1, data=b"a" * 9))
    for n in (1, 2):
        r.accept(GbtBlock(routing=ROUTING, block_number=n, data=b"a" * 8))
    with pytest.raises(GbtReassemblyError, match="exceed 20 bytes"):
        r.accept(GbtBlock(routing=ROUTING, block_number=3, data=b"a" * 5))
    assert r.accept(GbtBlock(routing=ROUTING, block_number=3, data=b"a" * 4, last=True)) == (
        b"a" * 20
    )
    for counter in (1, 2):
        header = RoutingHeader(
            cra=1, originator_counter=counter, originator=ESME, recipient=ESME, message_code=1
        )
        r.accept(GbtBlock(routing=header, block_number=1, data=b"b"))
    with pytest.raises(GbtReassemblyError, match="2 messages already pending"):
        r.accept(GbtBlock(routing=ROUTING, block_number=1, data=b"c"))
    assert len(r) == 2
    # The default limits are the GBCS ones (§6).
    default = Reassembler()
    with pytest.raises(GbtReassemblyError, match=r"outside 1\.\.63"):
        default.accept(GbtBlock(routing=ROUTING, block_number=64, data=b"a"))


def test_acknowledgements_are_not_stored() -> None:
    r = Reassembler()
    assert r.accept(GbtBlock(routing=ROUTING, block_number=3, ack_number=2, data=b"")) is None
    assert len(r) == 0


def test_interleaved_messages_and_expiry() -> None:
    first = split_message(message_of(30, 1), block_size=10, routing=ROUTING)
    second_routing = RoutingHeader(
        cra=2, originator_counter=9, originator=ESME, recipient=SUPPLIER, message_code=0x37
    )
    second = split_message(message_of(25, 2), block_size=10, routing=second_routing)
    third_routing = RoutingHeader(
        cra=1, originator_counter=10, originator=ESME, recipient=SUPPLIER, message_code=0x37
    )
    third = split_message(message_of(25, 3), block_size=10, routing=third_routing)
    r = Reassembler()
    r.accept(first[0], now=10.0)
    r.accept(second[2], now=11.0)
    r.accept(third[0], now=12.0)
    r.accept(first[1], now=20.0)
    assert r.accept(second[0], now=21.0) is None
    assert r.expire(older_than=15.0) == [third_routing.key]
    assert sorted(r.pending()) == sorted([ROUTING.key, second_routing.key])
    assert r.accept(second[1], now=22.0) == message_of(25, 2)
    assert r.accept(first[2], now=23.0) == message_of(30, 1)
    assert r.expire(older_than=100.0) == []
