"""XMLDSig interop with DCC's signing tool (issue 5 §1 and §5, signatures only).

(a) Every DUIS template signed by DCC's tool (``Sign --preserveCounter``) verifies with our
    :func:`verify` against the ``keystore.json`` certificates, names its originator's key, and
    covers exactly the template with whitespace-only text removed (what :func:`sign` signs).
(b) Templates signed by OUR :func:`sign` with the users' keys pass the tool's ``Validate``
    (XSD + signature), and so does a hub (DSP-signed) ``sr:Response``; a tampered one fails.

Skips only when node/npm/java are missing or the npm install fails. Signing results are cached
in ``.cache/duis-sign-wrap/`` (see ``signing_tool``), so only the first run pays the JVMs.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from smetsnet.duis.xml import parse_xml
from smetsnet.duis.xmldsig import (
    IssuerSerial,
    certificate_index,
    sign,
    strip_whitespace_text,
    verify,
)
from smetsnet.smki.bundle import CertificateBundle
from tests.duis import signing_tool as tool
from tests.support.vectors import RTDS, read_hex

DSP = bytes.fromhex("90B3D51F30000002")
SUPPLIER = bytes.fromhex("90B3D51F30010000")
NETWORK_OPERATOR = bytes.fromhex("90B3D51F30020000")
SR_NS = "http://www.dccinterface.co.uk/ServiceUserGateway"


@pytest.fixture(scope="module")
def jar() -> Path:
    try:
        return tool.jar()
    except tool.Unavailable as why:
        pytest.skip(f"DCC signing tool unavailable: {why}")


@pytest.fixture(scope="module")
def bundle() -> CertificateBundle:
    return tool.reference_bundle()


@pytest.fixture(scope="module")
def index(bundle: CertificateBundle) -> dict[IssuerSerial, x509.Certificate]:
    return certificate_index(e.certificate for e in bundle if e.certificate is not None)


@pytest.fixture(scope="module")
def tool_signed(jar: Path) -> dict[str, tuple[bytes, tool.ToolResult]]:
    """Every template signed by the tool once (cached across runs): name → (template, result)."""
    paths = tool.templates()
    sources = [p.read_bytes() for p in paths]
    results = tool.sign_all(sources)
    return {p.name: (src, res) for p, src, res in zip(paths, sources, results, strict=True)}


def _canonical(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), method="c14n", with_comments=False)


def test_the_tool_signs_all_but_the_load_controller_templates(
    tool_signed: dict[str, tuple[bytes, tool.ToolResult]],
) -> None:
    assert len(tool_signed) == 297
    refused = {n: r.returncode for n, (src, r) in tool_signed.items() if r.returncode != 0}
    # Load-controller requests (originator 90-B3-D5-1F-30-01-00-08) cannot be signed by design:
    # the tool holds no key for that user and exits 3 (missing key material).
    assert set(refused.values()) == {tool.EXIT_NO_KEY}
    assert len(refused) == 2
    for name in refused:
        assert tool.originator(tool_signed[name][0]) == tool.LOAD_CONTROLLER, name


def test_every_tool_signed_template_verifies(
    tool_signed: dict[str, tuple[bytes, tool.ToolResult]],
    bundle: CertificateBundle,
    index: dict[IssuerSerial, x509.Certificate],
) -> None:
    verified = 0
    for name, (source, result) in tool_signed.items():
        if result.returncode != 0:
            continue
        checked = verify(result.stdout, index)
        entry = next(e for e in bundle if e.certificate is checked.certificate)
        # The signer is the originator (the ACB-originated three: the DSP key, same EUI).
        assert entry.eui == tool.originator(source), name
        # What the tool signed is the template minus its placeholder signature and minus
        # whitespace-only text: exactly what our sign() signs.
        template = parse_xml(source)
        signature = template.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
        assert signature is not None
        template.remove(signature)
        strip_whitespace_text(template)
        assert _canonical(checked.root) == _canonical(template), name
        verified += 1
    assert verified == 295


def _sample(paths: list[Path]) -> list[Path]:
    """A spread of ≥ 20 templates: every 16th, plus the first two of each other originator
    (network operator, ACB/DSP, second supplier: its GBCS signing key). Each Validate is a JVM."""
    chosen = {p for i, p in enumerate(paths) if i % 16 == 0}
    by_originator: dict[bytes, list[Path]] = {}
    for path in paths:
        by_originator.setdefault(tool.originator(path.read_bytes()), []).append(path)
    for who, some in by_originator.items():
        if who != SUPPLIER:
            chosen.update(some[:2])
    return sorted(p for p in chosen if tool.originator(p.read_bytes()) != tool.LOAD_CONTROLLER)


def _as_other_user(xml: bytes) -> bytes:
    """A network-operator template re-addressed from the Other User (no template is theirs)."""
    return xml.replace(b"90-B3-D5-1F-30-02-00-00:", b"00-DB-12-34-56-78-00-04:", 1)


def _hub_response() -> bytes:
    """A minimal valid async response: I0 with the GBCS payload of an RTDS ECS22b response."""
    payload = b"AAAA"
    folder = RTDS / "ECS22b_4.8.1"
    found = sorted(folder.glob("*RESPONSE*.HEX")) if folder.is_dir() else []
    if found:
        payload = base64.b64encode(read_hex(found[0]))
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<sr:Response xmlns:sr="' + SR_NS.encode() + b'" schemaVersion="5.4">\n'
        b"  <sr:Header>\n"
        b"    <sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1002</sr:RequestID>\n"
        b"    <sr:ResponseID>00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-00:1002</sr:ResponseID>\n"
        b"    <sr:ResponseCode>I0</sr:ResponseCode>\n"
        b"    <sr:ResponseDateTime>2024-06-01T12:00:00.000Z</sr:ResponseDateTime>\n"
        b"  </sr:Header>\n"
        b"  <sr:Body>\n"
        b"    <sr:ResponseMessage>\n"
        b"      <sr:ServiceReference>4.8</sr:ServiceReference>\n"
        b"      <sr:ServiceReferenceVariant>4.8.1</sr:ServiceReferenceVariant>\n"
        b"      <sr:GBCSPayload>" + payload + b"</sr:GBCSPayload>\n"
        b"    </sr:ResponseMessage>\n"
        b"  </sr:Body>\n"
        b"</sr:Response>\n"
    )


def test_our_signatures_pass_the_tools_validate(
    jar: Path, bundle: CertificateBundle, index: dict[IssuerSerial, x509.Certificate]
) -> None:
    paths = _sample(tool.templates())
    sources = [p.read_bytes() for p in paths]
    names = [p.name for p in paths]
    operator = next(s for s in sources if tool.originator(s) == NETWORK_OPERATOR)
    sources.append(_as_other_user(operator))
    names.append("other user (re-addressed)")
    signed = []
    for source in sources:
        entry = tool.xml_signer(bundle, tool.originator(source))
        assert entry.private_key is not None and entry.certificate is not None
        signed.append(sign(source, entry.private_key, entry.certificate))
    dsp = tool.xml_signer(bundle, DSP)
    assert dsp.private_key is not None and dsp.certificate is not None
    response = sign(_hub_response(), dsp.private_key, dsp.certificate)
    assert verify(response, index).signer == IssuerSerial.of(dsp.certificate)
    signed.append(response)
    names.append("hub response (DSP key)")
    assert len(signed) >= 22
    results = tool.validate_all(signed)
    failed = {
        n: (r.returncode, r.stderr[-300:])
        for n, r in zip(names, results, strict=True)
        if r.returncode
    }
    assert not failed
    # Validate prints the document without its signature: the content we signed.
    for text, result in zip(signed, results, strict=True):
        unsigned = verify(text, index).root
        assert _canonical(parse_xml(result.stdout)) == _canonical(unsigned)


def test_the_tool_rejects_our_signature_over_changed_content(
    bundle: CertificateBundle, jar: Path
) -> None:
    source = tool.templates()[0].read_bytes()
    entry = tool.xml_signer(bundle, tool.originator(source))
    assert entry.private_key is not None and entry.certificate is not None
    signed = sign(source, entry.private_key, entry.certificate)
    # A changed RequestID counter is still XSD-valid: only the signature can catch it.
    end = signed.index(b"</sr:RequestID>")
    digit = b"1" if signed[end - 1 : end] != b"1" else b"2"
    tampered = signed[: end - 1] + digit + signed[end:]
    result = tool.validate(tampered)
    assert result.returncode == tool.EXIT_INVALID, result.stderr
