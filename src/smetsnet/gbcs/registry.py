"""The one registry of GBCS message codes (use cases) and device alert codes.

The facts live in two CSV files shipped with the package (``gbcs/data``), gathered from public
sources and checked against the RTDS 4.5.0 vectors (GBCS-PAYLOADS.md §5):

- ``message_codes.csv``: ``code, use_case, title, family, kind, target, notes``. ``family`` is
  the payload encoding (``dlms``, ``gbz``, ``asn1``; ``dlms|gbz`` for the generic alerts
  0x1000/0x1001, which occur in both). ``kind`` is one of :data:`KINDS`; ``target`` is the device
  a command is sent to, or the device an alert comes from (``|``-separated; empty when unknown).
- ``alert_codes.csv``: ``code, name, critical, basis, notes`` for the two-byte alert codes inside
  alert payloads (0x8F66 ...). ``critical`` is ``yes``/``no``/empty (unknown); ``basis`` says why:
  ``rtds`` (seen signed or MAC-only in a vector), ``use-case`` (the alert's use case type),
  ``range`` (inferred from the 0x8Fxx / 0x80xx-0x81xx numbering).

Both are parsed once, on first use, into dicts: every lookup is O(1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Final

#: Message kinds. The first four are the GBCS message types SME.C.C, SME.C.NC, SME.A.C, SME.A.NC;
#: the others are the special cases of the DUIS/GBCS mapping table.
CRITICAL_COMMAND: Final = "critical-command"
NON_CRITICAL_COMMAND: Final = "non-critical-command"
CRITICAL_ALERT: Final = "critical-alert"
NON_CRITICAL_ALERT: Final = "non-critical-alert"
#: CS01a/CS01b: non-critical, plus the UTRN cryptography of GBCS §14.3.4-5.
TOP_UP_COMMAND: Final = "top-up-command"
#: PCS01/PCS02: SME.C.PPMID-GSME, sent by a PPMID to a GSME over the HAN.
PPMID_GSME_COMMAND: Final = "ppmid-gsme-command"
#: PECS01-03, HECS01: HAN-only messages "ZSE specified" in the mapping table.
HAN_ONLY_COMMAND: Final = "han-only-command"
#: No public source states the type (CS08, ECS46c, the 0x00D5 alert).
UNSPECIFIED: Final = "unspecified"

KINDS: Final = frozenset(
    {
        CRITICAL_COMMAND,
        NON_CRITICAL_COMMAND,
        CRITICAL_ALERT,
        NON_CRITICAL_ALERT,
        TOP_UP_COMMAND,
        PPMID_GSME_COMMAND,
        HAN_ONLY_COMMAND,
        UNSPECIFIED,
    }
)
CRITICAL_KINDS: Final = frozenset({CRITICAL_COMMAND, CRITICAL_ALERT})
ALERT_KINDS: Final = frozenset({CRITICAL_ALERT, NON_CRITICAL_ALERT})
FAMILIES: Final = frozenset({"dlms", "gbz", "asn1"})
#: Target device types; ZIGBEE = any ZigBee-connected device (GSME, GPF, PPMID, HCALCS).
TARGETS: Final = frozenset({"ESME", "GSME", "GPF", "CHF", "PPMID", "HCALCS", "ZIGBEE"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageCodeInfo:
    """One GBCS message code (a use case, or an alert message without one)."""

    code: int
    #: e.g. "ECS22b"; empty for alert messages that have no use case (0x00CC, 0x1000, ...).
    #: Several codes share "CS02b" (one per credentials-replacement mode).
    use_case: str
    title: str
    families: frozenset[str]
    kind: str
    #: "|"-separated device types, e.g. "GPF|GSME"; empty when unknown.
    target: str
    notes: str = ""

    @property
    def is_critical(self) -> bool:
        return self.kind in CRITICAL_KINDS

    @property
    def is_alert(self) -> bool:
        return self.kind in ALERT_KINDS


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertCodeInfo:
    """One two-byte alert code carried inside an alert payload."""

    code: int
    name: str
    #: True / False, or None when no source or vector says.
    critical: bool | None
    #: Why ``critical`` has its value: "rtds", "use-case", "range" or "" (unknown).
    basis: str
    notes: str = ""


@dataclass(frozen=True, slots=True)
class _Registry:
    by_code: MappingProxyType[int, MessageCodeInfo]
    #: casefolded use-case name -> codes (several for CS02b)
    by_use_case: MappingProxyType[str, tuple[int, ...]]
    alerts: MappingProxyType[int, AlertCodeInfo]


def _rows(name: str) -> list[dict[str, str]]:
    text = files("smetsnet").joinpath("gbcs", "data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _parse_message_row(row: dict[str, str]) -> MessageCodeInfo:
    # A bad data file is a packaging bug: fail loudly naming the row.
    code = int(row["code"], 16)
    families = frozenset(row["family"].split("|"))
    if not families <= FAMILIES:
        raise ValueError(f"message_codes.csv 0x{code:04X}: bad family {row['family']!r}")
    if row["kind"] not in KINDS:
        raise ValueError(f"message_codes.csv 0x{code:04X}: bad kind {row['kind']!r}")
    targets = set(row["target"].split("|")) - {""}
    if not targets <= TARGETS:
        raise ValueError(f"message_codes.csv 0x{code:04X}: bad target {row['target']!r}")
    return MessageCodeInfo(
        code=code,
        use_case=row["use_case"],
        title=row["title"],
        families=families,
        kind=row["kind"],
        target=row["target"],
        notes=row["notes"],
    )


def _parse_alert_row(row: dict[str, str]) -> AlertCodeInfo:
    critical = {"yes": True, "no": False, "": None}[row["critical"]]
    return AlertCodeInfo(
        code=int(row["code"], 16),
        name=row["name"],
        critical=critical,
        basis=row["basis"],
        notes=row["notes"],
    )


@cache
def _registry() -> _Registry:
    by_code: dict[int, MessageCodeInfo] = {}
    by_use_case: dict[str, list[int]] = {}
    for row in _rows("message_codes.csv"):
        info = _parse_message_row(row)
        if info.code in by_code:
            raise ValueError(f"message_codes.csv: duplicate code 0x{info.code:04X}")
        by_code[info.code] = info
        # "CCS05/CCS04" is one code for two use cases.
        for name in filter(None, info.use_case.split("/")):
            by_use_case.setdefault(name.casefold(), []).append(info.code)
    alerts: dict[int, AlertCodeInfo] = {}
    for row in _rows("alert_codes.csv"):
        alert = _parse_alert_row(row)
        alerts[alert.code] = alert
    return _Registry(
        by_code=MappingProxyType(by_code),
        by_use_case=MappingProxyType({k: tuple(v) for k, v in by_use_case.items()}),
        alerts=MappingProxyType(alerts),
    )


def message_code_info(code: int) -> MessageCodeInfo | None:
    """The registry entry for a message code, or None when the code is unknown."""
    return _registry().by_code.get(code)


def message_codes_for(use_case: str) -> tuple[int, ...]:
    """Every message code of a use case (case-insensitive); empty when unknown."""
    return _registry().by_use_case.get(use_case.casefold(), ())


def message_code_for(use_case: str) -> int:
    """The message code of a use case such as "ECS22b" (case-insensitive).

    Raises KeyError when the use case is unknown, or when it has several codes (CS02b has one
    per credentials-replacement mode: use :func:`message_codes_for`).
    """
    codes = message_codes_for(use_case)
    if len(codes) == 1:
        return codes[0]
    if not codes:
        raise KeyError(f"unknown GBCS use case {use_case!r}")
    listed = ", ".join(f"0x{c:04X}" for c in codes)
    raise KeyError(f"use case {use_case!r} has several message codes ({listed}); choose one")


def all_message_codes() -> tuple[MessageCodeInfo, ...]:
    """Every registered message code, in code order."""
    return tuple(_registry().by_code.values())


def alert_code_info(code: int) -> AlertCodeInfo | None:
    """The registry entry for a two-byte alert code (0x8F66 ...), or None when unknown."""
    return _registry().alerts.get(code)


def all_alert_codes() -> tuple[AlertCodeInfo, ...]:
    """Every registered alert code, in code order."""
    return tuple(_registry().alerts.values())


def is_critical(code: int) -> bool:
    """Whether a message code is a critical command or a critical alert.

    Raises KeyError for a code that is not in the registry (an unknown code is not "non-critical").
    Kinds without a stated type (``unspecified``) count as not critical.
    """
    info = _registry().by_code.get(code)
    if info is None:
        raise KeyError(f"unknown GBCS message code 0x{code:04X}")
    return info.kind in CRITICAL_KINDS
