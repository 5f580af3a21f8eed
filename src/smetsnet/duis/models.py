"""DUIS envelopes: ``sr:Request`` and ``sr:Response``, from and to XML (sans-I/O).

``from_xml`` parses with the hardened parser and builds the typed model; the ``ds:Signature`` is
not part of the model (``smetsnet.duis.xmldsig`` checks it on the parsed tree). ``to_xml`` writes
the unsigned document with the same namespace prefixes as DCC's templates (sr, ds, xsi), ready to
be signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from smetsnet.duis.bodies import (
    SR,
    RequestBody,
    _children,
    _Cursor,
    _put,
    elements,
    local,
    read_body,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import (
    MessageId,
    RequestHeader,
    ResponseHeader,
    format_datetime,
    parse_datetime,
    parse_int,
    request_header,
)
from smetsnet.duis.responses import ResponseBody, read_response_body
from smetsnet.duis.xml import DEFAULT_MAX_BYTES, DS_NS, SR_NS, XSI_NS, parse_xml

SCHEMA_VERSION = "5.4"
_NSMAP = {"ds": DS_NS, "sr": SR_NS, "xsi": XSI_NS}
_SIGNATURE = "{" + DS_NS + "}Signature"
_REQUEST, _RESPONSE = SR + "Request", SR + "Response"
_BOOL = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A DUIS service request (unsigned view)."""

    header: RequestHeader
    body: RequestBody
    schema_version: str = SCHEMA_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """A DUIS response or alert (unsigned view)."""

    header: ResponseHeader
    body: ResponseBody
    schema_version: str = SCHEMA_VERSION


_new_object = object.__new__
_set_version, _set_header, _set_body = (
    Request.__dict__[name].__set__ for name in ("schema_version", "header", "body")
)


def from_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Request | Response:
    """Parse untrusted bytes into a :class:`Request` or :class:`Response`."""
    root = parse_xml(data, max_bytes=max_bytes, compact=True)
    if root.tag == _REQUEST:  # from_element's first case, one call less
        return _read_request(root)
    return from_element(root)


def from_element(root: etree._Element) -> Request | Response:
    tag = root.tag
    if tag == _REQUEST:
        return _read_request(root)
    if tag == _RESPONSE:
        return _read_response(root)
    raise DuisSchemaError(f"root element {tag!r} is neither sr:Request nor sr:Response")


_HEADER, _BODY = SR + "Header", SR + "Body"


def _envelope(root: etree._Element) -> tuple[str, etree._Element, etree._Element]:
    version = root.get("schemaVersion")
    if version is None:
        raise DuisSchemaError(f"{local(root.tag)}: schemaVersion attribute missing")
    # Usual case first: exactly Header, Body[, Signature] with no comment among them (list()
    # makes the three proxies in one call); anything else takes the general path below.
    kids = list(root)
    n = len(kids)
    if n == 2 or (n == 3 and kids[2].tag == _SIGNATURE):
        head, body = kids[0], kids[1]
        if head.tag == _HEADER and body.tag == _BODY:
            text = root.text
            if text and not text.isspace():
                raise DuisSchemaError(f"{local(root.tag)}: text mixed with elements")
            return version, head, body
    kids, tags = _children(root)
    if len(tags) == 3 and tags[2] == _SIGNATURE:
        del kids[2], tags[2]
    if len(tags) != 2 or tags[0] != _HEADER or tags[1] != _BODY:
        found = ", ".join(local(t) for t in tags)
        raise DuisSchemaError(f"{local(root.tag)}: expected Header, Body[, Signature]: {found}")
    return version, kids[0], kids[1]


def _single_child(body: etree._Element) -> etree._Element:
    """The one element under ``sr:Body`` (comments skipped), else :class:`DuisSchemaError`."""
    kids = list(body)
    if len(kids) != 1 or kids[0].tag.__class__ is not str:
        kids = elements(body)
        if len(kids) != 1:
            raise DuisSchemaError(f"Body: exactly one element expected, found {len(kids)}")
    else:
        text = body.text
        if text and not text.isspace():
            raise DuisSchemaError("Body: text mixed with elements")
    return kids[0]


_REQUEST_FIELDS = (
    "RequestID",
    "FirstInSequence",
    "PrecedingServiceRequestID",
    "CommandVariant",
    "ServiceReference",
    "ServiceReferenceVariant",
)
_REQUEST_ORDER = {SR + name: i for i, name in enumerate(_REQUEST_FIELDS)}
_USUAL_HEADER = tuple(SR + _REQUEST_FIELDS[i] for i in (0, 3, 4, 5))
#: CommandVariant as the templates write it; anything else goes through ``parse_int``.
_VARIANTS = {str(v): v for v in range(1, 9)}


def _request_header_texts(
    head: etree._Element,
) -> tuple[str, str | None, str | None, str, str, str]:
    """The header's leaf texts by position in ``_REQUEST_FIELDS`` (one pass, order checked)."""
    kids = list(head)
    if len(kids) == 4:  # the usual header: the four required fields, nothing else
        id_el, variant_el, reference_el, srv_el = kids
        tags = (id_el.tag, variant_el.tag, reference_el.tag, srv_el.tag)
        if tags == _USUAL_HEADER and not (head.text and not head.text.isspace()):
            return (
                id_el.text or "", None, None,
                variant_el.text or "", reference_el.text or "", srv_el.text or "",
            )  # fmt: skip
    texts: list[str | None] = [None] * len(_REQUEST_FIELDS)
    last = -1
    for child in kids:
        tag = child.tag
        if tag.__class__ is not str:
            continue  # a comment
        i = _REQUEST_ORDER.get(tag, -1)
        if i <= last:
            raise DuisSchemaError(f"Header: unexpected {local(tag)}")
        texts[i] = child.text or ""
        last = i
    if last >= 0 and head.text and not head.text.isspace():
        raise DuisSchemaError("Header: text mixed with elements")
    request_id, first, preceding, variant, reference, srv = texts
    if request_id is None or variant is None or reference is None or srv is None:
        missing = next(_REQUEST_FIELDS[i] for i in (0, 3, 4, 5) if texts[i] is None)
        raise DuisSchemaError(f"Header: {missing} expected")
    return request_id, first, preceding, variant, reference, srv


def _read_request(root: etree._Element) -> Request:
    version, head, body = _envelope(root)
    request_id, first, preceding, variant, reference, srv = _request_header_texts(head)
    if first is not None and first.strip() not in _BOOL:
        raise DuisSchemaError(f"FirstInSequence: {first!r} is not a boolean")
    header = request_header(
        MessageId.parse(request_id),
        _VARIANTS.get(variant) or parse_int(variant, "CommandVariant", 1, 8),
        reference,
        srv,
        None if first is None else _BOOL[first.strip()],
        None if preceding is None else MessageId.parse(preceding, "PrecedingServiceRequestID"),
    )
    # As Request(schema_version=..., header=..., body=...), without the frozen dataclass
    # __init__ (see header.request_header); with it and GenericBody's, ~3% of a parse.
    request: Request = _new_object(Request)
    _set_version(request, version)
    _set_header(request, header)
    _set_body(request, read_body(_single_child(body)))
    return request


def _read_response(root: etree._Element) -> Response:
    version, head, body = _envelope(root)
    c = _Cursor(head)
    request_id, response_id = c.text("RequestID"), c.text("ResponseID")
    header = ResponseHeader(
        request_id=None if request_id is None else MessageId.parse(request_id),
        response_id=None if response_id is None else MessageId.parse(response_id, "ResponseID"),
        response_code=c.need("ResponseCode"),
        response_datetime=parse_datetime(c.need("ResponseDateTime"), "ResponseDateTime"),
    )
    c.end()
    return Response(schema_version=version, header=header, body=read_response_body(body))


def to_element(message: Request | Response) -> etree._Element:
    """The unsigned document as an lxml tree (for the signer)."""
    is_request = isinstance(message, Request)
    root = etree.Element(SR + ("Request" if is_request else "Response"), nsmap=_NSMAP)
    root.set("schemaVersion", message.schema_version)
    head = etree.SubElement(root, SR + "Header")
    if isinstance(message, Request):
        h = message.header
        _put(head, "RequestID", str(h.request_id))
        if h.first_in_sequence is not None:
            _put(head, "FirstInSequence", "true" if h.first_in_sequence else "false")
        if h.preceding_request_id is not None:
            _put(head, "PrecedingServiceRequestID", str(h.preceding_request_id))
        _put(head, "CommandVariant", str(h.command_variant))
        _put(head, "ServiceReference", h.service_reference)
        _put(head, "ServiceReferenceVariant", h.service_reference_variant)
    else:
        r = message.header
        _put(head, "RequestID", None if r.request_id is None else str(r.request_id))
        _put(head, "ResponseID", None if r.response_id is None else str(r.response_id))
        _put(head, "ResponseCode", r.response_code)
        _put(head, "ResponseDateTime", format_datetime(r.response_datetime))
    message.body.write(etree.SubElement(root, SR + "Body"))
    return root


def to_xml(message: Request | Response) -> bytes:
    """The unsigned document as UTF-8 bytes with an XML declaration."""
    return etree.tostring(to_element(message), xml_declaration=True, encoding="UTF-8")
