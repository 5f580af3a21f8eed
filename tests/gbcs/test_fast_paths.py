"""The fast paths of the hot path give what the general code gives, byte for byte and node for node.

- one-pass Data encoding (:func:`smetsnet.gbcs.dlms.data.encode_into`) against a plain recursive
  encoder, on random trees (non-minimal widths, deferred arrays included);
- the sensitive-read request reader against the generic Data decoder;
- a built message's wire image and layout against a decode of its bytes.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import decode as dlms_decode
from smetsnet.gbcs.dlms.apdu import AccessRequest, protected_attributes_request
from smetsnet.gbcs.dlms.axdr import decode_data
from smetsnet.gbcs.dlms.clock import CosemDateTime, cosem_bytes
from smetsnet.gbcs.dlms.data import (
    NULL,
    Array,
    Data,
    DoubleLongUnsigned,
    Enumerated,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    VisibleString,
    encode_into,
)
from smetsnet.gbcs.dlms.decode import decode_dlms_payload
from smetsnet.gbcs.dlms.obis import Obis
from smetsnet.gbcs.dlms.protected import ProtectedObject, ProtectionParameters
from smetsnet.gbcs.dlms.protected_request import read_protected_request
from smetsnet.gbcs.dlms.scalars import length_bytes
from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.protection import Protection
from tests.gbcs.test_builders import rebuild
from tests.support.vectors import read_hex, require_reference, rtds_files


def _plain(node: Data) -> bytes:
    """The encoding as the container classes wrote it before the one-pass encoder."""
    if isinstance(node, (Array, Structure)):
        return b"".join(
            [bytes((node.TAG,)), length_bytes(len(node.items), node.width)]
            + [_plain(item) for item in node.items]
        )
    return node.to_bytes()


_scalars = st.one_of(
    st.just(NULL),
    st.integers(0, 255).map(lambda v: Enumerated(value=v)),
    st.integers(0, 2**32 - 1).map(lambda v: DoubleLongUnsigned(value=v)),
    st.binary(max_size=300).map(lambda v: OctetString(value=v)),
    st.binary(max_size=3).map(lambda v: OctetString(value=v, width=3)),
    st.binary(max_size=20).map(lambda v: VisibleString(value=v)),
)


def _container(children: st.SearchStrategy[list[Data]]) -> st.SearchStrategy[Data]:
    return st.builds(
        lambda items, structure, wide: (Structure if structure else Array)(
            items=tuple(items), width=3 if wide else None
        ),
        children,
        st.booleans(),
        st.booleans(),
    )


_trees = st.recursive(_scalars, lambda kids: _container(st.lists(kids, max_size=6)), max_leaves=40)


@settings(max_examples=200, deadline=None)
@given(_trees)
def test_one_pass_encoding_matches_the_recursive_one(node: Data) -> None:
    out: list[bytes] = []
    encode_into(node, out)
    assert b"".join(out) == node.to_bytes() == _plain(node)
    assert decode_data(node.to_bytes()).to_bytes() == node.to_bytes()


def test_a_deferred_array_encodes_as_its_source() -> None:
    wire = Array(items=tuple(OctetString(value=bytes((i, i))) for i in range(20))).to_bytes()
    nested = Structure(items=(decode_data(wire), Enumerated(value=1)))
    assert nested.to_bytes() == wire.join((b"\x02\x02", b"\x16\x01")) == _plain(nested)


def _generic(payload: bytes) -> AccessRequest:
    """The payload as the generic Data decoder reads it (the fast reader switched off)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dlms_decode, "read_protected_request", lambda d, p, end: None)
        decoded = decode_dlms_payload(payload, message_code=0)
    assert isinstance(decoded, AccessRequest)
    return decoded


def _check_request(payload: bytes) -> bool:
    """Fast and generic decodes agree; returns whether the fast reader took the payload."""
    fast = decode_dlms_payload(payload, message_code=0)
    assert fast == _generic(payload)
    assert fast.to_bytes() == payload
    return any(
        read_protected_request(payload, p, len(payload)) is not None for p in range(len(payload))
    )


def test_reference_requests_decode_as_the_generic_decoder_does() -> None:
    require_reference()
    checked = fast = 0
    for path in rtds_files():
        frame = decode_frame(read_hex(path))
        if frame.payload[:1] == b"\xd9":
            fast += _check_request(frame.payload)
            checked += 1
    assert checked > 50
    assert fast >= 2  # ECS17b and ECS22b at least


@settings(max_examples=100, deadline=None)
@given(
    counter=st.integers(0, 2**64 - 1),
    names=st.lists(st.binary(min_size=6, max_size=6), min_size=1, max_size=2),
    attribute=st.integers(-128, 127),
    window=st.one_of(st.none(), st.tuples(st.binary(min_size=12, max_size=12), st.binary())),
)
def test_sensitive_reads_decode_as_the_generic_decoder_does(
    counter: int,
    names: list[bytes],
    attribute: int,
    window: tuple[bytes, bytes] | None,
) -> None:
    objects = [
        ProtectedObject(class_id=7, instance=Obis(code=n), attribute_id=attribute)
        if window is None
        else ProtectedObject.by_date(7, Obis(code=n), attribute, *window)
        for n in names
    ]
    request = protected_attributes_request(
        objects, originator=b"\x90" * 8, recipient=b"\x00\xdb" * 4, counter=counter
    )
    took = _check_request(request.to_bytes())
    assert took == (len(names) == 1 and (window is None or len(window[1]) == 12))


def test_a_built_message_reads_as_its_bytes_decode(reference_protection: Protection) -> None:
    require_reference()
    for path in rtds_files():
        if "COMMAND" not in path.name:
            continue
        original = decode_message(read_hex(path))
        frame = original.frame
        if frame.mac is None or reference_protection.check_mac(frame) != "valid":
            continue
        built = rebuild(original, reference_protection, sign=False, mac=True).frame
        again = decode_frame(built.wire)
        assert built == again
        assert (built.wire, built.layout) == (again.wire, again.layout)
        assert built.authenticated_bytes() == again.authenticated_bytes()


def test_built_parameters_equal_nodes_built_one_by_one() -> None:
    params = ProtectionParameters.for_counter(7, originator=b"\x90" * 8, recipient=b"\x01" * 8)
    o = OctetString
    assert params.to_data() == Structure(
        items=(
            Enumerated(value=2),
            Structure(
                items=(
                    o(value=params.transaction_id),
                    o(value=b"\x90" * 8),
                    o(value=b"\x01" * 8),
                    o(value=b""),
                    Structure(
                        items=(
                            Enumerated(value=2),
                            Structure(items=(o(value=b"\x02"), o(value=b""))),
                        )
                    ),
                )
            ),
        )
    )
    listed = ProtectedObject(class_id=3, instance=Obis.parse("1-0:1.8.0.255"), attribute_id=-2)
    assert listed.to_data() == Structure(
        items=(
            LongUnsigned(value=3),
            o(value=listed.instance.code),
            Integer(value=-2),
            LongUnsigned(value=0),
            Structure(items=(Enumerated(value=0), NULL)),
        )
    )


@pytest.mark.parametrize(
    "node",
    [
        ProtectedObject(class_id=70000, instance=Obis.parse("1-0:1.8.0.255")),
        ProtectedObject(class_id=1, instance=Obis.parse("1-0:1.8.0.255"), attribute_id=200),
        ProtectedObject(class_id=1, instance=Obis.parse("1-0:1.8.0.255"), restriction_type=-1),
        ProtectionParameters(transaction_id=b"", originator=b"", recipient=b"", key_info_type=256),
    ],
)
def test_out_of_range_fields_are_still_refused(
    node: ProtectedObject | ProtectionParameters,
) -> None:
    with pytest.raises(GbcsEncodeError):
        node.to_data()


@settings(max_examples=300, deadline=None)
@given(st.datetimes())
def test_cosem_bytes_is_the_cosem_date_time_of_the_moment(when: datetime) -> None:
    assert cosem_bytes(when) == CosemDateTime.from_datetime(when).to_bytes()
