"""Interning caches hold only small values, stay bounded, and clearing them changes nothing."""

from __future__ import annotations

from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms.interning import clear_interning_caches, interning_cache_sizes
from tests.support.vectors import read_hex, require_reference, rtds_files


def test_decoding_with_cold_caches_gives_the_same_messages() -> None:
    require_reference()
    messages = [read_hex(p) for p in rtds_files()]
    warm = [decode_message(d) for d in messages]
    assert sum(interning_cache_sizes().values()) > 0
    cold = []
    for data in messages:
        clear_interning_caches()
        cold.append(decode_message(data))
    for w, c, data in zip(warm, cold, messages, strict=True):
        assert w.payload == c.payload
        assert c.to_bytes() == data
    clear_interning_caches()
    assert interning_cache_sizes() == dict.fromkeys(interning_cache_sizes(), 0)
