"""xDLMS APDUs of GBCS: access-request ``D9``, access-response ``DA``, data-notification ``0F``.

Layouts after the tag (GBCS-PAYLOADS §1.1, §1.2, §1.5):
- D9: long-invoke-id-and-priority (4) | date-time (length + bytes) | n + specs | n + Data.
- DA: invoke id (4) | date-time | optional spec echo (``00`` absent, ``01`` + n + specs) |
  n + Data | n + (choice, result).
- 0F: invoke id (4) | date-time | one Data (GBCS alerts: structure{alert code, date-time, …}).

The long invoke id's top byte is ``0x20`` in every vector (bit 29, break-on-error) and its low 24
bits are the low 24 bits of the originator counter. Counts and lengths written in a non-minimal
form keep their width in ``length_widths`` (wire order; empty when all are minimal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.dlms.clock import CosemDateTime
from smetsnet.gbcs.dlms.data import (
    NULL,
    Data,
    LongUnsigned,
    OctetString,
    ProtectedContent,
    Structure,
    encode_into,
)
from smetsnet.gbcs.dlms.obis import Obis
from smetsnet.gbcs.dlms.protected import (
    DATA_PROTECTION_CLASS,
    GET_PROTECTED_ATTRIBUTES,
    GetProtectedAttributes,
    ProtectedObject,
    get_protected_attributes,
    protected_contents,
)
from smetsnet.gbcs.dlms.scalars import length_bytes
from smetsnet.gbcs.dlms.specs import (
    ActionSpec,
    GetSpec,
    GetWithSelectionSpec,
    RequestSpec,
    ResponseSpec,
    SetSpec,
)
from smetsnet.gbcs.payload import JsonValue

ACCESS_REQUEST = 0xD9
ACCESS_RESPONSE = 0xDA
DATA_NOTIFICATION = 0x0F
DEFAULT_FLAGS = 0x20
DEFAULT_PROTECTION_INSTANCE = "0-0:43.2.8.255"  # import register collection (ECS17b)


def _w(widths: tuple[int | None, ...], i: int) -> int | None:
    return widths[i] if widths else None


def _invoke(invoke_id: int, flags: int) -> int:
    """GBCS: the low 24 bits of the originator counter under ``flags`` (§1.1)."""
    return ((flags & 0xFF) << 24) | (invoke_id & 0xFFFFFF)


def _check_header(invoke: int, date_time: bytes) -> None:
    if not 0 <= invoke <= 0xFFFFFFFF:
        raise GbcsEncodeError("invoke_id_and_priority", f"{invoke} does not fit 4 bytes")
    if not isinstance(date_time, bytes):
        raise GbcsEncodeError("date_time", "must be bytes (empty, or a 12-byte COSEM date-time)")


def _header_bytes(tag: int, invoke: int, date_time: bytes, width: int | None) -> bytes:
    return (
        bytes((tag,)) + invoke.to_bytes(4, "big") + length_bytes(len(date_time), width) + date_time
    )


def _header_json(apdu: str, invoke: int, date_time: bytes) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "apdu": apdu,
        "invoke_id": invoke & 0xFFFFFF,
        "flags": invoke >> 24,
        "date_time": date_time.hex() if date_time else None,
    }
    if len(date_time) == 12:
        out["date_time_text"] = CosemDateTime.from_bytes(date_time).text()
    return out


class _ApduHeader:
    """What the three APDUs share: the long-invoke-id-and-priority and the date-time."""

    __slots__ = ()
    invoke_id_and_priority: int
    date_time: bytes

    def __post_init__(self) -> None:
        _check_header(self.invoke_id_and_priority, self.date_time)

    @property
    def invoke_id(self) -> int:
        """The low 24 bits: the low 24 bits of the grouping header's originator counter."""
        return self.invoke_id_and_priority & 0xFFFFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRequest(_ApduHeader):
    """``D9``: one Data item per spec (set: the value, action: the parameter, get: null)."""

    tag: ClassVar[int] = ACCESS_REQUEST
    invoke_id_and_priority: int
    specs: tuple[RequestSpec, ...]
    data: tuple[Data, ...]
    date_time: bytes = b""
    #: non-minimal widths of (date-time length, spec count, data count); () = all minimal.
    length_widths: tuple[int | None, ...] = field(default=(), repr=False)

    # -- builders ----------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        items: Sequence[tuple[RequestSpec, Data]],
        *,
        invoke_id: int,
        flags: int = DEFAULT_FLAGS,
    ) -> AccessRequest:
        return cls(
            invoke_id_and_priority=_invoke(invoke_id, flags),
            specs=tuple(s for s, _ in items),
            data=tuple(d for _, d in items),
        )

    @classmethod
    def get(
        cls, class_id: int, instance: Obis | str, attribute_id: int = 2, *, invoke_id: int
    ) -> AccessRequest:
        spec = GetSpec(class_id=class_id, instance=Obis.of(instance), attribute_id=attribute_id)
        return cls.build([(spec, NULL)], invoke_id=invoke_id)

    @classmethod
    def set(
        cls, class_id: int, instance: Obis | str, attribute_id: int, value: Data, *, invoke_id: int
    ) -> AccessRequest:
        spec = SetSpec(class_id=class_id, instance=Obis.of(instance), attribute_id=attribute_id)
        return cls.build([(spec, value)], invoke_id=invoke_id)

    @classmethod
    def action(
        cls,
        class_id: int,
        instance: Obis | str,
        method_id: int,
        parameter: Data = NULL,
        *,
        invoke_id: int,
    ) -> AccessRequest:
        spec = ActionSpec(class_id=class_id, instance=Obis.of(instance), method_id=method_id)
        return cls.build([(spec, parameter)], invoke_id=invoke_id)

    @classmethod
    def get_with_selection(
        cls,
        class_id: int,
        instance: Obis | str,
        attribute_id: int,
        selector: int,
        parameter: Data,
        *,
        invoke_id: int,
    ) -> AccessRequest:
        spec = GetWithSelectionSpec(
            class_id=class_id,
            instance=Obis.of(instance),
            attribute_id=attribute_id,
            selector=selector,
            parameter=parameter,
        )
        return cls.build([(spec, NULL)], invoke_id=invoke_id)

    # -- views ----------------------------------------------------------------------------------
    @property
    def protected_attributes(self) -> GetProtectedAttributes | None:
        """The parameter of a class-30 "get protected attributes" action, typed (§1.6)."""
        for spec, item in zip(self.specs, self.data, strict=False):
            if (
                isinstance(spec, ActionSpec)
                and spec.class_id == DATA_PROTECTION_CLASS
                and spec.method_id == GET_PROTECTED_ATTRIBUTES
            ):
                return GetProtectedAttributes.from_data(item)
        return None

    def to_bytes(self) -> bytes:
        w = self.length_widths
        parts = [
            _header_bytes(ACCESS_REQUEST, self.invoke_id_and_priority, self.date_time, _w(w, 0))
        ]
        parts.append(length_bytes(len(self.specs), _w(w, 1)))
        parts.extend(s.to_bytes() for s in self.specs)
        parts.append(length_bytes(len(self.data), _w(w, 2)))
        for item in self.data:
            encode_into(item, parts)
        return b"".join(parts)

    def to_json(self) -> JsonValue:
        out = _header_json("access-request", self.invoke_id_and_priority, self.date_time)
        out["specs"] = [s.to_json() for s in self.specs]
        out["data"] = [d.to_json() for d in self.data]
        protected = self.protected_attributes
        if protected is not None:
            out["protected_attributes"] = protected.to_json()
        return out


def protected_attributes_request(
    objects: Sequence[ProtectedObject | tuple[int, Obis | str, int]],
    *,
    originator: bytes,
    recipient: bytes,
    counter: int,
    restriction_from: bytes | CosemDateTime | None = None,
    restriction_to: bytes | CosemDateTime | None = None,
    instance: Obis | str = DEFAULT_PROTECTION_INSTANCE,
) -> AccessRequest:
    """A sensitive read (ECS17b/ECS22b style): class 30 ``instance`` method 1 (§1.6).

    ``objects`` are ProtectedObjects or ``(class id, logical name, attribute)``; the latter get the
    restriction window when both ends are given (ECS22b) and none otherwise (ECS17b). The
    transaction id carries ``counter``, whose low 24 bits also form the invoke id.
    """

    def raw(when: bytes | CosemDateTime) -> bytes:
        return when.to_bytes() if isinstance(when, CosemDateTime) else when

    listed: list[ProtectedObject] = []
    for obj in objects:
        if isinstance(obj, ProtectedObject):
            listed.append(obj)
        elif restriction_from is not None and restriction_to is not None:
            listed.append(ProtectedObject.by_date(*obj, raw(restriction_from), raw(restriction_to)))
        else:
            cid, name, attr = obj
            listed.append(ProtectedObject(class_id=cid, instance=Obis.of(name), attribute_id=attr))
    param = get_protected_attributes(
        listed, originator=originator, recipient=recipient, counter=counter
    )
    return AccessRequest.action(
        DATA_PROTECTION_CLASS,
        instance,
        GET_PROTECTED_ATTRIBUTES,
        param.to_data(),
        invoke_id=counter,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessResponse(_ApduHeader):
    """``DA``: Data items (null for set/action and failures) and one result per request spec."""

    tag: ClassVar[int] = ACCESS_RESPONSE
    invoke_id_and_priority: int
    data: tuple[Data, ...]
    results: tuple[ResponseSpec, ...]
    date_time: bytes = b""
    #: the optional echo of the request specs (absent, ``00``, in every vector).
    spec_echo: tuple[RequestSpec, ...] | None = None
    #: non-minimal widths of (date-time length, echo count, data count, result count).
    length_widths: tuple[int | None, ...] = field(default=(), repr=False)

    @classmethod
    def build(
        cls,
        items: Sequence[tuple[Data, ResponseSpec]],
        *,
        invoke_id: int,
        flags: int = DEFAULT_FLAGS,
    ) -> AccessResponse:
        return cls(
            invoke_id_and_priority=_invoke(invoke_id, flags),
            data=tuple(d for d, _ in items),
            results=tuple(r for _, r in items),
        )

    @property
    def protected(self) -> tuple[ProtectedContent, ...]:
        """Sensitive contents among the items, with their decrypt outcome."""
        return protected_contents(self.data)

    def to_bytes(self) -> bytes:
        w = self.length_widths
        parts = [
            _header_bytes(ACCESS_RESPONSE, self.invoke_id_and_priority, self.date_time, _w(w, 0))
        ]
        if self.spec_echo is None:
            parts.append(b"\x00")
        else:
            parts.append(b"\x01" + length_bytes(len(self.spec_echo), _w(w, 1)))
            parts.extend(s.to_bytes() for s in self.spec_echo)
        parts.append(length_bytes(len(self.data), _w(w, 2)))
        for item in self.data:
            encode_into(item, parts)
        parts.append(length_bytes(len(self.results), _w(w, 3)))
        parts.extend(r.to_bytes() for r in self.results)
        return b"".join(parts)

    def to_json(self) -> JsonValue:
        out = _header_json("access-response", self.invoke_id_and_priority, self.date_time)
        if self.spec_echo is not None:
            out["spec_echo"] = [s.to_json() for s in self.spec_echo]
        out["data"] = [d.to_json() for d in self.data]
        out["results"] = [r.to_json() for r in self.results]
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DataNotification(_ApduHeader):
    """``0F``: a GBCS DLMS alert, value = structure{alert code, alert date-time, …} (§1.5)."""

    tag: ClassVar[int] = DATA_NOTIFICATION
    invoke_id_and_priority: int
    value: Data
    date_time: bytes = b""
    length_widths: tuple[int | None, ...] = field(default=(), repr=False)

    @classmethod
    def alert(
        cls,
        alert_code: int,
        when: CosemDateTime | bytes,
        *extra: Data,
        invoke_id: int,
        flags: int = DEFAULT_FLAGS,
    ) -> DataNotification:
        stamp = when.to_bytes() if isinstance(when, CosemDateTime) else when
        items = (LongUnsigned(value=alert_code), OctetString(value=stamp), *extra)
        return cls(invoke_id_and_priority=_invoke(invoke_id, flags), value=Structure(items=items))

    @property
    def items(self) -> tuple[Data, ...]:
        return self.value.items if isinstance(self.value, Structure) else ()

    @property
    def alert_code(self) -> int | None:
        items = self.items
        return items[0].value if items and isinstance(items[0], LongUnsigned) else None

    @property
    def alert_date_time(self) -> CosemDateTime | None:
        items = self.items
        if len(items) > 1 and isinstance(items[1], OctetString) and len(items[1].value) == 12:
            return CosemDateTime.from_bytes(items[1].value)
        return None

    @property
    def protected(self) -> tuple[ProtectedContent, ...]:
        return protected_contents((self.value,))

    def to_bytes(self) -> bytes:
        head = _header_bytes(
            DATA_NOTIFICATION,
            self.invoke_id_and_priority,
            self.date_time,
            _w(self.length_widths, 0),
        )
        return head + self.value.to_bytes()

    def to_json(self) -> JsonValue:
        out = _header_json("data-notification", self.invoke_id_and_priority, self.date_time)
        code = self.alert_code
        if code is not None:
            out["alert_code"] = code
        stamp = self.alert_date_time
        if stamp is not None:
            out["alert_date_time"] = stamp.text()
        out["value"] = self.value.to_json()
        return out


DlmsPayload: TypeAlias = AccessRequest | AccessResponse | DataNotification
