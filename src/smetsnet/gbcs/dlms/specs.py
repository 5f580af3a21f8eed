"""Access-request and access-response specifications (GBCS-PAYLOADS §1.1, §1.2).

Request spec CHOICE: 1 get, 2 set, 3 action, 4 get-with-selection, 5 set-with-selection (4 and 5
as in xDLMS; GBCS uses 1-4). Descriptor = class id (2) + OBIS instance (6) + attribute or method
id (1); 4 and 5 add the access selector (1 byte: 1 range, 2 entry) and its parameter (one Data).
Response spec = CHOICE (1 get, 2 set, 3 action) + result code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.dlms.axdr import read_at
from smetsnet.gbcs.dlms.data import Data, DataError
from smetsnet.gbcs.dlms.obis import METHOD_NAMES, Obis, class_name, obis_name
from smetsnet.gbcs.payload import JsonValue

KINDS = {1: "get", 2: "set", 3: "action", 4: "get-with-selection", 5: "set-with-selection"}
#: Data-Access-Result / Action-Result names (DLMS; §1.2; 15/16 name the get and action variants).
RESULT_NAMES: dict[int, str] = {
    0: "success",
    1: "hardware-fault",
    2: "temporary-failure",
    3: "read-write-denied",
    4: "object-undefined",
    9: "object-class-inconsistent",
    11: "object-unavailable",
    12: "type-unmatched",
    13: "scope-of-access-violated",
    14: "data-block-unavailable",
    15: "long-operation-aborted",
    16: "no-long-operation-in-progress",
    17: "long-set-aborted",
    18: "no-long-set-in-progress",
    19: "data-block-number-invalid",
    250: "other-reason",
}


def _spec_json(
    choice: int, class_id: int, instance: Obis, member: str, member_id: int
) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "kind": KINDS[choice],
        "class_id": class_id,
        "class": class_name(class_id),
        "instance": str(instance),
        member: member_id,
    }
    name = obis_name(instance.code)
    if name is not None:
        out["name"] = name
    method = METHOD_NAMES.get((class_id, member_id)) if member == "method_id" else None
    if method is not None:
        out["method"] = method
    return out


def _check(class_id: int, member: int) -> None:
    if not 0 <= class_id <= 0xFFFF or not 0 <= member <= 0xFF:
        raise GbcsEncodeError("spec", f"class {class_id} / member {member} out of range")


@dataclass(frozen=True, slots=True, kw_only=True)
class _AttributeSpec:
    CHOICE: ClassVar[int]
    class_id: int
    instance: Obis
    attribute_id: int

    def __post_init__(self) -> None:
        _check(self.class_id, self.attribute_id)

    def to_bytes(self) -> bytes:
        head = bytes((self.CHOICE,)) + self.class_id.to_bytes(2, "big")
        return head + self.instance.code + bytes((self.attribute_id,))

    def to_json(self) -> JsonValue:
        c = self.CHOICE
        return _spec_json(c, self.class_id, self.instance, "attribute_id", self.attribute_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSpec(_AttributeSpec):
    CHOICE: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSpec(_AttributeSpec):
    CHOICE: ClassVar[int] = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    CHOICE: ClassVar[int] = 3
    class_id: int
    instance: Obis
    method_id: int

    def __post_init__(self) -> None:
        _check(self.class_id, self.method_id)

    def to_bytes(self) -> bytes:
        head = b"\x03" + self.class_id.to_bytes(2, "big")
        return head + self.instance.code + bytes((self.method_id,))

    def to_json(self) -> JsonValue:
        return _spec_json(3, self.class_id, self.instance, "method_id", self.method_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class _SelectiveSpec(_AttributeSpec):
    selector: int
    parameter: Data

    def to_bytes(self) -> bytes:
        head = _AttributeSpec.to_bytes(self)
        return head + bytes((self.selector,)) + self.parameter.to_bytes()

    def to_json(self) -> JsonValue:
        c = self.CHOICE
        out = _spec_json(c, self.class_id, self.instance, "attribute_id", self.attribute_id)
        out["selector"] = self.selector
        out["parameter"] = self.parameter.to_json()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class GetWithSelectionSpec(_SelectiveSpec):
    """Get with an access selector (1 = range descriptor, 2 = entry descriptor)."""

    CHOICE: ClassVar[int] = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class SetWithSelectionSpec(_SelectiveSpec):
    CHOICE: ClassVar[int] = 5


RequestSpec: TypeAlias = (
    GetSpec | SetSpec | ActionSpec | GetWithSelectionSpec | SetWithSelectionSpec
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseSpec:
    """One access-response-specification: CHOICE (1 get, 2 set, 3 action) + result code."""

    choice: int
    result: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.choice <= 0xFF or not 0 <= self.result <= 0xFF:
            raise GbcsEncodeError("result", f"choice {self.choice} / result {self.result}")

    @property
    def kind(self) -> str:
        return KINDS.get(self.choice, f"choice {self.choice}")

    @property
    def result_name(self) -> str:
        return RESULT_NAMES.get(self.result, f"result {self.result}")

    @property
    def ok(self) -> bool:
        return self.result == 0

    def to_bytes(self) -> bytes:
        return bytes((self.choice, self.result))

    def to_json(self) -> JsonValue:
        return {"kind": self.kind, "result": self.result, "result_name": self.result_name}


# -- decoding --------------------------------------------------------------------------------------
# Specs and results repeat across messages (the same get on the same object), and the nodes are
# immutable, so plain specs are shared through a bounded cache keyed by their 10 bytes and every
# (choice, result) pair is built once.
_SPECS: dict[bytes, RequestSpec] = {}
_MAX_SPECS = 4096
_ATTRIBUTE: dict[int, type[GetSpec | SetSpec]] = {1: GetSpec, 2: SetSpec}
_SELECTIVE: dict[int, type[GetWithSelectionSpec | SetWithSelectionSpec]] = {
    4: GetWithSelectionSpec,
    5: SetWithSelectionSpec,
}
RESULTS: tuple[tuple[ResponseSpec, ...], ...] = tuple(
    tuple(ResponseSpec(choice=c, result=r) for r in range(256)) for c in range(4)
)


def read_spec(d: bytes, p: int, end: int) -> tuple[RequestSpec, int]:
    """The access-request-specification at ``d[p]``; errors are DataError (relative offsets,
    fields relative to the spec)."""
    q = p + 10
    if q > end:
        raise DataError(p, "", f"a specification needs 10 bytes, {end - p} remain")
    key = d[p:q]
    spec = _SPECS.get(key)
    if spec is not None:
        return spec, q
    choice = d[p]
    instance = Obis(code=key[3:9])
    class_id = (d[p + 1] << 8) | d[p + 2]
    member = d[p + 9]
    attribute = _ATTRIBUTE.get(choice)
    if attribute is not None or choice == ActionSpec.CHOICE:
        if attribute is None:
            spec = ActionSpec(class_id=class_id, instance=instance, method_id=member)
        else:
            spec = attribute(class_id=class_id, instance=instance, attribute_id=member)
        if len(_SPECS) < _MAX_SPECS:
            _SPECS[key] = spec
        return spec, q
    selective = _SELECTIVE.get(choice)
    if selective is None:
        raise DataError(p, ".choice", f"unknown specification CHOICE {choice}")
    if q >= end:
        raise DataError(q, ".selector", "needs 1 byte, none remain")
    try:
        parameter, r = read_at(d, q + 1, end)
    except DataError as e:
        e.field = ".parameter" + e.field
        raise
    spec = selective(
        class_id=class_id,
        instance=instance,
        attribute_id=member,
        selector=d[q],
        parameter=parameter,
    )
    return spec, r
