"""GBCS ASN.1 payloads: worked examples (GBCS-PAYLOADS §3), every RTDS ASN.1 vector, builders,
the generic DER fallback and the fuzz rule (decoded payload or GbcsDecodeError, nothing else)."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.asn1 import (
    ASN1_MESSAGE_CODES,
    SCHEMAS,
    ActivateFirmwareAlert,
    ActivateFirmwareCommand,
    ActivateFirmwareResponse,
    ActivationOutcome,
    Asn1Payload,
    Certificate,
    CertificationRequest,
    DerContext,
    DerEnumerated,
    DerInteger,
    DerSequence,
    DeviceLogEntry,
    DeviceType,
    ExecutionOutcome,
    FirmwareTransferAlert,
    FirmwareVersionAlert,
    GeneralizedTime,
    GenericAsn1Payload,
    GpfDeviceLogBackupAlert,
    IssueSecurityCredentialsCommand,
    IssueSecurityCredentialsError,
    IssueSecurityCredentialsResponse,
    JoinCommand,
    JoinMethod,
    JoinResponse,
    KeyUsage,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateError,
    ProvideDeviceCertificateResponse,
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
    ReadDeviceJoinDetailsCommand,
    ReadDeviceJoinDetailsResponse,
    ReadFirmwareVersionCommand,
    ReadFirmwareVersionResponse,
    RemotePartySeqNumberChange,
    ReplacementMode,
    RestoreGpfDeviceLogCommand,
    RestoreGpfDeviceLogResponse,
    RestoreOutcome,
    Role,
    SetClockCommand,
    SetClockResponse,
    SpecialistSeqNumber,
    TrustAnchorCellId,
    TrustAnchorReplacement,
    UnjoinCommand,
    UnjoinResponse,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
    UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
    credentials,
    decode_asn1_payload,
    firmware,
    join,
    misc,
    outcome,
    types,
    update,
)
from smetsnet.gbcs.asn1.schema import Part, Sequence
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import encode_length
from tests.support.vectors import RawVector, require_reference, rtds_vectors

COMMAND, RESPONSE, ALERT = 1, 2, 3
DIGITAL_SIGNATURE = int(KeyUsage.DIGITAL_SIGNATURE)
KEY_AGREEMENT = int(KeyUsage.KEY_AGREEMENT)
NO_ID = bytes.fromhex("90b3d51f30020000")  # the network operator's entity id in the RTDS set
P = TypeVar("P", bound=Asn1Payload)


def _asn1_vectors() -> list[RawVector]:
    return [v for v in rtds_vectors() if v.message_code in ASN1_MESSAGE_CODES]


ASN1_VECTORS = _asn1_vectors()


def vector(folder: str, name: str) -> RawVector:
    """The vector whose folder ends with ``folder`` and whose file name contains ``name``."""
    require_reference()
    for v in ASN1_VECTORS:
        if v.path.parent.name.endswith(folder) and name in v.path.name:
            return v
    raise AssertionError(f"no vector {folder}/{name}")


def decode(v: RawVector) -> Asn1Payload:
    return decode_asn1_payload(
        v.payload, message_code=v.message_code, cra=v.cra, base=v.payload_offset
    )


def decode_as(kind: type[P], folder: str, name: str) -> P:
    """The payload of :func:`vector` ``(folder, name)``, which must decode to a ``kind``."""
    payload = decode(vector(folder, name))
    assert isinstance(payload, kind), payload
    return payload


def obj(node: JsonValue | Asn1Payload | Certificate) -> dict[str, Any]:
    """The JSON object of ``node`` (or ``node`` itself when it is one), typed for indexing."""
    if isinstance(node, Asn1Payload | Certificate):
        node = node.to_json()
    assert isinstance(node, dict)
    return node


def keys(node: JsonValue) -> set[str]:
    """Every key of every object in the JSON tree ``node``."""
    if isinstance(node, list):
        return set().union(*map(keys, node))
    return set(node).union(*map(keys, node.values())) if isinstance(node, dict) else set()


# -- every reference payload ---------------------------------------------------------------------
def test_reference_set_has_every_asn1_family() -> None:
    require_reference()
    codes = {(v.message_code, v.cra) for v in ASN1_VECTORS}
    assert len(ASN1_VECTORS) == 97
    for key in [(0x0008, 1), (0x0103, 2), (0x0126, 1), (0x00CB, 3), (0x0124, 3), (0x000B, 1)]:
        assert key in codes
    for key in [(0x000C, 2), (0x000D, 1), (0x00AF, 1), (0x000F, 1), (0x0010, 1), (0x0013, 2)]:
        assert key in codes
    for key in [(0x007F, 2), (0x0128, 3), (0x012B, 3), (0x00B2, 3)]:
        assert key in codes


@pytest.mark.parametrize("v", ASN1_VECTORS, ids=lambda v: v.path.name)
def test_reference_payload_decodes_with_its_schema_and_round_trips(v: RawVector) -> None:
    payload = decode(v)
    assert not isinstance(payload, GenericAsn1Payload), payload
    assert payload.to_bytes() == v.payload
    tree = payload.to_json()
    json.dumps(tree)
    assert isinstance(tree, dict) and tree["schema"] == type(payload).__name__
    assert "unknown" not in keys(tree)
    assert "error" not in keys(tree)  # every certificate parses


# -- worked examples (GBCS-PAYLOADS §3) -----------------------------------------------------------
def test_cs03a1_error_command_and_response() -> None:
    v = vector("8.7.1_CS03A1", "ERROR_COMMAND")
    assert v.payload == bytes.fromhex("3010020100040800db12345678909a020105")
    payload = decode(v)
    assert payload == JoinCommand(
        method=JoinMethod.METHOD_A_INITIATOR,
        partner_id=bytes.fromhex("00DB12345678909A"),
        partner_type=DeviceType.PPMID,
    )
    assert payload.to_json() == {
        "schema": "JoinCommand",
        "method": "methodAInitiator",
        "partner_id": "00db12345678909a",
        "partner_type": "PPMID",
    }
    response = decode(vector("8.7.1_CS03A1", "ERROR_RESPONSE"))
    assert response == JoinResponse(code=3)
    assert response.to_json() == {"schema": "JoinResponse", "code": "incompatibleWithExistingEntry"}


def test_gcs28_error_response() -> None:
    payload = decode_as(SetClockResponse, "8.1.1_GCS28Commission", "ERROR_RESPONSE")
    assert payload.device_time == GeneralizedTime(text="20150101000000Z")
    assert payload.device_time.to_datetime().isoformat() == "2015-01-01T00:00:00+00:00"
    assert payload.time_status == 2
    assert payload.to_json() == {
        "schema": "SetClockResponse",
        "device_time": "2015-01-01T00:00:00Z",
        "time_status": "unreliable",
    }
    command = decode(vector("8.1.1_GCS28Commission", "SUCCESS_COMMAND"))
    assert command == SetClockCommand(
        validity_start=GeneralizedTime(text="20141231233000Z"),
        validity_end=GeneralizedTime(text="20150101003000Z"),
    )


def test_cs02b_no_by_no_command() -> None:
    v = vector("6.15.1_CS02bNOByNO", "SUCCESS_COMMAND")
    assert v.payload.startswith(
        bytes.fromhex("308205083013020103a20702010303020780830204b084010030820347")
    )
    payload = decode(v)
    assert isinstance(payload, UpdateSecurityCredentialsCommand)
    assert payload.replacement_mode == ReplacementMode.NETWORK_OPERATOR_BY_NETWORK_OPERATOR
    assert payload.authorising_cell == TrustAnchorCellId(
        role=Role.NETWORK_OPERATOR, key_usage=DIGITAL_SIGNATURE
    )
    assert payload.authorising_seq_number == 1200
    assert payload.new_floor_seq_number == 0
    assert payload.other_changes is None and payload.execution_time is None
    assert len(payload.replacements) == 2
    assert [x.target for x in payload.replacements] == [
        TrustAnchorCellId(role=3, key_usage=DIGITAL_SIGNATURE),
        TrustAnchorCellId(role=3, key_usage=KEY_AGREEMENT),
    ]
    assert len(payload.certification_path) == 1
    certs = [obj(x.certificate) for x in payload.replacements]
    assert [c["subject_unique_id"] for c in certs] == [NO_ID.hex(), NO_ID.hex()]
    assert [c["key_usage"] for c in certs] == [["digitalSignature"], ["keyAgreement"]]
    path = payload.certification_path[0].to_json()
    assert isinstance(path, dict)
    assert path["key_usage"] == ["keyCertSign", "cRLSign"]
    assert path["issuer"] == "CN=ZA,OU=00" and path["not_after"] == "2040-10-28T23:59:59+00:00"
    tree = payload.to_json()
    assert isinstance(tree, dict)
    assert tree["replacement_mode"] == "networkOperatorByNetworkOperator"
    assert tree["authorising_cell"] == {
        "role": "networkOperator",
        "key_usage": ["digitalSignature"],
    }


def test_cs02b_no_by_no_response() -> None:
    v = vector("6.15.1_CS02bNOByNO", "SUCCESS_RESPONSE")
    assert v.payload[:4] == bytes.fromhex("30820083")  # non-minimal: the device's own encoding
    payload = decode(v)
    assert isinstance(payload, UpdateSecurityCredentialsResponse)
    assert payload.lw == (("", 3),)  # "82 00 83": a 3-octet length
    outcome = payload.outcome
    assert outcome is not None
    assert outcome.authorising_seq_number == 1200
    assert outcome.replacement_mode == 3
    assert outcome.seq_number_changes == (RemotePartySeqNumberChange(role=3, floor_seq_number=0),)
    assert len(outcome.outcomes) == 2
    first, second = outcome.outcomes
    assert first.affected_cell == TrustAnchorCellId(role=3, key_usage=DIGITAL_SIGNATURE)
    assert second.affected_cell == TrustAnchorCellId(role=3, key_usage=KEY_AGREEMENT)
    for x in outcome.outcomes:
        assert x.status == 0
        assert x.existing_subject_unique_id == x.replacing_subject_unique_id == NO_ID
    assert first.existing_subject_key_id == bytes.fromhex("48cf97fa9f827fb5")
    assert first.replacing_subject_key_id == bytes.fromhex("4238d306b6f725a2")
    # Rebuilt with minimal DER it is one byte shorter; with the kept width it is byte-exact.
    rebuilt = UpdateSecurityCredentialsResponse(outcome=outcome)
    assert rebuilt.to_bytes() == b"\x30\x81\x83" + v.payload[4:]
    assert payload.to_bytes() == v.payload


# -- one test per module in the vectors ----------------------------------------------------------
def test_cs02a_and_cs02f() -> None:
    command = decode(vector("6.24.1_CS02aMAC", "SUCCESS_COMMAND"))
    assert command == ProvideSecurityCredentialDetailsCommand(
        authorising_cell=TrustAnchorCellId(role=4, key_usage=KEY_AGREEMENT), roles=(2, 3)
    )
    response = decode_as(
        ProvideSecurityCredentialDetailsResponse, "6.24.1_CS02aMAC", "SUCCESS_RESPONSE"
    )
    supplier, operator = response.details
    assert (supplier.role, supplier.status, supplier.seq_number) == (2, 0, 0)
    assert operator.seq_number == 1
    assert supplier.cells is not None and len(supplier.cells) == 3
    assert supplier.cells[2].cell_usage == 1  # the prepayment top-up cell
    assert supplier.cells[0].subject_unique_id == bytes.fromhex("90b3d51f30010000")
    error = decode_as(ProvideSecurityCredentialDetailsResponse, "6.24.1_CS02aMAC", "ERROR_RESPONSE")
    missing = error.details[1]
    assert (missing.role, missing.status, missing.seq_number, missing.cells) == (3, 25, None, None)
    assert obj(error)["details"][1] == {
        "role": "networkOperator",
        "status": "trustAnchorNotFound",
    }
    f_error = decode_as(
        ProvideSecurityCredentialDetailsResponse, "NA_CS02fSignature", "ERROR_RESPONSE"
    )
    assert f_error.details[1].status == 127


def test_cs02b_other_modes() -> None:
    acb = decode_as(UpdateSecurityCredentialsCommand, "8.5_CS02bACBByACB", "SUCCESS_COMMAND")
    assert acb.replacement_mode == ReplacementMode.ACB_BY_ACB and acb.authorising_cell is None
    assert acb.authorising_seq_number == 1300
    recovery = decode_as(
        UpdateSecurityCredentialsCommand,
        "NA_CS02bAnyExceptAbnormalRootByRecovery",
        "SUCCESS_COMMAND",
    )
    assert recovery.apply_time_based_cpv_checks == 1
    assert obj(recovery)["apply_time_based_cpv_checks"] == "disapply"
    assert len(recovery.replacements) == 8 and recovery.other_changes is not None
    assert [c.role for c in recovery.other_changes] == [2, 3, 4, 5]
    assert recovery.other_changes[0].specialist_floors == (
        SpecialistSeqNumber(usage=0, seq_number=0),
    )
    sbs = decode_as(
        UpdateSecurityCredentialsCommand, "6.21_CS02bSupplierBySupplierHandover", "SUCCESS_COMMAND"
    )
    assert sbs.new_specialist_floors == (SpecialistSeqNumber(usage=0, seq_number=0),)
    assert sbs.replacements[2].target == TrustAnchorCellId(
        role=2, key_usage=KEY_AGREEMENT, cell_usage=1
    )
    contingency = decode_as(
        UpdateSecurityCredentialsResponse, "NA_CS02bAnyByContingency", "ERROR_RESPONSE"
    )
    assert contingency.outcome is not None and len(contingency.outcome.outcomes) == 9
    root = contingency.outcome.outcomes[0].affected_cell
    assert root == TrustAnchorCellId(role=Role.ROOT, key_usage=int(KeyUsage.KEY_CERT_SIGN))
    assert [x.status for x in contingency.outcome.outcomes].count(10) == 1


def test_cs02b_future_dated_and_cancellation() -> None:
    future = decode_as(
        UpdateSecurityCredentialsCommand,
        "6.23_CS02bSupplierByTransCoS",
        "FUTURE_DATED_SUCCESS_COMMAND",
    )
    assert future.execution_time == GeneralizedTime(text="20300102000000Z")
    cancel = decode_as(
        UpdateSecurityCredentialsCommand,
        "6.23_CS02bSupplierByTransCoS",
        "CANCELLATION_SUCCESS_COMMAND",
    )
    assert cancel.execution_time == GeneralizedTime(text="99991231235959Z")
    accepted = decode(vector("6.23_CS02bSupplierByTransCoS", "FUTURE_DATED_SUCCESS_RESPONSE"))
    assert accepted == UpdateSecurityCredentialsResponse()
    assert accepted.to_bytes() == bytes.fromhex("30020500")
    alert = decode_as(UpdateSecurityCredentialsAlert, "6.23_CS02bSupplierByTransCoS", "8F66")
    assert alert.alert_code == 0x8F66 and alert.execution_time.text == "20300102000000Z"
    assert alert.outcome.authorising_seq_number == 6002 and alert.outcome.replacement_mode == 7
    assert obj(alert)["alert"] == {
        "code": "8F66",
        "name": "futureDatedCommandSuccessfullyActioned",
    }


def test_cs02g_load_controller() -> None:
    command = decode_as(
        UpdateSecurityCredentialsCommand,
        "CS02gLoadControllerBySupplier",
        "IMMEDIATE_SUCCESS_COMMAND",
    )
    assert command.replacement_mode == ReplacementMode.LOAD_CONTROLLER_BY_SUPPLIER
    assert command.other_changes == (
        RemotePartySeqNumberChange(role=Role.LOAD_CONTROLLER, floor_seq_number=0),
    )
    assert obj(command)["replacement_mode"] == "loadControllerBySupplier"
    failed = decode_as(UpdateSecurityCredentialsAlert, "CS02gLoadControllerBySupplier", "8F67")
    assert failed.alert_code == 0x8F67
    assert {x.status for x in failed.outcome.outcomes} == {10}


def test_cs02d_and_cs02e() -> None:
    command = decode_as(UpdateDeviceCertificateCommand, "6.15.2_CS02d", "SUCCESS_COMMAND")
    cert = command.certificate.to_json()
    assert isinstance(cert, dict)
    assert cert["subject_unique_id"] == "00db1234567890a0"  # hardwareModuleName in subjectAltName
    assert cert["key_usage"] == ["digitalSignature"]
    assert cert["serial"] == "30398236744d9da0e57f8d74ae041fcd"
    assert cert["issuer"] == "CN=E357" and cert["not_after"] == "9999-12-31T23:59:59+00:00"
    assert decode(vector("6.15.2_CS02d", "ERROR_RESPONSE")) == UpdateDeviceCertificateResponse(
        code=3
    )
    assert decode(vector("6.24.2_CS02e", "ERROR_COMMAND")) == ProvideDeviceCertificateCommand(
        key_usage=KEY_AGREEMENT
    )
    response = decode_as(ProvideDeviceCertificateResponse, "6.24.2_CS02e", "SUCCESS_RESPONSE")
    assert response.certificate.der == command.certificate.der
    error = decode(vector("6.24.2_CS02e", "ERROR_RESPONSE"))
    assert error == ProvideDeviceCertificateError(code=3)
    assert error.to_json() == {
        "schema": "ProvideDeviceCertificateError",
        "code": "certificateRetrievalFailure",
    }


def test_cs03_join_variants() -> None:
    a2 = decode(vector("8.7.2_CS03A2NonCritical", "SUCCESS_COMMAND"))
    assert a2 == JoinCommand(
        method=JoinMethod.METHOD_A_RESPONDER,
        partner_id=bytes.fromhex("00db123456789093"),
        partner_type=DeviceType.ESME,
    )
    c = decode_as(JoinCommand, "8.7.1_CS03CCritical", "SUCCESS_COMMAND")
    assert c.method == JoinMethod.METHOD_C and c.partner_type == DeviceType.PPMID
    assert c.partner_certificate is not None
    partner = c.partner_certificate.to_json()
    assert isinstance(partner, dict)
    assert partner["subject_unique_id"] == "00db123456789098"
    assert partner["key_usage"] == ["keyAgreement"]
    assert decode(vector("8.7.2_CS03CNonCritical", "ERROR_RESPONSE")) == JoinResponse(code=11)


def test_cs04_unjoin() -> None:
    command = decode(vector("8.8.1_CS04ACCritical", "SUCCESS_COMMAND"))
    assert command == UnjoinCommand(partner_id=bytes.fromhex("00db123456789099"))
    assert decode(vector("8.8.1_CS04ACCritical", "ERROR_RESPONSE")) == UnjoinResponse(code=1)
    b = decode(vector("8.8.2_CS04B", "SUCCESS_COMMAND"))
    assert b == UnjoinCommand(partner_id=bytes.fromhex("0102030405060708"))
    assert b.to_json() == {"schema": "UnjoinCommand", "partner_id": "0102030405060708"}


def test_cs07_read_join_details() -> None:
    assert decode(vector("8.9_CS07", "SUCCESS_COMMAND")) == ReadDeviceJoinDetailsCommand()
    response = decode_as(ReadDeviceJoinDetailsResponse, "8.9_CS07", "SUCCESS_RESPONSE")
    assert response.code == 0 and response.entries is not None
    assert response.entries[0] == DeviceLogEntry(
        device_id=bytes.fromhex("0102030405060708"), device_type=DeviceType.GPF
    )
    assert decode(vector("8.9_CS07", "ERROR_RESPONSE")) == ReadDeviceJoinDetailsResponse(code=1)


def test_alerts_ccs08_cs09_gcs62() -> None:
    ccs08 = decode(vector("NA_CCS08", "ALERT"))
    assert ccs08 == FirmwareTransferAlert(
        alert_code=0x8F8A,
        time=GeneralizedTime(text="20150101000000Z"),
        entity_id=bytes.fromhex("00db1234567890a4"),
        firmware_version=bytes.fromhex("0123abcd"),
        code=0,
    )
    cs09 = decode(vector("NA_CS09", "ALERT"))
    assert cs09 == FirmwareVersionAlert(
        alert_code=0x8F8B,
        time=GeneralizedTime(text="20150101000000Z"),
        firmware_version=bytes.fromhex("1234abcd"),
        code=0,
    )
    gcs62 = decode_as(GpfDeviceLogBackupAlert, "NA_GCS62", "ALERT")
    assert gcs62.alert_code == 0x8071 and len(gcs62.entries) == 6
    assert [e.device_type for e in gcs62.entries].count(DeviceType.PPMID) == 4


# -- builders -------------------------------------------------------------------------------------
def test_build_cs02b_command_equals_vector() -> None:
    v = vector("6.15.1_CS02bNOByNO", "SUCCESS_COMMAND")
    decoded = decode(v)
    assert isinstance(decoded, UpdateSecurityCredentialsCommand)
    built = UpdateSecurityCredentialsCommand(
        replacement_mode=ReplacementMode.NETWORK_OPERATOR_BY_NETWORK_OPERATOR,
        authorising_cell=TrustAnchorCellId(role=Role.NETWORK_OPERATOR, key_usage=DIGITAL_SIGNATURE),
        authorising_seq_number=1200,
        new_floor_seq_number=0,
        replacements=tuple(
            TrustAnchorReplacement(certificate=Certificate(der=x.certificate.der), target=x.target)
            for x in decoded.replacements
        ),
        certification_path=decoded.certification_path,
    )
    assert built == decoded
    assert built.to_bytes() == v.payload
    with pytest.raises(GbcsEncodeError):
        UpdateSecurityCredentialsCommand(
            replacement_mode=2, authorising_seq_number=-1, replacements=()
        )


def test_build_activate_firmware() -> None:
    image_hash = bytes(range(32))
    command = ActivateFirmwareCommand(image_hash=image_hash, originator_counter=0x1234_5678_9ABC)
    data = command.to_bytes()
    assert data == bytes.fromhex("302a0420") + image_hash + bytes.fromhex("0206123456789abc")
    assert decode_asn1_payload(data, message_code=0x0012, cra=COMMAND) == command
    later = ActivateFirmwareCommand(
        image_hash=image_hash,
        originator_counter=1 << 63,  # needs a leading zero octet as a DER INTEGER
        execution_time=GeneralizedTime(text="20300101000000Z"),
    )
    assert decode_asn1_payload(later.to_bytes(), message_code=0x0012, cra=COMMAND) == later
    with pytest.raises(GbcsEncodeError):
        ActivateFirmwareCommand(image_hash=b"short", originator_counter=1)
    outcome = ActivationOutcome(code=2, firmware_version=b"\x01\x02")
    for payload, cra in [
        (ActivateFirmwareResponse(), RESPONSE),
        (ActivateFirmwareResponse(outcome=outcome), RESPONSE),
        (
            ActivateFirmwareAlert(
                alert_code=0x8F66,
                execution_time=GeneralizedTime(text="20300101000000Z"),
                originator_counter=7,
                outcome=outcome,
            ),
            ALERT,
        ),
    ]:
        code = 0x00CA if cra == ALERT else 0x0012
        assert decode_asn1_payload(payload.to_bytes(), message_code=code, cra=cra) == payload
    assert ActivateFirmwareResponse().to_bytes() == b"\x05\x00"


def test_build_join_and_unjoin_equal_vectors() -> None:
    join = JoinCommand(method=0, partner_id=bytes.fromhex("00DB12345678909A"), partner_type=5)
    assert join.to_bytes() == vector("8.7.1_CS03A1", "ERROR_COMMAND").payload
    unjoin = UnjoinCommand(partner_id=bytes.fromhex("00db123456789099"))
    assert unjoin.to_bytes() == vector("8.8.1_CS04ACCritical", "SUCCESS_COMMAND").payload
    with pytest.raises(GbcsEncodeError):
        UnjoinCommand(partner_id=b"\x00" * 7)
    with pytest.raises(GbcsEncodeError):
        JoinCommand(method=0, partner_id=b"", partner_type=0)


SAMPLES: list[tuple[Asn1Payload, int, int]] = [
    (IssueSecurityCredentialsCommand(key_usage=DIGITAL_SIGNATURE), 0x000A, COMMAND),
    (IssueSecurityCredentialsError(code=2), 0x000A, RESPONSE),
    (
        IssueSecurityCredentialsResponse(request=CertificationRequest(der=b"\x30\x00")),
        0x000A,
        RESPONSE,
    ),
    (ReadFirmwareVersionCommand(), 0x0129, COMMAND),
    (ReadFirmwareVersionResponse(firmware_version=b"\x01\x02\x03\x04", code=0), 0x0129, RESPONSE),
    (
        RestoreGpfDeviceLogCommand(entries=(DeviceLogEntry(device_id=bytes(8), device_type=5),)),
        0x008C,
        COMMAND,
    ),
    (
        RestoreGpfDeviceLogResponse(
            outcomes=(
                RestoreOutcome(entry=DeviceLogEntry(device_id=bytes(8), device_type=4), code=4),
            )
        ),
        0x008C,
        RESPONSE,
    ),
    (
        UpdateSecurityCredentialsCommand(
            replacement_mode=ReplacementMode.SUPPLIER_BY_SUPPLIER,
            plaintext_symmetric_key=bytes(16),
            apply_time_based_cpv_checks=0,
            authorising_seq_number=(1 << 64) - 1,
            new_specialist_floors=(SpecialistSeqNumber(usage=0, seq_number=5),),
            replacements=(),
            execution_time=GeneralizedTime.from_datetime(
                GeneralizedTime(text="20300101120000Z").to_datetime()
            ),
        ),
        0x0102,
        COMMAND,
    ),
    (
        UpdateSecurityCredentialsResponse(
            outcome=ExecutionOutcome(
                authorising_seq_number=1, replacement_mode=2, seq_number_changes=(), outcomes=()
            )
        ),
        0x0102,
        RESPONSE,
    ),
]


@pytest.mark.parametrize(("payload", "code", "cra"), SAMPLES, ids=lambda x: type(x).__name__)
def test_built_payload_decodes_to_itself(payload: Asn1Payload, code: int, cra: int) -> None:
    data = payload.to_bytes()
    decoded = decode_asn1_payload(data, message_code=code, cra=cra)
    assert decoded == payload
    assert decoded.to_bytes() == data
    json.dumps(decoded.to_json())


def test_unparseable_certificate_round_trips_and_shows_error() -> None:
    data = bytes.fromhex("3003020100")
    payload = decode_asn1_payload(data, message_code=0x000B, cra=COMMAND)
    assert payload == UpdateDeviceCertificateCommand(certificate=Certificate(der=data))
    assert payload.to_bytes() == data
    cert = obj(payload)["certificate"]
    assert "error" in cert and cert["der"] == "3003020100"


def _names(parts: tuple[Part, ...]) -> list[str]:
    return [name for p in parts for name in (_names(p.parts) if p.parts else [p.name])]


SEQUENCE_NODES = {
    cls.__name__: cls
    for module in (credentials, firmware, join, misc, outcome, types, update)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, Sequence) and is_dataclass(cls)
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_NODES))
def test_sequence_parts_fill_every_field_once(name: str) -> None:
    """``Sequence.read`` sets the fields its parts name (no ``__init__``): none may be missed."""
    cls = SEQUENCE_NODES[name]
    assert sorted(_names(cls.PARTS)) == sorted(f.name for f in fields(cls) if f.name != "lw")


# -- fallback and errors -------------------------------------------------------------------------
def test_unknown_code_gives_generic_tree() -> None:
    data = bytes.fromhex("3081090201ff0a01008001aa")  # non-minimal outer length on purpose
    payload = decode_asn1_payload(data, message_code=0x7777, cra=COMMAND)
    assert isinstance(payload, GenericAsn1Payload)
    assert payload.root == DerSequence(
        items=(
            DerInteger(content=b"\xff"),
            DerEnumerated(content=b"\x00"),
            DerContext(number=0, constructed=False, content=b"\xaa"),
        ),
        lw=2,
    )
    assert payload.to_bytes() == data
    tree = payload.to_json()
    assert isinstance(tree, dict) and "unknown" in tree and tree["schema"] is None
    assert tree["der"] == {
        "sequence": [{"integer": -1}, {"enumerated": 0}, {"context": 0, "hex": "aa"}]
    }


@pytest.mark.parametrize(
    ("hex_data", "code", "cra"),
    [
        ("3003020100", 0x000D, COMMAND),  # join command without partner
        ("02020005", 0x000D, RESPONSE),  # non-minimal INTEGER
        ("040700db1234567890", 0x000F, COMMAND),  # 7-byte entity id
        ("301330070201040302030830060201040201030500", 0x0008, COMMAND),  # extra element inside
        ("05020000", 0x0013, COMMAND),  # NULL with content
        (
            "3022180f32303135303130313031303030305a180f323031353031303130323030303058",
            0x007F,
            COMMAND,
        ),
        ("bf8a0100", 0x000C, RESPONSE),  # high tag number form
    ],
)
def test_schema_mismatch_falls_back_byte_exact(hex_data: str, code: int, cra: int) -> None:
    data = bytes.fromhex(hex_data)
    payload = decode_asn1_payload(data, message_code=code, cra=cra)
    assert isinstance(payload, GenericAsn1Payload)
    assert "payload" in payload.reason
    assert payload.to_bytes() == data


@pytest.mark.parametrize(
    ("hex_data", "field"),
    [
        ("", "payload"),
        ("3010020100040800db12345678909a0201", "payload"),  # truncated
        ("3010020100040800db12345678909a02010500", "payload"),  # trailing bytes
        ("30800000", "payload"),  # indefinite length (BER, not DER)
        ("3005020100040800db", "payload"),  # inner length overruns its parent
    ],
)
def test_malformed_tlv_raises_with_offset_and_field(hex_data: str, field: str) -> None:
    with pytest.raises(GbcsDecodeError) as info:
        decode_asn1_payload(bytes.fromhex(hex_data), message_code=0x000D, cra=COMMAND, base=100)
    assert info.value.offset >= 100
    assert info.value.field.startswith(field)


def test_error_names_the_nested_field() -> None:
    v = vector("6.15.1_CS02bNOByNO", "SUCCESS_RESPONSE")
    broken = bytearray(v.payload)
    broken[broken.index(bytes.fromhex("306c")) + 2 + 1] = 0x7F  # first outcome's length overruns
    with pytest.raises(GbcsDecodeError) as info:
        decode_asn1_payload(bytes(broken), message_code=0x0103, cra=RESPONSE, base=v.payload_offset)
    assert info.value.field == "payload.outcome.outcomes[0]"
    assert info.value.offset > v.payload_offset


def test_nesting_is_capped() -> None:
    deep = b"\x30\x00"
    for _ in range(40):
        deep = b"\x30" + bytes((len(deep),)) + deep
    with pytest.raises(GbcsDecodeError, match="deeper"):
        decode_asn1_payload(deep, message_code=0x7777, cra=COMMAND)


# -- fuzz rule -------------------------------------------------------------------------------------
def check_fuzz(data: bytes, code: int, cra: int) -> None:
    try:
        payload = decode_asn1_payload(data, message_code=code, cra=cra, base=7)
    except GbcsDecodeError as exc:
        assert exc.offset >= 7
        return
    assert payload.to_bytes() == data  # whatever decodes, re-encodes byte-exact
    json.dumps(payload.to_json())


SCHEMA_KEYS = sorted(SCHEMAS)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80), st.sampled_from(SCHEMA_KEYS))
def test_random_bytes_decode_or_raise(data: bytes, key: tuple[int, int]) -> None:
    check_fuzz(data, *key)


def _der(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Constructed elements around ``children``, with minimal or non-minimal length forms."""

    def wrap(tag: int, parts: list[bytes], width: int) -> bytes:
        body = b"".join(parts)
        width = max(width, 1 if len(body) < 0x80 else 2 if len(body) < 0x100 else 3)
        return bytes((tag,)) + encode_length(len(body), width) + body

    return st.builds(
        wrap,
        st.sampled_from([0x30, 0xA2, 0xA5, 0xA6, 0x31]),
        st.lists(children, max_size=4),
        st.sampled_from([1, 1, 1, 2, 3]),
    )


_PRIMS = st.sampled_from(
    [
        bytes.fromhex(h)
        for h in [
            "020100",
            "020103",
            "02020400",
            "0a0100",
            "0500",
            "03020780",
            "03020308",
            "040800db1234567890a0",
            "180f32303135303130313030303030305a",
            "800100",
            "048101aa",  # non-minimal length of a primitive: the schemas refuse it
            "0203008f66",
        ]
    ]
)
WELL_FORMED = st.recursive(_PRIMS, _der, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WELL_FORMED, st.sampled_from(SCHEMA_KEYS))
def test_well_formed_der_never_raises(data: bytes, key: tuple[int, int]) -> None:
    payload = decode_asn1_payload(data, message_code=key[0], cra=key[1])
    assert payload.to_bytes() == data


@pytest.mark.skipif(not ASN1_VECTORS, reason="reference material not found")
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_reference_payloads(data: st.DataObject) -> None:
    v = data.draw(st.sampled_from(ASN1_VECTORS))
    payload = bytearray(v.payload)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(payload) - 1, 0)))
        if op == "flip" and payload:
            payload[at] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del payload[at : at + data.draw(st.integers(1, 8))]
        else:
            payload[at:at] = data.draw(st.binary(min_size=1, max_size=4))
    check_fuzz(bytes(payload), v.message_code, v.cra)
