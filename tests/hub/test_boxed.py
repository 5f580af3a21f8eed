"""The DCC Boxed network (issue 5 §3): users, devices and registration of ``hub/data/boxed.json``
on the ZAZ1 key store; DUIS signatures by any of a user's signing certificates; GBCS commands
signed and MAC'd with the ZAZ1 keys answered by the simulated premises; overrides; bad input;
and the same network on our own PKI (``load_own``)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.devices import Role
from smetsnet.devices.premises import Premises
from smetsnet.duis import xmldsig
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessRequest
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.access import AccessControl, endpoint_for
from smetsnet.hub.boxed import load_boxed, load_own
from smetsnet.hub.setup import NetworkSetup
from smetsnet.inventory import DeviceStatus, DeviceType, UserRole, UserStatus
from smetsnet.smki.pki import DCC_TEST_PARTIES, Pki
from smetsnet.smki.storage import save_pki
from tests.devices.support import check_response, rebuild
from tests.support.vectors import REFERENCE, require_reference

KEYSTORE = REFERENCE / "duis" / "keystore" / "keystore.json"
TEMPLATES = REFERENCE / "duis" / "templates"
NOW = datetime(2026, 2, 2, 9, 45, tzinfo=UTC)  # after most ZAZ1 certificates expired

SUPPLIER = bytes.fromhex("90B3D51F30010000")
SUPPLIER2 = bytes.fromhex("90B3D51F30030000")
OPERATOR = bytes.fromhex("90B3D51F30020000")
OTHER = bytes.fromhex("00DB123456780004")
ACB = bytes.fromhex("90B3D51F30000002")
ESME, GSME, CHF, GPF, PPMID, IHD, HCALCS = (bytes.fromhex(f"00DB1234567890A{i}") for i in range(7))
MPAN, MPRN = "1200012345679", "7123456789"


def _keystore() -> Path:
    require_reference(KEYSTORE.parent)
    return KEYSTORE


@pytest.fixture(scope="module")
def network() -> NetworkSetup:
    return load_boxed(_keystore(), now=NOW)


def _zaz1(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A ZAZ1 key pair by its DCC Boxed name, read here as a user's client would."""
    for usages in json.loads(_keystore().read_text()).values():
        for records in usages.values():
            for record in records.values():
                if record["name"] == name:
                    key = serialization.load_pem_private_key(record["privateKey"].encode(), None)
                    assert isinstance(key, ec.EllipticCurvePrivateKey)
                    return key, x509.load_pem_x509_certificate(record["certificate"].encode())
    raise AssertionError(f"no {name} in the key store")


def _same(a: ec.EllipticCurvePrivateKey | None, b: ec.EllipticCurvePrivateKey) -> bool:
    return a is not None and a.private_numbers() == b.private_numbers()


# --- inventory --------------------------------------------------------------------------------


def test_users_have_their_roles_and_are_active(network: NetworkSetup) -> None:
    inventory = network.inventory
    expected = {
        SUPPLIER: {UserRole.IS, UserRole.GS},
        SUPPLIER2: {UserRole.IS},
        OPERATOR: {UserRole.ED, UserRole.GT},
        OTHER: {UserRole.OU},
    }
    for eui, roles in expected.items():
        user = inventory.user(eui)
        assert user.roles == roles and user.status is UserStatus.ACTIVE
    xml_cert = inventory.user(SUPPLIER).xml_signing_cert
    assert xml_cert is not None and xml_cert.subject == SUPPLIER
    assert inventory.user(SUPPLIER2).xml_signing_cert is None  # ZAZ1 has none for it


def test_devices_are_commissioned_at_one_premises_on_the_hub_log(network: NetworkSetup) -> None:
    inventory = network.inventory
    types = {
        ESME: DeviceType.ESME,
        GSME: DeviceType.GSME,
        CHF: DeviceType.CHF,
        GPF: DeviceType.GPF,
        PPMID: DeviceType.PPMID,
        IHD: DeviceType.IHD,
        HCALCS: DeviceType.HCALCS,
    }
    premises_ids = set()
    for eui, kind in types.items():
        device = inventory.device(eui)
        assert (device.type, device.status) == (kind, DeviceStatus.Commissioned)
        premises_ids.add(device.premises_id)
    assert len(premises_ids) == 1
    assert {d.eui for d in inventory.han_log(CHF)} == {ESME, GSME, PPMID, IHD, HCALCS}
    assert list(network.premises) == [CHF] and list(network.technologies) == [CHF]


@pytest.mark.parametrize(
    ("role", "device", "holder"),
    [
        ("IS", ESME, SUPPLIER),
        ("ED", ESME, OPERATOR),
        ("GS", GSME, SUPPLIER),
        ("GT", GSME, OPERATOR),
        ("IS", CHF, SUPPLIER),
        ("GS", GPF, SUPPLIER),
        ("IS", HCALCS, SUPPLIER),
        ("IS", PPMID, SUPPLIER),
        ("ES", ESME, None),  # no export MPAN
    ],
)
def test_who_holds_each_role(
    network: NetworkSetup, role: str, device: bytes, holder: bytes | None
) -> None:
    assert network.inventory.who_holds(role, device, NOW) == holder
    assert network.inventory.who_holds(role, device, datetime(2019, 12, 31, tzinfo=UTC)) is None


def test_meter_points_are_linked(network: NetworkSetup) -> None:
    [reg] = network.inventory.registrations(MPAN, "IS")
    assert reg.user == SUPPLIER and reg.valid_from == datetime(2020, 1, 1, tzinfo=UTC)
    [gas] = network.inventory.registrations(MPRN, "GT")
    assert gas.user == OPERATOR and gas.valid_to is None


# --- DUIS signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signer",
    ["xml-sign-90B3D51F30010000-ds", "Z1-supplier-ds", "Z1b-supplier-ds"],
)
def test_a_template_signed_with_any_supplier_signing_key_verifies(
    network: NetworkSetup, signer: str
) -> None:
    template = require_reference(TEMPLATES) / "ECS17b_4.1.1_REQUEST_DUIS.XML"
    key, cert = _zaz1(signer)
    signed = xmldsig.sign(template.read_bytes(), key, cert)
    verified = xmldsig.verify(signed, network.xml_certificates)
    assert verified.certificate == cert
    accepted = AccessControl(network.inventory, network.xml_certificates).check(
        signed, endpoint=endpoint_for(2), now=NOW
    )
    assert accepted.user.eui == SUPPLIER and accepted.role is UserRole.IS
    assert accepted.device is not None and accepted.device.eui == ESME


def test_the_dsp_key_is_not_a_user_signing_key(network: NetworkSetup) -> None:
    template = require_reference(TEMPLATES) / "ECS17b_4.1.1_REQUEST_DUIS.XML"
    signed = xmldsig.sign(template.read_bytes(), network.dsp_key, network.dsp_certificate)
    with pytest.raises(xmldsig.DuisSignatureError, match="unknown signer"):
        xmldsig.verify(signed, network.xml_certificates)
    assert network.dsp_certificate.serial_number == 167048897159233642262001557408276884033


@pytest.mark.parametrize(
    ("template", "signer", "user"),
    [
        ("GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_REQUEST_DUIS.XML", "Z1-supplier-ds", SUPPLIER),
        ("CCS05CCS04_8.9_SUCCESS_REQUEST_DUIS.XML", "xml-sign-90B3D51F30010000-ds", SUPPLIER),
        ("ECS61d_7.14_SUCCESS_REQUEST_DUIS.XML", "xml-sign-90B3D51F30010000-ds", SUPPLIER),
    ],
)
def test_templates_to_other_devices_pass_access_control(
    network: NetworkSetup, template: str, signer: str, user: bytes
) -> None:
    xml = (require_reference(TEMPLATES) / template).read_bytes()
    command_variant = int(xml.split(b"<sr:CommandVariant>")[1].split(b"<")[0])
    key, cert = _zaz1(signer)
    accepted = AccessControl(network.inventory, network.xml_certificates).check(
        xmldsig.sign(xml, key, cert), endpoint=endpoint_for(command_variant), now=NOW
    )
    assert accepted.user.eui == user


# --- GBCS through the premises ------------------------------------------------------------------


def test_a_read_mac_d_by_the_acb_is_answered_for_the_supplier(network: NetworkSetup) -> None:
    """ECS17b (non-critical): the ACB's Z1 key-agreement key MACs it; the ESME answers, MAC'd and
    encrypted for the supplier's Z1 key-agreement key."""
    vector = require_reference() / "4.1.1_ECS17b" / "ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX"
    supplier = network.user_protection(SUPPLIER)
    wire = rebuild(vector, supplier)
    [response, *_] = network.premises[CHF].deliver(wire, NOW)
    decoded, verdict = check_response(decode_message(wire), response, supplier)
    assert verdict == "ok"
    assert decoded.header.originator == ESME
    assert "no-key" not in repr(decoded.payload) and "invalid" not in repr(decoded.payload)


def test_a_critical_command_signed_with_the_zaz1_supplier_key_is_executed(
    network: NetworkSetup,
) -> None:
    """ECS43 (critical): signed with Z1-supplier-ds, MAC'd with Z1-accessControlBroker-ka."""
    supplier = network.user_protection(SUPPLIER)
    z1_key, _ = _zaz1("Z1-supplier-ds")
    assert _same(supplier.keystore.private_key(SUPPLIER, KeyUsage.DIGITAL_SIGNATURE), z1_key)
    z1_acb, _ = _zaz1("Z1-accessControlBroker-ka")
    assert _same(network.hub_keys.private_key(ACB, KeyUsage.KEY_AGREEMENT), z1_acb)
    request = AccessRequest.action(9, "0-0:10.0.106.255", 1, invoke_id=2000)
    command = build_message(
        payload=request,
        originator=SUPPLIER,
        recipient=ESME,
        counter=2000,
        message_code=0x0050,
        protection=supplier,
    )
    [response, *_] = network.premises[CHF].deliver(command.frame.to_bytes(), NOW)
    _, verdict = check_response(command, response, supplier)
    assert verdict == "ok"
    assert network.premises[CHF].esme.state.supply != "enabled"


def test_devices_trust_the_zaz1_parties_and_reach_the_auxiliary_switch(
    network: NetworkSetup,
) -> None:
    premises = network.premises[CHF]
    assert Role.SUPPLIER in premises.esme.anchors.roles_of(SUPPLIER)
    assert Role.LOAD_CONTROLLER in premises.esme.anchors.roles_of(bytes.fromhex("90B3D51F30010008"))
    assert premises.gas is not None and premises.gas.gsme.anchors.roles_of(OPERATOR)
    assert premises.auxiliary is not None and premises.hub.joined(HCALCS)
    request = AccessRequest.get(1, "0-0:96.1.0.255", 2, invoke_id=3000)  # ECS61d-like read
    command = build_message(
        payload=request,
        originator=SUPPLIER,
        recipient=HCALCS,
        counter=3000,
        message_code=0x011C,
        protection=network.user_protection(SUPPLIER),
    )
    out = premises.deliver(command.frame.to_bytes(), NOW)
    assert out and decode_message(out[0]).header.originator == HCALCS
    again = Premises.from_json(json.loads(json.dumps(premises.to_json())))
    assert again.auxiliary is not None and again.auxiliary.eui == HCALCS


def test_certificates_by_eui_cover_users_and_devices(network: NetworkSetup) -> None:
    assert len(network.certificates_by_eui[SUPPLIER]) == 7  # Z1, Z1b, PP, xml-sign
    for device in (ESME, GSME, CHF, GPF, PPMID, HCALCS):
        assert len(network.certificates_by_eui[device]) == 2
        point = network.hub_keys.public_key(device, KeyUsage.KEY_AGREEMENT)
        assert point is not None
    assert IHD not in network.certificates_by_eui  # a type-2 device holds no certificates
    assert network.response_urls == {}


def test_expired_certificates_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="smetsnet.hub.boxed"):
        load_boxed(_keystore(), now=NOW)
    about_z1_supplier = [r for r in caplog.records if "Z1-supplier-ds:" in r.getMessage()]
    assert len(about_z1_supplier) == 1 and "expired" in about_z1_supplier[0].getMessage()
    assert any("mdr-ds" in r.getMessage() for r in caplog.records)  # unparseable: skipped


# --- overrides and bad input ------------------------------------------------------------------


def _write(tmp_path: Path, document: object, name: str = "registration.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _premises_with(registrations: list[dict[str, str]]) -> dict[str, object]:
    devices = {"ESME": "00-DB-12-34-56-78-90-A0", "CHF": "00-DB-12-34-56-78-90-A2"}
    devices["GPF"] = "00-DB-12-34-56-78-90-A3"
    return {
        "premises": [
            {
                "devices": devices,
                "meter_points": [
                    {"mpxn": MPAN, "kind": "IMPORT_MPAN", "meter": "00-DB-12-34-56-78-90-A0"}
                ],
                "registrations": registrations,
            }
        ]
    }


def test_the_override_file_replaces_registration(tmp_path: Path) -> None:
    second = "90-B3-D5-1F-30-03-00-00"
    override = _write(
        tmp_path,
        _premises_with(
            [
                {"mpxn": MPAN, "role": "IS", "user": "90-B3-D5-1F-30-01-00-00",
                 "valid_from": "2020-01-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"},
                {"mpxn": MPAN, "role": "IS", "user": second,
                 "valid_from": "2026-01-01T00:00:00Z"},
            ]
        ),
    )  # fmt: skip
    network = load_boxed(_keystore(), now=NOW, registration=override)
    inventory = network.inventory
    assert inventory.who_holds("IS", ESME, NOW) == SUPPLIER2
    assert inventory.who_holds("IS", ESME, datetime(2025, 6, 1, tzinfo=UTC)) == SUPPLIER
    assert inventory.user(OTHER).roles == {UserRole.OU}  # users kept from the default
    assert inventory.find_device(GSME) is None  # the default premises is replaced
    esme = network.premises[CHF].esme
    assert Role.SUPPLIER in esme.anchors.roles_of(SUPPLIER2)  # the registered supplier now


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"users": {}}, "users: expected a list"),
        ({"premises": [{"devices": {"ESME": "00-DB"}}]}, "premises[0].devices.ESME"),
        ({"premises": [{"devices": {"ESME": "00-DB-12-34-56-78-90-A0"}}]}, "missing CHF"),
        ({"stuff": 1}, "unknown key"),
        ({"users": [{"eui": "90-B3-D5-1F-30-01-00-00", "roles": ["XX"]}]}, "roles"),
        (
            _premises_with(
                [{"mpxn": MPAN, "role": "IS", "user": "00-DB-12-34-56-78-00-04",
                  "valid_from": "2020-01-01T00:00:00Z"}]
            ),
            "does not have role IS",
        ),
        (
            _premises_with(
                [{"mpxn": MPAN, "role": "IS", "user": "90-B3-D5-1F-30-01-00-00",
                  "valid_from": "2020-01-01"}]
            ),
            "no time zone",
        ),
    ],
)  # fmt: skip
def test_bad_registration_data_is_named(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load_boxed(_keystore(), now=NOW, registration=_write(tmp_path, document))


def test_missing_or_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the DCC Boxed key store"):
        load_boxed(tmp_path / "absent.json", now=NOW)
    with pytest.raises(ConfigurationError, match="not a DCC Boxed key store"):
        load_boxed(_write(tmp_path, ["not", "an", "object"], "ks.json"), now=NOW)
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    with pytest.raises(ConfigurationError, match="not a DCC Boxed key store"):
        load_boxed(not_json, now=NOW)
    with pytest.raises(ConfigurationError, match="no usable certificate"):
        load_boxed(_write(tmp_path, {}, "empty.json"), now=NOW)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_boxed(_keystore(), now=NOW, registration=tmp_path / "absent.json")
    with pytest.raises(ConfigurationError, match="not JSON"):
        load_boxed(_keystore(), now=NOW, registration=not_json)


def test_a_key_store_without_the_acb_is_refused(tmp_path: Path) -> None:
    document = json.loads(_keystore().read_text())
    del document[ACB.hex()]
    with pytest.raises(ConfigurationError, match="access control broker"):
        load_boxed(_write(tmp_path, document, "no-acb.json"), now=NOW)


# --- our own PKI --------------------------------------------------------------------------------


def test_load_own_builds_the_same_network_on_our_pki(tmp_path: Path) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    pki = Pki.create(at=at)
    for party in DCC_TEST_PARTIES:
        pki.add_party(party, at=at)
    save_pki(pki, tmp_path / "pki")
    network = load_own(tmp_path / "pki", None, now=NOW)
    assert network.inventory.who_holds("GS", GSME, NOW) == SUPPLIER
    xml = pki.bundle.xml_signing(SUPPLIER)
    assert xml is not None and xml.certificate in network.xml_certificates.values()
    supplier = network.user_protection(SUPPLIER)
    request = AccessRequest.action(9, "0-0:10.0.106.255", 1, invoke_id=2000)
    command = build_message(
        payload=request,
        originator=SUPPLIER,
        recipient=ESME,
        counter=2000,
        message_code=0x0050,
        protection=supplier,
    )
    [response, *_] = network.premises[CHF].deliver(command.frame.to_bytes(), NOW)
    assert check_response(command, response, supplier)[1] == "ok"
    with pytest.raises(ConfigurationError, match="not a PKI folder"):
        load_own(tmp_path, None, now=NOW)


def test_a_served_hub_with_a_state_folder_audits_to_a_file_and_closes_it(tmp_path: Path) -> None:
    """``serve --state``: the audit chain goes to ``state/audit.jsonl`` (not kept in memory)
    and is complete and verifiable once the edge has shut down and closed the hub; a second
    start continues the same chain."""
    from starlette.testclient import TestClient

    from smetsnet.api.app import create_app
    from smetsnet.hub.audit_chain import verify_chain
    from smetsnet.hub.build import build_service

    def serve_once() -> int:
        service = build_service(
            keystore=_keystore(), registration=None, state=tmp_path, response_urls={}, config={}
        )
        with TestClient(create_app(service)) as client:
            answer = client.post(
                "/api/v1/serviceS",
                content=b"<not-duis/>",
                headers={"Content-Type": "application/xml"},
            )
            assert answer.status_code == 400
        assert service.hub.audit.entries() == ()  # nothing kept in memory
        return len(service.hub.audit)

    first = serve_once()
    report = verify_chain(tmp_path / "audit.jsonl")
    assert first >= 1 and report.ok and report.entries == first
    second = serve_once()
    report = verify_chain(tmp_path / "audit.jsonl")
    assert report.ok and report.entries == first + second
