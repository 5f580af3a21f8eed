"""Half-hourly readings out of a meter's opened profile response (what a user files).

- ESME, ECS22b (4.8.1): the DLMS access-response's one item is the protected profile; opened, it
  is ``structure{compact-array of (capture time, Wh)}`` (capture times in seconds since 2000);
- GSME, GCS17 (4.8.1): a GBZ Get Sampled Data Response: a start time (seconds since 2000), an
  interval and one value per interval (litres).

Times come back as UTC epoch seconds of each interval's start.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.dlms import CompactArray
from smetsnet.gbcs.dlms.data import ProtectedContent

#: Seconds from the Unix epoch to 2000-01-01T00:00:00Z (DLMS and ZCL times count from 2000).
EPOCH_2000 = 946_684_800
Readings = tuple[NDArray[np.int64], NDArray[np.int64]]


def profile_readings(message: GbcsMessage) -> Readings | None:
    """(interval starts, values) of an ECS22b or GCS17 response; None for anything else or a
    payload that was not opened (the user lacks the key)."""
    if message.use_case == "ECS22b":
        return _esme(message.payload)
    if message.use_case == "GCS17":
        return _gsme(message.payload)
    return None


def _esme(payload: Any) -> Readings | None:
    for item in getattr(payload, "data", ()):
        for part in getattr(item, "items", ()):
            if isinstance(part, ProtectedContent) and part.value is not None:
                table = _compact(part.value)
                if table is not None:
                    times, wh = table.columns[0], table.columns[1]
                    return (
                        np.asarray(times, dtype=np.int64) + EPOCH_2000,
                        np.asarray(wh, dtype=np.int64),
                    )
    return None


def _compact(value: Any) -> CompactArray | None:
    if isinstance(value, CompactArray):
        return value
    for item in getattr(value, "items", ()):
        if isinstance(item, CompactArray):
            return item
    return None


def _gsme(payload: Any) -> Readings | None:
    for component in getattr(payload, "components", ()):
        values = getattr(getattr(component, "command", None), "values", None)
        if not isinstance(values, dict) or "samples" not in values:
            continue
        samples = np.asarray(values["samples"].columns["value"], dtype=np.int64)
        start = int(values["sample_start_time"]) + EPOCH_2000
        interval = int(values["sample_request_interval"])
        starts = start + interval * np.arange(len(samples), dtype=np.int64)
        return starts, samples
    return None
