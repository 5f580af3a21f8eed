"""The DUIS service request catalogue (V5.4): one :class:`SrInfo` per SR variant.

The data file ``data/sr_catalogue.csv`` was written by us from public DUIS facts (the V5.4 XSD's
enumerations and comments, DCC's published request matrix and templates; SR-CATALOGUE.md in the
project's reference notes). Where sources disagree the file follows the V5.4 XSD, except for
7.12-7.15 whose XSD CV comments look shifted against their criticality (we keep criticality).
``target_types`` are the device types DCC's templates address, not DUIS's full applicability
list (which we could not source); ``DCC`` marks non-device requests.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources

from smetsnet.duis.errors import CommandVariantInvalid, DuisSchemaError


class Role(Enum):
    """DUIS user roles (SEC)."""

    IS = "import supplier"
    ES = "export supplier"
    GS = "gas supplier"
    ED = "electricity distributor"
    GT = "gas transporter"
    RSA = "registered supplier agent"
    OU = "other user"


class FutureDated(Enum):
    """Who holds a future-dated request until its execution time."""

    NONE = "none"
    DEVICE = "device"  # the device holds it; reports with alert 0x8F66/0x8F67
    DSP = "dsp"  # the DCC holds it and sends it at that time
    DSP_AND_DEVICE = "dsp+device"  # 6.23


@dataclass(frozen=True, slots=True, kw_only=True)
class SrInfo:
    srv: str
    service_reference: str
    name: str
    body_element: str
    roles: frozenset[Role]
    critical: bool
    future_dated: FutureDated
    dcc_schedulable: bool
    non_device: bool
    target_types: tuple[str, ...]
    command_variants: frozenset[int]

    def check_command_variant(self, cv: int) -> None:
        """Raise :class:`CommandVariantInvalid` (E12) unless ``cv`` is allowed for this SR."""
        if cv not in self.command_variants:
            allowed = ", ".join(map(str, sorted(self.command_variants)))
            raise CommandVariantInvalid(
                f"SR {self.srv} allows command variants {allowed}, not {cv}"
            )


def _row(r: dict[str, str]) -> SrInfo:
    srv = r["srv"]
    return SrInfo(
        srv=srv,
        service_reference=".".join(srv.split(".")[:2]),
        name=r["name"],
        body_element=r["body_element"],
        roles=frozenset(Role[x] for x in r["roles"].split()),
        critical=r["critical"] == "Y",
        future_dated=FutureDated(r["future_dated"]),
        dcc_schedulable=r["dcc_schedulable"] == "Y",
        non_device=r["non_device"] == "Y",
        target_types=tuple(r["target_types"].split()),
        command_variants=frozenset(int(x) for x in r["command_variants"].split()),
    )


@cache
def catalogue() -> dict[str, SrInfo]:
    """Every SR variant, keyed by its number (``"4.1.1"``), in DUIS order."""
    text = resources.files("smetsnet.duis").joinpath("data/sr_catalogue.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return {info.srv: info for info in map(_row, csv.DictReader(lines))}


@cache
def by_body_element() -> dict[str, SrInfo]:
    return {info.body_element: info for info in catalogue().values()}


def sr_info(variant: str) -> SrInfo:
    """The catalogue entry of an SR variant; :class:`DuisSchemaError` if DUIS has none."""
    info = catalogue().get(variant)
    if info is None:
        raise DuisSchemaError(f"ServiceReferenceVariant {variant!r} is not a DUIS SR variant")
    return info
