"""Whole messages: every reference vector decodes fully, re-encodes byte-exact, and decrypts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.codec import GbcsMessage, decode_message, decode_payload, payload_family
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.registry import message_code_info
from tests.support.vectors import REFERENCE, RTDS, read_hex, require_reference, rtds_files


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


def _dicts(value: JsonValue) -> Iterator[dict[str, JsonValue]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _dicts(item)


def _decrypt_statuses(message: GbcsMessage) -> list[str]:
    """The status of every piece of sensitive data (a node with "ciphered" beside "status")."""
    return [str(d["status"]) for d in _dicts(message.payload.to_json()) if "ciphered" in d]


def test_sensitive_data_decrypts_where_the_key_is_present(
    decoded: list[tuple[str, bytes, GbcsMessage]],
) -> None:
    statuses: Counter[str] = Counter()
    for name, _, message in decoded:
        found = _decrypt_statuses(message)
        statuses.update(found)
        assert "invalid" not in found, name
        if "URP" not in name:
            assert "no-key" not in found, name
    # Every piece of sensitive data but the URP response's (encrypted to the command's key).
    assert statuses == {"decrypted": sum(statuses.values()) - 1, "no-key": 1}
    assert statuses["decrypted"] == 38  # 12 DLMS protected reads, 26 GBZ encrypted components


def test_unknown_remote_party_response_decrypts_with_the_commands_key(
    reference_protection: Protection,
) -> None:
    """ECS21b URP: the response is encrypted to the KA certificate the command carried; its
    private key is in the DCC Boxed keystore (supplier "Z1-supplier-ka"), not the RTDS folder."""
    keystore_json = REFERENCE / "duis" / "keystore" / "keystore.json"
    folder = require_reference() / "4.14_ECS21b"
    if not keystore_json.is_file():
        pytest.skip(f"{keystore_json} not found")
    command = decode_message(read_hex(folder / "ECS21b_4.14_URP_SUCCESS_COMMAND_GBCS.HEX"))
    certificate = x509.load_der_x509_certificate(command.header.certificate or b"")
    entries = json.loads(keystore_json.read_text())["90b3d51f30010000"]["keyAgreement"].values()
    key = next(
        k
        for e in entries
        for k in (serialization.load_pem_private_key(e["privateKey"].encode(), None),)
        if isinstance(k, ec.EllipticCurvePrivateKey)
        and k.public_key().public_numbers() == certificate.public_key().public_numbers()
    )
    response = read_hex(folder / "ECS21b_4.14_URP_SUCCESS_RESPONSE_GBCS.HEX")
    without = decode_message(response, protection=reference_protection)
    assert _decrypt_statuses(without) == ["no-key"]
    opened = decode_message(response, protection=reference_protection, unknown_party_key=key)
    assert _decrypt_statuses(opened) == ["decrypted"]
    assert opened.to_bytes() == response


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


def test_load_controller_by_load_controller_has_a_schema() -> None:
    """0x0125 (CS02g, mode 10) is not in ../shared but is in the full RTDS 4.5.0 set that
    gbcs-parser publishes; its payload is the CS02g layout, so it must decode typed."""
    require_reference()
    command = next(
        p
        for p in rtds_files()
        if "CS02gLoadControllerBySupplier" in p.name and "_COMMAND" in p.name
    )
    message = decode_message(read_hex(command))
    assert message.message_code == 0x0126
    as_0125 = decode_payload(message.frame.payload, message_code=0x0125, cra=message.header.cra)
    tree = as_0125.to_json()
    assert "unknown" not in {key for key, _ in _walk(tree)}
    assert as_0125.to_bytes() == message.frame.payload
    info = message_code_info(0x0125)
    assert info is not None and info.use_case == "CS02g" and info.is_critical
