"""OBIS codes (COSEM logical names) and the names of the classes and objects GBCS uses (§1.8).

Names are for display (JSON, CLI); decoding never depends on them. Sources: GBCS-PAYLOADS §1.8 and
the object tables of the public parsers [U]/[P], reworded; an object not listed simply has no name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smetsnet.errors import GbcsEncodeError

_OBIS_TEXT = re.compile(r"^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Obis:
    """A 6-byte logical name ``A-B:C.D.E.F`` (``code`` holds the six bytes)."""

    code: bytes

    def __post_init__(self) -> None:
        if len(self.code) != 6:
            raise GbcsEncodeError("obis", f"an OBIS code has 6 bytes, not {len(self.code)}")

    @classmethod
    def parse(cls, text: str) -> Obis:
        """``Obis.parse("0-0:43.2.8.255")``.

        Builders name the same few dozen objects in every command, so parsed names are shared
        (an Obis is frozen: sharing is invisible); the cache is bounded like the decoder's.
        """
        known = _PARSED.get(text)
        if known is not None and type(known) is cls:
            return known
        parsed = cls._parse(text)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[text] = parsed
        return parsed

    @classmethod
    def _parse(cls, text: str) -> Obis:
        m = _OBIS_TEXT.match(text.strip())
        if m is None:
            raise GbcsEncodeError("obis", f"{text!r} is not of the form A-B:C.D.E.F")
        values = [int(g) for g in m.groups()]
        if any(v > 255 for v in values):
            raise GbcsEncodeError("obis", f"{text!r} has a group above 255")
        return cls(code=bytes(values))

    @classmethod
    def of(cls, value: Obis | str | bytes) -> Obis:
        """Accept an :class:`Obis`, its text or its six bytes (builders use this)."""
        if isinstance(value, Obis):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls(code=bytes(value))

    def __str__(self) -> str:
        a, b, c, d, e, f = self.code
        return f"{a}-{b}:{c}.{d}.{e}.{f}"

    def __repr__(self) -> str:
        return f"Obis.parse({str(self)!r})"

    @property
    def name(self) -> str | None:
        return obis_name(self.code)

    def to_bytes(self) -> bytes:
        return self.code


_PARSED: dict[str, Obis] = {}
_PARSED_MAX = 1024

#: COSEM interface classes (DLMS Blue Book names; 9000 is the GBCS-specific class).
CLASS_NAMES: dict[int, str] = {
    1: "Data",
    3: "Register",
    4: "Extended register",
    5: "Demand register",
    7: "Profile generic",
    8: "Clock",
    9: "Script table",
    10: "Schedule",
    11: "Special days table",
    15: "Association LN",
    18: "Image transfer",
    20: "Activity calendar",
    21: "Register monitor",
    22: "Single action schedule",
    30: "Data protection",
    40: "Push setup",
    64: "Security setup",
    70: "Disconnect control",
    71: "Limiter",
    101: "ZigBee SAS startup",
    102: "ZigBee SAS join",
    103: "ZigBee SAS APS fragmentation",
    104: "ZigBee network control",
    105: "ZigBee tunnel setup",
    111: "Account",
    112: "Credit",
    113: "Charge",
    115: "Token gateway",
    9000: "GBCS extended data",
}

#: Method names where GBCS calls them (class, method id).
METHOD_NAMES: dict[tuple[int, int], str] = {
    (7, 1): "reset",
    (9, 1): "execute",
    (30, 1): "get protected attributes",
    (30, 2): "set protected attributes",
    (30, 3): "invoke protected method",
    (104, 1): "register device",
    (104, 2): "unregister device",
    (104, 3): "unregister all devices",
    (104, 4): "backup PAN",
    (104, 5): "restore PAN",
    (112, 1): "update amount",
    (112, 2): "set amount to value",
    (112, 3): "invoke credit",
    (113, 1): "update unit charge",
    (113, 2): "activate passive unit charge",
    (113, 3): "collect",
    (113, 4): "update total amount remaining",
    (115, 1): "enter",
}

_EXACT_TEXT = {
    "0-0:0.2.1.255": "firmware version",
    "0-0:1.0.0.255": "clock",
    "0-0:10.0.100.255": "tariff block counter reset script",
    "0-0:10.0.106.255": "supply state script",
    "0-0:13.0.0.255": "tariff switching table",
    "0-0:13.0.1.255": "tariff switching table, secondary element",
    "0-0:15.0.0.255": "billing calendar",
    "0-1:11.0.0.255": "tariff switching table special days",
    "0-1:11.0.1.255": "secondary element special days",
    "0-1:11.0.2.255": "non-disablement calendar special days",
    "0-1:12.0.1.255": "non-disablement calendar",
    "0-0:19.0.0.255": "account",
    "0-1:19.0.0.255": "account (payment mode)",
    "0-0:19.10.0.255": "meter balance",
    "0-0:19.10.1.255": "emergency credit balance",
    "0-0:19.10.2.255": "accumulated debt register",
    "0-0:19.20.0.255": "tariff block price matrix",
    "0-0:19.20.1.255": "debt recovery rates 1",
    "0-0:19.20.2.255": "debt recovery rates 2",
    "0-0:19.20.3.255": "debt recovery per payment",
    "0-0:19.20.4.255": "standing charge",
    "0-0:19.20.5.255": "secondary tariff price matrix",
    "0-0:19.40.0.255": "prepayment credit token gateway",
    "0-0:30.3.0.255": "CHF device log",
    "0-0:43.2.8.255": "import register collection",
    "0-0:43.2.9.255": "tariff TOU register collection",
    "0-0:43.2.10.255": "tariff block TOU register collection",
    "0-0:63.1.1.255": "tariff threshold matrix",
    "0-0:94.44.2.0": "currency unit",
    "0-0:94.44.2.10": "maximum credit threshold",
    "0-0:94.44.2.20": "maximum meter balance",
    "0-0:94.44.3.1": "disable privacy PIN protection",
    "0-0:94.44.3.2": "restrict data date-time",
    "0-0:94.44.34.11": "MPAN",
    "0-0:94.44.34.20": "power import collection",
    "0-0:94.44.128.2": "emergency credit limit",
    "0-0:94.44.128.3": "emergency credit threshold",
    "0-0:94.44.128.9": "low credit threshold",
    "0-0:94.44.128.12": "debt recovery rate cap amount",
    "0-0:94.44.128.13": "debt recovery rate cap period",
    "0-0:94.44.128.22": "disablement threshold",
    "0-0:94.44.128.28": "non-disablement calendar",
    "0-0:94.44.128.29": "tariff switching table special days",
    "0-0:94.44.128.30": "secondary element special days",
    "0-0:94.44.128.31": "non-disablement calendar special days",
    "0-0:96.13.0.255": "supplier telephone number",
    "0-0:96.13.1.255": "supplier name",
    "0-2:96.13.1.255": "supplier message",
    "0-0:98.1.5.255": "billing data log",
    "0-0:99.1.1.255": "export profile",
    "0-0:99.98.0.255": "event log",
    "0-0:99.98.1.255": "security log",
    "0-0:99.98.4.255": "power event log",
    "0-17:99.98.2.255": "auxiliary load control switch event log",
    "1-0:1.6.0.255": "maximum demand, active import",
    "1-0:2.6.0.255": "maximum demand, active export",
    "1-0:2.8.0.255": "active export register",
    "1-0:4.8.0.255": "reactive export register",
}
#: Families named by all groups but one (written ``x`` in §1.8).
_FAMILY_TEXT = {
    "0-0:16.1.x.255": "block thresholds",
    "0-0:17.0.x.255": "limiter",
    "0-0:43.2.x.255": "data protection",
    "0-0:94.44.0.x": "device settings",
    "0-0:96.1.x.255": "device identity",
}


def _family(text: str) -> tuple[int, bytes]:
    groups = re.split(r"[-:.]", text)
    wild = groups.index("x")
    code = bytes(0 if g == "x" else int(g) for g in groups)
    return wild, code[:wild] + code[wild + 1 :]


OBIS_NAMES: dict[bytes, str] = {Obis.parse(k).code: v for k, v in _EXACT_TEXT.items()}
_FAMILIES: dict[tuple[int, bytes], str] = {_family(k): v for k, v in _FAMILY_TEXT.items()}
_WILD_POSITIONS = sorted({w for w, _ in _FAMILIES})


def obis_name(code: bytes) -> str | None:
    """Display name of a logical name: exact first, then its ``x`` family."""
    name = OBIS_NAMES.get(code)
    if name is None and len(code) == 6:
        for w in _WILD_POSITIONS:
            name = _FAMILIES.get((w, code[:w] + code[w + 1 :]))
            if name is not None:
                break
    return name


def class_name(class_id: int) -> str:
    return CLASS_NAMES.get(class_id, f"class {class_id}")
