"""The GSME's ZCL server: each received component answered from, or applied to, the state.

Directions (GBCS-PAYLOADS §2.1): reads and prepayment/metering actions arrive client->server
and are answered server->client (a cluster response command, or a Default Response); tariff,
calendar and tenancy writes arrive as server->client "Publish…" commands and the meter answers
with a client->server Default Response. A "Get…" with nothing to publish answers Default
Response "not found" (0x8B), as the RTDS NOT_FOUND responses do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from smetsnet.devices.core.device import Alert
from smetsnet.devices.gas import attributes
from smetsnet.devices.gas.state import GsmeState
from smetsnet.gbcs.dlms import seconds_since_2000
from smetsnet.gbcs.frame import GroupingHeader
from smetsnet.gbcs.gbz import (
    ClusterCommand,
    Columns,
    DefaultResponse,
    GbzComponent,
    ReadAttributes,
    ZclCommand,
    cluster_command,
    lookup,
)
from smetsnet.gbcs.gbz.components import decode_command
from smetsnet.gbcs.gbz.layout import Group
from smetsnet.gbcs.gbz.spec import (
    BASIC,
    C2S,
    CALENDAR,
    DEVICE_MANAGEMENT,
    METERING,
    PREPAYMENT,
    PRICE,
    S2C,
)

SUCCESS, FAILURE, UNSUP_COMMAND, INVALID_FIELD, NOT_FOUND = 0x00, 0x01, 0x81, 0x85, 0x8B
DAY: Final = 86_400
#: Get Sampled Data sample ids: 0 half-hourly consumption (GCS17), 1 daily consumption (GCS61).
PROFILE_SAMPLES, DAILY_SAMPLES = 0, 1
_SUPPLY_BY_STATUS: Final = {v: k for k, v in attributes.SUPPLY_STATUS.items()}


TopUp = Callable[["Context", str], tuple[int, int]]


@dataclass(slots=True, kw_only=True)
class Context:
    """One command being executed: the state, the time, its header and what it raised."""

    state: GsmeState
    now: datetime
    header: GroupingHeader
    #: (UTRN, originating device) -> (result type, value in currency units); None: no top-ups.
    top_up: TopUp | None = None
    alerts: list[Alert] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)

    @property
    def clock(self) -> int:
        """Device time, seconds since 2000."""
        return seconds_since_2000(self.now) + self.state.clock_offset_s


#: A reply: (cluster id, command, server->client).
Reply = tuple[int, ZclCommand, bool]
Handler = Callable[[Context, ClusterCommand], "list[ZclCommand] | int"]
HANDLERS: dict[tuple[int, bool, int], Handler] = {}


def handles(cluster: int, direction: bool, *command_ids: int) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for command_id in command_ids:
            HANDLERS[(cluster, direction, command_id)] = handler
        return handler

    return register


def serve(ctx: Context, component: GbzComponent) -> list[Reply]:
    """The reply components to one received component."""
    command, cluster = component.command, component.cluster_id
    back = not component.server_to_client
    if isinstance(command, ReadAttributes):
        if cluster not in (BASIC, METERING, PREPAYMENT, PRICE):
            return [(cluster, _default(component, UNSUP_COMMAND), back)]
        return [(cluster, attributes.read_attributes(ctx.state, cluster, command), True)]
    if not isinstance(command, ClusterCommand):
        return [(cluster, _default(component, UNSUP_COMMAND), back)]
    handler = HANDLERS.get((cluster, command.server_to_client, command.command_id))
    if handler is None:
        return [(cluster, _default(component, UNSUP_COMMAND), back)]
    got = handler(ctx, command)
    if isinstance(got, int):
        return [(cluster, _default(component, got), back)]
    return [(cluster, reply, back) for reply in got]


def _default(component: GbzComponent, status: int) -> DefaultResponse:
    return DefaultResponse(command_id_answered=component.command_id, status=status)


def _build(cluster: int, command_id: int, **values: object) -> ClusterCommand:
    return cluster_command(cluster, command_id, server_to_client=S2C, **values)


# -- publish commands the meter stores (S2C, answered by a Default Response) ------------------
def _store(ctx: Context, command: ClusterCommand) -> None:
    """Keep the command's payload; a new message replaces what an older one published."""
    prefix = f"{command.spec.cluster_id:04X}/{command.command_id:02X}/"
    published = ctx.state.published
    if prefix not in ctx.replaced:
        ctx.replaced.add(prefix)
        for key in [k for k in published if k.startswith(prefix)]:
            del published[key]
    published[f"{prefix}{len([k for k in published if k.startswith(prefix)])}"] = command.to_bytes()


def stored(state: GsmeState, cluster: int, command_id: int) -> list[ClusterCommand]:
    """The commands last published to this meter with this cluster and id, in order."""
    return stored_in(state.published, cluster, command_id)


def stored_in(
    published: Mapping[str, bytes], cluster: int, command_id: int
) -> list[ClusterCommand]:
    """:func:`stored` on a ``published`` map (the tariff builder's cached copy)."""
    prefix = f"{cluster:04X}/{command_id:02X}/"
    out = []
    for key in sorted((k for k in published if k.startswith(prefix)), key=_index):
        data = published[key]
        command = decode_command(cluster, 0x09, command_id, data, 0, len(data), 0, "stored")
        if isinstance(command, ClusterCommand):
            out.append(command)
    return out


def _index(key: str) -> int:
    return int(key.rsplit("/", 1)[1])


@handles(PRICE, S2C, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09)
def _price(ctx: Context, command: ClusterCommand) -> int:
    s, v = ctx.state, command.values
    _store(ctx, command)
    if command.command_id == 0x04:
        s.standing_charge = int(v["standing_charge"])
    elif command.command_id == 0x05:
        prices = v["prices"]
        if len(prices):
            s.price = int(prices["price"][0])
    elif command.command_id == 0x06:
        s.block_thresholds = [int(x) for x in v["thresholds"]["threshold"]]
    elif command.command_id == 0x02:
        s.conversion_factor = int(v["conversion_factor"])
    elif command.command_id == 0x03:
        s.calorific_value = int(v["calorific_value"])
    return SUCCESS


@handles(CALENDAR, S2C, 0x00, 0x01, 0x02, 0x03, 0x04)
@handles(DEVICE_MANAGEMENT, S2C, 0x01, 0x03, 0x04, 0x06)
def _keep(ctx: Context, command: ClusterCommand) -> int:
    _store(ctx, command)
    return SUCCESS


@handles(DEVICE_MANAGEMENT, S2C, 0x00)
def _change_of_tenancy(ctx: Context, command: ClusterCommand) -> int:
    """GCS09/GCS44: a new tenant starts with a clean bill (and debt)."""
    _store(ctx, command)
    ctx.state.billed = 0
    ctx.state.accumulated_debt = 0
    return SUCCESS


@handles(DEVICE_MANAGEMENT, S2C, 0x05)
def _event_configuration(ctx: Context, command: ClusterCommand) -> list[ZclCommand]:
    """GCS20r: report the (default: log only, 0x01) configuration of the event asked."""
    group = _group(DEVICE_MANAGEMENT, C2S, 0x04, "events")
    events = Columns.of(group, event_id=[command["event_id"]], event_configuration=[0x01])
    report = cluster_command(
        DEVICE_MANAGEMENT, 0x04, server_to_client=C2S, command_index=0, total_commands=1,
        events=events,
    )  # fmt: skip
    return [report]


def _group(cluster: int, direction: bool, command_id: int, name: str) -> Group:
    spec = lookup(cluster, direction, command_id)
    assert spec is not None
    return spec.group(name)


# -- re-publishing on request (C2S "Get…") ----------------------------------------------------
_REPUBLISH: Final = {
    (PRICE, 0x0B): (PRICE, 0x09),
    (CALENDAR, 0x00): (CALENDAR, 0x00),
    (CALENDAR, 0x01): (CALENDAR, 0x01),
    (CALENDAR, 0x02): (CALENDAR, 0x02),
    (CALENDAR, 0x03): (CALENDAR, 0x03),
    (CALENDAR, 0x04): (CALENDAR, 0x04),
}


@handles(PRICE, C2S, 0x0B)
@handles(CALENDAR, C2S, 0x00, 0x01, 0x02, 0x03, 0x04)
def _republish(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    cluster, command_id = _REPUBLISH[(command.spec.cluster_id, command.command_id)]
    found: list[ZclCommand] = list(stored(ctx.state, cluster, command_id))
    return found or NOT_FOUND


@handles(PRICE, C2S, 0x00)
def _current_price(ctx: Context, command: ClusterCommand) -> list[ZclCommand]:
    return [
        _build(
            PRICE, 0x00, provider_id=0, rate_label=b"", issuer_event_id=0,
            current_time=ctx.clock, unit_of_measure=0, currency=attributes.GBP,
            price_trailing_digit_and_tier=0x51, number_of_price_tiers_and_register_tier=0x11,
            start_time=0, duration_minutes=0xFFFF, price=attributes._u(ctx.state.price, 32),
        )
    ]  # fmt: skip


__all__ = ["HANDLERS", "Context", "Reply", "serve", "stored", "stored_in"]
