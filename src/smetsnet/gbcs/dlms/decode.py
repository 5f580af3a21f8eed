"""Entry point: decode a GBCS DLMS payload (``D9`` / ``DA`` / ``0F``) into typed nodes.

Offsets in errors are absolute in the whole message (``base`` is the payload's offset in it),
fields are paths such as ``payload.specs[1].parameter[0][2]``. Trailing bytes are an error.
Protected items (§1.6) are recognised by shape, whatever the message code, and opened with
``decrypt`` (status ``"no-key"`` when it is ``None``).

Speed: a typical payload is ~40 bytes, so fixed per-payload work dominates. The decoders index
the bytes directly with one bounds check per field (instead of a Reader call per primitive) and
raise :class:`DataError` with relative offsets, turned into :class:`GbcsDecodeError` once here.
"""

from __future__ import annotations

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.dlms.apdu import (
    ACCESS_REQUEST,
    ACCESS_RESPONSE,
    DATA_NOTIFICATION,
    AccessRequest,
    AccessResponse,
    DataNotification,
    DlmsPayload,
)
from smetsnet.gbcs.dlms.axdr import read_at, read_list
from smetsnet.gbcs.dlms.data import Data, DataError, OctetString, Structure, read_length
from smetsnet.gbcs.dlms.protected import open_protected, read_protected_item
from smetsnet.gbcs.dlms.protected_request import read_protected_request
from smetsnet.gbcs.dlms.specs import RESULTS, RequestSpec, ResponseSpec, read_spec
from smetsnet.gbcs.payload import Decryptor

_new = object.__new__
_set = object.__setattr__


def _count(d: bytes, p: int, end: int, field: str, min_size: int) -> tuple[int, int, int | None]:
    """A SEQUENCE OF count at ``d[p]``: ``(n, next position, width if non-minimal)``, checked
    against what ``min_size``-byte elements could fill."""
    if p < end and d[p] < 0x80:
        n, q, width = d[p], p + 1, None
    else:
        n, q, width = read_length(d, p, end, field)
    if n * min_size > end - q:
        raise DataError(p, field, f"{n} elements cannot fit in {end - q} bytes")
    return n, q, width


def _header(d: bytes, end: int) -> tuple[int, bytes, int | None, int]:
    """Invoke id and date-time: ``(invoke, date_time, width, next position)``."""
    if end < 6:
        raise DataError(1, "payload.invoke_id", f"the APDU header needs 6 bytes, {end} given")
    invoke = int.from_bytes(d[1:5], "big")
    if d[5] < 0x80:
        n, p, width = d[5], 6, None
    else:
        n, p, width = read_length(d, 5, end, "payload.date_time.length")
    if n > end - p:
        raise DataError(5, "payload.date_time.length", f"{n} bytes announced, {end - p} remain")
    return invoke, (d[p : p + n] if n else b""), width, p + n


def _maybe_protected(item: Data) -> bool:
    """Cheap pre-check (a structure ending in an octet-string that starts with 0x31)."""
    last = item.items[-1] if isinstance(item, Structure) and item.items else None
    return isinstance(last, OctetString) and last.value[:1] == b"\x31"


_SPEC_LISTS: dict[bytes, tuple[RequestSpec, ...]] = {}
_RESULT_LISTS: dict[bytes, tuple[ResponseSpec, ...]] = {}
_MAX_LISTS = 4096


def _specs(
    d: bytes, p: int, end: int, field: str
) -> tuple[tuple[RequestSpec, ...], int, int | None]:
    """The specs; a list of plain (10-byte) specs is shared through a cache keyed by its bytes
    (commands of one kind repeat it exactly, and the nodes are immutable)."""
    n, p, width = _count(d, p, end, field + ".count", 10)
    key = d[p : p + 10 * n]
    cached = _SPEC_LISTS.get(key)
    if cached is not None:
        return cached, p + 10 * n, width
    specs = []
    i = 0
    try:
        for i in range(n):  # noqa: B007 (i names the failing spec)
            spec, p = read_spec(d, p, end)
            specs.append(spec)
    except DataError as e:
        e.field = f"{field}[{i}]{e.field}"
        raise
    out = tuple(specs)
    if all(s.CHOICE <= 3 for s in out):  # plain specs only: then key holds them all
        if len(_SPEC_LISTS) >= _MAX_LISTS:
            _SPEC_LISTS.clear()
        _SPEC_LISTS[key] = out
    return out, p, width


def _items(d: bytes, p: int, end: int) -> tuple[tuple[Data, ...], int, int | None]:
    try:
        return read_list(d, p, end)
    except DataError as e:
        e.field = "payload.data" + e.field
        raise


def _request(d: bytes, end: int) -> AccessRequest:
    invoke, date_time, w0, p = _header(d, end)
    specs, p, w1 = _specs(d, p, end, "payload.specs")
    fast = read_protected_request(d, p, end) if d[p : p + 3] == b"\x01\x02\x02" else None
    if fast is not None:  # a sensitive read (ECS17b, ECS22b…): its usual layout, read at once
        items, p, w2 = fast, end, None
    else:
        items, p, w2 = _items(d, p, end)
    if p != end:
        raise DataError(p, "payload", f"{end - p} unexpected trailing byte(s)")
    node = _new(AccessRequest)
    _set(node, "invoke_id_and_priority", invoke)
    _set(node, "specs", specs)
    _set(node, "data", items)
    _set(node, "date_time", date_time)
    _set(node, "length_widths", () if w0 is w1 is w2 is None else (w0, w1, w2))
    return node


def _results(d: bytes, p: int, end: int) -> tuple[tuple[ResponseSpec, ...], int, int | None]:
    n, p, width = _count(d, p, end, "payload.results.count", 2)
    key = d[p : p + 2 * n]
    out = _RESULT_LISTS.get(key)
    if out is None:
        specs = []
        for i in range(n):
            choice = d[p + 2 * i]
            if not 1 <= choice <= 3:
                raise DataError(
                    p + 2 * i, f"payload.results[{i}].choice", f"unknown CHOICE {choice}"
                )
            specs.append(RESULTS[choice][d[p + 2 * i + 1]])
        out = tuple(specs)
        if len(_RESULT_LISTS) >= _MAX_LISTS:
            _RESULT_LISTS.clear()
        _RESULT_LISTS[key] = out
    return out, p + 2 * n, width


def _response_items(
    d: bytes, p: int, end: int, decrypt: Decryptor | None
) -> tuple[tuple[Data, ...], int, int | None]:
    """The data list of a response, its protected items (§1.6) opened."""
    if d[p : p + 3] == b"\x01\x02\x02":  # one structure(2): the protected item of §1.6?
        found = read_protected_item(d, p + 1, end, decrypt)
        if found is not None:
            return (found[0],), found[1], None
    items, p, width = _items(d, p, end)
    for item in items:
        if item.TAG == 0x02 and _maybe_protected(item):
            return tuple(open_protected(x, decrypt) for x in items), p, width
    return items, p, width


def _response(d: bytes, end: int, decrypt: Decryptor | None) -> AccessResponse:
    invoke, date_time, w0, p = _header(d, end)
    echo: tuple[RequestSpec, ...] | None = None
    w1 = None
    present = d[p] if p < end else -1
    if present == 1:
        echo, p, w1 = _specs(d, p + 1, end, "payload.spec_echo")
    elif present == 0:
        p += 1
    else:
        raise DataError(p, "payload.spec_echo", "OPTIONAL marker must be 00 or 01")
    items, p, w2 = _response_items(d, p, end, decrypt)
    results, p, w3 = _results(d, p, end)
    if p != end:
        raise DataError(p, "payload", f"{end - p} unexpected trailing byte(s)")
    node = _new(AccessResponse)
    _set(node, "invoke_id_and_priority", invoke)
    _set(node, "data", items)
    _set(node, "results", results)
    _set(node, "date_time", date_time)
    _set(node, "spec_echo", echo)
    _set(node, "length_widths", () if w0 is w1 is w2 is w3 is None else (w0, w1, w2, w3))
    return node


def _notification(d: bytes, end: int, decrypt: Decryptor | None) -> DataNotification:
    invoke, date_time, w0, p = _header(d, end)
    try:
        value, p = read_at(d, p, end)
    except DataError as e:
        e.field = "payload.value" + e.field
        raise
    if p != end:
        raise DataError(p, "payload", f"{end - p} unexpected trailing byte(s)")
    if value.TAG == 0x02 and _maybe_protected(value):
        # ECS68 (0x0061) carries protection parameters + ciphered data [P]
        value = open_protected(value, decrypt)
    node = _new(DataNotification)
    _set(node, "invoke_id_and_priority", invoke)
    _set(node, "value", value)
    _set(node, "date_time", date_time)
    _set(node, "length_widths", (w0,) if w0 is not None else ())
    return node


def decode_dlms_payload(
    data: bytes, *, message_code: int, base: int = 0, decrypt: Decryptor | None = None
) -> DlmsPayload:
    """Decode a whole DLMS payload. ``message_code`` is accepted for the frame layer's uniform
    call; the APDU tag and the shapes of the items decide everything here."""
    del message_code
    if type(data) is not bytes:  # deferred arrays and numpy columns keep views of the input
        data = bytes(data)
    end = len(data)
    try:
        tag = data[0] if end else -1
        if tag == ACCESS_REQUEST:
            return _request(data, end)
        if tag == ACCESS_RESPONSE:
            return _response(data, end, decrypt)
        if tag == DATA_NOTIFICATION:
            return _notification(data, end, decrypt)
        what = f"0x{tag:02X} is" if end else "an empty payload is"
        raise DataError(0, "payload.tag", f"{what} not a DLMS APDU (D9, DA or 0F)")
    except DataError as e:
        raise GbcsDecodeError(base + e.offset, e.field, e.reason) from None
