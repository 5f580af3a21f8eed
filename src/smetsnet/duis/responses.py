"""DUIS response bodies (``sr:Response/sr:Body``): what the DCC sends to a user.

``ResponseMessage`` answers a request (GBCS payload, pre-command, or a DSP answer kept as a
:class:`Node` tree); ``DeviceAlertMessage`` carries a device alert; ``DCCAlertMessage`` a DCC
alert whose ``DCCAlert`` choice is kept as a tree. Field order follows the V5.4 XSD.

:func:`canonical_body` writes a body straight in the canonical form the signer digests (what
``write`` then inclusive C14N would give), for the hub's signed responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from smetsnet.duis.bodies import SR, Node, _Cursor, _put, elements, local
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import format_base64, parse_base64, parse_hex, parse_int
from smetsnet.duis.xml import XSI_NS
from smetsnet.duis.xmldsig import C14N_ATTRIBUTE, C14N_TEXT

_UINT = (0, (1 << 32) - 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreCommand:
    """What the Transform service returns for a CV 4 request: the unsigned GBCS pre-command."""

    gbcs_version: str
    gbcs_payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseMessage:
    """``content`` is the GBCS payload (bytes), a :class:`PreCommand`, a DSPScheduleID (int),
    another choice of the XSD as a :class:`Node`, or ``None`` (e.g. an I99 acknowledgement)."""

    service_reference: str
    service_reference_variant: str
    content: bytes | PreCommand | int | Node | None = None

    @classmethod
    def read(cls, el: etree._Element) -> ResponseMessage:
        c = _Cursor(el)
        ref, srv = c.need("ServiceReference"), c.need("ServiceReferenceVariant")
        content: bytes | PreCommand | int | Node | None = None
        if c.i < len(c.kids):
            item = c.kids[c.i]
            c.i += 1
            if item.tag == SR + "GBCSPayload":
                content = parse_base64(item.text or "", "GBCSPayload")
            elif item.tag == SR + "DSPScheduleID":
                content = parse_int(item.text or "", "DSPScheduleID", 0, 10**12)
            elif item.tag == SR + "PreCommand":
                p = _Cursor(item)
                version = p.need("GBCSVersion")
                payload = parse_base64(p.need("GBCSPayload"), "GBCSPayload")
                p.end()
                content = PreCommand(gbcs_version=version, gbcs_payload=payload)
            else:
                content = Node.read(item)
        c.end()
        return cls(service_reference=ref, service_reference_variant=srv, content=content)

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + "ResponseMessage")
        _put(el, "ServiceReference", self.service_reference)
        _put(el, "ServiceReferenceVariant", self.service_reference_variant)
        content = self.content
        if isinstance(content, bytes):
            _put(el, "GBCSPayload", format_base64(content))
        elif isinstance(content, PreCommand):
            pre = etree.SubElement(el, SR + "PreCommand")
            _put(pre, "GBCSVersion", content.gbcs_version)
            _put(pre, "GBCSPayload", format_base64(content.gbcs_payload))
        elif isinstance(content, int):
            _put(el, "DSPScheduleID", str(content))
        elif isinstance(content, Node):
            content.write(el)


def _throttle(c: _Cursor) -> tuple[int | None, int | None]:
    seq, count = c.text("ThrottledAlertSequenceId"), c.text("ThrottledAlertCount")
    return (
        None if seq is None else parse_int(seq, "ThrottledAlertSequenceId", *_UINT),
        None if count is None else parse_int(count, "ThrottledAlertCount", *_UINT),
    )


def _put_throttle(el: etree._Element, seq: int | None, count: int | None) -> None:
    _put(el, "ThrottledAlertSequenceId", None if seq is None else str(seq))
    _put(el, "ThrottledAlertCount", None if count is None else str(count))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceAlertMessage:
    """A device alert: its 2-byte code (e.g. 0x8F66) and the GBCS alert payload."""

    alert_code: int
    gbcs_payload: bytes
    throttled_sequence_id: int | None = None
    throttled_count: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.alert_code <= 0xFFFF:
            raise DuisSchemaError(f"AlertCode: {self.alert_code} is not two bytes")

    @classmethod
    def read(cls, el: etree._Element) -> DeviceAlertMessage:
        c = _Cursor(el)
        code = parse_hex(c.need("AlertCode"), "AlertCode")
        if len(code) != 2:
            raise DuisSchemaError(f"AlertCode: {code.hex()} is not 2 bytes")
        seq, count = _throttle(c)
        payload = parse_base64(c.need("GBCSPayload"), "GBCSPayload")
        c.end()
        return cls(
            alert_code=int.from_bytes(code),
            gbcs_payload=payload,
            throttled_sequence_id=seq,
            throttled_count=count,
        )

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + "DeviceAlertMessage")
        _put(el, "AlertCode", f"{self.alert_code:04X}")
        _put_throttle(el, self.throttled_sequence_id, self.throttled_count)
        _put(el, "GBCSPayload", format_base64(self.gbcs_payload))


@dataclass(frozen=True, slots=True, kw_only=True)
class DCCAlertMessage:
    """A DCC alert: its code (AD1, N1..N65, N999) and the ``DCCAlert`` choice as a tree."""

    code: str
    alert: Node
    throttled_sequence_id: int | None = None
    throttled_count: int | None = None

    @classmethod
    def read(cls, el: etree._Element) -> DCCAlertMessage:
        c = _Cursor(el)
        code = c.need("DCCAlertCode")
        seq, count = _throttle(c)
        alert = c.element("DCCAlert")
        if alert is None:
            raise DuisSchemaError("DCCAlertMessage: DCCAlert expected")
        c.end()
        return cls(
            code=code, alert=Node.read(alert), throttled_sequence_id=seq, throttled_count=count
        )

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + "DCCAlertMessage")
        _put(el, "DCCAlertCode", self.code)
        _put_throttle(el, self.throttled_sequence_id, self.throttled_count)
        self.alert.write(el)


ResponseBody = ResponseMessage | DeviceAlertMessage | DCCAlertMessage | Node


def read_response_body(body: etree._Element) -> ResponseBody:
    kids = elements(body)
    if len(kids) != 1:
        raise DuisSchemaError(f"Body: exactly one element expected, found {len(kids)}")
    el = kids[0]
    name = local(el.tag)
    if name == "ResponseMessage":
        return ResponseMessage.read(el)
    if name == "DeviceAlertMessage":
        return DeviceAlertMessage.read(el)
    if name == "DCCAlertMessage":
        return DCCAlertMessage.read(el)
    return Node.read(el)  # SMETS1ResponseMessage: kept as a tree


# --- canonical form ----------------------------------------------------------------------------
#: A character XML 1.0 does not allow (§2.2): lxml refuses these, so the tree path decides.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The names this writer covers: ASCII NCNames (every DUIS name); others take the tree path.
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")
_XSI = "{" + XSI_NS + "}"
#: Node name -> its qualified name in canonical form ("sr:Name"); bounded like bodies._NAMES.
_QNAMES: dict[str, str] = {}
_QNAMES_LIMIT = 4096


class _TreePath(Exception):
    """Raised inside the canonical writer for what only the tree path writes faithfully."""


def canonical_body(body: ResponseBody) -> str | None:
    """``sr:Body`` holding ``body`` in the canonical form a Response digests: what
    ``ResponseBody.write`` gives under a root that declares ``ds``, ``sr`` and ``xsi`` (as
    ``models.to_element`` writes it), canonicalised with inclusive C14N 1.0.

    ``None`` when the body holds a name in another namespace or not ASCII, an attribute in a
    namespace other than ``xsi``, or a character XML does not allow: the tree path
    (``to_element``, then ``xmldsig.signed_document``) writes or refuses those as before.
    """
    out = ["<sr:Body>"]
    try:
        if isinstance(body, ResponseMessage):
            _response_message(body, out)
        elif isinstance(body, DeviceAlertMessage):
            out.append(f"<sr:DeviceAlertMessage><sr:AlertCode>{body.alert_code:04X}</sr:AlertCode>")
            _throttle_c14n(body.throttled_sequence_id, body.throttled_count, out)
            out.append(f"<sr:GBCSPayload>{format_base64(body.gbcs_payload)}</sr:GBCSPayload>")
            out.append("</sr:DeviceAlertMessage>")
        elif isinstance(body, DCCAlertMessage):
            code = body.code.translate(C14N_TEXT)
            out.append(f"<sr:DCCAlertMessage><sr:DCCAlertCode>{code}</sr:DCCAlertCode>")
            _throttle_c14n(body.throttled_sequence_id, body.throttled_count, out)
            node_c14n(body.alert, out)
            out.append("</sr:DCCAlertMessage>")
        else:
            node_c14n(body, out)
    except _TreePath:
        return None
    out.append("</sr:Body>")
    text = "".join(out)
    # Printable ASCII (the usual body: tags and base64) holds no character XML refuses; the
    # test is a tenth of the pattern's search.
    if text.isascii() and text.isprintable():
        return text
    return None if NOT_XML_CHAR.search(text) else text


def _response_message(body: ResponseMessage, out: list[str]) -> None:
    ref = body.service_reference.translate(C14N_TEXT)
    srv = body.service_reference_variant.translate(C14N_TEXT)
    out.append(
        f"<sr:ResponseMessage><sr:ServiceReference>{ref}</sr:ServiceReference>"
        f"<sr:ServiceReferenceVariant>{srv}</sr:ServiceReferenceVariant>"
    )
    content = body.content  # the same choice, in the same order, as ResponseMessage.write
    if isinstance(content, bytes):
        out.append(f"<sr:GBCSPayload>{format_base64(content)}</sr:GBCSPayload>")
    elif isinstance(content, PreCommand):
        version = content.gbcs_version.translate(C14N_TEXT)
        payload = format_base64(content.gbcs_payload)
        out.append(
            f"<sr:PreCommand><sr:GBCSVersion>{version}</sr:GBCSVersion>"
            f"<sr:GBCSPayload>{payload}</sr:GBCSPayload></sr:PreCommand>"
        )
    elif isinstance(content, int):
        out.append(f"<sr:DSPScheduleID>{content}</sr:DSPScheduleID>")
    elif isinstance(content, Node):
        node_c14n(content, out)
    out.append("</sr:ResponseMessage>")


def _throttle_c14n(seq: int | None, count: int | None, out: list[str]) -> None:
    if seq is not None:
        out.append(f"<sr:ThrottledAlertSequenceId>{seq}</sr:ThrottledAlertSequenceId>")
    if count is not None:
        out.append(f"<sr:ThrottledAlertCount>{count}</sr:ThrottledAlertCount>")


def node_c14n(node: Node, out: list[str]) -> None:
    """Append ``node`` as ``Node.write`` then inclusive C14N write it (under ``sr``'s root);
    raises ``_TreePath`` for what :func:`canonical_body` leaves to the tree path."""
    name = _QNAMES.get(node.name) or _qualified(node.name)
    if node.attributes:
        out.append(f"<{name}{_attributes_c14n(node.attributes)}>")
    else:
        out.append(f"<{name}>")
    if node.children:  # Node.write writes a container's children, never its text
        for child in node.children:
            node_c14n(child, out)
    elif node.text:
        out.append(_text_c14n(node.text))
    out.append(f"</{name}>")


def _text_c14n(text: str) -> str:
    """``text`` escaped as C14N writes character data; text with nothing to escape (a
    GBCSPayload's base64, a date-time) is returned as it is: four scans in C instead of a
    per-character translation, a tenth of its cost on a day's read log."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.translate(C14N_TEXT)
    return text


def _qualified(name: str) -> str:
    local_name = name[len(SR) :] if name.startswith(SR) else name
    if not _NCNAME.match(local_name):
        raise _TreePath(name)
    qualified = "sr:" + local_name
    if len(_QNAMES) < _QNAMES_LIMIT:
        _QNAMES[name] = qualified
    return qualified


def _attributes_c14n(attributes: tuple[tuple[str, str], ...]) -> str:
    """C14N's attribute order: no namespace first, then by namespace URI (only ``xsi`` here),
    each by local name; a repeated name keeps its last value (as ``Node.write``'s dict)."""
    keyed = []
    for key, value in dict(attributes).items():
        if key.startswith(_XSI):
            local_name, group, prefix = key[len(_XSI) :], 1, "xsi:"
        else:
            local_name, group, prefix = key, 0, ""
        if not _NCNAME.match(local_name):
            raise _TreePath(key)
        keyed.append((group, local_name, prefix, value.translate(C14N_ATTRIBUTE)))
    keyed.sort()
    return "".join(f' {prefix}{name}="{value}"' for _, name, prefix, value in keyed)
