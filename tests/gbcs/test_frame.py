"""The GBCS frame: every reference vector splits and re-joins byte-exact; bad frames fail well."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.frame import Cra, Frame, GroupingHeader, decode_frame
from smetsnet.gbcs.reader import Reader, encode_length
from tests.support.vectors import RTDS, read_hex, require_reference, rtds_files

ECS17B = "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX"
SUPPLIER = bytes.fromhex("90B3D51F30010000")
ESME = bytes.fromhex("00DB1234567890A0")


def test_every_reference_frame_round_trips() -> None:
    require_reference()
    files = rtds_files()
    assert len(files) == 839
    for path in files:
        data = read_hex(path)
        assert decode_frame(data).to_bytes() == data, path.name


def test_header_fields_of_a_known_command() -> None:
    frame = decode_frame(read_hex(require_reference() / ECS17B))
    header = frame.header
    assert header.cra == Cra.COMMAND
    assert header.counter == 1000
    assert header.originator == SUPPLIER
    assert header.recipient == ESME
    assert header.message_code == 0x0027
    assert header.date_time == b""
    assert frame.mac == bytes.fromhex("F08A88FCB4EEBECA47B71589")
    assert frame.signature == b""
    assert frame.payload[:1] == b"\xd9"


def test_kinds_of_frame_in_the_reference_set() -> None:
    """303 signed-only (no MAC header), the pre-commands with no signature byte at all."""
    require_reference()
    no_mac = precommands = signed = 0
    for path in rtds_files():
        frame = decode_frame(read_hex(path))
        no_mac += frame.mac_header is None
        precommands += frame.signature is None
        signed += bool(frame.signature)
        if "PRECOMMAND" in path.name:
            assert frame.signature is None and frame.mac is None, path.name
    assert no_mac == 303
    assert precommands == sum("PRECOMMAND" in p.name for p in rtds_files())
    assert signed == 313


def test_response_with_date_time_and_supplementary_party() -> None:
    root = require_reference()
    response = decode_frame(read_hex(root / ECS17B.replace("COMMAND", "RESPONSE")))
    assert response.header.cra == Cra.RESPONSE
    assert response.header.date_time == bytes.fromhex("07DF0101FF000000008000FF")
    urp = decode_frame(read_hex(root / "4.14_ECS21b/ECS21b_4.14_URP_SUCCESS_COMMAND_GBCS.HEX"))
    assert urp.header.supplementary_remote_party == SUPPLIER
    assert urp.header.supplementary_remote_party_counter == 1004
    assert urp.header.certificate is not None and urp.header.certificate[:2] == b"\x30\x82"


def _reference_sample() -> bytes:
    path = RTDS / ECS17B
    return read_hex(path) if path.exists() else bytes.fromhex("DF09")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "frame"),
        (b"\x42", "frame"),
        (bytes.fromhex("DD0900000000000000"), "mac_header"),
        (bytes.fromhex("DF0904"), "grouping_header.cra"),
        (bytes.fromhex("DF0901") + bytes(8) + b"\x07", "grouping_header.originator_length"),
    ],
)
def test_bad_frames_name_the_field(data: bytes, field: str) -> None:
    with pytest.raises(GbcsDecodeError) as caught:
        decode_frame(data)
    assert caught.value.field == field


def test_truncation_and_trailing_bytes_are_errors() -> None:
    data = read_hex(require_reference() / ECS17B)
    with pytest.raises(GbcsDecodeError):
        decode_frame(data[:-1])
    with pytest.raises(GbcsDecodeError) as caught:
        decode_frame(data + b"\x00")
    assert caught.value.field == "mac_header.length"


@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_our_error(data: bytes) -> None:
    try:
        frame = decode_frame(data)
    except GbcsDecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        return
    assert frame.to_bytes() == data


@given(st.integers(0, 0xFFFFFF))
def test_lengths_round_trip(n: int) -> None:
    encoded = encode_length(n)
    assert Reader(encoded).length("x") == (n, len(encoded))


def test_non_minimal_length_is_kept() -> None:
    assert encode_length(0x7F, 3) == b"\x82\x00\x7f"
    assert Reader(b"\x82\x00\x7f").length("x") == (0x7F, 3)
    with pytest.raises(GbcsEncodeError):
        encode_length(0x1234, 2)


def test_header_validation() -> None:
    with pytest.raises(GbcsEncodeError):
        GroupingHeader(
            cra=Cra.COMMAND, counter=1, originator=b"short", recipient=ESME, message_code=1
        )
    with pytest.raises(GbcsEncodeError):
        GroupingHeader(
            cra=Cra.COMMAND, counter=-1, originator=SUPPLIER, recipient=ESME, message_code=1
        )
    header = GroupingHeader(
        cra=Cra.COMMAND, counter=5, originator=SUPPLIER, recipient=ESME, message_code=0x27
    )
    frame = Frame(mac_header=None, header=header, payload=b"\xd9\x00", signature=None, mac=None)
    assert decode_frame(frame.to_bytes()).header == header


def test_quick_and_careful_readers_agree() -> None:
    """The fast path must give exactly what the field-by-field reader gives."""
    from smetsnet.gbcs.frame import _careful_frame, _quick_frame

    require_reference()
    quick = 0
    for path in rtds_files():
        data = read_hex(path)
        fast = _quick_frame(data)
        if fast is None:
            continue
        quick += 1
        careful = _careful_frame(data)
        assert fast == careful, path.name
        assert fast.layout == careful.layout, path.name
    assert quick > 700


def test_every_truncation_of_a_dated_response_is_our_error() -> None:
    """Regression (found by bench/fuzz_gbcs.py): a signed-only frame (no MAC header, so no outer
    length to catch it) cut inside its 12-byte date-time raised IndexError."""
    root = require_reference()
    signed = read_hex(
        root / "1.1.1_ECS01a/ECS01a_1.1.1_CANCELLATION_TOU_BLOCK_SUCCESS_RESPONSE_GBCS.HEX"
    )
    maced = read_hex(root / ECS17B.replace("COMMAND", "RESPONSE"))
    for data in (signed, maced):
        assert decode_frame(data).header.date_time
        decoded = 0
        for cut in range(len(data)):
            try:
                frame = decode_frame(data[:cut])
            except GbcsDecodeError:
                continue
            # Cut just before its signature, a signed message is a well-formed pre-command.
            assert frame.signature is None and frame.to_bytes() == data[:cut]
            decoded += 1
        assert decoded <= 1


def test_a_built_frame_knows_its_layout_without_parsing() -> None:
    """Frame.wired() computes wire and layout from the parts; decoding must agree."""
    require_reference()
    for path in rtds_files()[::5]:
        decoded = decode_frame(read_hex(path))
        built = Frame(
            mac_header=decoded.mac_header,
            header=decoded.header,
            payload=decoded.payload,
            signature=decoded.signature,
            mac=decoded.mac,
        ).wired()
        assert built.wire == decoded.wire, path.name
        assert built.layout == decoded.layout, path.name
        assert built.signed_bytes() == decoded.signed_bytes()
