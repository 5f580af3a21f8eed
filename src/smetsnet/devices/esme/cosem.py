"""A COSEM object server: (class id, OBIS, attribute) -> getter / setter, (class, OBIS, method) ->
method, answered generically for GET, SET, ACTION and GET-with-selection.

Attributes without a handler of their own fall back to a store of the values last SET (encoded
A-XDR, so the state stays plain bytes); reading one never set answers "object unavailable" (11).
Profile buffers (class 7, attribute 2) are answered from columns with a range selection by time
(selector 1, GBCS-PAYLOADS §1.7) or a protected-attributes date restriction (§1.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from smetsnet.gbcs.dlms import (
    NULL,
    ActionSpec,
    CosemDateTime,
    Data,
    DoubleLongUnsigned,
    GetSpec,
    GetWithSelectionSpec,
    OctetString,
    ResponseSpec,
    SetSpec,
    Structure,
    decode_data,
    seconds_since_2000,
)
from smetsnet.gbcs.frame import GroupingHeader

if TYPE_CHECKING:
    from smetsnet.devices.core.device import Alert
    from smetsnet.devices.esme.state import EsmeState

SUCCESS, HARDWARE_FAULT, TEMPORARY_FAILURE, DENIED, UNDEFINED = 0, 1, 2, 3, 4
UNAVAILABLE, TYPE_UNMATCHED, OTHER = 11, 12, 250
PROFILE_CLASS, BUFFER = 7, 2
#: Access-Response result choices (GBCS-PAYLOADS §1.5).
GET, SET, ACTION = 1, 2, 3

Key = tuple[int, str, int]


@dataclass(slots=True, kw_only=True)
class Context:
    """One command being executed: the state, the device clock, the header, what it raised."""

    state: EsmeState
    now: datetime
    header: GroupingHeader
    top_up: Callable[[Context, Data], int] | None = None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def clock(self) -> int:
        """Device time, seconds since 2000."""
        return seconds_since_2000(self.now) + self.state.clock_offset_s


Getter = Callable[[Context], Data]
Setter = Callable[[Context, Data], int]
Method = Callable[[Context, Data], int]
#: (context, from, to) in seconds since 2000 -> the buffer rows in that window
Buffer = Callable[[Context, int, int], Data]


@dataclass(slots=True, kw_only=True)
class ObjectServer:
    getters: dict[Key, Getter] = field(default_factory=dict)
    setters: dict[Key, Setter] = field(default_factory=dict)
    methods: dict[Key, Method] = field(default_factory=dict)
    buffers: dict[str, Buffer] = field(default_factory=dict)
    default_buffer: Buffer | None = None

    def answer(self, ctx: Context, spec: object, data: Data) -> tuple[Data, ResponseSpec]:
        """One Access-Request spec answered from the handlers (a device intercepts the
        actions it answers itself before calling this)."""
        if isinstance(spec, GetWithSelectionSpec):
            key = (spec.class_id, str(spec.instance), spec.attribute_id)
            value, result = self.select(ctx, key, spec.selector, spec.parameter)
            return value, ResponseSpec(choice=GET, result=result)
        if isinstance(spec, GetSpec):
            value, result = self.get(ctx, (spec.class_id, str(spec.instance), spec.attribute_id))
            return value, ResponseSpec(choice=GET, result=result)
        if isinstance(spec, SetSpec):
            result = self.set(ctx, (spec.class_id, str(spec.instance), spec.attribute_id), data)
            return NULL, ResponseSpec(choice=SET, result=result)
        if isinstance(spec, ActionSpec):
            result = self.action(ctx, (spec.class_id, str(spec.instance), spec.method_id), data)
            return NULL, ResponseSpec(choice=ACTION, result=result)
        return NULL, ResponseSpec(choice=GET, result=UNDEFINED)

    def get(self, ctx: Context, key: Key) -> tuple[Data, int]:
        getter = self.getters.get(key)
        if getter is not None:
            return getter(ctx), SUCCESS
        if key[0] == PROFILE_CLASS and key[2] == BUFFER:
            return self.buffer(ctx, key[1], 0, 0xFFFFFFFF), SUCCESS
        stored = ctx.state.objects.get(_name(key))
        if stored is None:
            return NULL, UNAVAILABLE
        return decode_data(stored), SUCCESS

    def set(self, ctx: Context, key: Key, value: Data) -> int:
        setter = self.setters.get(key)
        result = setter(ctx, value) if setter is not None else SUCCESS
        if result == SUCCESS:
            ctx.state.objects[_name(key)] = value.to_bytes()
        return result

    def action(self, ctx: Context, key: Key, parameter: Data) -> int:
        method = self.methods.get(key)
        return method(ctx, parameter) if method is not None else SUCCESS

    def buffer(self, ctx: Context, obis: str, start: int, end: int) -> Data:
        handler = self.buffers.get(obis, self.default_buffer)
        return handler(ctx, start, end) if handler is not None else NULL

    def select(self, ctx: Context, key: Key, selector: int, parameter: Data) -> tuple[Data, int]:
        """GET-with-selection: range descriptor (selector 1) on a profile buffer."""
        if key[0] != PROFILE_CLASS or key[2] != BUFFER or selector != 1:
            return NULL, UNDEFINED
        window = range_window(parameter)
        if window is None:
            return NULL, TYPE_UNMATCHED
        return self.buffer(ctx, key[1], *window), SUCCESS


def _name(key: Key) -> str:
    return f"{key[0]}/{key[1]}/{key[2]}"


def time_value(node: Data) -> int | None:
    """Seconds since 2000 of a range bound: double-long-unsigned, or a 12-byte date-time."""
    if isinstance(node, DoubleLongUnsigned):
        return node.value
    if isinstance(node, OctetString) and len(node.value) == 12:
        when = CosemDateTime.from_bytes(node.value).to_datetime()
        if when is None:
            return None
        # Unspecified deviation: GBCS device times are UTC.
        return seconds_since_2000(when if when.tzinfo else when.replace(tzinfo=UTC))
    return None


def range_window(parameter: Data) -> tuple[int, int] | None:
    """(from, to) of a range descriptor structure{restricting object, from, to, columns}."""
    if not isinstance(parameter, Structure) or len(parameter.items) < 3:
        return None
    start, end = time_value(parameter.items[1]), time_value(parameter.items[2])
    return None if start is None or end is None else (start, end)


def date_window(window: tuple[bytes, bytes] | None) -> tuple[int, int]:
    """A protected-attributes restriction (two date-times) as seconds since 2000."""
    if window is None:
        return 0, 0xFFFFFFFF
    start = time_value(OctetString(value=window[0]))
    end = time_value(OctetString(value=window[1]))
    return (start or 0, 0xFFFFFFFF if end is None else end)
