"""Reading a request body's generic tree, for every translator: each missing or misplaced element
is a :class:`~smetsnet.duis.errors.DuisSchemaError` naming it."""

from __future__ import annotations

from datetime import datetime

from smetsnet.duis import GenericBody, Node
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_datetime, parse_int


def body_node(body: object, element: str) -> Node:
    """The generic body's tree, which must be ``element``."""
    if not isinstance(body, GenericBody) or body.node.name != element:
        got = body.node.name if isinstance(body, GenericBody) else type(body).__name__
        raise DuisSchemaError(f"Body: {element} expected, not {got}")
    return body.node


def child(node: Node, name: str) -> Node:
    found = node.child(name)
    if found is None:
        raise DuisSchemaError(f"{node.name}: {name} expected")
    return found


def text(node: Node, name: str) -> str:
    return child(node, name).text.strip()


def integer(node: Node, name: str, low: int, high: int) -> int:
    return parse_int(text(node, name), name, low, high)


def date_time(node: Node, name: str) -> datetime:
    return parse_datetime(text(node, name), name)
