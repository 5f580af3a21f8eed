"""The GSME's ZCL server: each received component answered from, or applied to, the state.

Directions (GBCS-PAYLOADS §2.1): reads and prepayment/metering actions arrive client->server
and are answered server->client (a cluster response command, or a Default Response); tariff,
calendar and tenancy writes arrive as server->client "Publish…" commands and the meter answers
with a client->server Default Response. A "Get…" with nothing to publish answers Default
Response "not found" (0x8B), as the RTDS NOT_FOUND responses do.

Calendar commands are kept per ZSE calendar type (:mod:`.state`): Publish Calendar, Day Profile
and Special Days carry the type; Week Profile and Seasons only the issuer calendar id, whose type
is that of the Publish Calendar with that id earlier in the same message, else of the kept one
(one type only: an id two kept calendars share, as the RTDS GCS01a and GCS05 vectors' do, names
neither). A calendar command whose type cannot be told is answered "not found" and not kept
[inferred]. The "Get…" calendar commands name the calendar asked for by issuer calendar id
(0xFFFFFFFF: the current tariff calendar, 0xFFFFFFFE: the current friendly credit calendar,
GBCS) and Get Special Days by its calendar type too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from smetsnet.devices.core.device import Alert
from smetsnet.devices.gas import attributes
from smetsnet.devices.gas.state import (
    FRIENDLY_CREDIT_CALENDAR,
    PUBLISH_CALENDAR,
    TARIFF_CALENDAR,
    GsmeState,
    calendar_types,
    published_prefix,
    stored_in,
)
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
#: Issuer calendar ids of the "Get…" calendar commands that name the current calendar of a type.
CURRENT_CALENDARS: Final = {0xFFFFFFFF: TARIFF_CALENDAR, 0xFFFFFFFE: FRIENDLY_CREDIT_CALENDAR}


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
    #: issuer calendar id -> calendar type of the Publish Calendar commands of this message
    calendars: dict[int, int] = field(default_factory=dict)

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
def _store(ctx: Context, command: ClusterCommand, calendar_type: int | None = None) -> None:
    """Keep the command's payload (a calendar command: with its calendar type); a new message
    replaces what an older one published with the same cluster, id (and calendar type)."""
    prefix = published_prefix(command.spec.cluster_id, command.command_id, calendar_type)
    published = ctx.state.published
    if prefix not in ctx.replaced:
        ctx.replaced.add(prefix)
        for key in [k for k in published if k.startswith(prefix)]:
            del published[key]
    published[f"{prefix}{len([k for k in published if k.startswith(prefix)])}"] = command.to_bytes()


def stored(
    state: GsmeState, cluster: int, command_id: int, calendar_type: int | None = None
) -> list[ClusterCommand]:
    """The commands last published to this meter with this cluster and id (a calendar command:
    and calendar type; None: of every type), in order."""
    return stored_in(state.published, cluster, command_id, calendar_type)


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


@handles(DEVICE_MANAGEMENT, S2C, 0x01, 0x03, 0x04, 0x06)
def _keep(ctx: Context, command: ClusterCommand) -> int:
    _store(ctx, command)
    return SUCCESS


@handles(CALENDAR, S2C, 0x00, 0x01, 0x02, 0x03, 0x04)
def _keep_calendar(ctx: Context, command: ClusterCommand) -> int:
    """A calendar command, kept with its calendar type (module docstring)."""
    calendar_type = _published_type(ctx, command)
    if calendar_type is None:
        return NOT_FOUND
    if command.command_id == PUBLISH_CALENDAR:
        ctx.calendars[int(command["issuer_calendar_id"])] = calendar_type
    _store(ctx, command, calendar_type)
    return SUCCESS


def _published_type(ctx: Context, command: ClusterCommand) -> int | None:
    if "calendar_type" in command.values:
        return int(command["calendar_type"])
    calendar_id = int(command["issuer_calendar_id"])
    if calendar_id in ctx.calendars:
        return ctx.calendars[calendar_id]
    kept = calendar_types(ctx.state.published, calendar_id)
    return kept.pop() if len(kept) == 1 else None


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
@handles(PRICE, C2S, 0x0B)
def _republish_price(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    found: list[ZclCommand] = list(stored(ctx.state, PRICE, 0x09))
    return found or NOT_FOUND


@handles(CALENDAR, C2S, 0x00, 0x01, 0x02, 0x03, 0x04)
def _republish_calendar(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    """Get Calendar (no fields: every kept Publish Calendar), Get Day Profiles / Week Profiles
    (from the start id, so many, 0: all), Get Seasons, Get Special Days: of the calendar asked."""
    command_id = command.command_id
    calendar_type = None if command_id == PUBLISH_CALENDAR else _asked_type(ctx.state, command)
    if command_id != PUBLISH_CALENDAR and calendar_type is None:
        return NOT_FOUND
    kept = stored(ctx.state, CALENDAR, command_id, calendar_type)
    paged = _PAGED.get(command_id)
    if paged is not None:
        key, first, many = paged
        kept = [c for c in kept if int(c[key]) >= int(command[first])]
        kept = kept[: int(command[many]) or len(kept)]
    found: list[ZclCommand] = list(kept)
    return found or NOT_FOUND


#: Get Day Profiles / Get Week Profiles: (id of the published command, start id, how many).
_PAGED: Final = {
    0x01: ("day_id", "start_day_id", "number_of_days"),
    0x02: ("week_id", "start_week_id", "number_of_weeks"),
}


def _asked_type(state: GsmeState, command: ClusterCommand) -> int | None:
    """The calendar type a "Get…" names: its type field, else its issuer calendar id."""
    if "calendar_type" in command.values:
        return int(command["calendar_type"])
    calendar_id = int(command["issuer_calendar_id"])
    if calendar_id in CURRENT_CALENDARS:
        return CURRENT_CALENDARS[calendar_id]
    kept = calendar_types(state.published, calendar_id)
    return kept.pop() if len(kept) == 1 else None


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
