"""The DLMS decoder's interning caches, in one place to name and clear them.

Immutable nodes of small recurring values (scalars, short strings, spec and result lists, short
variable-length compact-array cells) are shared through bounded dictionaries keyed by their few
encoded bytes, as Python interns small ints: the same OBIS codes, enums and result lists recur in
every message of a kind. Nothing is cached per message. :func:`clear_interning_caches` empties
them all, so benchmarks can report figures with the caches cold as well as warm.
"""

from __future__ import annotations

from smetsnet.gbcs.dlms import axdr, compact, decode


def clear_interning_caches() -> None:
    axdr._CACHE.clear()
    compact._VAR_CACHE.clear()
    decode._SPEC_LISTS.clear()
    decode._RESULT_LISTS.clear()


def interning_cache_sizes() -> dict[str, int]:
    return {
        "scalars": len(axdr._CACHE),
        "compact_cells": len(compact._VAR_CACHE),
        "spec_lists": len(decode._SPEC_LISTS),
        "result_lists": len(decode._RESULT_LISTS),
    }
