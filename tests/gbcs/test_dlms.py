"""DLMS/xDLMS payload codec: reference vectors, worked examples (GBCS-PAYLOADS §1.7), builders,
A-XDR round trips, protected attributes, errors and fuzzing."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import cache
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.dlms import (
    NULL,
    AccessRequest,
    AccessResponse,
    ActionSpec,
    Array,
    Bcd,
    BitString,
    Boolean,
    CompactArray,
    CosemDateTime,
    Data,
    DataNotification,
    Date,
    DateTime,
    DlmsPayload,
    DoubleLong,
    DoubleLongUnsigned,
    Enumerated,
    Float32,
    Float64,
    GetSpec,
    GetWithSelectionSpec,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    Obis,
    OctetString,
    ProtectionParameters,
    ResponseSpec,
    SetSpec,
    Structure,
    Time,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
    class_name,
    decode_data,
    decode_dlms_payload,
    from_seconds_since_2000,
    obis_name,
    protected_attributes_request,
    tags,
)
from smetsnet.gbcs.dlms.protected import read_protected_item
from smetsnet.gbcs.payload import CipheredContent, Decrypted, Decryptor, JsonValue
from tests.support.vectors import RawVector, require_reference, rtds_vectors

H = bytes.fromhex
SUPPLIER = H("90B3D51F30010000")
ESME = H("00DB1234567890A0")
#: Derived key of the ECS17b 4.1.1 response (GBCS-PAYLOADS §1.7).
ECS17B_KEY = H("12CB821C471EC2144C68E12A5657F9FD")


# -- helpers --------------------------------------------------------------------------------------
@cache
def _dlms_vectors() -> tuple[RawVector, ...]:
    return tuple(v for v in rtds_vectors() if v.payload[:1] in (b"\xd9", b"\xda", b"\x0f"))


def _vector(name: str) -> RawVector:
    require_reference()
    for v in _dlms_vectors():
        if v.path.name == name:
            return v
    raise AssertionError(f"no vector {name}")


def _decode(name: str, decrypt: Decryptor | None = None) -> tuple[RawVector, DlmsPayload]:
    v = _vector(name)
    payload = decode_dlms_payload(
        v.payload, message_code=v.message_code, base=v.payload_offset, decrypt=decrypt
    )
    return v, payload


def _walk(value: JsonValue) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def gcm_decryptor(key: bytes, title: bytes = ESME) -> Decryptor:
    """A test Decryptor: AES-GCM, IV = title ‖ invocation counter, AAD 0x31, 12-byte tag."""

    def decrypt(invocation_counter: int, ciphertext: bytes, tag: bytes) -> Decrypted:
        iv = title + invocation_counter.to_bytes(4, "big")
        opener = Cipher(algorithms.AES(key), modes.GCM(iv, tag, min_tag_length=12)).decryptor()
        opener.authenticate_additional_data(b"\x31")
        try:
            return Decrypted(
                status="decrypted", plaintext=opener.update(ciphertext) + opener.finalize()
            )
        except InvalidTag:
            return Decrypted(status="invalid")

    return decrypt


def seal(key: bytes, counter: int, plaintext: bytes, title: bytes = ESME) -> CipheredContent:
    sealed = AESGCM(key).encrypt(title + counter.to_bytes(4, "big"), plaintext, b"\x31")
    return CipheredContent(
        security_control=0x31,
        invocation_counter=counter,
        ciphertext=sealed[:-16],
        tag=sealed[-16:-4],
    )


# -- the reference set ----------------------------------------------------------------------------
def test_every_reference_payload_round_trips_and_renders() -> None:
    require_reference()
    vectors = _dlms_vectors()
    assert len(vectors) == 506
    for v in vectors:
        payload = decode_dlms_payload(v.payload, message_code=v.message_code, base=v.payload_offset)
        assert payload.to_bytes() == v.payload, v.path.name  # before any lazy part is built
        rendered = payload.to_json()
        json.dumps(rendered)
        assert "unknown" not in set(_walk(rendered)), v.path.name
        assert payload.to_bytes() == v.payload, v.path.name  # and after (encoder, not source)
        assert type(payload).tag == v.payload[0]


def test_reference_payloads_equal_their_rebuilt_copies() -> None:
    """Nodes rebuilt through the public constructors encode the same bytes (no hidden state)."""
    require_reference()
    for v in _dlms_vectors()[::7]:
        payload = decode_dlms_payload(v.payload, message_code=v.message_code)
        if isinstance(payload, AccessRequest):
            copy: DlmsPayload = AccessRequest(
                invoke_id_and_priority=payload.invoke_id_and_priority,
                specs=payload.specs,
                data=tuple(_rebuild(d) for d in payload.data),
                date_time=payload.date_time,
                length_widths=payload.length_widths,
            )
        elif isinstance(payload, AccessResponse):
            copy = AccessResponse(
                invoke_id_and_priority=payload.invoke_id_and_priority,
                data=tuple(_rebuild(d) for d in payload.data),
                results=payload.results,
                date_time=payload.date_time,
                spec_echo=payload.spec_echo,
                length_widths=payload.length_widths,
            )
        else:
            copy = DataNotification(
                invoke_id_and_priority=payload.invoke_id_and_priority,
                value=_rebuild(payload.value),
                date_time=payload.date_time,
            )
        assert copy == payload
        assert copy.to_bytes() == v.payload


def _rebuild(node: Data) -> Data:
    if isinstance(node, Array):
        return Array(items=tuple(_rebuild(i) for i in node.items), width=node.width)
    if isinstance(node, Structure):
        return Structure(items=tuple(_rebuild(i) for i in node.items), width=node.width)
    return node


# -- worked examples (§1.7) -----------------------------------------------------------------------
def test_ecs52_get_firmware_version() -> None:
    _, req = _decode("ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX")
    assert isinstance(req, AccessRequest)
    assert req.invoke_id == 1000 and req.invoke_id_and_priority >> 24 == 0x20
    assert req.date_time == b""
    assert req.specs == (GetSpec(class_id=1, instance=Obis.parse("0-0:0.2.1.255"), attribute_id=2),)
    assert req.data == (NULL,)
    assert req.specs[0].instance.name == "firmware version"
    _, resp = _decode("ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX")
    assert isinstance(resp, AccessResponse)
    assert resp.spec_echo is None
    assert resp.data == (OctetString(value=H("0123ABCD")),)
    assert resp.results == (ResponseSpec(choice=1, result=0),)
    assert resp.results[0].kind == "get" and resp.results[0].result_name == "success"


def test_ecs12_set_date_time() -> None:
    _, req = _decode("ECS12_3.2_SUCCESS_COMMAND_GBCS.HEX")
    assert isinstance(req, AccessRequest)
    assert req.specs == (SetSpec(class_id=1, instance=Obis.parse("0-0:94.44.3.2"), attribute_id=2),)
    (value,) = req.data
    assert isinstance(value, OctetString)
    when = CosemDateTime.from_bytes(value.value)
    assert when.to_datetime() == datetime(2014, 3, 27, 15, 45, 32)
    assert (when.weekday, when.deviation, when.status) == (0xFF, 0x8000, 0xFF)
    assert when.text() == "2014-03-27 15:45:32"
    _, resp = _decode("ECS12_3.2_SUCCESS_RESPONSE_GBCS.HEX")
    assert isinstance(resp, AccessResponse)
    assert resp.data == (NULL,) and resp.results == (ResponseSpec(choice=2, result=0),)


def test_ecs35a_selective_get_and_compact_array_event_log() -> None:
    _, req = _decode("ECS35a_6.13_SUCCESS_COMMAND_GBCS.HEX")
    assert isinstance(req, AccessRequest)
    (spec,) = req.specs
    assert isinstance(spec, GetWithSelectionSpec)
    assert (spec.class_id, str(spec.instance), spec.attribute_id, spec.selector) == (
        7,
        "0-0:99.98.0.255",
        2,
        1,
    )
    assert isinstance(spec.parameter, Structure)
    restricting, start, stop, columns = spec.parameter.items
    assert isinstance(restricting, Structure)
    assert restricting.items[0] == LongUnsigned(value=1)
    assert start == DoubleLongUnsigned(value=0x1C35F900)
    assert stop == DoubleLongUnsigned(value=0x1C374A80)
    assert from_seconds_since_2000(0x1C35F900) == datetime(2014, 12, 31, tzinfo=UTC)
    assert columns == Array(items=())

    _, resp = _decode("ECS35a_6.13_SUCCESS_RESPONSE_GBCS.HEX")
    assert isinstance(resp, AccessResponse)
    (log,) = resp.data
    assert isinstance(log, CompactArray)
    assert log.description == TypeDescription.structure(
        TypeDescription.simple(tags.DOUBLE_LONG_UNSIGNED),
        TypeDescription.simple(tags.LONG_UNSIGNED),
        TypeDescription.simple(tags.OCTET_STRING),
    )
    times, codes, extra = log.columns
    assert isinstance(times, np.ndarray) and isinstance(codes, np.ndarray)
    assert (int(times[0]), int(codes[0]), extra[0]) == (0x1C35F900, 0x8F01, OctetString(value=b""))
    assert (int(times[2]), int(codes[2]), extra[2]) == (
        0x1C361064,
        0x8154,
        OctetString(value=H("009B")),
    )
    assert log.row_count == len(codes) > 20
    rendered = log.to_json()
    assert isinstance(rendered, dict) and rendered["rows"] == log.row_count


def test_ecs17b_protected_attributes_request_is_recognised() -> None:
    _, req = _decode("ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX")
    assert isinstance(req, AccessRequest)
    assert req.specs == (
        ActionSpec(class_id=30, instance=Obis.parse("0-0:43.2.8.255"), method_id=1),
    )
    view = req.protected_attributes
    assert view is not None
    (obj,) = view.objects
    assert (obj.class_id, str(obj.instance), obj.attribute_id, obj.restriction_type) == (
        1,
        "0-0:94.44.34.10",
        2,
        0,
    )
    (params,) = view.parameters
    assert (params.originator, params.recipient, params.originator_counter) == (
        SUPPLIER,
        ESME,
        1000,
    )
    assert params.key_parameters == b"\x02" and params.protection_type == 2
    rendered = req.to_json()
    assert isinstance(rendered, dict) and "protected_attributes" in rendered


def test_ecs17b_protected_response_decrypts_to_register_values() -> None:
    v, resp = _decode(
        "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX", decrypt=gcm_decryptor(ECS17B_KEY)
    )
    assert isinstance(resp, AccessResponse)
    (content,) = resp.protected
    assert content.status == "decrypted"
    assert content.ciphered.invocation_counter == 0 and len(content.ciphered.ciphertext) == 26
    assert content.plaintext == H("02010204060000000A02020F00161E060000000A02020F001620")
    assert content.value == Structure(
        items=(
            Structure(
                items=(
                    DoubleLongUnsigned(value=10),
                    Structure(items=(Integer(value=0), Enumerated(value=30))),  # Wh
                    DoubleLongUnsigned(value=10),
                    Structure(items=(Integer(value=0), Enumerated(value=32))),  # varh
                )
            ),
        )
    )
    assert resp.results == (ResponseSpec(choice=3, result=0),)
    assert resp.to_bytes() == v.payload
    rendered = json.dumps(resp.to_json())
    assert '"status": "decrypted"' in rendered


@pytest.mark.parametrize(("decrypt", "status"), [(None, "no-key"), ("wrong", "invalid")])
def test_protected_response_without_the_key_keeps_its_bytes(
    decrypt: str | None, status: str
) -> None:
    opener = gcm_decryptor(bytes(16)) if decrypt else None
    v, resp = _decode("ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX", decrypt=opener)
    assert isinstance(resp, AccessResponse)
    (content,) = resp.protected
    assert content.status == status and content.value is None
    assert resp.to_bytes() == v.payload
    assert f'"status": "{status}"' in json.dumps(resp.to_json())


def test_all_protected_reference_responses_are_recognised() -> None:
    require_reference()
    codes = {0x27, 0x29, 0x2A, 0x2D, 0x2F, 0x30, 0x33, 0x34, 0x37, 0x60}
    seen = 0
    for v in _dlms_vectors():
        if v.message_code in codes and v.payload[0] == 0xDA and "SUCCESS" in v.path.name:
            payload = decode_dlms_payload(v.payload, message_code=v.message_code)
            assert isinstance(payload, AccessResponse)
            assert [c.status for c in payload.protected] == ["no-key"], v.path.name
            seen += 1
    assert seen >= 12


def test_ecs22b_plaintext_compact_array_is_columnar() -> None:
    rows = [(0x1C35F900 + 1800 * i, 100 + i) for i in range(49)]
    plaintext = H("02011302020606820188") + b"".join(struct.pack(">II", *r) for r in rows)
    value = decode_data(plaintext)
    assert isinstance(value, Structure)
    (profile,) = value.items
    assert isinstance(profile, CompactArray)
    times, values = profile.columns
    assert isinstance(times, np.ndarray) and isinstance(values, np.ndarray)
    assert times.dtype == np.dtype(">u4") and profile.row_count == 49
    assert times.tolist() == [r[0] for r in rows] and values.tolist() == [r[1] for r in rows]
    assert profile.width is None  # 82 01 88 is the minimal form of 392
    assert value.to_bytes() == plaintext


def test_ecs80_alert_code_and_times() -> None:
    _, alert = _decode("ECS80_NA_8F36_ALERT_GBCS.HEX")
    assert isinstance(alert, DataNotification)
    assert alert.alert_code == 0x8F36
    stamp = alert.alert_date_time
    assert stamp is not None and stamp.to_datetime() == datetime(2015, 1, 1)
    start, end = alert.items[2:]
    assert isinstance(start, OctetString) and isinstance(end, OctetString)
    assert CosemDateTime.from_bytes(start.value).to_datetime() == datetime(2014, 12, 31, 23, 50)
    assert CosemDateTime.from_bytes(end.value).to_datetime() == datetime(2014, 12, 31, 23, 59)
    rendered = alert.to_json()
    assert isinstance(rendered, dict) and rendered["alert_code"] == 0x8F36


def test_protected_alert_like_ecs68_is_opened() -> None:
    """ECS68 (0x0061): structure{alert code, time, protection parameters, ciphered data} [P]."""
    params = ProtectionParameters.for_counter(77, originator=ESME, recipient=SUPPLIER)
    secret = Structure(items=(DoubleLongUnsigned(value=1234),))
    ciphered = seal(ECS17B_KEY, 5, secret.to_bytes())
    alert = DataNotification.alert(
        0x8F1C,
        CosemDateTime.from_datetime(datetime(2015, 1, 1)),
        Array(items=(params.to_data(),)),
        OctetString(value=ciphered.to_bytes()),
        invoke_id=77,
    )
    raw = alert.to_bytes()
    decoded = decode_dlms_payload(raw, message_code=0x0061, decrypt=gcm_decryptor(ECS17B_KEY))
    assert isinstance(decoded, DataNotification)
    (content,) = decoded.protected
    assert content.status == "decrypted" and content.value == secret
    assert content.ciphered == ciphered
    assert decoded.to_bytes() == raw and decoded.alert_code == 0x8F1C


# -- the fast path of protected responses -------------------------------------------------------
ECS22B_RESPONSE = "ECS22b_4.8.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"
#: The decoder reads the usual protected item through ``read_protected_item``; patching it to
#: decline forces the generic path (Data decode, then ``open_protected``) for comparison.
FAST_PATH = "smetsnet.gbcs.dlms.decode.read_protected_item"


def _both_paths(raw: bytes, decrypt: Decryptor | None = None) -> tuple[object, object]:
    """Decode ``raw`` by the fast path and by the generic one: payloads or error texts."""
    out: list[object] = []
    for declined in (False, True):
        with patch(FAST_PATH, lambda *a: None) if declined else nullcontext():
            try:
                out.append(decode_dlms_payload(raw, message_code=0x37, base=5, decrypt=decrypt))
            except GbcsDecodeError as exc:
                out.append(f"{exc.offset} {exc.field} {exc}")
    return out[0], out[1]


def test_fast_path_equals_the_generic_decoder_on_every_protected_response() -> None:
    require_reference()
    seen = 0
    for v in _dlms_vectors():
        if v.payload[0] == 0xDA and b"\x02\x02\x01\x01\x02\x02\x16" in v.payload[:20]:
            fast, generic = _both_paths(v.payload)
            assert isinstance(fast, AccessResponse) and fast == generic, v.path.name
            assert isinstance(generic, AccessResponse)
            assert json.dumps(fast.to_json()) == json.dumps(generic.to_json())
            assert fast.to_bytes() == v.payload and [c.status for c in fast.protected] == ["no-key"]
            seen += 1
    assert seen >= 12


def test_fast_path_decrypts_like_the_generic_decoder() -> None:
    v = _vector("ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    fast, generic = _both_paths(v.payload, gcm_decryptor(ECS17B_KEY))
    assert isinstance(fast, AccessResponse) and fast == generic
    (content,) = fast.protected
    assert content.status == "decrypted" and isinstance(content.value, Structure)
    (item,) = fast.data
    assert isinstance(item, Structure)
    params = ProtectionParameters.from_data(item.items[0].items[0])  # type: ignore[union-attr]
    assert params is not None and params.originator == ESME and params.recipient == SUPPLIER
    assert params.originator_counter is not None and params.key_parameters == b"\x02"


def test_ecs22b_profile_is_decoded_by_the_fast_path() -> None:
    v = _vector(ECS22B_RESPONSE)
    calls: list[bool] = []

    def spy(*args: Any) -> object:
        found = read_protected_item(*args)
        calls.append(found is not None)
        return found

    with patch(FAST_PATH, spy):
        payload = decode_dlms_payload(v.payload, message_code=v.message_code)
    assert calls == [True]
    assert isinstance(payload, AccessResponse) and payload.to_bytes() == v.payload
    (content,) = payload.protected
    assert content.ciphered.invocation_counter == 0 and len(content.ciphered.ciphertext) == 402
    assert content.width is None  # 82 01 A3: the minimal form of 419


def test_undecodable_plaintext_keeps_the_message_decodable() -> None:
    params = ProtectionParameters.for_counter(77, originator=ESME, recipient=SUPPLIER)
    for plaintext, words in ((H("060000000100"), "1 unexpected trailing"), (H("FF"), "0xFF")):
        ciphered = OctetString(value=seal(ECS17B_KEY, 5, plaintext).to_bytes())
        item = Structure(items=(Array(items=(params.to_data(),)), ciphered))
        raw = AccessResponse.build([(item, ResponseSpec(choice=3, result=0))], invoke_id=1)
        fast, generic = _both_paths(raw.to_bytes(), gcm_decryptor(ECS17B_KEY))
        assert isinstance(fast, AccessResponse) and fast == generic
        (content,) = fast.protected
        assert content.status == "decrypted" and content.value is None
        assert content.plaintext == plaintext and content.error is not None
        assert "plaintext" in content.error and words in content.error
        assert fast.to_bytes() == raw.to_bytes()
        assert '"unknown"' in json.dumps(fast.to_json())  # the plaintext is shown as unknown


PROFILE_ROWS = b"".join(struct.pack(">II", 0x1C35F900 + 1800 * i, i) for i in range(49))


@pytest.mark.parametrize(
    "plaintext",
    [
        H("02011302020606820188") + PROFILE_ROWS,  # the ECS22b shape: one day, 49 rows
        H("020113020206068187") + PROFILE_ROWS[:135],  # not whole rows
        H("02011302020606820188") + PROFILE_ROWS + b"\x00",  # a trailing byte
        H("02011302020606820188") + PROFILE_ROWS[:-1],  # truncated
        H("0201130202060600"),  # no rows
        H("02021302020606820188") + PROFILE_ROWS + b"\x00",  # a second (null) item
    ],
)
def test_profile_plaintexts_decode_like_decode_data(plaintext: bytes) -> None:
    params = ProtectionParameters.for_counter(9, originator=ESME, recipient=SUPPLIER)
    ciphered = OctetString(value=seal(ECS17B_KEY, 1, plaintext).to_bytes())
    item = Structure(items=(Array(items=(params.to_data(),)), ciphered))
    raw = AccessResponse.build([(item, ResponseSpec(choice=3, result=0))], invoke_id=1).to_bytes()
    payload = decode_dlms_payload(raw, message_code=0x37, decrypt=gcm_decryptor(ECS17B_KEY))
    assert isinstance(payload, AccessResponse) and payload.to_bytes() == raw
    (content,) = payload.protected
    assert content.status == "decrypted" and content.plaintext == plaintext
    try:
        expected = decode_data(plaintext, field="plaintext")
    except GbcsDecodeError as exc:
        assert content.value is None and content.error == str(exc)
    else:
        assert content.error is None and content.value == expected
        assert content.value.to_bytes() == plaintext


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_protected_items_decode_alike_on_both_paths(data: st.DataObject) -> None:
    """Any change to the protected item (its shape, lengths, the ciphered header) gives the
    same payload or the same error (offset, field, reason) as the generic decoder."""
    raw = bytearray(_vector(ECS22B_RESPONSE).payload)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(7, min(7 + 62, len(raw))))
        if kind == "flip" and at < len(raw):
            raw[at] = data.draw(
                st.sampled_from(
                    [0x00, 0x01, 0x02, 0x05, 0x09, 0x16, 0x31, 0x7F, 0x80, 0x81, 0x82, 0x83, 0xFF]
                )
            )
        elif kind == "cut":
            del raw[at : at + data.draw(st.integers(1, 500))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=3))
    fast, generic = _both_paths(bytes(raw))
    if isinstance(fast, str):
        assert fast == generic
    else:
        assert isinstance(fast, AccessResponse) and fast == generic
        assert fast.to_bytes() == bytes(raw)
        assert isinstance(generic, AccessResponse)
        assert json.dumps(fast.to_json()) == json.dumps(generic.to_json())


@pytest.mark.parametrize(
    ("raw", "width"),
    [
        ("0981 05" + "AB" * 5, 2),  # non-minimal forms are kept (RTDS CS02 style)
        ("0982 0005" + "AB" * 5, 3),
        ("0982 0080" + "AB" * 128, 3),
        ("0981 80" + "AB" * 128, None),
        ("0982 0100" + "AB" * 256, None),
        ("0983 000100" + "AB" * 256, 4),
    ],
)
def test_long_length_forms_keep_their_width(raw: str, width: int | None) -> None:
    data = H(raw.replace(" ", ""))
    value = decode_data(data)
    assert isinstance(value, OctetString) and value.width == width
    assert value.to_bytes() == data


@pytest.mark.parametrize("raw", ["0981", "0982 01", "0980 00", "0985 0000000001"])
def test_truncated_or_unsupported_lengths_are_errors(raw: str) -> None:
    with pytest.raises(GbcsDecodeError) as info:
        decode_data(H(raw.replace(" ", "")), base=10)
    assert (info.value.offset, info.value.field) == (11, "data.length")


# -- builders -------------------------------------------------------------------------------------
def test_builders_reproduce_reference_commands() -> None:
    get = AccessRequest.get(1, "0-0:0.2.1.255", 2, invoke_id=1000)
    assert get.to_bytes() == _vector("ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX").payload
    stamp = CosemDateTime.from_datetime(datetime(2014, 3, 27, 15, 45, 32)).to_bytes()
    put = AccessRequest.set(1, "0-0:94.44.3.2", 2, OctetString(value=stamp), invoke_id=1000)
    assert put.to_bytes() == _vector("ECS12_3.2_SUCCESS_COMMAND_GBCS.HEX").payload
    restricting = Structure(
        items=(
            LongUnsigned(value=1),
            OctetString(value=Obis.parse("0-0:94.44.100.255").code),
            Integer(value=2),
            LongUnsigned(value=0),
        )
    )
    window = Structure(
        items=(
            restricting,
            DoubleLongUnsigned(value=0x1C35F900),
            DoubleLongUnsigned(value=0x1C374A80),
            Array(items=()),
        )
    )
    log = AccessRequest.get_with_selection(7, "0-0:99.98.0.255", 2, 1, window, invoke_id=1000)
    assert log.to_bytes() == _vector("ECS35a_6.13_SUCCESS_COMMAND_GBCS.HEX").payload


def test_protected_attributes_request_builder_matches_ecs17b_and_ecs22b() -> None:
    ecs17b = protected_attributes_request(
        [(1, "0-0:94.44.34.10", 2)], originator=SUPPLIER, recipient=ESME, counter=1000
    )
    assert ecs17b.to_bytes() == _vector("ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX").payload
    ecs22b = protected_attributes_request(
        [(7, "0-0:99.1.0.255", 2)],
        originator=SUPPLIER,
        recipient=ESME,
        counter=1002,
        instance="0-0:43.2.7.255",
        restriction_from=CosemDateTime(
            year=2014, month=12, day=31, hour=0, minute=0, second=0, hundredths=0
        ),
        restriction_to=CosemDateTime(
            year=2015, month=1, day=1, hour=0, minute=0, second=0, hundredths=0
        ),
    )
    v = _vector("ECS22b_4.8.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX")
    assert ecs22b.to_bytes() == v.payload
    decoded = decode_dlms_payload(v.payload, message_code=v.message_code)
    assert isinstance(decoded, AccessRequest) and decoded == ecs22b
    view = decoded.protected_attributes
    assert view is not None and view.objects[0].restriction_window is not None


def test_action_response_and_alert_builders_round_trip() -> None:
    req = AccessRequest.action(9, "0-0:10.0.106.255", 1, Long(value=1), invoke_id=0x1234567)
    assert req.invoke_id == 0x234567 and req.specs[0].instance.name == "supply state script"
    resp = AccessResponse.build([(NULL, ResponseSpec(choice=3, result=250))], invoke_id=7)
    assert resp.results[0].result_name == "other-reason" and not resp.results[0].ok
    alert = DataNotification.alert(0x8F30, H("07DF0101FF000000008000FF"), invoke_id=5)
    for apdu in (req, resp, alert):
        raw = apdu.to_bytes()
        assert decode_dlms_payload(raw, message_code=0) == apdu


def test_response_with_a_spec_echo_decodes() -> None:
    """The optional echo (absent in every vector) is decoded when its marker is 01."""
    echo = (GetSpec(class_id=8, instance=Obis.parse("0-0:1.0.0.255"), attribute_id=2),)
    resp = AccessResponse(
        invoke_id_and_priority=0x200003E8,
        data=(OctetString(value=H("07DF0101FF000000008000FF")),),
        results=(ResponseSpec(choice=1),),
        spec_echo=echo,
    )
    raw = resp.to_bytes()
    assert raw[6:8] == b"\x01\x01"
    decoded = decode_dlms_payload(raw, message_code=0)
    assert decoded == resp and decoded.to_bytes() == raw
    rendered = decoded.to_json()
    assert isinstance(rendered, dict) and rendered["spec_echo"] == [echo[0].to_json()]


# -- OBIS, names, clock ---------------------------------------------------------------------------
def test_obis_parse_text_and_names() -> None:
    code = Obis.parse("0-0:43.2.8.255")
    assert code.code == H("00002B0208FF") and str(code) == "0-0:43.2.8.255"
    assert Obis.of(H("00002B0208FF")) == code and Obis.of(code) is code
    assert code.name == "import register collection"
    assert obis_name(Obis.parse("0-0:43.2.7.255").code) == "data protection"  # the x family
    assert obis_name(Obis.parse("0-0:94.44.0.12").code) == "device settings"
    assert obis_name(bytes(6)) is None
    assert class_name(30) == "Data protection" and class_name(9000) == "GBCS extended data"
    for bad in ("0-0:43.2.8", "0-0:43.2.8.256", "x"):
        with pytest.raises(GbcsEncodeError):
            Obis.parse(bad)


def test_cosem_date_time_markers_and_text() -> None:
    assert CosemDateTime.now_marker().to_bytes() == bytes(9) + H("8000FF")
    assert CosemDateTime.never_marker().text() == "never"
    wild = CosemDateTime(year=0xFFFF, month=12, day=25)
    assert wild.to_datetime() is None and wild.text().startswith("****-12-25")


# -- A-XDR values ----------------------------------------------------------------------------------
SCALARS: list[Data] = [
    NULL,
    Boolean(value=True),
    Boolean(value=True, octet=0xFF),
    Boolean(value=False),
    DoubleLong(value=-5),
    DoubleLongUnsigned(value=0xFFFFFFFF),
    Bcd(value=0x42),
    Integer(value=-128),
    Long(value=-2),
    Unsigned(value=255),
    LongUnsigned(value=0x8F36),
    Long64(value=-(1 << 63)),
    Long64Unsigned(value=(1 << 64) - 1),
    Enumerated(value=30),
    Float32(raw=struct.pack(">f", 1.5)),
    Float64(raw=H("7FF8000000000001")),  # a NaN with a payload survives
    DateTime(raw=H("07DE031BFF0F2D20008000FF")),
    Date(raw=H("07DE031BFF")),
    Time(raw=H("0F2D2000")),
    BitString(bits=32, data=H("E0000001")),
    BitString(bits=7, data=H("FE")),
    OctetString(value=H("0123ABCD")),
    OctetString(value=bytes(200)),
    OctetString(value=b"", width=2),  # non-minimal length form 81 00
    VisibleString(value=b"ALCS_1_Description"),
    Utf8String(value="£5".encode()),
]


@pytest.mark.parametrize("value", SCALARS, ids=lambda v: type(v).__name__)
def test_every_data_type_round_trips(value: Data) -> None:
    raw = value.to_bytes()
    assert decode_data(raw) == value
    assert decode_data(raw).to_bytes() == raw
    json.dumps(value.to_json())


def test_containers_round_trip_with_lengths_and_nesting() -> None:
    value = Structure(
        items=(
            Array(items=tuple(LongUnsigned(value=i) for i in range(200))),  # 81 C8 count
            Structure(items=SCALARS_TUPLE, width=3),  # 82 00 1A count
            Array(items=()),
        )
    )
    raw = value.to_bytes()
    assert H("0181C8") in raw and H("0282001A") in raw
    decoded = decode_data(raw)
    assert decoded == value and decoded.to_bytes() == raw


SCALARS_TUPLE = tuple(SCALARS)


def test_uniform_arrays_are_built_on_first_access() -> None:
    entry = Structure(items=(OctetString(value=b"\x01"), Long(value=0x849)))
    entries = tuple(
        Structure(items=(OctetString(value=bytes((i,))), Long(value=i * 3))) for i in range(80)
    )
    value = Structure(items=(Array(items=entries), entry))
    raw = value.to_bytes()
    decoded = decode_data(raw)
    assert isinstance(decoded, Structure)
    lazy = decoded.items[0]
    assert lazy.to_bytes() == Array(items=entries).to_bytes()  # straight from the source
    assert isinstance(lazy, Array) and lazy.items == entries  # built now
    assert decoded == value and decoded.to_bytes() == raw
    # a different shape in the middle is found at decode (and named), not at access
    broken = bytearray(raw)
    broken[raw.index(H("0202090128")) + 3] = 0x30  # string length 1 -> 0x30: runs off the end
    with pytest.raises(GbcsDecodeError) as info:
        decode_data(bytes(broken), base=100)
    assert info.value.field.startswith("data[0][40]")


def _columns(node: Data) -> list[JsonValue]:
    rendered = node.to_json()
    assert isinstance(rendered, dict) and isinstance(rendered["columns"], list)
    return rendered["columns"]


def test_compact_arrays_nested_types_strings_and_builders() -> None:
    desc = TypeDescription.structure(
        TypeDescription.simple(tags.LONG_UNSIGNED),
        TypeDescription.array(3, TypeDescription.simple(tags.INTEGER)),
        TypeDescription.simple(tags.BOOLEAN),
        TypeDescription.simple(tags.DATE_TIME),
    )
    stamp = H("07DE031BFF0F2D20008000FF")
    fixed = CompactArray.from_columns(
        desc, [[1, 2], [-1, 5], [0, 0], [7, -128], [1, 0], np.array([stamp, stamp], dtype="V12")]
    )
    raw = fixed.to_bytes()
    assert raw.startswith(H("13 02 04 12 01 0003 0F 03 19".replace(" ", "")))
    back = decode_data(raw)
    assert back == fixed and isinstance(back, CompactArray)
    assert back.columns[0].tolist() == [1, 2]  # type: ignore[union-attr]
    assert _columns(back)[5] == [stamp.hex(), stamp.hex()]

    strings = TypeDescription.structure(
        TypeDescription.simple(tags.DOUBLE_LONG_UNSIGNED),
        TypeDescription.simple(tags.VISIBLE_STRING),
        TypeDescription.simple(tags.BIT_STRING),
    )
    mixed = CompactArray.from_columns(
        strings,
        [
            [5, 6, 7],
            [VisibleString(value=b"a"), VisibleString(value=b""), VisibleString(value=b"xyz")],
            [BitString(bits=3, data=b"\xa0")] * 3,
        ],
    )
    assert decode_data(mixed.to_bytes()) == mixed
    assert _columns(mixed)[1] == ["a", "", "xyz"]
    empty = CompactArray.from_columns(TypeDescription.simple(tags.UNSIGNED), [[]])
    assert decode_data(empty.to_bytes()) == empty and empty.to_bytes() == H("131100")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("1302020606 09 0000000100000002 00", "data.contents"),  # 9 bytes: not whole rows
        ("13 13 00", "data.type_description"),  # a compact array of compact arrays
        ("13 0201 09 03 05 41 42", "data.contents[0]"),  # string runs past the contents
        ("13 01FFFF 01FFFF 11 00", "data.type_description"),  # too many leaves
    ],
)
def test_compact_array_errors(raw: str, field: str) -> None:
    with pytest.raises(GbcsDecodeError) as info:
        decode_data(H(raw.replace(" ", "")))
    assert info.value.field.startswith(field)


def test_invalid_values_are_refused_at_construction() -> None:
    for make in (
        lambda: Unsigned(value=256),
        lambda: Integer(value=-129),
        lambda: BitString(bits=9, data=b"\x00"),
        lambda: Boolean(value=False, octet=1),
        lambda: Float32(raw=b"\x00"),
        lambda: CompactArray(description=TypeDescription.simple(tags.UNSIGNED), columns=()),
    ):
        with pytest.raises(GbcsEncodeError):
            make()


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "offset", "field"),
    [
        ("", 40, "payload.tag"),
        ("C4 200003E8 00", 40, "payload.tag"),
        ("D9 2000", 41, "payload.invoke_id"),
        ("D9 200003E8 05 0102", 45, "payload.date_time.length"),
        ("D9 200003E8 00 02 01 0001 0000000201FF 02", 46, "payload.specs.count"),
        ("D9 200003E8 00 01 07 0001 0000000201FF 02 01 00", 47, "payload.specs[0].choice"),
        ("D9 200003E8 00 01 01 0001 0000000201FF 02 01 00 00", 59, "payload"),
        ("D9 200003E8 00 01 01 0001 0000000201FF 02 01 0904 0102", 59, "payload.data[0].length"),
        ("D9 200003E8 00 01 01 0001 0000000201FF 02 01 07", 58, "payload.data[0]"),
        ("DA 200003E8 00 02 01 00 01 0100", 46, "payload.spec_echo"),
        ("DA 200003E8 00 00 01 00 01 0900", 50, "payload.results[0].choice"),
        ("0F 200003E8 00 02 02 1100 12 8F", 50, "payload.value[1]"),
    ],
)
def test_errors_name_the_absolute_offset_and_field(raw: str, offset: int, field: str) -> None:
    with pytest.raises(GbcsDecodeError) as info:
        decode_dlms_payload(H(raw.replace(" ", "")), message_code=0, base=40)
    assert (info.value.offset, info.value.field) == (offset, field)


def test_nesting_is_capped() -> None:
    deep = b"\x02\x01" * 40 + b"\x00"
    with pytest.raises(GbcsDecodeError, match="nested deeper"):
        decode_data(deep)
    assert decode_data(b"\x02\x01" * 30 + b"\x00").to_bytes() == b"\x02\x01" * 30 + b"\x00"


def test_huge_counts_are_checked_against_the_bytes() -> None:
    with pytest.raises(GbcsDecodeError, match="elements announced"):
        decode_data(H("0184FFFFFFFF00"))
    with pytest.raises(GbcsDecodeError):
        decode_data(H("0984FFFFFFFF00"))


# -- fuzzing --------------------------------------------------------------------------------------
def _check_bytes(raw: bytes) -> None:
    try:
        payload = decode_dlms_payload(raw, message_code=0, base=3)
    except GbcsDecodeError as exc:
        assert exc.offset >= 3
        return
    assert payload.to_bytes() == raw  # anything accepted re-encodes exactly
    json.dumps(payload.to_json())  # and every lazy part builds
    assert payload.to_bytes() == raw


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([b"\xd9", b"\xda", b"\x0f"]), st.binary(max_size=120))
def test_random_bytes_decode_or_fail_cleanly(tag: bytes, body: bytes) -> None:
    _check_bytes(tag + body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_reference_payloads_decode_or_fail_cleanly(data: st.DataObject) -> None:
    vectors = _dlms_vectors()
    if not vectors:
        pytest.skip("reference material not found")
    raw = bytearray(data.draw(st.sampled_from(vectors)).payload)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[at:]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=3))
    _check_bytes(bytes(raw))


@settings(max_examples=200)
@given(
    st.recursive(
        st.sampled_from(SCALARS),
        lambda kids: (
            st.lists(kids, max_size=12).map(lambda xs: Structure(items=tuple(xs)))
            | st.lists(kids, max_size=12).map(lambda xs: Array(items=tuple(xs)))
        ),
        max_leaves=40,
    )
)
def test_generated_trees_round_trip(value: Data) -> None:
    raw = value.to_bytes()
    assert decode_data(raw) == value
    assert decode_data(raw).to_bytes() == raw
