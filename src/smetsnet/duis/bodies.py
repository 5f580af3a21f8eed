"""Request bodies: a generic typed tree for every SR, and dedicated models for the common ones.

Each dedicated class names its element (``ELEMENT``), reads itself from the parsed element
(``read``) and writes itself under a parent (``write``). Anything else is a :class:`GenericBody`:
the element's name and an ordered tree of :class:`Node` that writes back the same XML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, NamedTuple

from lxml import etree

from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import (
    LeafValue,
    format_base64,
    format_datetime,
    format_eui,
    leaf_value,
    parse_base64,
    parse_date,
    parse_datetime,
    parse_eui,
    parse_hex,
    parse_int,
)
from smetsnet.duis.xml import SR_NS

SR = "{" + SR_NS + "}"
_SR_LEN = len(SR)
#: Far deeper than any DUIS type (the tariff bodies reach 8); bounds the recursion.
MAX_DEPTH = 48


def local(tag: object) -> str:
    """``{sr}Name`` -> ``Name``; other namespaces keep their Clark form."""
    text = tag if isinstance(tag, str) else str(tag)
    return text[_SR_LEN:] if text.startswith(SR) else text


def qualify(name: str) -> str:
    return name if name[0] == "{" else SR + name


# Comments (and, in trees not from parse_xml, PIs/entities) are not part of a DUIS value.
_NOT_ELEMENT = (etree._Comment, etree._ProcessingInstruction, etree._Entity)


def _children(el: etree._Element) -> tuple[list[etree._Element], list[str]]:
    """Child elements and their tags (comments skipped: their tag is not a str), one tag access
    each; text between them must be whitespace only."""
    kids: list[etree._Element] = []
    tags: list[str] = []
    for c in el:
        tag = c.tag
        if tag.__class__ is str:
            kids.append(c)
            tags.append(tag)
    if kids:
        text = el.text
        if text and not text.isspace():
            raise DuisSchemaError(f"{local(el.tag)}: text mixed with elements")
    return kids, tags


def elements(el: etree._Element) -> list[etree._Element]:
    """Child elements, skipping comments; text between them must be whitespace only."""
    return _children(el)[0]


class Node(NamedTuple):
    """One element: a leaf (``text``, lexical as written) or a container (``children``).

    A named tuple rather than the house's frozen dataclass, on purpose: a generic body is dozens
    of these per message, and a tuple is built in one C call (a dataclass needs five), and GC
    stops tracking leaves made only of strings. Parsing the templates is ~9% faster for it.
    """

    name: str
    attributes: tuple[tuple[str, str], ...] = ()
    text: str = ""
    children: tuple[Node, ...] = ()

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)

    @property
    def value(self) -> LeafValue:
        """The leaf's typed value (int, Decimal, bool, date, datetime, EUI bytes) per
        ``header.LEAF_TYPES``, else its text; computed on access so parsing stays cheap."""
        return leaf_value(self.name, self.text)

    @classmethod
    def read(cls, el: etree._Element, depth: int = 0) -> Node:
        """The tree under ``el`` (comments skipped; ``depth`` is how deep ``el`` already is)."""
        return _read_tree(el, depth)

    def write(self, parent: etree._Element) -> etree._Element:
        el = etree.SubElement(parent, qualify(self.name), dict(self.attributes))
        if self.children:
            for c in self.children:
                c.write(el)
        elif self.text:
            el.text = self.text
        return el


_new_tuple = tuple.__new__
#: Clark tag -> Node name; bounded so hostile documents with endless tag names cannot grow it.
_NAMES: dict[str, str] = {}
_NAMES_LIMIT = 4096


def _name(tag: str) -> str:
    name = tag[_SR_LEN:] if tag.startswith(SR) else tag
    if len(_NAMES) < _NAMES_LIMIT:
        _NAMES[tag] = name
    return name


def _read_tree(top: etree._Element, depth: int) -> Node:
    # One flat pass over top.iter() (document order, done in C) instead of a recursive call per
    # element: an element with n children opens a frame that closes after n more siblings
    # (comments count as children but give no Node). No recursion, so no RecursionError.
    # Per element this makes the five lxml calls it must (proxy, tag, items, len, text) and
    # little else; building the Node (a tuple subclass) is most of the rest.
    names, new, node_type = _NAMES, _new_tuple, Node
    stack: list[tuple[int, list[Node], str, tuple[tuple[str, str], ...]]] = []
    kids: list[Node] = []
    out = kids
    remaining = 1
    limit = MAX_DEPTH - depth
    for el in top.iter():
        tag = el.tag
        if tag.__class__ is str:
            try:
                name = names[tag]
            except KeyError:
                name = _name(tag)
            items = el.items()
            n = len(el)
            if n:
                text = el.text
                if text and not text.isspace():
                    raise DuisSchemaError(f"{name}: text mixed with elements")
                if len(stack) >= limit:
                    raise DuisSchemaError(f"{name}: nested deeper than {MAX_DEPTH}")
                stack.append((remaining, kids, name, tuple(items) if items else ()))
                remaining, kids = n, []
                continue
            kids.append(new(node_type, (name, tuple(items) if items else (), el.text or "", ())))
        remaining -= 1
        if not remaining:
            while stack:
                done = kids
                remaining, kids, name, attributes = stack.pop()
                # A container whose children are all comments is an empty leaf.
                kids.append(new(node_type, (name, attributes, "", tuple(done))))
                remaining -= 1
                if remaining:
                    break
    return out[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericBody:
    """Any SR body without a dedicated model: its element as a :class:`Node` tree."""

    node: Node

    @property
    def element(self) -> str:
        return self.node.name

    def write(self, parent: etree._Element) -> None:
        self.node.write(parent)


class _Cursor:
    """Reads the children of a sequence type in order (XSD ``xs:sequence``)."""

    __slots__ = ("el", "i", "kids", "tags")

    def __init__(self, el: etree._Element) -> None:
        self.el = el
        self.kids, self.tags = _children(el)
        self.i = 0

    @property
    def owner(self) -> str:
        return local(self.el.tag)

    def element(self, name: str) -> etree._Element | None:
        i = self.i
        if i < len(self.tags) and self.tags[i] == SR + name:
            self.i = i + 1
            return self.kids[i]
        return None

    def text(self, name: str) -> str | None:
        i = self.i
        if i < len(self.tags) and self.tags[i] == SR + name:
            self.i = i + 1
            return self.kids[i].text or ""
        return None

    def need(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise DuisSchemaError(f"{self.owner}: {name} expected")
        return value

    def end(self) -> None:
        if self.i < len(self.kids):
            raise DuisSchemaError(f"{self.owner}: unexpected {local(self.tags[self.i])}")


def _put(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, SR + name).text = text


def _opt_dt(text: str | None, field: str) -> datetime | None:
    return None if text is None else parse_datetime(text, field)


def _fmt_dt(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadInstantaneousImportRegisters:
    """4.1.1; future-dated (DSP pattern) when ``execution_datetime`` is given."""

    ELEMENT: ClassVar[str] = "ReadInstantaneousImportRegisters"
    execution_datetime: datetime | None = None

    @classmethod
    def read(cls, el: etree._Element) -> ReadInstantaneousImportRegisters:
        c = _Cursor(el)
        value = cls(execution_datetime=_opt_dt(c.text("ExecutionDateTime"), "ExecutionDateTime"))
        c.end()
        return value

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "ExecutionDateTime", _fmt_dt(self.execution_datetime))


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadActiveImportProfileData:
    """4.8.1: profile data between two date-times (``ReadLogFutureDatableAndURPCredentials``)."""

    ELEMENT: ClassVar[str] = "ReadActiveImportProfileData"
    start: datetime
    end: datetime
    execution_datetime: datetime | None = None
    ka_public_security_credentials: bytes | None = None

    @classmethod
    def read(cls, el: etree._Element) -> ReadActiveImportProfileData:
        c = _Cursor(el)
        execution = _opt_dt(c.text("ExecutionDateTime"), "ExecutionDateTime")
        period = c.element("ReadLogPeriod")
        if period is None:
            raise DuisSchemaError(f"{cls.ELEMENT}: ReadLogPeriod expected")
        p = _Cursor(period)
        start = parse_datetime(p.need("StartDateTime"), "StartDateTime")
        end = parse_datetime(p.need("EndDateTime"), "EndDateTime")
        p.end()
        cred = c.text("KAPublicSecurityCredentials")
        c.end()
        return cls(
            start=start,
            end=end,
            execution_datetime=execution,
            ka_public_security_credentials=None if cred is None else parse_base64(cred, "KA"),
        )

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "ExecutionDateTime", _fmt_dt(self.execution_datetime))
        period = etree.SubElement(el, SR + "ReadLogPeriod")
        _put(period, "StartDateTime", format_datetime(self.start))
        _put(period, "EndDateTime", format_datetime(self.end))
        cred = self.ka_public_security_credentials
        _put(el, "KAPublicSecurityCredentials", None if cred is None else format_base64(cred))


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUpDevice:
    """2.2: a UTRN of exactly 20 digits (XSD pattern ``[0-9]{20}``)."""

    ELEMENT: ClassVar[str] = "TopUpDevice"
    utrn: str

    def __post_init__(self) -> None:
        if len(self.utrn) != 20 or not self.utrn.isascii() or not self.utrn.isdigit():
            raise DuisSchemaError(f"UTRN: {self.utrn!r} is not 20 digits")

    @classmethod
    def read(cls, el: etree._Element) -> TopUpDevice:
        c = _Cursor(el)
        value = cls(utrn=c.need("UTRN"))
        c.end()
        return value

    def write(self, parent: etree._Element) -> None:
        _put(etree.SubElement(parent, SR + self.ELEMENT), "UTRN", self.utrn)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionDeviceSynchroniseClock:
    """8.1.1: the clock to set and the tolerance in seconds (0..86400; 60 ESME, 3600 GSME)."""

    ELEMENT: ClassVar[str] = "CommissionDeviceSynchroniseClock"
    current_datetime: datetime
    tolerance_period: int

    @classmethod
    def read(cls, el: etree._Element) -> CommissionDeviceSynchroniseClock:
        c = _Cursor(el)
        now = parse_datetime(c.need("CurrentDateTime"), "CurrentDateTime")
        value = cls(
            current_datetime=now,
            tolerance_period=parse_int(c.need("TolerancePeriod"), "TolerancePeriod", 0, 86400),
        )
        c.end()
        return value

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "CurrentDateTime", format_datetime(self.current_datetime))
        _put(el, "TolerancePeriod", str(self.tolerance_period))


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateFirmware:
    """11.1 (non-device): the image, its version and the devices to receive it."""

    ELEMENT: ClassVar[str] = "UpdateFirmware"
    firmware_image: bytes
    firmware_version: str
    device_ids: tuple[bytes, ...]

    @classmethod
    def read(cls, el: etree._Element) -> UpdateFirmware:
        c = _Cursor(el)
        image = parse_base64(c.need("FirmwareImage"), "FirmwareImage")
        version = c.need("FirmwareVersion")
        ids = tuple(parse_eui(t, "DeviceIDList") for t in c.need("DeviceIDList").split(","))
        c.end()
        return cls(firmware_image=image, firmware_version=version, device_ids=ids)

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "FirmwareImage", format_base64(self.firmware_image))
        _put(el, "FirmwareVersion", self.firmware_version)
        _put(el, "DeviceIDList", ",".join(format_eui(d) for d in self.device_ids))


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivateFirmware:
    """11.3 (critical, device-held future dating): the SHA-256 hash of the image to activate."""

    ELEMENT: ClassVar[str] = "ActivateFirmware"
    firmware_hash: bytes
    execution_datetime: datetime | None = None

    @classmethod
    def read(cls, el: etree._Element) -> ActivateFirmware:
        c = _Cursor(el)
        execution = _opt_dt(c.text("ExecutionDateTime"), "ExecutionDateTime")
        value = cls(
            firmware_hash=parse_hex(c.need("FirmwareHash"), "FirmwareHash"),
            execution_datetime=execution,
        )
        c.end()
        return value

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "ExecutionDateTime", _fmt_dt(self.execution_datetime))
        _put(el, "FirmwareHash", self.firmware_hash.hex().upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class DevicePrenotification:
    """12.2 (non-device): tells the DCC about a device before it is installed."""

    ELEMENT: ClassVar[str] = "DevicePrenotification"
    device_id: bytes
    device_manufacturer: str
    device_model: str
    device_type: str
    smets_chts_version: str | None = None
    firmware_version: str | None = None
    esme_variant: str | None = None
    associated_gpf_device_id: bytes | None = None

    @classmethod
    def read(cls, el: etree._Element) -> DevicePrenotification:
        c = _Cursor(el)
        device = parse_eui(c.need("DeviceID"), "DeviceID")
        manufacturer, model = c.need("DeviceManufacturer"), c.need("DeviceModel")
        kind = c.need("DeviceType")
        smets, firmware, variant = (
            c.text("SMETSCHTSVersion"), c.text("FirmwareVersion"), c.text("ESMEVariant"),
        )  # fmt: skip
        gpf = c.text("AssociatedGPFDeviceID")
        c.end()
        return cls(
            device_id=device,
            device_manufacturer=manufacturer,
            device_model=model,
            device_type=kind,
            smets_chts_version=smets,
            firmware_version=firmware,
            esme_variant=variant,
            associated_gpf_device_id=None if gpf is None else parse_eui(gpf, "AssociatedGPF"),
        )

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "DeviceID", format_eui(self.device_id))
        _put(el, "DeviceManufacturer", self.device_manufacturer)
        _put(el, "DeviceModel", self.device_model)
        _put(el, "DeviceType", self.device_type)
        _put(el, "SMETSCHTSVersion", self.smets_chts_version)
        _put(el, "FirmwareVersion", self.firmware_version)
        _put(el, "ESMEVariant", self.esme_variant)
        gpf = self.associated_gpf_device_id
        _put(el, "AssociatedGPFDeviceID", None if gpf is None else format_eui(gpf))


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSchedule:
    """5.1 (non-device, XSD ``DSPSchedule``): the DCC runs ``scheduled`` on a calendar.

    ``scheduled`` is the ``DSP…`` element (date offsets instead of date-times) as a tree.
    """

    ELEMENT: ClassVar[str] = "CreateSchedule"
    frequency: str
    start_date: date
    service_reference: str
    service_reference_variant: str
    device_id: bytes
    scheduled: Node
    end_date: date | None = None
    execution_start_time: str | None = None
    ka_public_security_credential: bytes | None = None

    @classmethod
    def read(cls, el: etree._Element) -> CreateSchedule:
        c = _Cursor(el)
        frequency = c.need("ScheduleFrequency")
        start = parse_date(c.need("ScheduleStartDate"), "ScheduleStartDate")
        end = c.text("ScheduleEndDate")
        at = c.text("ScheduleExecutionStartTime")
        cred = c.text("KAPublicSecurityCredential")
        srv_ref = c.need("DSPScheduledServiceReference")
        srv = c.need("DSPScheduledServiceReferenceVariant")
        device = parse_eui(c.need("DeviceID"), "DeviceID")
        if c.i >= len(c.kids):
            raise DuisSchemaError(f"{cls.ELEMENT}: the scheduled request is missing")
        scheduled = Node.read(c.kids[c.i], 1)
        c.i += 1
        c.end()
        return cls(
            frequency=frequency,
            start_date=start,
            end_date=None if end is None else parse_date(end, "ScheduleEndDate"),
            execution_start_time=at,
            ka_public_security_credential=None if cred is None else parse_base64(cred, "KA"),
            service_reference=srv_ref,
            service_reference_variant=srv,
            device_id=device,
            scheduled=scheduled,
        )

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "ScheduleFrequency", self.frequency)
        _put(el, "ScheduleStartDate", self.start_date.isoformat())
        _put(el, "ScheduleEndDate", None if self.end_date is None else self.end_date.isoformat())
        _put(el, "ScheduleExecutionStartTime", self.execution_start_time)
        cred = self.ka_public_security_credential
        _put(el, "KAPublicSecurityCredential", None if cred is None else format_base64(cred))
        _put(el, "DSPScheduledServiceReference", self.service_reference)
        _put(el, "DSPScheduledServiceReferenceVariant", self.service_reference_variant)
        _put(el, "DeviceID", format_eui(self.device_id))
        self.scheduled.write(el)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedPreCommand:
    """The body of CV 5/6/7: the Transform service's pre-command with the user's signature."""

    ELEMENT: ClassVar[str] = "SignedPreCommand"
    gbcs_payload: bytes
    execution_datetime: datetime | None = None

    @classmethod
    def read(cls, el: etree._Element) -> SignedPreCommand:
        c = _Cursor(el)
        execution = _opt_dt(c.text("ExecutionDateTime"), "ExecutionDateTime")
        payload = parse_base64(c.need("GBCSPayload"), "GBCSPayload")
        c.end()
        return cls(gbcs_payload=payload, execution_datetime=execution)

    def write(self, parent: etree._Element) -> None:
        el = etree.SubElement(parent, SR + self.ELEMENT)
        _put(el, "ExecutionDateTime", _fmt_dt(self.execution_datetime))
        _put(el, "GBCSPayload", format_base64(self.gbcs_payload))


RequestBody = (
    ReadInstantaneousImportRegisters
    | ReadActiveImportProfileData
    | TopUpDevice
    | CommissionDeviceSynchroniseClock
    | UpdateFirmware
    | ActivateFirmware
    | DevicePrenotification
    | CreateSchedule
    | SignedPreCommand
    | GenericBody
)

_DEDICATED: dict[str, Callable[[etree._Element], RequestBody]] = {
    SR + cls.ELEMENT: cls.read
    for cls in (
        ReadInstantaneousImportRegisters,
        ReadActiveImportProfileData,
        TopUpDevice,
        CommissionDeviceSynchroniseClock,
        UpdateFirmware,
        ActivateFirmware,
        DevicePrenotification,
        CreateSchedule,
        SignedPreCommand,
    )
}


def read_body(el: etree._Element) -> RequestBody:
    """The model of one ``sr:Body`` child: dedicated when there is one, else generic."""
    tag = el.tag
    if not isinstance(tag, str):  # elements() already dropped comments; keeps mypy exact
        raise DuisSchemaError("Body: a comment is not a request")
    reader = _DEDICATED.get(tag)
    if reader is not None:
        return reader(el)
    if not tag.startswith(SR):
        raise DuisSchemaError(f"Body: {local(tag)} is not in the DUIS namespace")
    body: GenericBody = _new_object(GenericBody)  # GenericBody(node=...) without its __init__
    _set_node(body, _read_tree(el, 0))
    return body


_new_object = object.__new__
_set_node = GenericBody.__dict__["node"].__set__
