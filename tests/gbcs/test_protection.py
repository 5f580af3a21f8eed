"""MAC and signature checks over the whole reference set, and tampering in every part."""

from __future__ import annotations

from collections import Counter

import pytest

from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.keystore import KeyUsage, MemoryKeyStore
from smetsnet.gbcs.protection import Protection
from tests.support.vectors import read_hex, require_reference, rtds_files


def _verdicts(protection: Protection) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for path in rtds_files():
        verification = protection.verify(decode_frame(read_hex(path)))
        counts["mac", verification.mac] += 1
        counts["signature", verification.signature] += 1
    return counts


def test_reference_macs_and_signatures(reference_protection: Protection) -> None:
    """534 MACs verify (an independent parser agrees), 313 signatures verify, none invalid."""
    require_reference()
    counts = _verdicts(reference_protection)
    assert counts["mac", "valid"] == 534
    assert counts["mac", "invalid"] == 0
    assert counts["mac", "absent"] == 303
    assert counts["signature", "valid"] == 313
    assert counts["signature", "invalid"] == 0


def _signed_and_maced() -> bytes:
    """A critical command: signed by the supplier and MAC'd by the ACB."""
    for path in rtds_files():
        if "ECS01a" in path.name and path.name.endswith("_COMMAND_GBCS.HEX"):
            data = read_hex(path)
            frame = decode_frame(data)
            if frame.signature and frame.mac:
                return data
    pytest.skip("no signed and MAC'd command in the reference set")


def _regions(data: bytes) -> dict[str, int]:
    frame = decode_frame(data)
    assert frame.layout is not None
    return {
        "header": frame.layout.header_start + 5,  # inside the originator counter
        "payload": (frame.layout.payload_start + frame.layout.payload_end) // 2,
        "signature": frame.layout.payload_end + 10,
        "mac": len(data) - 3,
    }


@pytest.mark.parametrize("region", ["header", "payload", "signature", "mac"])
def test_flipped_bit_is_never_valid(reference_protection: Protection, region: str) -> None:
    require_reference()
    data = _signed_and_maced()
    assert reference_protection.verify(decode_frame(data)).ok
    position = _regions(data)[region]
    tampered = bytearray(data)
    tampered[position] ^= 0x04
    verification = reference_protection.verify(decode_frame(bytes(tampered)))
    assert verification.mac == "invalid"
    if region != "mac":
        assert verification.signature == "invalid"


def test_every_mac_fails_with_a_flipped_bit(reference_protection: Protection) -> None:
    require_reference()
    checked = 0
    for path in rtds_files()[::7]:
        data = bytearray(read_hex(path))
        frame = decode_frame(bytes(data))
        if frame.mac is None or reference_protection.check_mac(frame) != "valid":
            continue
        assert frame.layout is not None
        data[frame.layout.payload_start] ^= 0x80
        assert reference_protection.check_mac(decode_frame(bytes(data))) == "invalid", path.name
        checked += 1
    assert checked > 50


def test_wrong_keys_give_invalid_never_valid(reference_protection: Protection) -> None:
    """The same messages checked with other parties' keys under the right names."""
    require_reference()
    data = _signed_and_maced()
    frame = decode_frame(data)
    impostor = MemoryKeyStore()
    device = frame.header.recipient
    impostor.generate(device)
    impostor.generate(frame.header.originator)
    impostor.generate(reference_protection.access_control_broker)
    verification = Protection(impostor).verify(frame)
    assert verification.mac == "invalid"
    assert verification.signature == "invalid"


def test_missing_keys_are_reported_as_no_key() -> None:
    require_reference()
    frame = decode_frame(_signed_and_maced())
    verification = Protection(MemoryKeyStore()).verify(frame)
    assert (verification.mac, verification.signature) == ("no-key", "no-key")


def test_shared_secret_is_cached_and_symmetric(reference_protection: Protection) -> None:
    a, b = bytes.fromhex("90B3D51F30010000"), bytes.fromhex("00DB1234567890A0")
    z1 = reference_protection.shared_secret(a, b)
    assert z1 is not None and reference_protection.shared_secret(b, a) is z1
    assert reference_protection.keystore.public_key(b, KeyUsage.KEY_AGREEMENT) is not None
