"""GCS28 set clock on the GSME (0x007F): the one ASN.1 use case about time.

Layout: GBCS-PAYLOADS §3; RTDS vector 8.1.1_GCS28Commission (worked example: the ERROR response
is device time 2015-01-01 00:00:00, status 2 unreliable).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.types import Asn1Payload, GeneralizedTime, named
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


class TimeStatus(IntEnum):
    RELIABLE = 0
    INVALID = 1
    UNRELIABLE = 2


TIME_STATUS_NAMES = {0: "reliable", 1: "invalid", 2: "unreliable"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetClockCommand(Asn1Payload):
    """SEQUENCE {validity interval start, validity interval end}: the GSME sets its clock to a
    time inside the interval."""

    validity_start: GeneralizedTime
    validity_end: GeneralizedTime
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (self.validity_start.to_bytes(), self.validity_end.to_bytes()), self.lw
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "validity_start": self.validity_start.to_json(),
            "validity_end": self.validity_end.to_json(),
        }

    @classmethod
    def read(cls, r: Reader) -> SetClockCommand:
        s, w = der.seq(r, "")
        start = GeneralizedTime.read(s, "validity_start")
        end = GeneralizedTime.read(s, "validity_end")
        der.done(s, "")
        return cls(validity_start=start, validity_end=end, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class SetClockResponse(Asn1Payload):
    """SEQUENCE {device time, device time status (0 reliable, 1 invalid, 2 unreliable)}."""

    device_time: GeneralizedTime
    time_status: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (self.device_time.to_bytes(), der.encode_int(self.time_status, "time_status")), self.lw
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "device_time": self.device_time.to_json(),
            "time_status": named(TIME_STATUS_NAMES, self.time_status),
        }

    @classmethod
    def read(cls, r: Reader) -> SetClockResponse:
        s, w = der.seq(r, "")
        when = GeneralizedTime.read(s, "device_time")
        status = der.read_int(s, "time_status")
        der.done(s, "")
        return cls(device_time=when, time_status=status, lw=(("", w),) if w else ())


__all__ = ["TIME_STATUS_NAMES", "SetClockCommand", "SetClockResponse", "TimeStatus"]
