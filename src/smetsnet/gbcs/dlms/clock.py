"""COSEM date-time (octet-string(12)) and GBCS "seconds since 2000" timestamps (GBCS-PAYLOADS §0).

Layout: year(2) month day weekday hour minute second hundredths deviation(2, signed minutes,
``8000`` = unspecified) clock-status(1, ``FF`` = unspecified). ``FF`` (``FFFF`` for the year) in a
field is a wildcard. GBCS uses two special values: nine ``00`` + ``8000FF`` = "now" and nine
``FF`` + ``8000FF`` = "never" [P].
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from smetsnet.errors import GbcsEncodeError

#: Origin of the double-long-unsigned timestamps in logs, profiles and selective access.
EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
DEVIATION_UNSPECIFIED = 0x8000
_NOW_HEAD = bytes(9)
_NEVER_HEAD = b"\xff" * 9
_TAIL = b"\x80\x00\xff"


def from_seconds_since_2000(seconds: int) -> datetime:
    return EPOCH_2000 + timedelta(seconds=seconds)


def seconds_since_2000(when: datetime) -> int:
    if when.tzinfo is None:
        raise GbcsEncodeError("timestamp", "needs an aware datetime (GBCS times are UTC)")
    return int((when - EPOCH_2000).total_seconds())


def cosem_bytes(when: datetime) -> bytes:
    """``CosemDateTime.from_datetime(when).to_bytes()`` without the object (builders call it per
    date-time they send): weekday, deviation and status unspecified."""
    return struct.pack(
        ">HBBBBBBB3s",
        when.year,
        when.month,
        when.day,
        0xFF,
        when.hour,
        when.minute,
        when.second,
        when.microsecond // 10_000,
        _TAIL,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CosemDateTime:
    """The 12-byte COSEM date-time, field by field (0xFF / 0xFFFF = not specified)."""

    SIZE: ClassVar[int] = 12
    year: int = 0xFFFF
    month: int = 0xFF
    day: int = 0xFF
    weekday: int = 0xFF
    hour: int = 0xFF
    minute: int = 0xFF
    second: int = 0xFF
    hundredths: int = 0xFF
    deviation: int = DEVIATION_UNSPECIFIED
    status: int = 0xFF

    @classmethod
    def from_bytes(cls, raw: bytes) -> CosemDateTime:
        if len(raw) != 12:
            raise GbcsEncodeError("date_time", f"a COSEM date-time has 12 bytes, not {len(raw)}")
        return cls(
            year=int.from_bytes(raw[0:2], "big"),
            month=raw[2],
            day=raw[3],
            weekday=raw[4],
            hour=raw[5],
            minute=raw[6],
            second=raw[7],
            hundredths=raw[8],
            deviation=int.from_bytes(raw[9:11], "big"),
            status=raw[11],
        )

    @classmethod
    def from_datetime(cls, when: datetime, *, weekday: bool = False) -> CosemDateTime:
        """GBCS style (ECS12 vector): weekday, deviation and status unspecified unless asked."""
        return cls(
            year=when.year,
            month=when.month,
            day=when.day,
            weekday=when.isoweekday() if weekday else 0xFF,
            hour=when.hour,
            minute=when.minute,
            second=when.second,
            hundredths=when.microsecond // 10_000,
        )

    @classmethod
    def now_marker(cls) -> CosemDateTime:
        """GBCS "now" (execute immediately)."""
        return cls.from_bytes(_NOW_HEAD + _TAIL)

    @classmethod
    def never_marker(cls) -> CosemDateTime:
        return cls.from_bytes(_NEVER_HEAD + _TAIL)

    def to_bytes(self) -> bytes:
        try:
            return (
                self.year.to_bytes(2, "big")
                + bytes((self.month, self.day, self.weekday, self.hour, self.minute))
                + bytes((self.second, self.hundredths))
                + self.deviation.to_bytes(2, "big")
                + bytes((self.status,))
            )
        except (OverflowError, ValueError) as exc:
            raise GbcsEncodeError("date_time", f"field out of range: {exc}") from None

    def to_datetime(self) -> datetime | None:
        """A naive ``datetime`` (or ``None`` when a wildcard or an impossible date is present)."""
        if 0xFF in (self.month, self.day, self.hour, self.minute, self.second) or (
            self.year == 0xFFFF
        ):
            return None
        hundredths = 0 if self.hundredths == 0xFF else self.hundredths
        try:
            return datetime(
                self.year,
                self.month,
                self.day,
                self.hour,
                self.minute,
                self.second,
                hundredths * 10_000,
            )
        except ValueError:
            return None

    def text(self) -> str:
        """Readable form: ``2014-03-27 15:45:32``, ``*`` for wildcards, ``now`` / ``never``."""
        raw = self.to_bytes()
        if raw[9:] == _TAIL and raw[:9] in (_NOW_HEAD, _NEVER_HEAD):
            return "now" if raw[0] == 0 else "never"

        def f(v: int, n: int, wild: int = 0xFF) -> str:
            return "*" * n if v == wild else str(v).zfill(n)

        out = (
            f"{f(self.year, 4, 0xFFFF)}-{f(self.month, 2)}-{f(self.day, 2)}"
            f" {f(self.hour, 2)}:{f(self.minute, 2)}:{f(self.second, 2)}"
        )
        if self.hundredths not in (0, 0xFF):
            out += f".{self.hundredths:02d}"
        if self.deviation != DEVIATION_UNSPECIFIED:
            out += f" dev={int.from_bytes(raw[9:11], 'big', signed=True)}"
        return out
