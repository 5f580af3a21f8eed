"""The parser builds Request, RequestHeader, GenericBody and MessageId without their dataclass
__init__ (for speed); the values must be the ones the constructors would give."""

from __future__ import annotations

import dataclasses

import pytest

from smetsnet.duis import GenericBody, MessageId, Request, RequestHeader, from_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import request_header
from tests.support.vectors import REFERENCE, require_reference

TEMPLATES = REFERENCE / "duis" / "templates"


def _rebuilt(value: object) -> object:
    """The same value built through the dataclass constructors, field by field."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _rebuilt(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return type(value)(**fields)
    return value


def test_parsed_requests_equal_constructed_ones() -> None:
    require_reference(TEMPLATES)
    seen = set()
    for path in sorted(TEMPLATES.glob("*.XML")):
        message = from_xml(path.read_bytes())
        assert isinstance(message, Request)
        rebuilt = _rebuilt(message)
        assert rebuilt == message and hash(rebuilt) == hash(message)
        assert repr(rebuilt) == repr(message)
        seen.add(type(message.body))
    assert GenericBody in seen


def test_request_header_checks_like_the_constructor() -> None:
    mid = MessageId.parse("90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:7")
    fast = request_header(mid, 1, "1.1", "1.1.1", True, None)
    assert fast == RequestHeader(
        request_id=mid,
        command_variant=1,
        service_reference="1.1",
        service_reference_variant="1.1.1",
        first_in_sequence=True,
    )
    for variant in (0, 9):
        with pytest.raises(DuisSchemaError, match="CommandVariant"):
            request_header(mid, variant, "1.1", "1.1.1", None, None)
        with pytest.raises(DuisSchemaError, match="CommandVariant"):
            RequestHeader(
                request_id=mid,
                command_variant=variant,
                service_reference="1.1",
                service_reference_variant="1.1.1",
            )
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.command_variant = 2  # type: ignore[misc]
