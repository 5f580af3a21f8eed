"""Firmware blocks on the WAN: their wire form, the comms hub's reassembly, the WAN fault hook."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.errors import GbcsError
from smetsnet.gbcs.frame import decode_frame
from smetsnet.wan.errors import WanError
from smetsnet.wan.firmware import (
    FirmwareAck,
    FirmwareBlock,
    FirmwareReceiver,
    TransferStatus,
    decode,
    is_firmware,
    split_blocks,
)
from smetsnet.wan.link import Technology
from smetsnet.wan.memory import InMemoryWan

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
CHUB = bytes.fromhex("00DB1200000000A0")
ESME, GSME = bytes.fromhex("00DB120000000A01"), bytes.fromhex("00DB120000000A02")


def test_blocks_and_acks_round_trip_and_are_not_gbcs() -> None:
    block = FirmwareBlock(transfer=7, index=2, count=3, targets=(ESME, GSME), data=b"abc")
    ack = FirmwareAck(
        transfer=7,
        index=2,
        count=3,
        results=((ESME, TransferStatus.SUCCESS), (GSME, TransferStatus.FAILURE)),
    )
    for message in (block, ack):
        wire = message.encode()
        assert is_firmware(wire) and decode(wire) == message
        with pytest.raises(GbcsError):
            decode_frame(wire)
    assert ack.final and not FirmwareAck(transfer=7, index=1, count=3).final


def _head(kind: int, index: int, count: int, n: int) -> bytes:
    return (
        b"SNFW"
        + bytes([kind])
        + bytes(4)
        + index.to_bytes(2, "big")
        + count.to_bytes(2, "big")
        + bytes([n])
    )


@pytest.mark.parametrize(
    ("wire", "error"),
    [
        (b"SNFW", "header"),
        (b"\xdd" + bytes(20), "header"),
        (_head(3, 0, 1, 0), "unknown kind"),
        (_head(1, 5, 3, 0), "block 5 of 3"),
        (_head(1, 0, 3, 2) + bytes(8), "2 targets announced"),
        (_head(2, 0, 3, 1) + bytes(8), "1 results announced"),
        (_head(2, 0, 3, 1) + bytes(8) + b"\x09", "unknown transfer status 9"),
    ],
)
def test_malformed_firmware_messages_are_refused_by_name(wire: bytes, error: str) -> None:
    with pytest.raises(WanError, match=error):
        decode(wire)


def test_an_image_is_split_in_blocks_of_the_size_asked() -> None:
    assert [len(b) for b in split_blocks(bytes(1300), 512)] == [512, 512, 276]
    assert b"".join(split_blocks(bytes(range(200)), 64)) == bytes(range(200))
    with pytest.raises(WanError, match="empty"):
        split_blocks(b"")
    with pytest.raises(WanError, match="at least 1"):
        split_blocks(b"x", 0)


def test_the_receiver_acks_every_block_and_hands_the_image_over_once() -> None:
    handed: list[tuple[bytes, tuple[bytes, ...]]] = []

    def hand_over(
        image: bytes, targets: tuple[bytes, ...], _now: datetime
    ) -> tuple[Mapping[bytes, TransferStatus], list[bytes]]:
        handed.append((image, targets))
        return {ESME: TransferStatus.SUCCESS}, [b"receipt alert"]

    receiver = FirmwareReceiver(hand_over)
    parts = split_blocks(b"0123456789", 4)
    blocks = [
        FirmwareBlock(transfer=1, index=i, count=3, targets=(ESME, GSME), data=p)
        for i, p in enumerate(parts)
    ]
    acks = [receiver.receive(blocks[0], NOW), receiver.receive(blocks[0], NOW)]  # re-sent
    acks.append(receiver.receive(blocks[1], NOW))
    assert [decode(a[0]) for a in acks] == [
        FirmwareAck(transfer=1, index=0, count=3),
        FirmwareAck(transfer=1, index=0, count=3),
        FirmwareAck(transfer=1, index=1, count=3),
    ]
    assert handed == []
    last = receiver.receive(blocks[2], NOW)
    results = ((ESME, TransferStatus.SUCCESS), (GSME, TransferStatus.FAILURE))
    assert decode(last[0]) == FirmwareAck(transfer=1, index=2, count=3, results=results)
    assert last[1:] == [b"receipt alert"]
    assert handed == [(b"0123456789", (ESME, GSME))]
    # The last block again (its ack was lost): the same outcome, no second hand-over.
    again = receiver.receive(blocks[2], NOW)
    assert again == [last[0]] and len(handed) == 1


def test_a_wan_fault_rewrites_what_reaches_the_premises_until_cleared() -> None:
    seen: list[bytes] = []

    def endpoint(wire: bytes, _now: datetime) -> list[bytes]:
        seen.append(wire)
        return []

    wan = InMemoryWan(seed=1)
    wan.attach(CHUB, endpoint, Technology.CELLULAR)
    wan.set_fault(CHUB, lambda wire: wire.upper())
    wan.send(CHUB, b"abc", NOW)
    wan.advance(NOW + timedelta(minutes=1))
    wan.set_fault(CHUB, None)
    wan.send(CHUB, b"abc", NOW + timedelta(minutes=1))
    wan.advance(NOW + timedelta(minutes=2))
    assert seen == [b"ABC", b"abc"]
