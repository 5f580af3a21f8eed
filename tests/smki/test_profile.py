"""GB SMKI profiles: each kind of certificate we issue, checked field by field, and bad ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtensionOID, NameOID

from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.errors import CertificateProfileError, SmkiError
from smetsnet.smki.issue import (
    CaRole,
    CertificateAuthority,
    issue_device_certificate,
    issue_organisation_certificate,
    issue_root_ca,
    issue_sub_ca,
    new_key,
)
from smetsnet.smki.profile import (
    DEVICE_POLICY,
    HARDWARE_MODULE_NAME,
    NO_EXPIRY,
    ORGANISATION_POLICY,
    CertificateKind,
    RemotePartyRole,
    check_profile,
    eui_of,
    hardware_module_name,
    key_identifier,
)
from tests.support.vectors import GBCS_KEYSTORE, require_reference

AT = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
SUPPLIER = bytes.fromhex("90b3d51f30010000")
DEVICE = bytes.fromhex("00db1234567890a0")
DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT


@pytest.fixture(scope="module")
def cas() -> dict[CaRole, CertificateAuthority]:
    root = issue_root_ca(name="TEST ROOT", key=new_key(), not_before=AT)
    return {
        CaRole.ROOT: root,
        CaRole.ORGANISATION: issue_sub_ca(
            root, role=CaRole.ORGANISATION, name="TEST OCA", key=new_key(), not_before=AT
        ),
        CaRole.DEVICE: issue_sub_ca(
            root, role=CaRole.DEVICE, name="TEST DCA", key=new_key(), not_before=AT
        ),
    }


def _ext(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(cls)


def _org(
    cas: dict[CaRole, CertificateAuthority],
    role: RemotePartyRole,
    usage: KeyUsage,
    common_name: str | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = new_key()
    cert = issue_organisation_certificate(
        cas[CaRole.ORGANISATION],
        eui=SUPPLIER,
        role=role,
        usage=usage,
        public_key=key.public_key(),
        not_before=AT,
        common_name=common_name,
    )
    return cert, key


def test_organisation_certificate_fields(cas: dict[CaRole, CertificateAuthority]) -> None:
    cert, key = _org(cas, RemotePartyRole.SUPPLIER, DS, "GITTESTSUPPLIER")
    info = check_profile(cert)
    assert info.kind is CertificateKind.ORGANISATION
    assert info.eui == SUPPLIER and info.role is RemotePartyRole.SUPPLIER
    assert info.usage is DS and info.prepayment is False
    assert info.common_name == "GITTESTSUPPLIER"
    assert info.not_before == datetime(2026, 3, 14, tzinfo=UTC)  # midnight, as DCC's
    assert info.not_after == datetime(2036, 3, 13, 23, 59, 59, tzinfo=UTC)  # ten years - 1 s
    assert info.policies == (ORGANISATION_POLICY.dotted_string,)
    assert info.subject_key_id == key_identifier(key.public_key())
    assert info.authority_key_id == cas[CaRole.ORGANISATION].key_id
    # Subject: CN, OU "02" (UTF8String), x500UniqueIdentifier = BIT STRING 00 ‖ EUI.
    attrs = list(cert.subject)
    assert [a.oid for a in attrs] == [
        NameOID.COMMON_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.X500_UNIQUE_IDENTIFIER,
    ]
    assert attrs[1].value == "02" and attrs[1]._type is _ASN1Type.UTF8String
    assert attrs[2].value == b"\x00" + SUPPLIER and attrs[2]._type is _ASN1Type.BitString
    assert cert.issuer == cas[CaRole.ORGANISATION].certificate.subject
    assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    # Extensions in the DCC order and criticality.
    assert [(e.oid, e.critical) for e in cert.extensions] == [
        (ExtensionOID.KEY_USAGE, True),
        (ExtensionOID.SUBJECT_KEY_IDENTIFIER, False),
        (ExtensionOID.CERTIFICATE_POLICIES, True),
        (ExtensionOID.AUTHORITY_KEY_IDENTIFIER, False),
    ]
    ku = _ext(cert, x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_agreement and not ku.key_cert_sign
    assert cert.serial_number.bit_length() <= 127
    assert eui_of(cert) == SUPPLIER


def test_key_agreement_and_prepayment(cas: dict[CaRole, CertificateAuthority]) -> None:
    cert, _ = _org(cas, RemotePartyRole.SUPPLIER, KA)
    info = check_profile(cert, prepayment=True)
    assert info.usage is KA and info.prepayment is True and info.common_name is None
    ku = _ext(cert, x509.KeyUsage).value
    assert ku.key_agreement and not ku.digital_signature
    # Only a supplier's key-agreement certificate can sit in the prepayment cell.
    ds, _ = _org(cas, RemotePartyRole.SUPPLIER, DS)
    with pytest.raises(CertificateProfileError, match="prepayment"):
        check_profile(ds, prepayment=True)
    network, _ = _org(cas, RemotePartyRole.NETWORK_OPERATOR, KA)
    with pytest.raises(CertificateProfileError, match="prepayment"):
        check_profile(network, prepayment=True)


@pytest.mark.parametrize(
    ("role", "ou"), [(RemotePartyRole.XML_SIGNING, "87"), (RemotePartyRole.DSP_XML_SIGNING, "89")]
)
def test_xml_signing_certificates(
    cas: dict[CaRole, CertificateAuthority], role: RemotePartyRole, ou: str
) -> None:
    cert, _ = _org(cas, role, DS)
    info = check_profile(cert)
    assert info.kind is CertificateKind.XML_SIGNING and info.role is role and info.usage is DS
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == ou
    with pytest.raises(SmkiError, match="digital signature only"):
        _org(cas, role, KA)


def test_device_certificate_fields(cas: dict[CaRole, CertificateAuthority]) -> None:
    key = new_key()
    cert = issue_device_certificate(
        cas[CaRole.DEVICE], eui=DEVICE, usage=KA, public_key=key.public_key(), not_before=AT
    )
    info = check_profile(cert)
    assert info.kind is CertificateKind.DEVICE and info.eui == DEVICE and info.usage is KA
    assert info.role is None and info.common_name is None
    assert len(cert.subject) == 0
    assert cert.not_valid_after_utc == NO_EXPIRY == info.not_after
    assert info.policies == (DEVICE_POLICY.dotted_string,)
    san = _ext(cert, x509.SubjectAlternativeName)
    assert san.critical
    (other,) = san.value
    assert isinstance(other, x509.OtherName) and other.type_id == HARDWARE_MODULE_NAME
    # SEQUENCE { OID 1.2.826.0.1.8641679.1.2.2.1, OCTET STRING EUI } (as the RTDS device certs).
    assert other.value == bytes.fromhex("3019060d2a863a0001848fb90f01020201040800db1234567890a0")
    assert other.value == hardware_module_name(DEVICE)
    assert [(e.oid, e.critical) for e in cert.extensions] == [
        (ExtensionOID.KEY_USAGE, True),
        (ExtensionOID.SUBJECT_KEY_IDENTIFIER, False),
        (ExtensionOID.SUBJECT_ALTERNATIVE_NAME, True),
        (ExtensionOID.CERTIFICATE_POLICIES, True),
        (ExtensionOID.AUTHORITY_KEY_IDENTIFIER, False),
    ]
    assert eui_of(cert) == DEVICE


def test_ca_certificates(cas: dict[CaRole, CertificateAuthority]) -> None:
    root = check_profile(cas[CaRole.ROOT].certificate)
    assert root.kind is CertificateKind.CA and root.role is RemotePartyRole.ROOT
    assert root.common_name == "TEST ROOT" and root.authority_key_id is None
    org = check_profile(cas[CaRole.ORGANISATION].certificate)
    assert org.role is RemotePartyRole.ISSUING_AUTHORITY and org.not_after < NO_EXPIRY
    device = check_profile(cas[CaRole.DEVICE].certificate)
    assert device.role is None and device.not_after == NO_EXPIRY
    for ca in cas.values():
        constraints = _ext(ca.certificate, x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca
        ku = _ext(ca.certificate, x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
        assert not ku.value.digital_signature and not ku.value.key_agreement
    # Issuer names are PrintableString like the DCC "OU=07, CN=Z1".
    assert all(a._type is _ASN1Type.PrintableString for a in org_subject(cas))


def org_subject(cas: dict[CaRole, CertificateAuthority]) -> list[x509.NameAttribute]:  # type: ignore[type-arg]
    return list(cas[CaRole.ORGANISATION].certificate.subject)


def test_issuers_refuse_wrong_requests(cas: dict[CaRole, CertificateAuthority]) -> None:
    key = new_key().public_key()
    with pytest.raises(SmkiError, match="organisation CA"):
        issue_organisation_certificate(
            cas[CaRole.DEVICE],
            eui=SUPPLIER,
            role=RemotePartyRole.SUPPLIER,
            usage=DS,
            public_key=key,
            not_before=AT,
        )
    with pytest.raises(SmkiError, match="device CA"):
        issue_device_certificate(
            cas[CaRole.ORGANISATION], eui=DEVICE, usage=DS, public_key=key, not_before=AT
        )
    with pytest.raises(SmkiError, match="8 bytes"):
        issue_device_certificate(
            cas[CaRole.DEVICE], eui=b"\x00" * 7, usage=DS, public_key=key, not_before=AT
        )
    with pytest.raises(SmkiError, match="CA role"):
        issue_organisation_certificate(
            cas[CaRole.ORGANISATION],
            eui=SUPPLIER,
            role=RemotePartyRole.ISSUING_AUTHORITY,
            usage=DS,
            public_key=key,
            not_before=AT,
        )
    with pytest.raises(SmkiError, match="outlive"):
        issue_organisation_certificate(
            cas[CaRole.ORGANISATION],
            eui=SUPPLIER,
            role=RemotePartyRole.SUPPLIER,
            usage=DS,
            public_key=key,
            not_before=AT,
            years=30,
        )
    with pytest.raises(SmkiError, match="does not match"):
        CertificateAuthority(
            role=CaRole.ROOT, certificate=cas[CaRole.ROOT].certificate, private_key=new_key()
        )


# -- certificates built wrong on purpose -------------------------------------------------------


def _usage(*, ds: bool = False, ka: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(ds, False, False, False, ka, cert_sign, cert_sign, False, False)


def _org_subject(ou: str = "02", uid: bytes = b"\x00" + SUPPLIER) -> list[x509.NameAttribute]:  # type: ignore[type-arg]
    return [
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
        x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, uid, _ASN1Type.BitString),
    ]


def _device_san(
    eui: bytes = DEVICE, oid: x509.ObjectIdentifier = HARDWARE_MODULE_NAME
) -> x509.Extension:  # type: ignore[type-arg]
    value = x509.SubjectAlternativeName([x509.OtherName(oid, hardware_module_name(eui))])
    return x509.Extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, True, value)


def _build(
    *,
    subject: list[x509.NameAttribute] | None = None,  # type: ignore[type-arg]
    usage: x509.KeyUsage | None = None,
    usage_critical: bool = True,
    san: x509.Extension | None = None,  # type: ignore[type-arg]
    policies: bool = True,
    policies_critical: bool = True,
    ski: bool = True,
    not_after: datetime | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    algorithm: hashes.SHA256 | hashes.SHA384 | None = None,
    constraints: x509.BasicConstraints | None = None,
    constraints_critical: bool = True,
) -> x509.Certificate:
    signer = new_key()
    key = key or new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(_org_subject() if subject is None else subject))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "BAD CA")]))
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(AT)
        .not_valid_after(not_after or AT + timedelta(days=3650))
    )
    builder = builder.add_extension(usage or _usage(ds=True), critical=usage_critical)
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier(key_identifier(key.public_key())), critical=False
        )
    if san is not None:
        builder = builder.add_extension(san.value, critical=san.critical)
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(ORGANISATION_POLICY, None)]),
            critical=policies_critical,
        )
    if constraints is not None:
        builder = builder.add_extension(constraints, critical=constraints_critical)
    return builder.sign(signer, algorithm or hashes.SHA256())


BAD: dict[str, tuple[Callable[[], x509.Certificate], str]] = {
    "both usages": (
        lambda: _build(usage=_usage(ds=True, ka=True)),
        "key usage has both digitalSignature and keyAgreement",
    ),
    "no usage bit": (lambda: _build(usage=_usage()), "neither digitalSignature nor keyAgreement"),
    "end entity cert sign": (
        lambda: _build(usage=_usage(ds=True, cert_sign=True)),
        "keyCertSign",
    ),
    "usage not critical": (lambda: _build(usage_critical=False), "keyUsage must be critical"),
    "no policies": (lambda: _build(policies=False), "certificatePolicies extension is missing"),
    "policies not critical": (
        lambda: _build(policies_critical=False),
        "certificatePolicies must be critical",
    ),
    "no subject key id": (lambda: _build(ski=False), "subjectKeyIdentifier extension is missing"),
    "P-384 key": (
        lambda: _build(key=ec.generate_private_key(ec.SECP384R1())),
        "curve is secp384r1, not P-256",
    ),
    "SHA-384": (lambda: _build(algorithm=hashes.SHA384()), "signature algorithm"),
    "OU not hex": (lambda: _build(subject=_org_subject(ou="XY")), "not a role as two hex"),
    "OU unknown role": (lambda: _build(subject=_org_subject(ou="42")), "not a known remote-party"),
    "OU is a CA role": (lambda: _build(subject=_org_subject(ou="07")), "CA role in an end-entity"),
    "no OU": (lambda: _build(subject=_org_subject()[1:]), "organizationalUnitName is missing"),
    "no x500UniqueIdentifier": (
        lambda: _build(subject=_org_subject()[:1]),
        "0 x500UniqueIdentifier attributes",
    ),
    "short x500UniqueIdentifier": (
        lambda: _build(subject=_org_subject(uid=b"\x00" + SUPPLIER[:7])),
        "x500UniqueIdentifier is not a BIT STRING holding an EUI-64",
    ),
    "extra subject attribute": (
        lambda: _build(subject=[*_org_subject(), x509.NameAttribute(NameOID.COUNTRY_NAME, "GB")]),
        "unexpected attribute 2.5.4.6",
    ),
    "organisation with a SAN": (
        lambda: _build(
            san=x509.Extension(
                ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
                False,
                x509.SubjectAlternativeName([x509.DNSName("dcc.example")]),
            )
        ),
        "organisation certificate must not have a subjectAltName",
    ),
    "XML signing for key agreement": (
        lambda: _build(subject=_org_subject(ou="87"), usage=_usage(ka=True)),
        "XML-signing certificate must have key usage digitalSignature",
    ),
    "device subject not empty": (
        lambda: _build(
            subject=[x509.NameAttribute(NameOID.COMMON_NAME, "meter")],
            san=_device_san(),
            not_after=NO_EXPIRY,
        ),
        "device certificate subject is not empty",
    ),
    "device without SAN": (
        lambda: _build(subject=[], not_after=NO_EXPIRY),
        "subjectAltName extension is missing",
    ),
    "device SAN wrong otherName": (
        lambda: _build(
            subject=[],
            san=_device_san(oid=x509.ObjectIdentifier("1.2.3.4")),
            not_after=NO_EXPIRY,
        ),
        "otherName is 1.2.3.4",
    ),
    "device expires": (
        lambda: _build(subject=[], san=_device_san()),
        "device notAfter is 2036",
    ),
    "end entity basicConstraints not critical": (
        lambda: _build(constraints=x509.BasicConstraints(False, None), constraints_critical=False),
        "basicConstraints must be critical",
    ),
    "CA without keyCertSign": (
        lambda: _build(
            subject=[x509.NameAttribute(NameOID.COMMON_NAME, "CA")],
            constraints=x509.BasicConstraints(True, 0),
        ),
        "CA key usage lacks keyCertSign",
    ),
    "CA with an end-entity OU": (
        lambda: _build(
            subject=[x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02")],
            usage=_usage(cert_sign=True),
            constraints=x509.BasicConstraints(True, 0),
        ),
        "is not a CA role",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_wrong_profile_is_rejected_with_a_reason(case: str) -> None:
    build, reason = BAD[case]
    cert = build()
    with pytest.raises(CertificateProfileError) as caught:
        check_profile(cert)
    assert reason in caught.value.reason, caught.value.reason
    assert "serial 3039" in str(caught.value)  # the message names the certificate


def test_device_in_prepayment_cell_is_rejected(cas: dict[CaRole, CertificateAuthority]) -> None:
    cert = issue_device_certificate(
        cas[CaRole.DEVICE], eui=DEVICE, usage=KA, public_key=new_key().public_key(), not_before=AT
    )
    with pytest.raises(CertificateProfileError, match="prepayment"):
        check_profile(cert, prepayment=True)


# -- our certificates next to DCC's ------------------------------------------------------------


def _reference(name: str) -> x509.Certificate:
    folder = require_reference(GBCS_KEYSTORE)
    return x509.load_pem_x509_certificate((folder / name).read_bytes())


def _ext_der(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> bytes:
    value: x509.ExtensionType = _ext(cert, cls).value
    return value.public_bytes()


def test_device_certificate_matches_rtds_encoding(cas: dict[CaRole, CertificateAuthority]) -> None:
    reference = _reference("00db1234567890a0-ka.pem")
    ours = issue_device_certificate(
        cas[CaRole.DEVICE], eui=DEVICE, usage=KA, public_key=new_key().public_key(), not_before=AT
    )
    assert ours.subject.public_bytes() == reference.subject.public_bytes() == b"\x30\x00"
    assert [(e.oid, e.critical) for e in ours.extensions] == [
        (e.oid, e.critical) for e in reference.extensions
    ]
    for cls in (x509.KeyUsage, x509.SubjectAlternativeName, x509.CertificatePolicies):
        assert _ext_der(ours, cls) == _ext_der(reference, cls), cls
    assert ours.not_valid_after_utc == reference.not_valid_after_utc
    assert check_profile(reference).subject_key_id == key_identifier(reference.public_key())  # type: ignore[arg-type]


def test_organisation_certificate_matches_dcc_encoding(
    cas: dict[CaRole, CertificateAuthority],
) -> None:
    reference = _reference("90b3d51f30010000-ds.pem")  # CN=GITTESTSUPPLIER, OU=02
    ours, _ = _org(cas, RemotePartyRole.SUPPLIER, DS, "GITTESTSUPPLIER")
    assert ours.subject.public_bytes() == reference.subject.public_bytes()
    assert [(e.oid, e.critical) for e in ours.extensions] == [
        (e.oid, e.critical) for e in reference.extensions
    ]
    for cls in (x509.KeyUsage, x509.CertificatePolicies):
        assert _ext_der(ours, cls) == _ext_der(reference, cls), cls
    # The issuing authority's name has the same shape: OU=07, CN=<name>, both PrintableString.
    assert [(a.oid, a._type) for a in ours.issuer] == [(a.oid, a._type) for a in reference.issuer]
