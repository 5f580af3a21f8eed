"""Whole messages: every reference vector decodes fully, re-encodes byte-exact, and decrypts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.codec import GbcsMessage, decode_message, payload_family
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.registry import message_code_info
from tests.support.vectors import RTDS, read_hex, require_reference, rtds_files


def _walk(value: JsonValue) -> Iterator[tuple[str, JsonValue]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


@pytest.fixture(scope="module")
def decoded(reference_protection: Protection) -> list[tuple[str, bytes, GbcsMessage]]:
    require_reference()
    return [
        (path.name, data, decode_message(data, protection=reference_protection))
        for path in rtds_files()
        for data in (read_hex(path),)
    ]


def test_all_reference_messages_decode_and_re_encode(
    decoded: list[tuple[str, bytes, GbcsMessage]],
) -> None:
    assert len(decoded) == 839
    for name, data, message in decoded:
        assert message.to_bytes() == data, name
        assert message.payload.to_bytes() == message.frame.payload, name


def test_no_unknown_node_in_any_reference_message(
    decoded: list[tuple[str, bytes, GbcsMessage]],
) -> None:
    for name, _, message in decoded:
        keys = {key for key, _ in _walk(message.payload.to_json())}
        assert "unknown" not in keys, name


def test_every_message_code_is_registered(decoded: list[tuple[str, bytes, GbcsMessage]]) -> None:
    for name, _, message in decoded:
        info = message_code_info(message.message_code)
        assert info is not None, name
    codes = {m.message_code for _, _, m in decoded}
    assert len(codes) == 160


def _decrypt_statuses(message: GbcsMessage) -> list[str]:
    return [
        str(item)
        for key, item in _walk(message.payload.to_json())
        if key == "decryption" and isinstance(item, str)
    ]


def test_sensitive_data_decrypts_where_the_key_is_present(
    decoded: list[tuple[str, bytes, GbcsMessage]],
) -> None:
    statuses: Counter[str] = Counter()
    for name, _, message in decoded:
        found = _decrypt_statuses(message)
        statuses.update(found)
        assert "invalid" not in found, name
        if "URP" not in name and "GCS61" not in name and "GCS15d" not in name:
            assert "no-key" not in found, name
    assert statuses["decrypted"] >= 40
    # The two that name another remote party than the keys we hold (GBCS-PAYLOADS.md §7).
    assert statuses["no-key"] <= 6


def test_payload_family_comes_from_the_message_code() -> None:
    # A CS02d response is ASN.1 that starts with 02 (INTEGER): a first-byte rule would fail.
    assert payload_family(0x000B, b"\x02\x01\x00") == "asn1"
    assert payload_family(0x0027, b"\xd9\x20") == "dlms"
    assert payload_family(0x1000, b"\x0f\x20") == "dlms"
    assert payload_family(0x1000, b"\x01\x09\x00") == "gbz"


def test_profile_response_is_columnar(reference_protection: Protection) -> None:
    data = read_hex(
        require_reference() / "4.8.1_ECS22b/ECS22b_4.8.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"
    )
    message = decode_message(data, protection=reference_protection)
    assert message.use_case == "ECS22b"
    assert "decrypted" in _decrypt_statuses(message)
    columns = [item for key, item in _walk(message.payload.to_json()) if key == "columns"]
    assert columns, "the decrypted profile holds its rows as columns"
    first = columns[0]
    assert isinstance(first, list) and len(first) == 2
    assert all(isinstance(c, list) and len(c) == 49 for c in first)


def test_gas_read_decrypts_to_known_values(reference_protection: Protection) -> None:
    path = RTDS / "4.1.1_GCS13a/GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX"
    data = read_hex(require_reference(path.parent) / path.name)
    text = str(decode_message(data, protection=reference_protection).payload.to_json())
    assert "12345" in text and "1000" in text


_SEEDS = [read_hex(p) for p in rtds_files()[::11]] or [b"\xdf\x09"]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(_SEEDS),
    st.lists(
        st.tuples(st.integers(0, 4000), st.integers(0, 255), st.integers(0, 3)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_messages_decode_or_raise_our_error(
    seed: bytes, edits: list[tuple[int, int, int]]
) -> None:
    data = bytearray(seed)
    for position, value, kind in edits:
        if not data:
            break
        at = position % len(data)
        if kind == 0:
            data[at] = value
        elif kind == 1:
            del data[at:]
        elif kind == 2:
            data.insert(at, value)
        else:
            del data[at]
    try:
        message = decode_message(bytes(data))
    except GbcsDecodeError as exc:
        assert 0 <= exc.offset <= len(data) + 1
        assert exc.field
        return
    assert message.to_bytes() == bytes(data)
