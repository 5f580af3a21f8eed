"""DUIS models: every template parses, writes back equivalent XML, and validates (XSD V5.4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from smetsnet.duis import (
    DCCAlertMessage,
    DeviceAlertMessage,
    GenericBody,
    MessageId,
    Node,
    PreCommand,
    Request,
    RequestHeader,
    Response,
    ResponseHeader,
    ResponseMessage,
    from_xml,
    to_xml,
)
from smetsnet.duis.bodies import (
    CreateSchedule,
    ReadActiveImportProfileData,
    SignedPreCommand,
    TopUpDevice,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.schema import DuisSchema
from smetsnet.duis.xml import DS_NS
from tests.support.vectors import REFERENCE

TEMPLATES = REFERENCE / "duis" / "templates"
SCHEMA = REFERENCE / "duis" / "schema"
USER = bytes.fromhex("90b3d51f30010000")
ESME = bytes.fromhex("00db1234567890a0")


def _templates() -> list[Path]:
    return sorted(TEMPLATES.glob("*.XML")) if TEMPLATES.is_dir() else []


needs_reference = pytest.mark.skipif(
    not TEMPLATES.is_dir(), reason=f"DUIS templates not found at {TEMPLATES} (../shared/reference)"
)


@pytest.fixture(scope="module")
def schema() -> DuisSchema:
    if not SCHEMA.is_dir():
        pytest.skip(f"DUIS schema not found at {SCHEMA} (../shared/reference)")
    return DuisSchema(SCHEMA)


def canonical(data: bytes) -> bytes:
    """C14N of the document without ds:Signature, comments and whitespace-only text."""
    root = etree.fromstring(data, etree.XMLParser(remove_comments=True))
    for sig in root.findall(f"{{{DS_NS}}}Signature"):
        root.remove(sig)
    for el in root.iter():
        if el.text is not None and not el.text.strip() and len(el):
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(root, method="c14n")


@needs_reference
def test_all_297_templates_are_there() -> None:
    assert len(_templates()) == 297


@needs_reference
@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.name)
def test_template_round_trip_and_xsd(path: Path, schema: DuisSchema) -> None:
    data = path.read_bytes()
    message = from_xml(data)
    assert isinstance(message, Request)
    written = to_xml(message)
    assert canonical(written) == canonical(data)
    schema.validate(written)
    assert from_xml(written) == message


@needs_reference
def test_header_values() -> None:
    message = from_xml((TEMPLATES / "CS01a_2.2_SUCCESS_REQUEST_DUIS.XML").read_bytes())
    assert isinstance(message, Request)
    h = message.header
    assert h.request_id == MessageId(originator=USER, target=ESME, counter=12884901888)
    assert (h.command_variant, h.service_reference, h.service_reference_variant) == (
        1,
        "2.2",
        "2.2",
    )
    assert message.body == TopUpDevice(utrn="73946144332040217315")
    assert message.schema_version == "5.4"


@needs_reference
def test_dedicated_bodies_carry_typed_values() -> None:
    profile = from_xml((TEMPLATES / "GCS17_4.8.1_SUCCESS_REQUEST_DUIS.XML").read_bytes())
    assert isinstance(profile, Request) and isinstance(profile.body, ReadActiveImportProfileData)
    assert profile.body.start.tzinfo is UTC and profile.body.start < profile.body.end
    schedule = from_xml((TEMPLATES / "ECS21a_5.1._DCC_SCHEDULED_REQUEST_DUIS.XML").read_bytes())
    assert isinstance(schedule, Request) and isinstance(schedule.body, CreateSchedule)
    assert schedule.body.frequency == "Daily" and schedule.body.device_id == ESME
    assert schedule.body.scheduled.name == "DSPRetrieveImportDailyReadLog"
    start = schedule.body.scheduled.child("StartDateOffset")
    assert start is not None and start.text == "-1"


@needs_reference
def test_generic_body_keeps_order_and_attributes() -> None:
    path = TEMPLATES / "ECS01a_1.1.1_IMMEDIATE_TOU_SUCCESS_REQUEST_DUIS.XML"
    message = from_xml(path.read_bytes())
    assert isinstance(message, Request) and isinstance(message.body, GenericBody)
    assert message.body.element == "UpdateImportTariffPrimaryElement"
    tariff = message.body.node.child("ElecTariffElements")
    assert tariff is not None and tariff.children[0] == Node(name="CurrencyUnits", text="GBP")


def _request(body: object, cv: int = 1) -> bytes:
    header = RequestHeader(
        request_id=MessageId(originator=USER, target=ESME, counter=1),
        command_variant=cv,
        service_reference="2.2",
        service_reference_variant="2.2",
    )
    return to_xml(Request(header=header, body=body))  # type: ignore[arg-type]


def test_signed_pre_command_round_trip(schema: DuisSchema) -> None:
    body = SignedPreCommand(gbcs_payload=b"\xdf\x09\x00", execution_datetime=None)
    data = _request(body, cv=5)
    schema.validate(data)
    message = from_xml(data)
    assert isinstance(message, Request) and message.body == body


def _response(body: object, code: str = "I0") -> Response:
    header = ResponseHeader(
        request_id=MessageId(originator=USER, target=ESME, counter=7),
        response_id=MessageId(originator=ESME, target=USER, counter=7),
        response_code=code,
        response_datetime=datetime(2025, 1, 2, 3, 4, 5, 60000, tzinfo=UTC),
    )
    return Response(header=header, body=body)  # type: ignore[arg-type]


RESPONSE_BODIES = [
    ResponseMessage(
        service_reference="4.1", service_reference_variant="4.1.1", content=b"\x01\x02"
    ),
    ResponseMessage(
        service_reference="7.1",
        service_reference_variant="7.1",
        content=PreCommand(gbcs_version="4.0", gbcs_payload=b"\xde\xad"),
    ),
    ResponseMessage(service_reference="5.1", service_reference_variant="5.1", content=42),
    ResponseMessage(service_reference="4.1", service_reference_variant="4.1.1"),
    DeviceAlertMessage(alert_code=0x8F66, gbcs_payload=b"\x00", throttled_count=3),
    DCCAlertMessage(
        code="N12",
        alert=Node(
            name="DCCAlert",
            children=(
                Node(
                    name="CommandFailure",
                    children=(
                        Node(
                            name="CommandRequestID",
                            text="90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:9",
                        ),
                        Node(name="DeviceID", text="00-DB-12-34-56-78-90-A0"),
                    ),
                ),
            ),
        ),
    ),
]


@pytest.mark.parametrize("body", RESPONSE_BODIES, ids=lambda b: type(b).__name__)
def test_responses_round_trip_and_validate(body: object, schema: DuisSchema) -> None:
    response = _response(body, "I99" if isinstance(body, ResponseMessage) else "I0")
    data = to_xml(response)
    schema.validate(data)
    assert from_xml(data) == response


def test_response_datetime_text() -> None:
    data = to_xml(_response(RESPONSE_BODIES[0]))
    assert b"<sr:ResponseDateTime>2025-01-02T03:04:05.06Z</sr:ResponseDateTime>" in data


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("nope", "not <EUI>:<EUI>:<counter>"),
        ("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551616", "2**64"),
        ("90-B3-D5-1F-30-01-00:00-DB-12-34-56-78-90-A0:1", "not <EUI>"),
    ],
)
def test_bad_request_id(text: str, reason: str) -> None:
    with pytest.raises(DuisSchemaError, match=re.escape(reason)):
        MessageId.parse(text)


@pytest.mark.parametrize(
    ("replace", "by", "reason"),
    [
        (b"<sr:CommandVariant>1<", b"<sr:CommandVariant>9<", "outside 1..8"),
        (b"<sr:UTRN>73946144332040217315<", b"<sr:UTRN>12<", "not 20 digits"),
        (b"<sr:ServiceReference>2.2</sr:ServiceReference>", b"", "ServiceReference expected"),
        (b"sr:Request", b"sr:Requestx", "neither"),
    ],
)
def test_shape_errors_name_the_field(replace: bytes, by: bytes, reason: str) -> None:
    data = _request(TopUpDevice(utrn="73946144332040217315")).replace(replace, by)
    with pytest.raises(DuisSchemaError, match=reason):
        from_xml(data)


def test_schema_reports_invalid_documents(schema: DuisSchema) -> None:
    data = _request(TopUpDevice(utrn="73946144332040217315")).replace(b"2.2<", b"99.9<")
    assert schema.errors(data)
    with pytest.raises(DuisSchemaError, match=r"not valid against DUIS V5\.4"):
        schema.validate(data)


# --- the fast tree walk and the prolog pre-check ------------------------------------------------
_TREE = (
    b'<?xml version="1.0"?>\n<!-- a comment before the root -->\n'
    b'<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"'
    b' schemaVersion="5.4"><sr:Header>'
    b"<sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:5</sr:RequestID>"
    b"<!-- c --><sr:CommandVariant>1</sr:CommandVariant>"
    b"<sr:ServiceReference>6.15</sr:ServiceReference>"
    b"<sr:ServiceReferenceVariant>6.15.1</sr:ServiceReferenceVariant></sr:Header>"
    b'<sr:Body><sr:UpdateSecurityCredentialsKRP><!-- c --><sr:A x="1"><sr:B>2</sr:B>'
    b"<!-- c --><sr:C><sr:D/></sr:C><sr:E><!-- only a comment --></sr:E></sr:A>"
    b'<other xmlns="urn:x">t</other></sr:UpdateSecurityCredentialsKRP></sr:Body></sr:Request>'
)


def test_generic_tree_skips_comments_in_exact_and_compact_trees() -> None:
    from smetsnet.duis import from_element
    from smetsnet.duis.xml import parse_xml

    expected = Node(
        name="UpdateSecurityCredentialsKRP",
        children=(
            Node(
                name="A",
                attributes=(("x", "1"),),
                children=(
                    Node(name="B", text="2"),
                    Node(name="C", children=(Node(name="D"),)),
                    Node(name="E"),
                ),
            ),
            Node(name="{urn:x}other", text="t"),
        ),
    )
    for root in (parse_xml(_TREE), parse_xml(_TREE, compact=True)):
        message = from_element(root)
        assert isinstance(message, Request) and isinstance(message.body, GenericBody)
        assert message.body.node == expected
        assert message.header.request_id.counter == 5


def test_generic_tree_limits_depth_and_mixed_text() -> None:
    from smetsnet.duis.bodies import MAX_DEPTH

    def body(inner: bytes) -> bytes:
        return _TREE.split(b"<sr:Body>")[0] + b"<sr:Body>" + inner + b"</sr:Body></sr:Request>"

    deep = b"<sr:X>" * (MAX_DEPTH + 2) + b"</sr:X>" * (MAX_DEPTH + 2)
    with pytest.raises(DuisSchemaError, match="nested deeper"):
        from_xml(body(deep))
    ok = b"<sr:X>" * MAX_DEPTH + b"</sr:X>" * MAX_DEPTH
    assert isinstance(from_xml(body(ok)), Request)
    with pytest.raises(DuisSchemaError, match="text mixed"):
        from_xml(body(b"<sr:X>text<sr:Y/></sr:X>"))


@pytest.mark.parametrize(
    "prolog",
    [b"", b"\xef\xbb\xbf", b'<?xml version="1.0"?>', b"<!-- <r/> -->\n", b"<?pi x?> \n"],
)
def test_doctype_after_any_prolog_is_refused(prolog: bytes) -> None:
    from smetsnet.duis.errors import DuisXmlForbidden

    with pytest.raises(DuisXmlForbidden, match="DOCTYPE"):
        from_xml(prolog + b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')
