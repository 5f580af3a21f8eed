"""Hardened XML parsing for DUIS (sans-I/O).

DUIS messages never need a DTD, entities, external resources or processing of anything but
elements, attributes, text and comments, so the parser refuses all of that outright instead of
trying to make it safe: no DTD loading or validation, no entity expansion (XXE and "billion
laughs" need one), no network, libxml2's non-huge limits (text nodes <= 10 MB, depth <= 256),
and a byte limit checked before parsing. Any failure is a :class:`DuisXmlError` with a reason.

The tree comes back as parsed (whitespace and comments kept): XMLDSig digests depend on it.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from smetsnet.duis.errors import DuisXmlError, DuisXmlForbidden, DuisXmlTooLarge

SR_NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
RA_NS = "http://www.dccinterface.co.uk/ResponseAndAlert"

#: Default byte limit. The largest legitimate request is 11.1 Update Firmware, whose
#: FirmwareImage the XSD caps at 10,240,000 base64 characters; libxml2 without ``huge_tree``
#: refuses text nodes over 10,000,000 bytes anyway, so requests near that cap are not accepted.
DEFAULT_MAX_BYTES = 10_500_000

# Cheap pre-check on the raw bytes, before libxml2 sees a DTD: a DOCTYPE (and so any ENTITY) can
# only stand in the prolog, after the XML declaration, PIs, comments and white space (XML 1.0
# §2.8), so only the prolog is scanned, not the whole document (scanning 3 kB twice cost as much
# as building the body model). The parsed document's DTD is checked too, which also catches
# encodings (UTF-16) where these bytes would not appear.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)

#: The declaration all of DCC's templates start with. A document that starts with it and a line
#: break followed by the root's start tag is UTF-8 and has no prolog to scan, so ``parse_xml``
#: skips the prolog regex and the document-type checks for it (see :func:`is_plain`; ~2% of
#: parsing a template into its model).
PLAIN_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n<'
_PLAIN_ROOT = len(PLAIN_DECLARATION)

_local = threading.local()


def is_plain(raw: bytes) -> bool:
    """Whether ``raw`` is UTF-8 with nothing between :data:`PLAIN_DECLARATION` and the root.

    A DOCTYPE can only stand before the root element (XML 1.0 §2.8), and in UTF-8 it would start
    with the "<!" this refuses, so such a document has no document type declaration.
    """
    return raw.startswith(PLAIN_DECLARATION) and raw[_PLAIN_ROOT : _PLAIN_ROOT + 1] not in (
        b"!",
        b"?",
        b"",
    )


def _parser(compact: bool) -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per thread and kind, built once
    # (building one costs more than parsing a small DUIS request).
    key = "compact" if compact else "exact"
    parser: etree.XMLParser | None = getattr(_local, key, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            no_network=True,
            huge_tree=False,
            remove_pis=True,
            collect_ids=False,
            remove_comments=compact,
            remove_blank_text=compact,
        )
        setattr(_local, key, parser)
    return parser


_fromstring = etree.fromstring


def parse_xml(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, compact: bool = False
) -> etree._Element:
    """Parse untrusted DUIS XML and return its root element, or raise :class:`DuisXmlError`.

    ``compact`` drops comments and whitespace-only text between elements: faster, and what the
    models want; keep the default (the exact tree) for signature verification.
    """
    # An identity test first: the usual bytes skip isinstance and the copy.
    exact = data.__class__ is bytes
    if not exact and not isinstance(data, bytes | bytearray | memoryview):
        raise DuisXmlError(f"XML must be given as bytes, not {type(data).__name__}")
    if len(data) > max_bytes:
        raise DuisXmlTooLarge(f"document of {len(data)} bytes exceeds the limit of {max_bytes}")
    raw = data if exact else bytes(data)
    plain = is_plain(raw)
    if not plain:
        end = _PROLOG.match(raw).end()  # type: ignore[union-attr]  # matches the empty string
        if raw.startswith(b"<!", end):
            # The only markup starting "<!" allowed here is a DOCTYPE; anything else is malformed.
            raise DuisXmlForbidden("<!DOCTYPE (and any <!ENTITY) is not allowed in DUIS XML")
    try:
        root = _fromstring(raw, _parser(compact))
    except etree.XMLSyntaxError as exc:
        raise DuisXmlError(f"not well-formed XML: {exc}") from None
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        raise DuisXmlError(f"not acceptable XML: {exc}") from None
    if plain:
        return root
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DuisXmlForbidden("a document type declaration is not allowed in DUIS XML")
    return root
