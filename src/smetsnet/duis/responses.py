"""DUIS response bodies (``sr:Response/sr:Body``): what the DCC sends to a user.

``ResponseMessage`` answers a request (GBCS payload, pre-command, or a DSP answer kept as a
:class:`Node` tree); ``DeviceAlertMessage`` carries a device alert; ``DCCAlertMessage`` a DCC
alert whose ``DCCAlert`` choice is kept as a tree. Field order follows the V5.4 XSD.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from smetsnet.duis.bodies import SR, Node, _Cursor, _put, elements, local
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import format_base64, parse_base64, parse_hex, parse_int

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
