"""Typed leaves of generic bodies: the name -> type table agrees with the V5.4 XSD, every typed
leaf of the templates has a value of that type, and the text written back is unchanged."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from smetsnet.duis import GenericBody, Node, Request, from_xml, to_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import LEAF_TYPES, leaf_value
from tests.support.vectors import REFERENCE

TEMPLATES = REFERENCE / "duis" / "templates"
SCHEMA = REFERENCE / "duis" / "schema"
XS = "{http://www.w3.org/2001/XMLSchema}"
INTEGERS = {
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte",
}  # fmt: skip
#: The XSD built-in bases each kind accepts (every integer is also an xs:decimal).
ALLOWED = {
    "int": INTEGERS,
    "decimal": INTEGERS | {"decimal"},
    "bool": {"boolean"},
    "date": {"date"},
    "datetime": {"dateTime"},
}
PYTHON_TYPE = {
    "int": int, "decimal": Decimal, "bool": bool, "date": date, "datetime": datetime,
    "eui": bytes,
}  # fmt: skip

needs_reference = pytest.mark.skipif(
    not (TEMPLATES.is_dir() and SCHEMA.is_dir()),
    reason=f"DUIS templates/schema not found under {REFERENCE} (../shared/reference)",
)


def _local(qname: str | None) -> str | None:
    return None if qname is None else qname.rpartition(":")[2]


@pytest.fixture(scope="module")
def declared() -> dict[str, set[str]]:
    """Element name -> the types its declarations resolve to: a built-in base (named simple
    types followed down their restrictions), "EUI" for sr:EUI, "complex" otherwise."""
    roots = [
        etree.parse(str(SCHEMA / f"{kind} Schema V5.4.xsd")).getroot() for kind in ("DUIS", "MMC")
    ]
    simple = {st.get("name"): st for r in roots for st in r.iter(f"{XS}simpleType")}

    def base(type_name: str | None, simple_type: etree._Element | None = None) -> str:
        for _ in range(32):
            if type_name == "EUI":
                return "EUI"
            if simple_type is None:
                if type_name not in simple:
                    return type_name or "complex"
                simple_type = simple[type_name]
            restriction = simple_type.find(f"{XS}restriction")
            if restriction is None:
                return "list/union"
            type_name, simple_type = _local(restriction.get("base")), None
        raise AssertionError(f"restriction chain too long at {type_name}")

    out: dict[str, set[str]] = defaultdict(set)
    for root in roots:
        for el in root.iter(f"{XS}element"):
            name = el.get("name")
            if name is None:
                continue
            inline = el.find(f"{XS}simpleType")
            if el.get("type") is not None:
                out[name].add(base(_local(el.get("type"))))
            elif inline is not None:
                out[name].add(base(None, inline))
            else:
                out[name].add("complex")
    return out


def _kind_of(types: set[str]) -> str | None:
    if types == {"EUI"}:
        return "eui"
    return next((kind for kind, allowed in ALLOWED.items() if types <= allowed), None)


def _leaves(node: Node) -> Iterator[Node]:
    if node.children:
        for child in node.children:
            yield from _leaves(child)
    else:
        yield node


def _generic_leaves() -> list[tuple[Path, Node]]:
    out: list[tuple[Path, Node]] = []
    for path in sorted(TEMPLATES.glob("*.XML")) if TEMPLATES.is_dir() else []:
        message = from_xml(path.read_bytes())
        if isinstance(message, Request) and isinstance(message.body, GenericBody):
            out.extend((path, leaf) for leaf in _leaves(message.body.node))
    return out


@needs_reference
def test_table_agrees_with_the_xsd(declared: dict[str, set[str]]) -> None:
    for name, kind in LEAF_TYPES.items():
        assert name in declared, f"{name} is not declared in the V5.4 XSD"
        types = declared[name]
        if kind == "eui":
            assert types == {"EUI"}, (name, types)
        else:
            assert types <= ALLOWED[kind], (name, kind, types)


@needs_reference
def test_every_typed_template_leaf_is_in_the_table(declared: dict[str, set[str]]) -> None:
    names = {leaf.name for _, leaf in _generic_leaves()}
    expected = {n: k for n in names if (k := _kind_of(declared.get(n, set()))) is not None}
    assert {n: LEAF_TYPES[n] for n in names if n in LEAF_TYPES} == expected
    assert len(expected) > 90  # int, decimal, bool, date, date-time and EUI leaves all appear
    assert set(expected.values()) == set(PYTHON_TYPE)


@needs_reference
def test_template_leaves_have_typed_values_and_text_is_kept() -> None:
    seen: dict[str, int] = defaultdict(int)
    for path, leaf in _generic_leaves():
        kind = LEAF_TYPES.get(leaf.name)
        value = leaf.value
        if kind is None:
            assert value == leaf.text
            continue
        seen[kind] += 1
        assert isinstance(value, PYTHON_TYPE[kind]), (path.name, leaf)
        if kind == "int":
            assert value == int(leaf.text)
    assert set(seen) == set(PYTHON_TYPE)


@needs_reference
def test_written_text_is_the_text_read() -> None:
    path = TEMPLATES / "ECS01a_1.1.1_IMMEDIATE_TOU_SUCCESS_REQUEST_DUIS.XML"
    message = from_xml(path.read_bytes())
    assert isinstance(message, Request) and isinstance(message.body, GenericBody)
    again = from_xml(to_xml(message))
    assert isinstance(again, Request) and isinstance(again.body, GenericBody)
    before = [(n.name, n.text) for n in _leaves(message.body.node)]
    assert [(n.name, n.text) for n in _leaves(again.body.node)] == before


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("PriceScale", " -3 ", -3),
        ("CalorificValue", "39.5", Decimal("39.5")),
        ("AerialInstall", "1", True),
        ("AerialInstall", "false", False),
        ("OptInDate", "2024-02-29", date(2024, 2, 29)),
        ("ExecutionDateTime", "2015-01-01T00:00:00", datetime(2015, 1, 1)),
        ("OtherDeviceID", "00-db-12-34-56-78-90-a1", bytes.fromhex("00db1234567890a1")),
        ("CurrencyUnits", "GBP", "GBP"),
    ],
)
def test_leaf_value(name: str, text: str, value: object) -> None:
    assert leaf_value(name, text) == value
    assert Node(name=name, text=text).value == value


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("PriceScale", "1_000"),
        ("PriceScale", "٣"),
        ("CalorificValue", "NaN"),
        ("CalorificValue", "1e"),
        ("AerialInstall", "yes"),
        ("OptInDate", "2023-02-29"),
        ("ExecutionDateTime", "tomorrow"),
        ("OtherDeviceID", "00-DB-12"),
    ],
)
def test_bad_leaf_text_names_the_element(name: str, text: str) -> None:
    with pytest.raises(DuisSchemaError, match=name):
        leaf_value(name, text)
