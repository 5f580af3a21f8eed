"""GBZ (ZigBee SE ZCL inside GBCS) payload codec: reference vectors, worked examples, builders."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.gbz import (
    AttributeStatus,
    AttributeValue,
    ClusterCommand,
    Columns,
    DefaultResponse,
    DiscoverAttributes,
    DiscoverAttributesResponse,
    FutureDatedOutcome,
    GbzAlert,
    GbzComponent,
    GbzMessage,
    GbzPayload,
    IntegrityWarning,
    ReadAttributes,
    ReadAttributesResponse,
    ReportAttributes,
    UnknownCommand,
    WriteAttributes,
    WriteAttributesResponse,
    WriteStatus,
    cluster_command,
    consumer_top_up,
    decode_gbz_payload,
    get_sampled_data,
    lookup,
    select_available_emergency_credit,
)
from smetsnet.gbcs.gbz.commands import all_specs
from smetsnet.gbcs.gbz.components import ZclCommand
from smetsnet.gbcs.payload import Decrypted, Decryptor, JsonValue
from tests.support.vectors import GBCS_KEYSTORE, RTDS, RawVector, require_reference, rtds_vectors

H = bytes.fromhex


def _at(value: JsonValue, *path: str | int) -> Any:
    """Follow keys/indexes into decoded JSON (typed loosely: tests look at known shapes)."""
    found: Any = value
    for step in path:
        found = found[step]
    return found


def _has_unknown(value: JsonValue) -> bool:
    """Whether any object in the JSON tree has the key "unknown"."""
    if isinstance(value, dict):
        return "unknown" in value or any(map(_has_unknown, value.values()))
    return isinstance(value, list) and any(map(_has_unknown, value))


#: Every GBZ reference payload (empty when the reference material is absent).
GBZ_VECTORS = [v for v in rtds_vectors() if v.payload[:2] == b"\x01\x09"]


@pytest.fixture(scope="module")
def gbz_vectors() -> list[RawVector]:
    require_reference()
    return GBZ_VECTORS


def _vector(folder: str, name: str) -> RawVector:
    require_reference()
    path = RTDS / folder / name
    return next(v for v in GBZ_VECTORS if v.path == path)


def _decode(v: RawVector, decrypt: Decryptor | None = None) -> GbzPayload:
    return decode_gbz_payload(
        v.payload, message_code=v.message_code, cra=v.cra, base=v.payload_offset, decrypt=decrypt
    )


def _message(v: RawVector, decrypt: Decryptor | None = None) -> GbzMessage:
    payload = _decode(v, decrypt)
    assert isinstance(payload, GbzMessage)
    return payload


def _alert(v: RawVector) -> GbzAlert:
    payload = _decode(v)
    assert isinstance(payload, GbzAlert)
    return payload


# -- the whole reference set -----------------------------------------------------------------
def test_every_reference_payload_decodes_and_re_encodes(gbz_vectors: list[RawVector]) -> None:
    assert len(gbz_vectors) == 236
    for v in gbz_vectors:
        payload = _decode(v)
        assert payload.to_bytes() == v.payload, v.path.name


def test_no_unknown_node_in_any_reference_payload(gbz_vectors: list[RawVector]) -> None:
    unknown = [v.path.name for v in gbz_vectors if _has_unknown(_decode(v).to_json())]
    assert unknown == []


def test_every_cluster_command_in_the_vectors_has_a_layout(gbz_vectors: list[RawVector]) -> None:
    for v in gbz_vectors:
        payload = _decode(v)
        for component in payload.components if isinstance(payload, GbzMessage) else ():
            assert not isinstance(component.command, UnknownCommand), v.path.name
            if component.cluster_specific:
                assert isinstance(component.command, ClusterCommand | None)


# -- worked examples (GBCS-PAYLOADS §2.4) ----------------------------------------------------
def test_gcs13a_read_attributes_command() -> None:
    v = _vector("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_COMMAND_GBCS.HEX")
    (component,) = _message(v).components
    assert (component.control, component.cluster_id, component.last) == (0x01, 0x0702, True)
    assert (component.frame_control, component.sequence, component.command_id) == (0, 0, 0)
    assert component.command == ReadAttributes(attribute_ids=(0x0302, 0x0301, 0x0300, 0x0000))
    built = GbzMessage.of(
        components=[
            GbzComponent.of(
                cluster_id=0x0702,
                command=ReadAttributes(attribute_ids=(0x0302, 0x0301, 0x0300, 0x0000)),
            )
        ]
    )
    assert built.to_bytes() == v.payload
    assert built == _message(v)


GCS13A_KEY = H("2B11CAA7C88C7B480A8485A750D89420")
GCS13A_ORIGINATOR = H("00DB1234567890A3")


def _gcm_decryptor(key: bytes, originator: bytes) -> Decryptor:
    """AES-GCM with a 12-byte tag: AESGCM wants 16, so recompute and compare the first 12."""
    aes = AESGCM(key)

    def decrypt(invocation_counter: int, ciphertext: bytes, tag: bytes) -> Decrypted:
        iv = originator + invocation_counter.to_bytes(4, "big")
        keystream = aes.encrypt(iv, bytes(len(ciphertext)), b"\x31")[: len(ciphertext)]
        plaintext = bytes(a ^ b for a, b in zip(ciphertext, keystream, strict=True))
        expected = aes.encrypt(iv, plaintext, b"\x31")[-16:-4]
        if not hmac.compare_digest(expected, tag):
            return Decrypted(status="invalid")
        return Decrypted(status="decrypted", plaintext=plaintext)

    return decrypt


def test_gcs13a_response_stays_ciphered_without_a_key() -> None:
    v = _vector("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX")
    (component,) = _message(v).components
    assert component.control == 0x03 and component.encrypted
    assert (component.frame_control, component.sequence, component.command_id) == (0x18, 0, 1)
    assert component.command is None
    encryption = component.encryption
    assert encryption is not None and encryption.status == "no-key"
    assert encryption.ciphered.invocation_counter == 0
    assert encryption.ciphered.tag == H("C6BE7509E30300A9CCBA6CDA")
    assert len(encryption.ciphered.ciphertext) == 29
    assert component.to_json()["command"] is None


def test_gcs13a_response_decrypts_to_the_register_values() -> None:
    v = _vector("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX")
    message = _message(v, _gcm_decryptor(GCS13A_KEY, GCS13A_ORIGINATOR))
    (component,) = message.components
    assert component.encryption is not None and component.encryption.status == "decrypted"
    response = component.command
    assert isinstance(response, ReadAttributesResponse)
    assert [r.attribute_id for r in response.records] == [0x0302, 0x0301, 0x0300, 0x0000]
    assert response[0x0302] == AttributeStatus(
        attribute_id=0x0302, status=0, data_type=0x22, value=1000
    )
    assert (response[0x0301].data_type, response[0x0301].value) == (0x22, 1)
    assert (response[0x0300].data_type, response[0x0300].value) == (0x30, 1)  # m3
    assert (response[0x0000].data_type, response[0x0000].value) == (0x25, 12345)
    assert message.to_bytes() == v.payload
    records = _at(message.to_json(), "components", 0, "command", "records")
    assert records[0]["name"] == "divisor" and records[3]["value"] == 12345
    wrong = _message(v, _gcm_decryptor(bytes(16), GCS13A_ORIGINATOR))
    assert wrong.components[0].command is None
    assert wrong.components[0].encryption is not None
    assert wrong.components[0].encryption.status == "invalid"


def test_gcs14_two_components() -> None:
    v = _vector("4.3_GCS14", "GCS14_4.3_SUCCESS_RELIABLE_GSME_COMMAND_GBCS.HEX")
    first, second = _message(v).components
    assert (first.control, first.cluster_id, first.sequence) == (0x00, 0x0700, 0)
    assert first.command == ReadAttributes(attribute_ids=(0x0617, 0x0616))
    assert (second.control, second.cluster_id, second.sequence) == (0x01, 0x0705, 1)
    assert second.command == ReadAttributes(
        attribute_ids=(0x0005, 0x0002, 0x0001, 0x0231, 0x0211, 0x0221)
    )
    built = GbzMessage.of(
        components=[
            GbzComponent.of(cluster_id=0x0700, command=first.command, sequence=0, last=True),
            GbzComponent.of(cluster_id=0x0705, command=second.command, sequence=1),
        ]
    )
    assert built.to_bytes() == v.payload  # .of() moved the "last" bit to the last component


def test_gcs06_emergency_credit_and_default_response() -> None:
    command = _message(_vector("2.5_GCS06", "GCS06_2.5_SUCCESS_COMMAND_GBCS.HEX"))
    (component,) = command.components
    assert (component.frame_control, component.cluster_specific) == (0x01, True)
    assert isinstance(component.command, ClusterCommand)
    assert component.command.name == "Select Available Emergency Credit"
    assert component.command.values == {"command_issue_date_time": 0, "originating_device": 0}
    built = GbzComponent.of(cluster_id=0x0705, command=select_available_emergency_credit())
    assert GbzMessage.of(components=[built]).to_bytes() == command.to_bytes()

    response = _message(_vector("2.5_GCS06", "GCS06_2.5_SUCCESS_RESPONSE_GBCS.HEX"))
    (reply,) = response.components
    assert reply.frame_control == 0x08 and reply.server_to_client
    assert reply.command == DefaultResponse(command_id_answered=0x00, status=0x00)
    assert _at(response.to_json(), "components", 0, "command", "status") == "success"
    rebuilt = GbzComponent.of(cluster_id=0x0705, command=reply.command, server_to_client=True)
    assert GbzMessage.of(components=[rebuilt]).to_bytes() == response.to_bytes()
    with pytest.raises(GbcsEncodeError):
        GbzComponent.of(cluster_id=0x0705, command=reply.command)  # direction must be given


def test_gcs15d_from_date_time_and_little_endian_utc() -> None:
    message = _message(_vector("4.4.4_GCS15d", "GCS15d_4.4.4_SUCCESS_COMMAND_GBCS.HEX"))
    (component,) = message.components
    assert component.control == 0x11 and component.from_date_time == 0x1C0E6C00
    command = component.command
    assert isinstance(command, ClusterCommand) and command.name == "Get Debt Repayment Log"
    assert command["latest_end_time"] == 0x277FD100
    assert (command["number_of_debts"], command["debt_type"]) == (10, 2)
    json = _at(message.to_json(), "components", 0)
    assert json["from_date_time_iso"] == "2014-12-01T00:00:00Z"
    assert json["command"]["latest_end_time_iso"] == "2020-12-31T00:00:00Z"


# -- alerts (GBCS-PAYLOADS §2.5) -------------------------------------------------------------
def test_generic_alert_8f30() -> None:
    alert = _alert(_vector("NA_GCA-ZigBee", "GCA-ZigBee_NA_8F30_ALERT_GBCS.HEX"))
    assert (alert.alert_code, alert.timestamp, alert.component_count) == (0x8F30, 0x1C374A80, 0)
    assert alert.data is None
    assert alert.to_json()["timestamp_iso"] == "2015-01-01T00:00:00Z"
    assert GbzAlert.of(alert_code=0x8F30, timestamp=0x1C374A80).to_bytes() == alert.to_bytes()


def test_integrity_warning_alert_81a0() -> None:
    alert = _alert(_vector("NA_MIIWA-ZigBee", "MIIWA-ZigBee_NA_81A0_ALERT_GBCS.HEX"))
    assert (alert.alert_code, alert.component_count) == (0x81A0, 1)
    assert alert.data == IntegrityWarning(reason=5)


def test_future_dated_alert_8f66() -> None:
    v = _vector(
        "1.1.1_GCS01a",
        "GCS01a_1.1.1_8F66_FUTURE_DATED_BLOCK_SUCCESS_ALERT_PUBLISH_BLOCK_THRESHOLDS_GBCS.HEX",
    )
    alert = _alert(v)
    assert alert.alert_code == 0x8F66 and alert.timestamp == 0x38818890
    assert alert.data == FutureDatedOutcome(
        message_code=0x006B,
        originator_counter=0x3ED,
        cluster_id=0x0700,
        frame_control=0x09,
        command_id=0x06,
    )
    assert _at(alert.to_json(), "data", "command") == "Publish Block Thresholds"


def test_firmware_receipt_and_billing_data_log_alerts() -> None:
    receipt = H("0109 01 8F1C 1C374A80 09 20") + bytes(range(32))
    alert = decode_gbz_payload(receipt, message_code=0x00CF, cra=3)
    assert isinstance(alert, GbzAlert) and alert.to_bytes() == receipt
    assert alert.to_json()["data"] == {"kind": "firmware_receipt", "hash": bytes(range(32)).hex()}
    component = H("01 0702 0005 08 00 0B 06 8B")  # a Default Response as the pushed component
    billing = H("0109 01 8F72 1C374A80") + component
    alert = decode_gbz_payload(billing, message_code=0x008B, cra=3)
    assert isinstance(alert, GbzAlert) and alert.to_bytes() == billing
    assert not _has_unknown(alert.to_json())
    other = decode_gbz_payload(H("0109 01 8FFF 1C374A80 AB"), message_code=0x1234, cra=3)
    assert _has_unknown(other.to_json()) and other.to_bytes() == H("0109 01 8FFF 1C374A80 AB")


# -- columnar data and the decrypted reference payloads ---------------------------------------
def _kdf_decryptor(v: RawVector) -> Decryptor | None:
    """Sensitive-data key (KDF type 04) from the reference key store, where its key is present."""
    data = v.message
    pos = 0
    if data[0] == 0xDD:
        first = data[7]
        pos = 8 + (first & 0x7F if first >= 0x80 else 0) + 5
    counter, originator, recipient = (
        data[pos + 3 : pos + 11],
        data[pos + 12 : pos + 20],
        data[pos + 21 : pos + 29],
    )
    private_path = GBCS_KEYSTORE / f"{recipient.hex()}-ka.key"
    if not private_path.exists():
        return None
    private = load_pem_private_key(private_path.read_bytes(), None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    public_pem = (GBCS_KEYSTORE / f"{originator.hex()}-ka.pem").read_bytes()
    public = (
        x509.load_pem_x509_certificate(public_pem).public_key()
        if b"CERTIFICATE" in public_pem
        else load_pem_public_key(public_pem)  # a bare key (DOMAIN.md, reference PKI)
    )
    assert isinstance(public, ec.EllipticCurvePublicKey)
    shared = private.exchange(ec.ECDH(), public)
    other = H("60857406080300") + originator + b"\x09\x04" + counter + recipient
    key = hashlib.sha256(b"\x00\x00\x00\x01" + shared + other).digest()[:16]
    return _gcm_decryptor(key, originator)


@pytest.fixture(scope="module")
def decrypted(gbz_vectors: list[RawVector]) -> list[tuple[RawVector, GbzMessage]]:
    require_reference(GBCS_KEYSTORE)
    out = []
    for v in gbz_vectors:
        if v.cra == 2:
            message = _message(v, _kdf_decryptor(v))
            if any(c.encrypted for c in message.components):
                out.append((v, message))
    return out


def test_decrypted_reference_payloads_decode_fully(
    decrypted: list[tuple[RawVector, GbzMessage]],
) -> None:
    opened = 0
    for v, message in decrypted:
        assert message.to_bytes() == v.payload
        assert not _has_unknown(message.to_json()), v.path.name
        for component in message.components:
            if component.encryption and component.encryption.status == "decrypted":
                opened += 1
                assert component.command is not None
                # The plaintext re-encodes exactly: GCM keeps the length.
                assert len(component.command.to_bytes()) == len(
                    component.encryption.ciphered.ciphertext
                )
    assert opened >= 24  # GCS15d and GCS61 were encrypted for another remote party


def _opened(decrypted: list[tuple[RawVector, GbzMessage]], file_name: str) -> GbzMessage:
    """The decrypted message of the reference vector called ``file_name``."""
    return next(m for v, m in decrypted if v.path.name == file_name)


def _commands(message: GbzMessage, name: str) -> list[ClusterCommand]:
    return [
        c.command
        for c in message.components
        if isinstance(c.command, ClusterCommand) and c.command.name == name
    ]


def test_publish_snapshots_are_columnar(decrypted: list[tuple[RawVector, GbzMessage]]) -> None:
    message = _opened(decrypted, "GCS15c_4.4.3_SUCCESS_RESPONSE_GBCS.HEX")
    snapshot = _commands(message, "Publish Snapshot")[0]
    assert snapshot["snapshot_payload_type"] == 6
    assert snapshot["current_summation_delivered"] == 0x41
    tiers = snapshot["tier_summations"]
    assert isinstance(tiers, Columns)
    assert np.asarray(tiers["summation"]).tolist() == [0x51, 0x0F, 0xB0, 0x7E]
    assert snapshot["number_of_tiers_and_block_thresholds_in_use"] == 0x14
    assert snapshot["tier_block_summations"]["summation"].tolist() == [0xCA, 0xDF, 0x79, 0xC3]
    prepay = _commands(message, "Publish Prepay Snapshot")[0]
    assert prepay["accumulated_debt"] == 0x23
    assert prepay["credit_remaining"] == -126  # signed (0xFFFFFF82)


def test_profile_data_is_one_numpy_column(decrypted: list[tuple[RawVector, GbzMessage]]) -> None:
    message = _opened(decrypted, "GCS17_4.8.1_SUCCESS_RESPONSE_GBCS.HEX")
    (response,) = _commands(message, "Get Sampled Data Response")
    assert response["sample_request_interval"] == 1800
    assert response["number_of_samples"] == 97
    samples = response["samples"]["value"]
    assert isinstance(samples, np.ndarray) and samples.shape == (97,)
    assert samples.dtype == np.uint32 and int(samples.max()) < 1 << 24
    as_json = _at(response.to_json(), "samples")
    assert as_json["count"] == 97 and as_json["value"] == samples.tolist()


def test_event_log_and_price_matrix_columns() -> None:
    log = _message(_vector("6.13_CS10a", "CS10a_6.13_SUCCESS_RESPONSE_GBCS.HEX"))
    (event_log,) = _commands(log, "Publish Event Log")
    events = event_log["events"]
    assert len(events) == event_log["total_number_of_events"] == 32
    assert events["log_id"][0] == 3 and events["event_id"][0] == 0x8F1F
    assert events["event_time"][0] == 0x1C35F900
    assert events["event_data"][0] == b""
    assert _at(event_log.to_json(), "events", "event_time_iso", 0) == "2014-12-31T00:00:00Z"

    tariff = _message(
        _vector("1.1.1_GCS01a", "GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS_COMMAND_GBCS.HEX")
    )
    (matrix,) = _commands(tariff, "Publish Price Matrix")
    assert matrix["prices"]["tier_block_id"].tolist() == [1, 2, 3, 4]
    assert matrix["prices"]["price"].tolist() == [0x2580, 0x27D8, 0x29FE, 0x2AF8]
    (information,) = _commands(tariff, "Publish Tariff Information")
    assert (information["currency"], information["block_threshold_divisor"]) == (826, 1000)


def test_basic_cluster_strings_in_json() -> None:
    message = _message(_vector("6.2.4_GCS21e", "GCS21e_6.2.4_SUCCESS_RESPONSE_GBCS.HEX"))
    records = _at(message.to_json(), "components", 0, "command", "records")
    assert records[0]["name"] == "manufacturer_name"
    assert records[0]["value"] == "Critical Software"
    assert records[1]["value"] == {"hex": "474649202020202000db1234567890a1"}  # not text


WRITE = WriteAttributes(
    records=(
        AttributeValue(attribute_id=0x0307, data_type=0x41, value=b"1234"),
        AttributeValue(attribute_id=0x0301, data_type=0x22, value=1),
    )
)


@pytest.mark.parametrize(
    ("command", "server_to_client"),
    [
        (WRITE, False),
        (
            WriteAttributesResponse(
                records=(
                    WriteStatus(status=0x86, attribute_id=0x0307),
                    WriteStatus(status=0x88, attribute_id=1),
                )
            ),
            True,
        ),
        (WriteAttributesResponse(records=(WriteStatus(status=0),)), True),
        (DiscoverAttributes(start_attribute_id=0, max_attribute_ids=16), False),
        (DiscoverAttributesResponse(complete=1, attributes=((0, 0x25), (0x300, 0x30))), True),
        (ReportAttributes(records=WRITE.records), True),
    ],
    ids=lambda x: type(x).__name__,
)
def test_general_write_and_discover_commands_round_trip(
    command: ZclCommand, server_to_client: bool
) -> None:
    component = GbzComponent.of(cluster_id=0x0702, command=command)
    assert component.server_to_client == server_to_client
    payload = GbzMessage.of(components=[component]).to_bytes()
    decoded = decode_gbz_payload(payload, message_code=0, cra=1)
    assert isinstance(decoded, GbzMessage) and decoded.components[0].command == command
    assert not _has_unknown(decoded.to_json())


def test_write_attributes_layout() -> None:
    assert WRITE.to_bytes() == H("0703 41 04 31323334 0103 22 010000")


# -- building --------------------------------------------------------------------------------
UTRN = "73946144332040217315"


def test_consumer_top_up_cs01b() -> None:
    component = GbzComponent.of(cluster_id=0x0705, command=consumer_top_up(UTRN))
    payload = GbzMessage.of(components=[component]).to_bytes()
    assert payload == H("0109 01 01 0705 0019 01 00 04 00 14") + UTRN.encode()
    decoded = decode_gbz_payload(payload, message_code=0x0097, cra=1)
    assert decoded == GbzMessage.of(components=[component])
    assert _at(decoded.to_json(), "components", 0, "command", "top_up_code") == UTRN
    for bad in ("123", "7394614433204021731X"):
        with pytest.raises(GbcsEncodeError):
            consumer_top_up(bad)


def test_cluster_commands_build_from_values_and_columns() -> None:
    spec = lookup(0x0700, True, 0x05)
    assert spec is not None
    prices = Columns.of(spec.group("prices"), tier_block_id=[1, 2], price=[100, 200])
    command = cluster_command(
        0x0700,
        0x05,
        server_to_client=True,
        provider_id=0,
        issuer_event_id=1,
        start_time=0,
        issuer_tariff_id=1,
        command_index=0,
        total_commands=1,
        sub_payload_control=1,
        prices=prices,
    )
    body = command.to_bytes()
    assert body[-10:] == H("01 64000000 02 C8000000")
    component = GbzComponent.of(cluster_id=0x0700, command=command)
    assert component.frame_control == 0x09
    decoded = decode_gbz_payload(
        GbzMessage.of(components=[component]).to_bytes(), message_code=0x006B, cra=1
    )
    assert isinstance(decoded, GbzMessage) and decoded.components[0].command == command
    with pytest.raises(GbcsEncodeError):
        cluster_command(0x0700, 0x05, server_to_client=True, provider_id=0)  # missing fields
    with pytest.raises(GbcsEncodeError):
        cluster_command(0x0705, 0x09, server_to_client=False, low_credit_warning_level=1 << 40)
    sampled = get_sampled_data(
        sample_id=1, earliest_sample_time=0, sample_type=0, number_of_samples=48
    )
    assert sampled.to_bytes() == H("0100 00000000 00 3000")


def _sampled_data_response(values: list[int]) -> ClusterCommand:
    """Metering 0x0702 / Get Sampled Data Response 0x07 carrying ``values`` (u24 samples)."""
    spec = lookup(0x0702, True, 0x07)
    assert spec is not None
    return cluster_command(
        0x0702,
        0x07,
        server_to_client=True,
        sample_id=2,
        sample_start_time=0,
        sample_type=0,
        sample_request_interval=360,
        number_of_samples=len(values),
        samples=Columns.of(spec.group("samples"), value=values),
    )


def test_u24_and_u48_columns_round_trip() -> None:
    command = _sampled_data_response([0, 1, 0xFFFFFF, 0x123456])
    assert command.to_bytes()[-12:] == H("000000 010000 FFFFFF 563412")
    with pytest.raises(GbcsEncodeError):
        _sampled_data_response([1 << 24])


# -- direction, unknown commands, errors ---------------------------------------------------
def _one(cluster: int, frame_control: int, command_id: int, body: bytes) -> GbzComponent:
    head = bytes((frame_control, 0, command_id))
    length = len(head) + len(body)
    payload = H("0109 01 01") + cluster.to_bytes(2, "big") + length.to_bytes(2, "big") + head + body
    message = decode_gbz_payload(payload, message_code=0x0000, cra=1)
    assert isinstance(message, GbzMessage) and message.to_bytes() == payload
    return message.components[0]


def test_direction_selects_the_command() -> None:
    body = H("006c0e1c 8012c81d 00 02000000")
    c2s = _one(0x0702, 0x01, 0x06, body).command
    assert isinstance(c2s, ClusterCommand) and c2s.name == "Get Snapshot"
    s2c = _one(0x0702, 0x09, 0x06, H("01000000 006c0e1c 01 00 01 02000000 06") + bytes(34)).command
    assert isinstance(s2c, ClusterCommand) and s2c.name == "Publish Snapshot"


def test_unknown_commands_are_explicit_unknown_nodes() -> None:
    for cluster, frame_control, command_id in [(0x0700, 0x01, 0x3F), (0x0B05, 0x01, 0x00)]:
        component = _one(cluster, frame_control, command_id, H("AABB"))
        assert isinstance(component.command, UnknownCommand)
        assert _has_unknown(component.to_json())
    manufacturer = H("0109 01 01 0702 0007 05 3412 00 01 AABB")
    message = decode_gbz_payload(manufacturer, message_code=0, cra=1)
    assert isinstance(message, GbzMessage) and message.to_bytes() == manufacturer
    assert message.components[0].manufacturer_code == 0x1234
    trailing = _one(0x0705, 0x01, 0x09, H("01000000 FF")).command
    assert isinstance(trailing, ClusterCommand) and trailing.trailing == H("FF")
    assert _has_unknown(trailing.to_json())
    array = _one(0x0702, 0x08, 0x01, H("0000 00 48 20 0200 0102"))
    assert isinstance(array.command, ReadAttributesResponse)
    assert array.command.records == () and _has_unknown(array.to_json())


def test_errors_name_the_absolute_offset_and_field() -> None:
    v = _vector("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_COMMAND_GBCS.HEX")
    with pytest.raises(GbcsDecodeError) as error:
        decode_gbz_payload(v.payload[:-1], message_code=0x0074, cra=1, base=v.payload_offset)
    assert error.value.field == "payload.components[0].length"
    assert error.value.offset == v.payload_offset + 3
    with pytest.raises(GbcsDecodeError) as error:
        decode_gbz_payload(H("0109 01 01 0705 0005 01 00 0B 404B"), message_code=0, cra=1, base=100)
    assert error.value.field == "payload.components[0].command.provider_id"
    assert error.value.offset == 111
    with pytest.raises(GbcsDecodeError):
        decode_gbz_payload(H("0104 00"), message_code=0, cra=1)
    with pytest.raises(GbcsDecodeError):
        decode_gbz_payload(H("0109 01 00 0700 0000"), message_code=0, cra=1)


# -- robustness (hypothesis) -----------------------------------------------------------------
CODES = [0x0074, 0x00CD, 0x00F2, 0x00CF, 0x008B, 0x1000]


def _check(data: bytes, code: int, cra: int, decrypt: Decryptor | None = None) -> None:
    try:
        payload = decode_gbz_payload(data, message_code=code, cra=cra, base=7, decrypt=decrypt)
    except GbcsDecodeError as exc:
        assert exc.offset >= 7
        return
    assert payload.to_bytes() == data
    payload.to_json()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=80),
    code=st.sampled_from(CODES),
    cra=st.integers(1, 3),
)
def test_random_bytes_decode_or_raise(body: bytes, code: int, cra: int) -> None:
    _check(H("0109") + body, code, cra)


def _echo(invocation_counter: int, ciphertext: bytes, tag: bytes) -> Decrypted:
    """A "decryptor" returning the ciphertext: random plaintext for the command decoders."""
    return Decrypted(status="decrypted", plaintext=ciphertext)


@pytest.mark.skipif(not GBZ_VECTORS, reason="reference material not found")
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_reference_payloads_decode_or_raise(data: st.DataObject) -> None:
    v = data.draw(st.sampled_from(GBZ_VECTORS))
    payload = bytearray(v.payload)
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(payload) - 1))
        payload[index] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        del payload[data.draw(st.integers(0, len(payload))) :]
    _check(bytes(payload), v.message_code, v.cra, _echo)


SPECS = all_specs()


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(SPECS) - 1), body=st.binary(max_size=60))
def test_every_layout_reads_random_bodies_or_raises(index: int, body: bytes) -> None:
    spec = SPECS[index]
    head = bytes((0x09 if spec.server_to_client else 0x01, 0x00, spec.command_id))
    component = spec.cluster_id.to_bytes(2, "big") + (3 + len(body)).to_bytes(2, "big")
    _check(H("0109 01 01") + component + head + body, 0x0000, 1)
