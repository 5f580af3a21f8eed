"""GCS28 set clock on the GSME (0x007F): the one ASN.1 use case about time.

Layout: GBCS-PAYLOADS §3; RTDS vector 8.1.1_GCS28Commission (worked example: the ERROR response
is device time 2015-01-01 00:00:00, status 2 unreliable).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.schema import integer
from smetsnet.gbcs.asn1.types import GeneralizedTime, SequencePayload, date_time


class TimeStatus(IntEnum):
    RELIABLE = 0
    INVALID = 1
    UNRELIABLE = 2


TIME_STATUS_NAMES = {0: "reliable", 1: "invalid", 2: "unreliable"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetClockCommand(SequencePayload):
    """SEQUENCE {validity interval start, validity interval end}: the GSME sets its clock to a
    time inside the interval."""

    validity_start: GeneralizedTime
    validity_end: GeneralizedTime
    lw: der.Widths = ()

    PARTS = (date_time("validity_start"), date_time("validity_end"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SetClockResponse(SequencePayload):
    """SEQUENCE {device time, device time status (0 reliable, 1 invalid, 2 unreliable)}."""

    device_time: GeneralizedTime
    time_status: int
    lw: der.Widths = ()

    PARTS = (date_time("device_time"), integer("time_status", TIME_STATUS_NAMES))


__all__ = ["TIME_STATUS_NAMES", "SetClockCommand", "SetClockResponse", "TimeStatus"]
