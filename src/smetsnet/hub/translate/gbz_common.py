"""GBZ translators: shared building blocks and body access (see ``gbz``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from smetsnet.duis.bodies import (
    Node,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.execution import DUIS_CANCEL
from smetsnet.duis.header import parse_base64, parse_datetime
from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.codec import Payload
from smetsnet.gbcs.gbz import (
    ClusterCommand,
    GbzComponent,
    GbzMessage,
    ReadAttributes,
    cluster_command,
)
from smetsnet.gbcs.registry import message_code_for
from smetsnet.hub.translate import Command, Context
from smetsnet.hub.translate.body import child, date_time, text
from smetsnet.inventory.model import DeviceType

GSME, GPF, PPMID, HCALCS = DeviceType.GSME, DeviceType.GPF, DeviceType.PPMID, DeviceType.HCALCS


_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


#: GBCS "cancel" start / implementation time.
CANCEL: Final = 0xFFFFFFFF


_U32: Final = 0xFFFFFFFF


Component = tuple[int, Any]  # (cluster id, ZCL command)


# -- building blocks -------------------------------------------------------------------------
def zcl_time(when: datetime, field: str) -> int:
    """``when`` as ZCL UTC time (seconds since 2000); DuisSchemaError naming ``field`` if it
    does not fit 32 bits. A time without a zone is UTC (DUIS times are UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((when - _EPOCH).total_seconds())
    if not 0 <= seconds < _U32:
        raise DuisSchemaError(f"{field}: {when.isoformat()} is outside the ZCL UTC time range")
    return seconds


def issuer_event_id(ctx: Context) -> int:
    """GBCS: "Issuer Event ID = current UTC time" (the hub's clock)."""
    return zcl_time(ctx.now, "now")


def gbz(*components: Component) -> GbzMessage:
    """A GBZ payload: components numbered 0, 1, ... (the ZCL sequence), the last one flagged."""
    return GbzMessage.of(
        components=[
            GbzComponent.of(cluster_id=cluster, command=command, sequence=i)
            for i, (cluster, command) in enumerate(components)
        ]
    )


def read(cluster: int, *attribute_ids: int) -> Component:
    return cluster, ReadAttributes(attribute_ids=attribute_ids)


def command(use_case: str, payload: Payload) -> Command:
    return Command(use_case=use_case, message_code=message_code_for(use_case), payload=payload)


def zcl(cluster: int, command_id: int, *, server_to_client: bool, **values: Any) -> Component:
    """A cluster command; an out-of-range value becomes a DuisSchemaError naming the field."""
    try:
        built: ClusterCommand = cluster_command(
            cluster, command_id, server_to_client=server_to_client, **values
        )
    except GbcsEncodeError as exc:
        raise DuisSchemaError(f"{exc}") from None
    return cluster, built


# -- body access -----------------------------------------------------------------------------


def decimal(node: Node, name: str) -> Decimal:
    raw = text(node, name)
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise DuisSchemaError(f"{name}: {raw!r} is not a decimal") from None
    if not value.is_finite():
        raise DuisSchemaError(f"{name}: {raw!r} is not a decimal")
    return value


def choice(node: Node, name: str, options: dict[str, int]) -> int:
    value = text(node, name)
    if value not in options:
        raise DuisSchemaError(f"{name}: {value!r} is not one of {', '.join(options)}")
    return options[value]


def start_time(node: Node, cancel: int = CANCEL) -> int:
    """A device-held future-dated command's start: 0 = now, ``cancel`` for DUIS's 3000-12-31."""
    found = node.child("ExecutionDateTime")
    if found is None:
        return 0
    when = parse_datetime(found.text.strip(), "ExecutionDateTime")
    return cancel if when == DUIS_CANCEL else zcl_time(when, "ExecutionDateTime")


def end_time(end: datetime) -> int:
    """A log read's latest end time; DUIS's 3000-12-31 ("no end") is GBCS's 0xFFFFFFFF."""
    return CANCEL if end == DUIS_CANCEL else zcl_time(end, "EndDateTime")


def log_period(node: Node) -> tuple[datetime, datetime]:
    period = child(node, "ReadLogPeriod")
    start, end = date_time(period, "StartDateTime"), date_time(period, "EndDateTime")
    if end != DUIS_CANCEL and zcl_time(end, "EndDateTime") < zcl_time(start, "StartDateTime"):
        raise DuisSchemaError("EndDateTime: before StartDateTime")
    return start, end


def ka_credentials(node: Node) -> bytes | None:
    """The unknown remote party's KA certificate (DER), when the request carries one."""
    found = node.child("KAPublicSecurityCredentials")
    return (
        None if found is None else parse_base64(found.text.strip(), "KAPublicSecurityCredentials")
    )


def fixed_point(value: Decimal, field: str, digits: int, high: int) -> int:
    """``value`` × 10^digits, which must be a whole number in 0..high."""
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= high:
        raise DuisSchemaError(f"{field}: {value} does not fit {digits} decimal place(s)")
    return int(scaled)


def decimals(value: Decimal) -> int:
    """Decimal places written in the request (40.0 → 1, 1.02264 → 5)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
