"""XMLDSig as DUIS uses it: sign/verify round trip, every tampering refused with a reason,
hostile XML refused. Interop with DCC's own tool is in ``test_signing_tool_interop``."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from smetsnet.duis import xmldsig
from smetsnet.duis.errors import DuisError, DuisXmlError, DuisXmlForbidden, DuisXmlTooLarge
from smetsnet.duis.xml import parse_xml
from smetsnet.duis.xmldsig import (
    DS_NS,
    DuisSignatureError,
    IssuerSerial,
    certificate_index,
    normalise_name,
    sign,
    verify,
)
from tests.duis import signing_tool as tool

REQUEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<sr:Request xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4">
  <sr:Header>
    <sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1002</sr:RequestID>
    <sr:CommandVariant>1</sr:CommandVariant>
    <sr:ServiceReference>4.8</sr:ServiceReference>
    <sr:ServiceReferenceVariant>4.8.1</sr:ServiceReferenceVariant>
  </sr:Header>
  <sr:Body>
    <!-- comments are not signed (C14N without comments) -->
    <sr:ReadActiveImportProfileData>
      <sr:ReadLogPeriod>
        <sr:StartDateTime>2014-12-31T00:00:00.00Z</sr:StartDateTime>
        <sr:EndDateTime>2015-01-01T00:00:00.00Z</sr:EndDateTime>
      </sr:ReadLogPeriod>
    </sr:ReadActiveImportProfileData>
  </sr:Body>
</sr:Request>
"""


def _certificate(serial: int) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "07"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Z1"),
        ]
    )
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "87")])
    cert = (
        x509.CertificateBuilder()
        .issuer_name(issuer)
        .subject_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2120, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    return key, cert


USER_KEY, USER_CERT = _certificate(27572613927499351639968579586655397031)
OTHER_KEY, OTHER_CERT = _certificate(40938316298935008147424226388667426413)
INDEX = certificate_index([USER_CERT])
SIGNED = sign(REQUEST, USER_KEY, USER_CERT)


def _reason(xml: bytes, index: dict[IssuerSerial, x509.Certificate] = INDEX) -> str:
    with pytest.raises(DuisSignatureError) as caught:
        verify(xml, index)
    return caught.value.reason


def _sub(pattern: bytes, replacement: bytes, xml: bytes = SIGNED) -> bytes:
    changed, count = re.subn(pattern, replacement, xml, count=1)
    assert count == 1, pattern
    return changed


# --- round trip --------------------------------------------------------------------------------
def test_sign_then_verify() -> None:
    checked = verify(SIGNED, INDEX)
    assert checked.signer == IssuerSerial(issuer="CN=Z1,OU=07", serial=USER_CERT.serial_number)
    assert checked.certificate is USER_CERT
    assert checked.root.find(f"{{{DS_NS}}}Signature") is None  # the signed content only
    request_id = checked.root.findtext("{*}Header/{*}RequestID")
    assert request_id == "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1002"
    assert len(checked.digest) == 32


def test_signed_form_follows_the_dcc_tool() -> None:
    root = parse_xml(SIGNED)
    # Whitespace-only text removed, as the tool does before signing; the comment stays.
    assert all(not (n.text or "x").isspace() and not (n.tail or "x").isspace() for n in root.iter())
    assert any(isinstance(n, etree._Comment) for n in root.iter())
    signature = root[-1]
    assert signature.tag == f"{{{DS_NS}}}Signature" and signature.prefix == "ds"
    ds = {"ds": DS_NS}
    assert signature.xpath("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", namespaces=ds) == [
        "http://www.w3.org/2001/10/xml-exc-c14n#"
    ]
    assert signature.xpath("ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=ds) == [
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    ]
    assert signature.xpath(
        "ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", namespaces=ds
    ) == ["http://www.w3.org/2000/09/xmldsig#enveloped-signature"]
    value = base64.b64decode(signature.findtext("ds:SignatureValue", namespaces=ds) or "")
    assert len(value) == 64  # raw r ‖ s, not DER
    assert signature.findtext(".//ds:X509SerialNumber", namespaces=ds) == str(
        USER_CERT.serial_number
    )


def test_signing_again_replaces_the_signature() -> None:
    twice = sign(SIGNED, OTHER_KEY, OTHER_CERT)
    assert twice.count(b"<ds:Signature>") == 1
    assert verify(twice, certificate_index([OTHER_CERT])).certificate is OTHER_CERT


def test_signing_a_request_without_the_ds_prefix_declares_it() -> None:
    plain = b'<r xmlns="urn:x"><a>1</a></r>'
    signed = sign(plain, USER_KEY, USER_CERT)
    assert b'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"' in signed
    verify(signed, INDEX)


def test_the_tools_formatting_is_accepted() -> None:
    """DCC's tool wraps the base64 with CR LF (``&#13;``) and writes ``CN=Z1,OU=07``; the
    templates' placeholder writes ``CN=U1, OU=07``: neither is signed content."""
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", SIGNED)
    assert value is not None
    wrapped = value.group(1)[:76] + b"&#13;\n" + value.group(1)[76:]
    xml = SIGNED.replace(value.group(1), wrapped)
    xml = xml.replace(b">CN=Z1,OU=07<", b">cn=Z1, OU=07<")
    assert verify(xml, INDEX).signer.issuer == "CN=Z1,OU=07"


def test_text_around_the_signature_is_kept_by_the_enveloped_transform(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A signer that keeps indentation; then the text before the signature moves after it.
    monkeypatch.setattr(xmldsig, "strip_whitespace_text", lambda root: None)
    signed = sign(b"<r>\n  <a>1</a>\n</r>", USER_KEY, USER_CERT)
    moved = signed.replace(b"</a>\n<ds:Signature", b"</a><ds:Signature").replace(
        b"</ds:Signature></r>", b"</ds:Signature>\n</r>"
    )
    assert moved != signed
    assert etree.tostring(verify(moved, INDEX).root) == b"<r>\n  <a>1</a>\n</r>"


def test_names_are_compared_in_normal_form() -> None:
    assert normalise_name("cn=U1 ,  OU = 07") == "CN=U1,OU=07"
    assert normalise_name(r"CN=a\,b,OU=07") == r"CN=a\,b,OU=07"
    with pytest.raises(DuisSignatureError, match="not an RFC 4514 name"):
        normalise_name("Z1")


# --- tampering ---------------------------------------------------------------------------------
def test_a_changed_value_is_refused() -> None:
    assert "digest mismatch" in _reason(_sub(rb"<sr:CommandVariant>1<", b"<sr:CommandVariant>2<"))
    # Changing only whitespace-only text changes the signed content too.
    assert "digest mismatch" in _reason(_sub(rb"</sr:Header>", b"</sr:Header>\n"))


def test_a_changed_digest_is_refused() -> None:
    other = base64.b64encode(bytes(32))
    assert "digest mismatch" in _reason(
        _sub(rb"<ds:DigestValue>[^<]+<", b"<ds:DigestValue>" + other + b"<")
    )
    assert "32" in _reason(_sub(rb"<ds:DigestValue>[^<]+<", b"<ds:DigestValue>AAAA<"))


def test_a_changed_signature_is_refused() -> None:
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", SIGNED)
    assert value is not None
    raw = bytearray(base64.b64decode(value.group(1)))
    raw[40] ^= 1
    flipped = SIGNED.replace(value.group(1), base64.b64encode(bytes(raw)))
    assert "does not verify" in _reason(flipped)
    assert "not base64" in _reason(SIGNED.replace(value.group(1), b"@@@@"))
    assert "64" in _reason(SIGNED.replace(value.group(1), base64.b64encode(bytes(raw[:63]))))


def test_a_changed_signed_info_is_refused() -> None:
    # SignedInfo is what the signature covers: any change to it breaks the signature...
    assert "does not verify" in _reason(
        _sub(rb"<ds:Reference URI=\"\">", b'<ds:Reference URI="" Id="x">')
    )
    # ...and algorithms other than DUIS's are refused before that.
    assert "SignatureMethod" in _reason(_sub(rb"xmldsig-more#ecdsa-sha256", b"xmldsig#rsa-sha1"))
    assert "canonicalisation" in _reason(_sub(rb"xml-exc-c14n#", b"xml-exc-c14n#WithComments"))
    assert "DigestMethod" in _reason(_sub(rb"xmlenc#sha256", b"xmldsig#sha1"))
    assert "URI" in _reason(_sub(rb'URI=""', b'URI="#body"'))
    assert "enveloped" in _reason(_sub(rb"xmldsig#enveloped-signature", b"xmldsig#base64"))
    xslt = (
        b'<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/></ds:Transforms>'
    )
    assert "transforms" in _reason(_sub(rb"</ds:Transforms>", xslt))


def test_a_removed_signature_is_refused() -> None:
    unsigned = re.sub(rb"<ds:Signature.*</ds:Signature>", b"", SIGNED, flags=re.S)
    assert "not signed" in _reason(unsigned)
    assert "not signed" in _reason(REQUEST)
    signature = re.search(rb"<ds:Signature.*</ds:Signature>", SIGNED, re.S)
    assert signature is not None
    doubled = SIGNED.replace(b"</sr:Request>", signature.group(0) + b"</sr:Request>")
    assert "2 ds:Signature" in _reason(doubled)


def test_a_signature_by_another_key_is_refused() -> None:
    by_other = sign(REQUEST, OTHER_KEY, OTHER_CERT)
    # Its own KeyInfo names a certificate the verifier does not have...
    assert "unknown signer" in _reason(by_other)
    # ...and pointing KeyInfo at the user's certificate does not make the signature the user's.
    claimed = by_other.replace(
        str(OTHER_CERT.serial_number).encode(), str(USER_CERT.serial_number).encode()
    )
    assert "does not verify" in _reason(claimed)


def test_a_wrong_key_info_is_refused() -> None:
    serial = str(USER_CERT.serial_number).encode()
    assert "unknown signer" in _reason(SIGNED.replace(serial, b"1234567890"))
    assert "unknown signer" in _reason(_sub(rb">CN=Z1,OU=07<", b">CN=U1,OU=07<"))
    assert "decimal" in _reason(SIGNED.replace(serial, b"0x1F"))
    no_key_info = re.sub(rb"<ds:KeyInfo>.*</ds:KeyInfo>", b"", SIGNED, flags=re.S)
    assert "X509IssuerSerial" in _reason(no_key_info)


def test_signing_checks_the_key_pair() -> None:
    with pytest.raises(DuisSignatureError, match="does not belong"):
        sign(REQUEST, OTHER_KEY, USER_CERT)
    with pytest.raises(DuisSignatureError, match="P-256"):
        sign(REQUEST, ec.generate_private_key(ec.SECP384R1()), USER_CERT)


def _canonical_without_value(root: etree._Element) -> bytes:
    value = root.find(f".//{{{DS_NS}}}SignatureValue")
    assert value is not None
    value.text = ""  # ECDSA is randomised: two signatures differ only there
    return etree.tostring(root, method="c14n")


def test_the_signed_document_is_what_signing_in_place_gives() -> None:
    """``signed_document`` writes the Signature as text: it must be the signature
    ``sign_element`` builds as elements, the comment kept, in both namespace settings."""
    for xml in (REQUEST, b'<r xmlns="urn:x"><!-- c --><a>1 &amp; &lt;2&gt;</a><b/></r>'):
        in_place = parse_xml(xml)
        xmldsig.sign_element(in_place, USER_KEY, USER_CERT)
        written = xmldsig.signed_document(parse_xml(xml), USER_KEY, USER_CERT)
        assert written.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
        assert verify(written, INDEX).certificate is USER_CERT
        assert _canonical_without_value(parse_xml(written)) == _canonical_without_value(in_place)


def test_a_document_with_a_node_after_its_root_is_signed() -> None:
    signed = sign(b"<r><a>1</a></r>\n<!-- trailer -->", USER_KEY, USER_CERT)
    assert signed.rstrip().endswith(b"<!-- trailer -->")
    assert verify(signed, INDEX).certificate is USER_CERT


def test_an_issuer_name_that_needs_escaping_is_written_escaped() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "A&B <Z1>")])
    cert = (
        x509.CertificateBuilder()
        .issuer_name(issuer)
        .subject_name(issuer)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2120, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    signed = sign(REQUEST, key, cert)
    assert b"A&amp;B" in signed
    assert verify(signed, certificate_index([cert])).signer == IssuerSerial.of(cert)


# --- hostile input ------------------------------------------------------------------------------
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<r>&c;</r>"""


@pytest.mark.parametrize(
    "xml",
    [XXE, LAUGHS, XXE.decode().replace("1.0", '1.0" encoding="UTF-16').encode("utf-16")],
    ids=["xxe", "billion-laughs", "utf16-doctype"],
)
def test_dtds_and_entities_are_refused(xml: bytes) -> None:
    # The shared hardened parser refuses them before any signature work.
    with pytest.raises(DuisXmlForbidden):
        verify(xml, INDEX)
    with pytest.raises(DuisXmlForbidden):
        sign(xml, USER_KEY, USER_CERT)


def test_malformed_and_oversize_input_is_refused() -> None:
    for bad in (b"<r><a></r>", b""):
        with pytest.raises(DuisXmlError, match="XML"):
            verify(bad, INDEX)
    with pytest.raises(DuisXmlTooLarge):
        verify(SIGNED, INDEX, max_bytes=100)
    # A namespace that C14N cannot handle (a relative URI) is a reason, not a crash.
    relative = SIGNED.replace(b'xmlns:sr="http://', b'xmlns:sr="x', 1)
    assert "canonicalised" in _reason(relative)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_documents_give_a_reason_or_verify(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(SIGNED) - 1))
    byte = data.draw(st.integers(0, 255))
    mutated = SIGNED[:position] + bytes([byte]) + SIGNED[position + 1 :]
    try:
        verify(mutated, INDEX)
    except DuisError as error:  # DuisSignatureError, or DuisXmlError for broken XML
        assert error.reason
    else:  # only a change outside the signed content and the signature's checked parts
        assert verify(mutated, INDEX).certificate is USER_CERT


# --- every reference template ------------------------------------------------------------------
def test_every_template_signs_and_verifies_with_the_reference_keys() -> None:
    bundle = tool.reference_bundle()
    index = certificate_index(e.certificate for e in bundle if e.certificate is not None)
    for path in tool.templates():
        source = path.read_bytes()
        entry = tool.xml_signer(bundle, tool.originator(source))
        assert entry.private_key is not None and entry.certificate is not None
        checked = verify(sign(source, entry.private_key, entry.certificate), index)
        assert checked.certificate is entry.certificate, path.name
