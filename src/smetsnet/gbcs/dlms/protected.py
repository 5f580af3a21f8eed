"""Protected attributes: GBCS sensitive reads through COSEM class 30 (GBCS-PAYLOADS §1.6).

Request: action on class 30 (Data Protection) ``0-0:43.2.x.255`` method 1 whose parameter is
structure{object list, protection parameters}. Response item: structure{protection parameters
(titles swapped), octet-string ``31`` ‖ invocation counter ‖ ciphertext ‖ 12-byte tag}. The ECS68
billing-data-log alert (0x0061) carries the same pair as the last items of its structure [P].

The wire form stays plain Data (so re-encoding is exact); the classes here are typed *views* of it
(``from_data`` returns ``None`` when the shape does not match) and builders (``to_data``). The one
node that changes is the ciphered octet-string: :func:`open_protected` turns it into a
:class:`ProtectedContent` holding the decrypt outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.dlms.axdr import decode_data
from smetsnet.gbcs.dlms.data import (
    NULL,
    Array,
    Data,
    Enumerated,
    Integer,
    LongUnsigned,
    OctetString,
    ProtectedContent,
    Structure,
)
from smetsnet.gbcs.dlms.obis import Obis
from smetsnet.gbcs.payload import (
    GCM_TAG_LENGTH,
    SENSITIVE_SECURITY_CONTROL,
    CipheredContent,
    Decryptor,
    JsonValue,
)
from smetsnet.gbcs.reader import Reader

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
        def s(*items: Data) -> Structure:
            return Structure(items=items)

        def o(value: bytes) -> OctetString:
            return OctetString(value=value)

        key_info = s(
            Enumerated(value=self.key_info_type),
            s(o(self.key_parameters), o(self.key_ciphered_data)),
        )
        return s(
            Enumerated(value=self.protection_type),
            s(
                o(self.transaction_id),
                o(self.originator),
                o(self.recipient),
                o(self.other_information),
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
        return Structure(
            items=(
                LongUnsigned(value=self.class_id),
                OctetString(value=self.instance.code),
                Integer(value=self.attribute_id),
                LongUnsigned(value=self.data_index),
                Structure(items=(Enumerated(value=self.restriction_type), self.restriction)),
            )
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
        return Structure(
            items=(
                Array(items=tuple(o.to_data() for o in self.objects)),
                Array(items=tuple(p.to_data() for p in self.parameters)),
            )
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
def _looks_ciphered(node: Data) -> bool:
    return (
        type(node) is OctetString
        and len(node.value) >= 5 + GCM_TAG_LENGTH
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


def open_protected(node: Data, d: bytes, base: int, after: int, decrypt: Decryptor | None) -> Data:
    """Replace the ciphered octet-string of a protected item (§1.6) by a ProtectedContent.

    ``node`` is a top-level response item or a notification's value, decoded from ``d`` (which
    starts at absolute offset ``base``) somewhere after position ``after``; the content's offset
    (for error reports) is found there. Anything not shaped like {…, protection parameters,
    31‖…} is returned unchanged.
    """
    if not isinstance(node, Structure) or len(node.items) < 2:
        return node
    last = node.items[-1]
    if not _looks_ciphered(last) or not _looks_like_parameters(node.items[-2]):
        return node
    assert isinstance(last, OctetString)
    n = len(last.value)
    at = base + max(d.find(last.value, after), 0)
    ciphered = CipheredContent.read(Reader(last.value, base=at), n, "protected.content")
    outcome = ciphered.open(decrypt)
    value: Data | None = None
    error: str | None = None
    if outcome.status == "decrypted" and outcome.plaintext is not None:
        try:
            value = decode_data(outcome.plaintext, field="plaintext")
        except GbcsDecodeError as exc:
            error = str(exc)
    content = ProtectedContent(
        ciphered=ciphered,
        status=outcome.status,
        plaintext=outcome.plaintext,
        value=value,
        error=error,
        width=last.width,
    )
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
