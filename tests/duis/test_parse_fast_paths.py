"""The parser's shortcuts for the usual shapes (envelope, header, one body element, CommandVariant,
EUI pattern) must accept and refuse exactly what the general paths do, with the same reasons."""

from __future__ import annotations

import random
import re

import pytest

from smetsnet.duis import GenericBody, Request, from_element, from_xml, parse_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import _EUI_RE, _ID_RE

_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"'
    b' xmlns:ds="http://www.w3.org/2000/09/xmldsig#" schemaVersion="5.4">'
)
_FIELDS = {
    "id": b"<sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:7</sr:RequestID>",
    "first": b"<sr:FirstInSequence>true</sr:FirstInSequence>",
    "cv": b"<sr:CommandVariant>1</sr:CommandVariant>",
    "ref": b"<sr:ServiceReference>4.1</sr:ServiceReference>",
    "srv": b"<sr:ServiceReferenceVariant>4.1.2</sr:ServiceReferenceVariant>",
}
_HEADER = (
    b"<sr:Header>" + b"".join(_FIELDS[k] for k in ("id", "cv", "ref", "srv")) + b"</sr:Header>"
)
_BODY = b"<sr:Body><sr:ReadX><sr:A>1</sr:A></sr:ReadX></sr:Body>"
_SIGNATURE = b"<ds:Signature><ds:SignedInfo/></ds:Signature>"


def _doc(*parts: bytes) -> bytes:
    return _OPEN + b"".join(parts) + b"</sr:Request>"


def _both(data: bytes) -> list[object]:
    """The outcome (model or error reason) from the compact and from the exact tree."""
    out: list[object] = []
    for root in (parse_xml(data, compact=True), parse_xml(data)):
        try:
            out.append(from_element(root))
        except DuisSchemaError as exc:
            out.append(exc.reason)
    return out


def test_usual_envelope_with_and_without_signature() -> None:
    plain = from_xml(_doc(_HEADER, _BODY))
    signed = from_xml(_doc(_HEADER, _BODY, _SIGNATURE))
    assert isinstance(plain, Request) and isinstance(plain.body, GenericBody)
    assert plain == signed
    assert plain.header.command_variant == 1 and plain.header.request_id.counter == 7


def test_comments_anywhere_give_the_same_model_as_without() -> None:
    expected = from_xml(_doc(_HEADER, _BODY, _SIGNATURE))
    c = b"<!-- c -->"
    header = _HEADER.replace(b"<sr:CommandVariant>", c + b"<sr:CommandVariant>")
    body = _BODY.replace(b"<sr:ReadX>", c + b"<sr:ReadX>" + c)
    data = _doc(c, header, c, body, c, _SIGNATURE, c)
    assert _both(data) == [expected, expected]


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ((_BODY, _HEADER), "expected Header, Body[, Signature]: Body, Header"),
        ((_HEADER, _BODY, _SIGNATURE, _BODY), "expected Header, Body[, Signature]"),
        ((_HEADER, _SIGNATURE, _BODY), "expected Header, Body[, Signature]"),
        ((_HEADER,), "expected Header, Body[, Signature]: Header"),
        ((b"text", _HEADER, _BODY), "Request: text mixed with elements"),
        ((_HEADER, _BODY.replace(b"<sr:Body>", b"<sr:Body>t")), "Body: text mixed"),
        ((_HEADER, b"<sr:Body/>"), "exactly one element expected, found 0"),
        ((_HEADER, _BODY.replace(b"</sr:Body>", b"<sr:B/></sr:Body>")), "found 2"),
    ],
)
def test_envelope_and_body_shape_errors(parts: tuple[bytes, ...], reason: str) -> None:
    for outcome in _both(_doc(*parts)):
        assert isinstance(outcome, str) and reason in outcome


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (("cv", "id", "ref", "srv"), "Header: unexpected RequestID"),
        (("id", "ref", "cv", "srv"), "Header: unexpected CommandVariant"),
        (("id", "first", "ref", "srv"), "Header: CommandVariant expected"),
        (("id", "cv", "ref"), "Header: ServiceReferenceVariant expected"),
    ],
)
def test_header_order_and_presence(fields: tuple[str, ...], reason: str) -> None:
    header = b"<sr:Header>" + b"".join(_FIELDS[k] for k in fields) + b"</sr:Header>"
    for outcome in _both(_doc(header, _BODY)):
        assert outcome == reason


def test_header_text_and_optional_fields() -> None:
    mixed = _HEADER.replace(b"<sr:Header>", b"<sr:Header>x")
    assert _both(_doc(mixed, _BODY)) == ["Header: text mixed with elements"] * 2
    five = b"<sr:Header>" + b"".join(_FIELDS.values()) + b"</sr:Header>"
    message = from_xml(_doc(five, _BODY))
    assert isinstance(message, Request) and message.header.first_in_sequence is True


@pytest.mark.parametrize(("text", "value"), [("8", 8), (" 3 ", 3), ("03", 3), ("+2", 2)])
def test_command_variant_lexical_forms(text: str, value: int) -> None:
    data = _doc(_HEADER.replace(b">1<", f">{text}<".encode()), _BODY)
    message = from_xml(data)
    assert isinstance(message, Request) and message.header.command_variant == value


@pytest.mark.parametrize("text", ["0", "9", "x", ""])
def test_command_variant_out_of_range_or_not_a_number(text: str) -> None:
    with pytest.raises(DuisSchemaError, match="CommandVariant"):
        from_xml(_doc(_HEADER.replace(b">1<", f">{text}<".encode()), _BODY))


def test_unrolled_eui_patterns_match_the_readable_ones() -> None:
    eui = r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}"
    readable_eui = re.compile(eui + r"\Z")
    readable_id = re.compile(rf"({eui}):({eui}):(0|[1-9][0-9]{{0,19}})\Z")
    rng = random.Random(7)
    alphabet = "0123456789abcdefABCDEFgG-: \n"
    base = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1234"
    matched = 0
    for _ in range(20_000):
        chars = list(base)
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(chars))
            op = rng.randrange(3)
            if op == 0:
                chars[at] = rng.choice(alphabet)
            elif op == 1:
                chars.insert(at, rng.choice(alphabet))
            else:
                del chars[at]
        text = "".join(chars)
        m, r = _ID_RE.match(text), readable_id.match(text)
        assert (m and m.groups()) == (r and r.groups()), text
        assert bool(_EUI_RE.match(text[:23])) == bool(readable_eui.match(text[:23])), text
        matched += m is not None
    assert 0 < matched < 20_000
