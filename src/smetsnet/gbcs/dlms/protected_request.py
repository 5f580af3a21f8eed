"""Fast path for the data list of a sensitive read request (ECS17b, ECS22b, …; §1.6).

Every sensitive read the hub sends carries one class-30 "get protected attributes" parameter:
structure{array(1){structure{class id, logical name, attribute, data index, structure{restriction
type, null or {from, to}}}}, array(1){protection parameters}}. The generic Data decoder reads its
ten containers one call each, which is most of the cost of decoding the command (the device
decodes each one, so does the comms hub). Here one masked comparison per part checks the shape
and the nodes are built directly: the same (equal) nodes the generic decoder gives, which takes
over for any other layout and reports every error.
"""

from __future__ import annotations

from smetsnet.gbcs.dlms.data import NULL, Data, LongUnsigned
from smetsnet.gbcs.dlms.protected import (
    _EMPTY,
    _ENUMS,
    _INTEGERS,
    _SHORT_STRINGS,
    _array,
    _octet_string,
    _set_int,
    _structure,
    _template,
)

_new = object.__new__

#: From the data count to the restriction: count 1, structure(2){array(1){structure(5){
#: long-unsigned class id, octet-string(6) logical name, integer attribute, long-unsigned data
#: index, structure(2){enum restriction type, …}}}} (offsets below refer to this layout).
_OBJECT_SIZE, _OBJECT_MASK, _OBJECT = _template(
    "01 0202 0101 0205 12.... 0906 ............ 0f.. 12.... 0202 16.."
)
#: The restriction by date: structure{octet-string(12) from, octet-string(12) to}.
_WINDOW_SIZE, _WINDOW_MASK, _WINDOW = _template(
    "0202 090c ........................ 090c ........................"
)
#: The protection parameters: array(1){structure{enum, structure{transaction id (9), originator
#: (8), recipient (8), other information (0), structure{enum, structure{key parameters (1),
#: ciphered key (0)}}}}} (as in the responses' protected item).
_PARAMETERS_SIZE, _PARAMETERS_MASK, _PARAMETERS = _template(
    "0101 0202 16.. 0205 0909 .................. 0908 ................ 0908 ................"
    "0900 0202 16.. 0202 0901 .. 0900"
)


def _matches(d: bytes, p: int, size: int, mask: int, template: int) -> bool:
    return int.from_bytes(d[p : p + size], "big") & mask == template


def _long_unsigned(d: bytes, p: int) -> LongUnsigned:
    node: LongUnsigned = _new(LongUnsigned)
    _set_int(node, d[p] << 8 | d[p + 1])
    return node


def read_protected_request(d: bytes, p: int, end: int) -> tuple[Data, ...] | None:
    """The data list at ``d[p]`` (its count) when it is exactly one such parameter and ends the
    payload at ``end``; ``None`` otherwise (then the generic decoder decides)."""
    o = p + _OBJECT_SIZE  # the restriction
    if o >= end or not _matches(d, p, _OBJECT_SIZE, _OBJECT_MASK, _OBJECT):
        return None
    restriction: Data
    if d[o] == 0x00:
        restriction, q = NULL, o + 1
    elif o + _WINDOW_SIZE <= end and _matches(d, o, _WINDOW_SIZE, _WINDOW_MASK, _WINDOW):
        start, stop = _octet_string(d, o + 4, o + 16), _octet_string(d, o + 18, o + 30)
        restriction, q = _structure(start, stop), o + _WINDOW_SIZE
    else:
        return None
    if q + _PARAMETERS_SIZE != end or not _matches(
        d, q, _PARAMETERS_SIZE, _PARAMETERS_MASK, _PARAMETERS
    ):
        return None
    protected_object = _structure(
        _long_unsigned(d, p + 8),
        _octet_string(d, p + 12, p + 18),
        _INTEGERS[d[p + 19]],
        _long_unsigned(d, p + 21),
        _structure(_ENUMS[d[p + 26]], restriction),
    )
    key_info = _structure(_ENUMS[d[q + 44]], _structure(_SHORT_STRINGS[d[q + 49]], _EMPTY))
    options = _structure(
        _octet_string(d, q + 10, q + 19),
        _octet_string(d, q + 21, q + 29),
        _octet_string(d, q + 31, q + 39),
        _EMPTY,
        key_info,
    )
    parameters = _array((_structure(_ENUMS[d[q + 5]], options),))
    return (_structure(_array((protected_object,)), parameters),)


__all__ = ["read_protected_request"]
