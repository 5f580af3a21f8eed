"""When a DUIS request asks its command to run: the body's ``ExecutionDateTime``.

A future-dated request carries ``ExecutionDateTime`` in its body (typed bodies expose it as
``execution_datetime``; generic bodies keep it as a child element). DUIS's date 3000-12-31T00:00:00Z
does not schedule anything: it cancels the command the device or the DSP holds (DUIS §3.8; the
RTDS CANCELLATION vectors).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from smetsnet.duis.bodies import Node

#: The ExecutionDateTime that cancels a held future-dated command.
DUIS_CANCEL: Final = datetime(3000, 12, 31, tzinfo=UTC)


def requested_execution(body: object) -> datetime | None:
    """The body's ExecutionDateTime (typed or generic body), None when it has none."""
    at = getattr(body, "execution_datetime", None)
    if at is None:
        node = getattr(body, "node", None)
        found = node.child("ExecutionDateTime") if isinstance(node, Node) else None
        at = found.value if found is not None else None
    return at if isinstance(at, datetime) else None


def future_execution(body: object, now: datetime) -> datetime | None:
    """The time a future-dated request runs: its ExecutionDateTime when after ``now`` and not
    the cancellation date; None for a request to run now or a cancellation."""
    at = requested_execution(body)
    if at is None or at <= now or at == DUIS_CANCEL:
        return None
    return at


__all__ = ["DUIS_CANCEL", "future_execution", "requested_execution"]
