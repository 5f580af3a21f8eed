"""parse_xml's shortcut for documents that start with the usual UTF-8 declaration and the root.

For those it skips the prolog regex and the document-type checks (no DOCTYPE can stand there);
they must still parse to the same models, and everything else must still take the full checks.
"""

from __future__ import annotations

import random

import pytest

from smetsnet.duis import from_xml, parse_xml
from smetsnet.duis import xml as xml_module
from smetsnet.duis.errors import DuisError, DuisXmlError, DuisXmlForbidden
from smetsnet.duis.xml import PLAIN_DECLARATION, is_plain
from tests.support.vectors import REFERENCE, require_reference

TEMPLATES = REFERENCE / "duis" / "templates"
DECLARATION = PLAIN_DECLARATION[:-2]  # without the line break and the root's "<"


def _templates() -> list[bytes]:
    require_reference(TEMPLATES)
    return [p.read_bytes() for p in sorted(TEMPLATES.glob("*.XML"))]


def test_templates_are_plain_and_parse_as_with_the_full_checks() -> None:
    for data in _templates():
        assert is_plain(data)
        # An extra space in the declaration makes the same document take the full checks.
        longhand = data.replace(DECLARATION, DECLARATION[:-2] + b" ?>", 1)
        assert not is_plain(longhand)
        assert from_xml(data) == from_xml(longhand)


@pytest.mark.parametrize(
    "data",
    [
        PLAIN_DECLARATION + b"!DOCTYPE r [<!ENTITY x 'y'>]><r>&x;</r>",
        PLAIN_DECLARATION + b'!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
        DECLARATION + b"<!DOCTYPE r [<!ENTITY x 'y'>]><r>&x;</r>",
        DECLARATION + b"\n\n<!DOCTYPE r><r/>",
        DECLARATION + b"\n<!-- c --><!DOCTYPE r><r/>",
        DECLARATION + b"\n<?pi x?><!DOCTYPE r><r/>",
    ],
    ids=["entity", "system", "no-newline", "blank-lines", "comment-first", "pi-first"],
)
def test_a_doctype_after_the_declaration_is_still_refused(data: bytes) -> None:
    assert not is_plain(data)
    with pytest.raises(DuisXmlForbidden, match="not allowed"):
        parse_xml(data, compact=True)


def test_doctype_after_the_root_is_malformed_not_plain_accepted() -> None:
    data = PLAIN_DECLARATION + b"r/><!DOCTYPE r>"
    assert is_plain(data)
    with pytest.raises(DuisXmlError, match="not well-formed"):
        parse_xml(data, compact=True)


def test_undeclared_entity_in_a_plain_document_is_malformed() -> None:
    data = PLAIN_DECLARATION + b"r>&x;</r>"
    assert is_plain(data)
    with pytest.raises(DuisXmlError, match="not defined"):
        parse_xml(data, compact=True)


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + PLAIN_DECLARATION + b"r/>",  # BOM first
        PLAIN_DECLARATION.replace(b"UTF-8", b"ISO-8859-1") + b"r/>",
        PLAIN_DECLARATION.replace(b"\n", b"\r\n") + b"r/>",
        PLAIN_DECLARATION,  # nothing after the declaration
        PLAIN_DECLARATION + b"?pi?><r/>",
    ],
    ids=["bom", "latin-1", "crlf", "empty", "pi"],
)
def test_other_prologs_take_the_full_checks(data: bytes) -> None:
    assert not is_plain(data)


def test_utf16_with_doctype_is_still_refused() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE r [<!ENTITY x "y">]><r/>'
    encoded = data.encode("utf-16")
    assert not is_plain(encoded)
    with pytest.raises(DuisXmlForbidden, match="document type"):
        parse_xml(encoded, compact=True)


def _outcome(data: bytes) -> object:
    try:
        return from_xml(data)
    except DuisError as exc:
        assert exc.reason
        return type(exc)


def test_mutated_documents_give_what_the_full_checks_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random byte edits of plain templates (most near the prolog, where the shortcut matters):
    the same model, or the same error type, with and without the shortcut."""
    rng = random.Random(5)
    inserts = [b"<!DOCTYPE r>", b"<!--c-->", b"<?p?>", b"&x;", b"\r", b"\x00", b" ", b"<", b"\xff"]
    cases = []
    for data in rng.sample(_templates(), 12):
        for _ in range(40):
            at = rng.choice([rng.randrange(len(data)), rng.randrange(min(len(data), 60))])
            if rng.random() < 0.5:
                mutated = data[:at] + rng.choice(inserts) + data[at:]
            else:
                mutated = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
            cases.append(mutated)
    shortcut = [_outcome(data) for data in cases]
    monkeypatch.setattr(xml_module, "is_plain", lambda raw: False)
    full = [_outcome(data) for data in cases]
    assert shortcut == full
    assert any(isinstance(o, type) for o in full) and any(not isinstance(o, type) for o in full)
