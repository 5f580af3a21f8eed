"""The hub's responses are written straight in canonical form (``replies.canonical_response``,
signed by ``xmldsig.sign_canonical``); the signed bytes must be exactly what the tree path gives
(``to_element`` then ``xmldsig.signed_document``), for every kind of response body.

ECDSA is randomised, so both paths sign deterministically here (RFC 6979) and the whole
documents are compared byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from smetsnet.duis import (
    DCCAlertMessage,
    DeviceAlertMessage,
    GenericBody,
    MessageId,
    Node,
    PreCommand,
    Request,
    Response,
    ResponseHeader,
    ResponseMessage,
    from_xml,
    to_element,
    xmldsig,
)
from smetsnet.duis.responses import ResponseBody, canonical_body
from smetsnet.duis.xml import SR_NS, XSI_NS
from smetsnet.duis.xmldsig import DuisSignatureError
from smetsnet.hub.replies import (
    Replies,
    canonical_response,
    change_of_supplier,
    command_failure,
    power_outage_event,
)
from tests.duis import signing_tool as tool
from tests.duis.test_xmldsig import INDEX, USER_CERT, USER_KEY
from tests.support.vectors import REFERENCE, require_reference

TEMPLATES = REFERENCE / "duis" / "templates"
USER = bytes.fromhex("90B3D51F30010000")
DEVICE = bytes.fromhex("00DB1234567890A0")
REQUEST_ID = MessageId(originator=USER, target=DEVICE, counter=1002)
NOW = datetime(2026, 11, 29, 2, 0, 0, 120000, tzinfo=UTC)


def _deterministic(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    der = key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.fixture(autouse=True)
def deterministic_ecdsa(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmldsig, "_sign_raw", _deterministic)


def _tree_path(response: Response) -> bytes:
    return xmldsig.signed_document(to_element(response), USER_KEY, USER_CERT)


def _same_as_tree_path(response: Response) -> None:
    canonical = canonical_response(response)
    assert canonical is not None, response
    fast = xmldsig.sign_canonical(canonical, USER_KEY, USER_CERT, ds_declared=True)
    assert fast == _tree_path(response)
    assert Replies(USER_KEY, USER_CERT).signed(response) == fast
    assert xmldsig.verify(fast, INDEX).certificate is USER_CERT


def _response(body: ResponseBody, **header: object) -> Response:
    fields: dict[str, object] = {
        "request_id": REQUEST_ID,
        "response_code": "I0",
        "response_datetime": NOW,
    }
    fields.update(header)
    return Response(header=ResponseHeader(**fields), body=body)  # type: ignore[arg-type]


def _message(content: bytes | PreCommand | int | Node | None, srv: str = "4.1.1") -> Response:
    return _response(
        ResponseMessage(
            service_reference=".".join(srv.split(".")[:2]),
            service_reference_variant=srv,
            content=content,
        )
    )


def _responses() -> Iterator[Response]:
    yield _message(None)
    yield _message(b"\xde\x00\x01" * 40)
    yield _message(b"")
    yield _message(PreCommand(gbcs_version="3.0", gbcs_payload=b"\x01\x02"))
    yield _message(0)
    yield _message(10**12)
    yield _message(command_failure(REQUEST_ID, DEVICE))
    yield _response(ResponseMessage(service_reference="4.1", service_reference_variant="4.1.1"))
    yield _response(
        ResponseMessage(service_reference="", service_reference_variant="4.1.1"),
        request_id=None,
        response_id=MessageId(originator=DEVICE, target=USER, counter=7),
        response_code="E3 & <x>\r",
        response_datetime=datetime(
            2015, 1, 1, 0, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-2))
        ),
    )
    yield _response(_message(None).body, response_datetime=datetime(2015, 1, 1))  # no zone
    yield _response(DeviceAlertMessage(alert_code=0x8F66, gbcs_payload=b"\x09" * 33))
    yield _response(
        DeviceAlertMessage(
            alert_code=0x0001, gbcs_payload=b"", throttled_sequence_id=0, throttled_count=2**32 - 1
        )
    )
    yield _response(DeviceAlertMessage(alert_code=0xFFFF, gbcs_payload=b"x", throttled_count=3))
    yield _response(
        DCCAlertMessage(code="AD1", alert=power_outage_event(DEVICE, NOW, "1234567890123"))
    )
    yield _response(
        DCCAlertMessage(
            code="N42",
            alert=change_of_supplier(
                DEVICE, "ESME", [("ImportMPxN", "1"), ("ExportMPAN", "2 & <3>")]
            ),
            throttled_sequence_id=5,
        )
    )
    yield _response(DCCAlertMessage(code="N&<>", alert=Node(name="DCCAlert")))
    # A SMETS1 response is kept as a tree; attributes in no namespace and in xsi's.
    yield _response(
        Node(
            name="SMETS1ResponseMessage",
            attributes=(("z", 'a"b<c>&\t\n\r'), (f"{{{XSI_NS}}}type", "sr:X"), ("a", "1")),
            children=(
                Node(name="Leaf", text="  "),
                Node(name="Empty"),
                Node(name=f"{{{SR_NS}}}Clark", text="\u00e9\U0001f600 ]]> \r\n\t"),
                Node(name="Both", text="dropped", children=(Node(name="In", text="kept"),)),
            ),
        )
    )
    yield _response(Node(name="R", attributes=(("a", "1"), ("a", "2"))))
    yield Response(header=_message(None).header, body=_message(None).body, schema_version='5"&<')


@pytest.mark.parametrize("response", list(_responses()), ids=repr)
def test_written_in_canonical_form_as_the_tree_path(response: Response) -> None:
    _same_as_tree_path(response)


def test_every_template_body_as_a_response_is_written_as_the_tree_path() -> None:
    """The request templates' generic bodies: hundreds of real DUIS trees, as a ResponseMessage's
    content and as a SMETS1-style body."""
    require_reference(TEMPLATES)
    bodies = []
    for path in sorted(TEMPLATES.glob("*.XML")):
        request = from_xml(path.read_bytes())
        assert isinstance(request, Request)
        if isinstance(request.body, GenericBody):
            bodies.append(request.body.node)
    assert len(bodies) > 100
    for node in bodies:
        _same_as_tree_path(_message(node))
        _same_as_tree_path(_response(node))


_NCNAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9._-]{0,8}", fullmatch=True)
_ODD_NAMES = ("Caf\u00e9", "{urn:x}y", f"{{{SR_NS}}}Z", "a:b", "1x", "", f"{{{XSI_NS}}}type")
# Text C14N escapes or has to write as UTF-8, all of it allowed in XML.
_XML_TEXTS = st.text(st.sampled_from(" aZ09&<>\"'\r\n\t]\u00e9\u20ac\U0001f600"), max_size=12)
_ANY_TEXTS = st.text(st.characters(codec="utf-8"), max_size=12)


def _nodes(names: st.SearchStrategy[str], texts: st.SearchStrategy[str]) -> st.SearchStrategy[Node]:
    attributes = st.lists(st.tuples(names, texts), max_size=3).map(tuple)
    leaves = st.builds(Node, name=names, attributes=attributes, text=texts, children=st.just(()))
    return st.recursive(
        leaves,
        lambda kids: st.builds(
            Node,
            name=names,
            attributes=attributes,
            text=texts,
            children=st.lists(kids, min_size=1, max_size=4).map(tuple),
        ),
        max_leaves=12,
    )


@settings(max_examples=100, deadline=None)
@given(node=_nodes(_NCNAMES, _XML_TEXTS), code=_XML_TEXTS)
def test_any_tree_of_duis_names_is_written_as_the_tree_path(node: Node, code: str) -> None:
    _same_as_tree_path(_response(DCCAlertMessage(code=code, alert=node)))


@settings(max_examples=100, deadline=None)
@given(
    node=_nodes(_NCNAMES | st.sampled_from(_ODD_NAMES), _XML_TEXTS | _ANY_TEXTS),
    code=_ANY_TEXTS,
)
def test_any_tree_is_written_as_the_tree_path_or_left_to_it(node: Node, code: str) -> None:
    """Any names, attributes and text (control characters included): the canonical writer
    gives the tree path's bytes, or leaves the response to it (``None``), and then the hub's
    signer gives what the tree path gives, or the same error."""
    response = _response(DCCAlertMessage(code=code, alert=node))
    replies = Replies(USER_KEY, USER_CERT)
    try:
        expected: bytes | str = _tree_path(response)
    except (ValueError, IndexError) as exc:  # lxml refuses e.g. a control character
        expected = f"{type(exc).__name__}: {exc}"
    if canonical_response(response) is not None:
        _same_as_tree_path(response)
    elif isinstance(expected, str):
        with pytest.raises((ValueError, IndexError)) as caught:
            replies.signed(response)
        assert f"{caught.type.__name__}: {caught.value}" == expected
    else:
        assert replies.signed(response) == expected


def test_what_the_writer_does_not_cover_takes_the_tree_path() -> None:
    foreign = _message(Node(name="{urn:other}Thing", text="1"))
    foreign_attribute = _response(Node(name="R", attributes=(("{urn:other}a", "1"),)))
    not_ascii = _response(Node(name="Caf\u00e9", text="1"))
    for response in (foreign, foreign_attribute, not_ascii):
        assert canonical_body(response.body) is None
        assert Replies(USER_KEY, USER_CERT).signed(response) == _tree_path(response)
    control = _message(Node(name="X", text="a\x01b"))
    assert canonical_response(control) is None
    with pytest.raises(ValueError, match="XML compatible"):
        Replies(USER_KEY, USER_CERT).signed(control)
    assert canonical_response(_response(_message(None).body, response_code="I\x00")) is None


def test_sign_canonical_checks_what_it_can() -> None:
    with pytest.raises(DuisSignatureError, match="end tag"):
        xmldsig.sign_canonical(b"no markup", USER_KEY, USER_CERT, ds_declared=False)
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(DuisSignatureError, match="does not belong"):
        xmldsig.sign_canonical(b"<r></r>", other, USER_CERT, ds_declared=False)
    signed = xmldsig.sign_canonical(b"<r>1</r>", USER_KEY, USER_CERT, ds_declared=False)
    assert signed == xmldsig.sign(b"<r>1</r>", USER_KEY, USER_CERT)


def test_the_hubs_replies_pass_the_dcc_tools_validate() -> None:
    """Responses as the hub signs them (DSP key of the reference keystore), written by the
    canonical writer, pass the DCC tool's ``Validate`` (XSD and signature)."""
    try:
        tool.jar()
    except tool.Unavailable as why:
        pytest.skip(f"DCC signing tool unavailable: {why}")
    dsp = tool.xml_signer(tool.reference_bundle(), bytes.fromhex("90B3D51F30000002"))
    assert dsp.private_key is not None and dsp.certificate is not None
    replies = Replies(dsp.private_key, dsp.certificate)
    signed = [
        replies.answer(code="I99", now=NOW, request_id=REQUEST_ID, srv="4.1.1"),
        replies.answer(
            code="I0",
            now=NOW,
            request_id=None,
            response_id=MessageId(originator=DEVICE, target=USER, counter=1002),
            srv="4.1.1",
            content=bytes(range(256)),
        ),
        replies.device_alert(
            device=DEVICE, user=USER, counter=9, alert_code=0x8F66, wire=b"\x01\x02", now=NOW
        ),
        replies.dcc_alert(
            code="AD1", alert=power_outage_event(DEVICE, NOW, "1234567890123"), now=NOW
        ),
    ]
    results = tool.validate_all(signed)
    failed = [(i, r.returncode, r.stderr[-300:]) for i, r in enumerate(results) if r.returncode]
    assert not failed
