"""Protected attributes: GBCS sensitive reads through COSEM class 30 (GBCS-PAYLOADS §1.6).

Request: action on class 30 (Data Protection) ``0-0:43.2.x.255`` method 1 whose parameter is
structure{object list, protection parameters}. Response item: structure{protection parameters
(titles swapped), octet-string ``31`` ‖ invocation counter ‖ ciphertext ‖ 12-byte tag}. The ECS68
billing-data-log alert (0x0061) carries the same pair as the last items of its structure [P].

The wire form stays plain Data (so re-encoding is exact); the classes here are typed *views* of it
(``from_data`` returns ``None`` when the shape does not match) and builders (``to_data``). The one
node that changes is the ciphered octet-string: :func:`open_protected` turns it into a
:class:`ProtectedContent` holding the decrypt outcome.

Speed: a one-day profile response (ECS22b) is mostly this item, so :func:`read_protected_item`
reads its usual layout from the bytes at once (one masked comparison, nodes built directly),
giving the same nodes as the generic Data decoder + :func:`open_protected`, which take over for
any other layout. Nothing is cached per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.dlms.axdr import read_at
from smetsnet.gbcs.dlms.compact import read_compact_array
from smetsnet.gbcs.dlms.data import (
    NULL,
    Array,
    Data,
    DataError,
    Enumerated,
    Integer,
    LongUnsigned,
    OctetString,
    ProtectedContent,
    Structure,
    _Container,
    read_length,
)
from smetsnet.gbcs.dlms.obis import Obis
from smetsnet.gbcs.dlms.scalars import _Int, _String
from smetsnet.gbcs.payload import (
    GCM_TAG_LENGTH,
    SENSITIVE_SECURITY_CONTROL,
    CipheredContent,
    Decrypted,
    Decryptor,
    JsonValue,
)

DATA_PROTECTION_CLASS = 30
GET_PROTECTED_ATTRIBUTES = 1
#: protection-type 2 = authentication and encryption; key-info 2 = agreed key; ``02`` = ECC CDH.
AUTHENTICATED_ENCRYPTION = 2
AGREED_KEY = 2
ECC_CDH = b"\x02"
#: Transaction id = ``04`` ‖ originator counter (8) in the vectors.
TRANSACTION_ID_PREFIX = 0x04
RESTRICTION_NONE = 0
RESTRICTION_BY_DATE = 1


def _octets(node: Data) -> bytes | None:
    return node.value if isinstance(node, OctetString) else None


def _items(node: Data, n: int) -> tuple[Data, ...] | None:
    return node.items if isinstance(node, Structure) and len(node.items) == n else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionParameters:
    """One protection-parameters element (§1.6 item 2)."""

    transaction_id: bytes
    originator: bytes
    recipient: bytes
    other_information: bytes = b""
    protection_type: int = AUTHENTICATED_ENCRYPTION
    key_info_type: int = AGREED_KEY
    key_parameters: bytes = ECC_CDH
    key_ciphered_data: bytes = b""

    @classmethod
    def for_counter(
        cls, counter: int, *, originator: bytes, recipient: bytes
    ) -> ProtectionParameters:
        tid = bytes((TRANSACTION_ID_PREFIX,)) + counter.to_bytes(8, "big")
        return cls(transaction_id=tid, originator=originator, recipient=recipient)

    @property
    def originator_counter(self) -> int | None:
        tid = self.transaction_id
        if len(tid) == 9 and tid[0] == TRANSACTION_ID_PREFIX:
            return int.from_bytes(tid[1:], "big")
        return None

    @classmethod
    def from_data(cls, node: Data) -> ProtectionParameters | None:
        """View of one structure(2){enum, structure(5){...}}; ``None`` if it is shaped otherwise."""
        outer = _items(node, 2)
        if outer is None or not isinstance(outer[0], Enumerated):
            return None
        opts = _items(outer[1], 5)
        if opts is None:
            return None
        key_info = _items(opts[4], 2)
        agreed = _items(key_info[1], 2) if key_info is not None else None
        if key_info is None or agreed is None or not isinstance(key_info[0], Enumerated):
            return None
        octets = [_octets(x) for x in (*opts[:4], *agreed)]
        if any(o is None for o in octets):
            return None
        tid, orig, recip, other, kp, kcd = (o or b"" for o in octets)
        return cls(
            transaction_id=tid,
            originator=orig,
            recipient=recip,
            other_information=other,
            protection_type=outer[0].value,
            key_info_type=key_info[0].value,
            key_parameters=kp,
            key_ciphered_data=kcd,
        )

    def to_data(self) -> Structure:
        key_info = _key_info(self.key_info_type, self.key_parameters, self.key_ciphered_data)
        return _structure(
            _enum(self.protection_type),
            _structure(
                _octets_of(self.transaction_id),
                _octets_of(self.originator),
                _octets_of(self.recipient),
                _octets_of(self.other_information),
                key_info,
            ),
        )

    def to_json(self) -> JsonValue:
        return {
            "protection_type": self.protection_type,
            "transaction_id": self.transaction_id.hex(),
            "originator_counter": self.originator_counter,
            "originator": self.originator.hex(),
            "recipient": self.recipient.hex(),
            "other_information": self.other_information.hex(),
            "key_info_type": self.key_info_type,
            "key_parameters": self.key_parameters.hex(),
            "key_ciphered_data": self.key_ciphered_data.hex(),
        }


def parameters_from_data(node: Data) -> tuple[ProtectionParameters, ...] | None:
    """View of the protection-parameters *array* (one or more elements)."""
    if not isinstance(node, Array) or not node.items:
        return None
    out = [ProtectionParameters.from_data(item) for item in node.items]
    return None if any(p is None for p in out) else tuple(p for p in out if p is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectedObject:
    """One object-list element: which attribute to read, and how its rows are restricted."""

    class_id: int
    instance: Obis
    attribute_id: int = 2
    data_index: int = 0
    restriction_type: int = RESTRICTION_NONE
    restriction: Data = NULL

    @classmethod
    def by_date(
        cls, class_id: int, instance: Obis | str, attribute_id: int, start: bytes, end: bytes
    ) -> ProtectedObject:
        """Restricted to entries from ``start`` to ``end`` (COSEM date-times, 12 bytes each)."""
        window = Structure(items=(OctetString(value=start), OctetString(value=end)))
        return cls(
            class_id=class_id,
            instance=Obis.of(instance),
            attribute_id=attribute_id,
            restriction_type=RESTRICTION_BY_DATE,
            restriction=window,
        )

    @property
    def restriction_window(self) -> tuple[bytes, bytes] | None:
        pair = _items(self.restriction, 2)
        if self.restriction_type != RESTRICTION_BY_DATE or pair is None:
            return None
        start, end = _octets(pair[0]), _octets(pair[1])
        return (start, end) if start is not None and end is not None else None

    @classmethod
    def from_data(cls, node: Data) -> ProtectedObject | None:
        f = _items(node, 5)
        if f is None:
            return None
        cls_id, name, attr, index, restr = f
        pair = _items(restr, 2)
        code = _octets(name)
        if (
            not isinstance(cls_id, LongUnsigned)
            or code is None
            or len(code) != 6
            or not isinstance(attr, Integer)
            or not isinstance(index, LongUnsigned)
            or pair is None
            or not isinstance(pair[0], Enumerated)
        ):
            return None
        return cls(
            class_id=cls_id.value,
            instance=Obis(code=code),
            attribute_id=attr.value,
            data_index=index.value,
            restriction_type=pair[0].value,
            restriction=pair[1],
        )

    def to_data(self) -> Structure:
        return _structure(
            _long_unsigned(self.class_id),
            _octets_of(self.instance.code),
            _integer(self.attribute_id),
            _long_unsigned(self.data_index),
            _structure(_enum(self.restriction_type), self.restriction),
        )

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {
            "class_id": self.class_id,
            "instance": str(self.instance),
            "attribute_id": self.attribute_id,
            "data_index": self.data_index,
            "restriction_type": self.restriction_type,
        }
        window = self.restriction_window
        if window is not None:
            out["from"], out["to"] = window[0].hex(), window[1].hex()
        elif self.restriction != NULL:
            out["restriction"] = self.restriction.to_json()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class GetProtectedAttributes:
    """The class-30 method-1 parameter: structure{object list, protection parameters}."""

    objects: tuple[ProtectedObject, ...]
    parameters: tuple[ProtectionParameters, ...]

    @classmethod
    def from_data(cls, node: Data) -> GetProtectedAttributes | None:
        pair = _items(node, 2)
        if pair is None or not isinstance(pair[0], Array):
            return None
        objects = [ProtectedObject.from_data(x) for x in pair[0].items]
        params = parameters_from_data(pair[1])
        if params is None or any(o is None for o in objects):
            return None
        return cls(objects=tuple(o for o in objects if o is not None), parameters=params)

    def to_data(self) -> Structure:
        return _structure(
            _array(tuple(o.to_data() for o in self.objects)),
            _array(tuple(p.to_data() for p in self.parameters)),
        )

    def to_json(self) -> JsonValue:
        return {
            "objects": [o.to_json() for o in self.objects],
            "parameters": [p.to_json() for p in self.parameters],
        }


def get_protected_attributes(
    objects: Sequence[ProtectedObject], *, originator: bytes, recipient: bytes, counter: int
) -> GetProtectedAttributes:
    params = ProtectionParameters.for_counter(counter, originator=originator, recipient=recipient)
    return GetProtectedAttributes(objects=tuple(objects), parameters=(params,))


# -- the response side ---------------------------------------------------------------------------
_new = object.__new__
_set_items = _Container.__dict__["items"].__set__
_set_width = _Container.__dict__["width"].__set__
_set_value = _String.__dict__["value"].__set__
_set_string_width = _String.__dict__["width"].__set__
_set_control = CipheredContent.__dict__["security_control"].__set__
_set_counter = CipheredContent.__dict__["invocation_counter"].__set__
_set_ciphertext = CipheredContent.__dict__["ciphertext"].__set__
_set_tag = CipheredContent.__dict__["tag"].__set__
_set_ciphered = ProtectedContent.__dict__["ciphered"].__set__
_set_status = ProtectedContent.__dict__["status"].__set__
_set_plaintext = ProtectedContent.__dict__["plaintext"].__set__
_set_plain_value = ProtectedContent.__dict__["value"].__set__
_set_error = ProtectedContent.__dict__["error"].__set__
_set_content_width = ProtectedContent.__dict__["width"].__set__
_ENUMS = tuple(Enumerated(value=b) for b in range(256))
#: The octet-strings of one byte, then the empty one (index 256): immutable constants.
_SHORT_STRINGS = (*(OctetString(value=bytes((b,))) for b in range(256)), OctetString(value=b""))
_EMPTY = _SHORT_STRINGS[256]
_NO_KEY = Decrypted(status="no-key")
#: Smallest ciphered content: control, invocation counter, tag (no ciphertext).
_MIN_CIPHERED = 5 + GCM_TAG_LENGTH


# -- building nodes (the builders above): the validated classes' own checks, without the cost of
# a frozen dataclass ``__init__`` per node; byte values come from shared immutable nodes.
_INTEGERS = tuple(Integer(value=b - 256 if b > 127 else b) for b in range(256))
_set_int = _Int.__dict__["value"].__set__
_KEY_INFOS: dict[tuple[int, bytes, bytes], Structure] = {}


def _enum(value: int) -> Enumerated:
    """``Enumerated(value=value)`` (which raises for a value outside 0..255)."""
    if type(value) is int and 0 <= value <= 0xFF:
        return _ENUMS[value]
    return Enumerated(value=value)


def _integer(value: int) -> Integer:
    """``Integer(value=value)`` (which raises for a value outside -128..127)."""
    if type(value) is int and -0x80 <= value <= 0x7F:
        return _INTEGERS[value & 0xFF]
    return Integer(value=value)


def _long_unsigned(value: int) -> LongUnsigned:
    """``LongUnsigned(value=value)`` (which raises for a value outside 0..65535)."""
    if type(value) is not int or not 0 <= value <= 0xFFFF:
        return LongUnsigned(value=value)
    node: LongUnsigned = _new(LongUnsigned)
    _set_int(node, value)
    return node


def _octets_of(value: bytes) -> OctetString:
    """``OctetString(value=value)`` (which checks nothing)."""
    node: OctetString = _new(OctetString)
    _set_value(node, value)
    _set_string_width(node, None)
    return node


def _array(items: tuple[Data, ...]) -> Array:
    node: Array = _new(Array)
    _set_items(node, items)
    _set_width(node, None)
    return node


def _key_info(kind: int, parameters: bytes, ciphered: bytes) -> Structure:
    """structure{enum key-info type, structure{key parameters, ciphered key}}: the same few
    values in every request and response (agreed key, ECC CDH), so the node is shared."""
    plain = type(kind) is int and type(parameters) is bytes and type(ciphered) is bytes
    key = (kind, parameters, ciphered)
    node = _KEY_INFOS.get(key) if plain else None
    if node is None:
        node = _structure(_enum(kind), _structure(_octets_of(parameters), _octets_of(ciphered)))
        if plain and len(_KEY_INFOS) < 64:
            _KEY_INFOS[key] = node
    return node


def _template(layout: str) -> tuple[int, int, int]:
    """``(size, mask, template)`` of a hex layout where ``..`` is a byte left unchecked."""
    layout = "".join(layout.split())
    mask = bytes(0 if layout[i] == "." else 0xFF for i in range(0, len(layout), 2))
    fixed = bytes.fromhex(layout.replace(".", "0"))
    return len(mask), int.from_bytes(mask, "big"), int.from_bytes(fixed, "big")


#: The protected item of every RTDS response (ECS17b, ECS22b, …; §1.6 and the worked example):
#: structure{array(1){structure{enum, structure{transaction id (9), originator (8), recipient
#: (8), other information (0), structure{enum, structure{key parameters (1), ciphered key (0)}}}}},
#: octet-string 31‖…}, up to the ciphered content's tag. Offsets below refer to this layout.
_ITEM_SIZE, _ITEM_MASK, _ITEM = _template(
    "0202 0101 0202 16.. 0205 0909 .................. 0908 ................ 0908 ................"
    "0900 0202 16.. 0202 0901 .. 0900 09"
)


def _looks_ciphered(node: Data) -> bool:
    return (
        type(node) is OctetString
        and len(node.value) >= _MIN_CIPHERED
        and node.value[0] == SENSITIVE_SECURITY_CONTROL
    )


def _looks_like_parameters(node: Data) -> bool:
    """Shape of the protection-parameters array: [structure{enum, structure(5)}, …]."""
    if not isinstance(node, Array) or not node.items:
        return False
    for item in node.items:
        pair = _items(item, 2)
        if pair is None or not isinstance(pair[0], Enumerated) or _items(pair[1], 5) is None:
            return False
    return True


def _structure(*items: Data) -> Structure:
    node: Structure = _new(Structure)
    _set_items(node, items)
    _set_width(node, None)
    return node


def _octet_string(d: bytes, start: int, stop: int) -> OctetString:
    node: OctetString = _new(OctetString)
    _set_value(node, d[start:stop])
    _set_string_width(node, None)
    return node


def read_protected_item(
    d: bytes, p: int, end: int, decrypt: Decryptor | None
) -> tuple[Structure, int] | None:
    """Fast path for the protected item of the RTDS responses (``_ITEM``) whose tag is at
    ``d[p]``: one masked comparison checks its shape. Returns the item, its content opened (as
    :func:`open_protected` would give it), and the next position; ``None`` when the bytes are
    shaped otherwise: the generic decoder then reads them (and reports any error).
    """
    q = p + _ITEM_SIZE  # the ciphered content's length
    if q >= end or int.from_bytes(d[p:q], "big") & _ITEM_MASK != _ITEM:
        return None
    n = d[q]
    if n < 0x80:
        r, width = q + 1, None
    elif n == 0x82 and q + 2 < end and d[q + 1]:  # minimal 2-byte form (ECS22b: 82 01 A3)
        n, r, width = d[q + 1] << 8 | d[q + 2], q + 3, None
    else:
        try:
            n, r, width = read_length(d, q, end, "")
        except DataError:
            return None
    if n < _MIN_CIPHERED or n > end - r or d[r] != SENSITIVE_SECURITY_CONTROL:
        return None
    key_info = _structure(_ENUMS[d[p + 46]], _structure(_SHORT_STRINGS[d[p + 51]], _EMPTY))
    tid, originator, recipient = (
        _octet_string(d, p + 12, p + 21),
        _octet_string(d, p + 23, p + 31),
        _octet_string(d, p + 33, p + 41),
    )
    options = _structure(tid, originator, recipient, _EMPTY, key_info)
    parameters = _structure(_ENUMS[d[p + 7]], options)
    array: Array = _new(Array)
    _set_items(array, (parameters,))
    _set_width(array, None)
    return _structure(array, _open(d, r, r + n, width, decrypt)), r + n


def _open(
    d: bytes, start: int, stop: int, width: int | None, decrypt: Decryptor | None
) -> ProtectedContent:
    """The ProtectedContent of the ciphered bytes ``d[start:stop]`` (already checked: 0x31, at
    least header + tag long)."""
    cut = stop - GCM_TAG_LENGTH
    counter = int.from_bytes(d[start + 1 : start + 5], "big")
    ciphertext = d[start + 5 : cut]
    tag = d[cut:stop]
    ciphered = _new(CipheredContent)
    _set_control(ciphered, SENSITIVE_SECURITY_CONTROL)
    _set_counter(ciphered, counter)
    _set_ciphertext(ciphered, ciphertext)
    _set_tag(ciphered, tag)
    outcome = _NO_KEY if decrypt is None else decrypt(counter, ciphertext, tag)
    plaintext = outcome.plaintext
    value: Data | None = None
    error: str | None = None
    if outcome.status == "decrypted" and plaintext is not None:
        value, error = _decode_plaintext(plaintext)
    content = _new(ProtectedContent)
    _set_ciphered(content, ciphered)
    _set_status(content, outcome.status)
    _set_plaintext(content, plaintext)
    _set_plain_value(content, value)
    _set_error(content, error)
    _set_content_width(content, width)
    return content


def _decode_plaintext(plaintext: bytes) -> tuple[Data | None, str | None]:
    """Exactly one Data value (offsets relative to the plaintext), or the reason why not: the
    message stays decodable when sensitive data does not parse."""
    if type(plaintext) is not bytes:
        plaintext = bytes(plaintext)
    end = len(plaintext)
    if plaintext[:3] == b"\x02\x01\x13":  # structure{compact array}: profile data (ECS22b)
        try:
            profile, q = read_compact_array(plaintext, 3, end)
        except DataError:
            q = -1  # the generic path below reports it, with its full field
        if q == end:
            return _structure(profile), None
    try:
        value, q = read_at(plaintext, 0, end)
    except DataError as e:
        return None, str(GbcsDecodeError(e.offset, "plaintext" + e.field, e.reason))
    if q != end:
        return None, str(GbcsDecodeError(q, "plaintext", f"{end - q} unexpected trailing byte(s)"))
    return value, None


def open_protected(node: Data, decrypt: Decryptor | None) -> Data:
    """Replace the ciphered octet-string of a protected item (§1.6) by a ProtectedContent.

    ``node`` is a top-level response item or a notification's value; anything not shaped like
    {…, protection parameters, 31‖…} is returned unchanged. (The ciphered bytes were checked by
    the decoder and are at least header + tag long, so opening them cannot fail.)
    """
    if not isinstance(node, Structure) or len(node.items) < 2:
        return node
    last = node.items[-1]
    if not _looks_ciphered(last) or not _looks_like_parameters(node.items[-2]):
        return node
    assert isinstance(last, OctetString)
    content = _open(last.value, 0, len(last.value), last.width, decrypt)
    return Structure(items=(*node.items[:-1], content), width=node.width)


def protected_contents(items: Sequence[Data]) -> tuple[ProtectedContent, ...]:
    """The ProtectedContent nodes among the last elements of ``items`` (response helper)."""
    found = []
    for item in items:
        if (
            isinstance(item, Structure)
            and item.items
            and isinstance(item.items[-1], ProtectedContent)
        ):
            found.append(item.items[-1])
    return tuple(found)
