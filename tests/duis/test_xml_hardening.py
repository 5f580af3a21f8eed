"""The hardened parser refuses DTDs, entities, oversize and malformed input, with a reason."""

from __future__ import annotations

import pytest

from smetsnet.duis import parse_xml
from smetsnet.duis.errors import DuisError, DuisXmlError, DuisXmlForbidden, DuisXmlTooLarge
from smetsnet.errors import SmetsnetError

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r/>"""

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)


def test_plain_document_parses() -> None:
    root = parse_xml(b"<a><b>1</b></a>")
    assert root.tag == "a" and root[0].text == "1"


@pytest.mark.parametrize("data", [XXE, XXE_NETWORK, LAUGHS], ids=["xxe", "xxe-net", "laughs"])
def test_dtd_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(DuisXmlForbidden, match="not allowed"):
        parse_xml(data)


def test_dtd_in_utf16_is_refused_after_parsing() -> None:
    # The byte pre-check cannot see "<!DOCTYPE" in UTF-16; the parsed document's DTD is checked.
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r/>'
    with pytest.raises(DuisXmlForbidden, match="document type"):
        parse_xml(data.encode("utf-16"))


def test_undeclared_entity_is_malformed() -> None:
    with pytest.raises(DuisXmlError, match="not defined"):
        parse_xml(b"<r>&x;</r>")


def test_oversize_is_refused_before_parsing() -> None:
    with pytest.raises(DuisXmlTooLarge, match="exceeds the limit of 100"):
        parse_xml(b"<r>" + b"x" * 200 + b"</r>", max_bytes=100)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "Document is empty"),
        (b"<a>", "Premature end"),
        (b"<a></b>", "mismatch"),
        (b"not xml", "Start tag expected"),
        (b"<a>" * 300 + b"</a>" * 300, "depth"),
    ],
)
def test_malformed_gives_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DuisXmlError, match="not well-formed") as info:
        parse_xml(data)
    assert reason.lower() in str(info.value).lower()


def test_errors_are_smetsnet_errors_without_code() -> None:
    with pytest.raises(SmetsnetError) as info:
        parse_xml(b"<a")
    assert isinstance(info.value, DuisError) and info.value.response_code is None


def test_non_bytes_is_refused() -> None:
    with pytest.raises(DuisXmlError, match="bytes"):
        parse_xml("<a/>")  # type: ignore[arg-type]
