"""Command specs: a cluster-specific command's place (cluster, direction, id), name and layout.

The same command id means different commands in the two directions (client->server vs
server->client, frame control bit 3), so specs are keyed by (cluster, direction, command id).
The specs themselves are declared in :mod:`.clusters`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from smetsnet.gbcs.gbz import engine
from smetsnet.gbcs.gbz import layout as lay

C2S: Final = False  # client -> server (frame control bit 3 clear)
S2C: Final = True  # server -> client

BASIC: Final = 0x0000
PRICE: Final = 0x0700
METERING: Final = 0x0702
MESSAGING: Final = 0x0703
PREPAYMENT: Final = 0x0705
CALENDAR: Final = 0x0707
DEVICE_MANAGEMENT: Final = 0x0708
EVENTS: Final = 0x0709

CLUSTER_NAMES: Final = {
    BASIC: "Basic",
    PRICE: "Price",
    METERING: "Metering",
    MESSAGING: "Messaging",
    PREPAYMENT: "Prepayment",
    CALENDAR: "Calendar",
    DEVICE_MANAGEMENT: "Device Management",
    EVENTS: "Events",
}


@dataclass(frozen=True, slots=True, eq=False)
class CommandSpec:
    """One cluster-specific command: where it lives and its field layout."""

    cluster_id: int
    server_to_client: bool
    command_id: int
    name: str
    layout: lay.Layout
    plan: engine.Plan = field(repr=False)
    #: When the whole layout is one run of 1/2/4/8-byte fields: its codec and names (fast path).
    single_run: struct.Struct | None = field(default=None, repr=False)
    names: tuple[str, ...] = field(default=(), repr=False)

    def group(self, name: str) -> lay.Group:
        """The repeated group called ``name`` (to build its :class:`~.layout.Columns`)."""
        for item in _walk(self.layout):
            if isinstance(item, lay.Group) and item.name == name:
                return item
        raise KeyError(name)


def _walk(items: lay.Layout) -> list[lay.Item]:
    found: list[lay.Item] = []
    for item in items:
        found.append(item)
        if isinstance(item, lay.Tail):
            found.extend(_walk(item.items))
        elif isinstance(item, lay.Variant):
            for _, case in item.cases:
                found.extend(_walk(case))
    return found


#: (cluster id, server->client, command id) -> spec.
SPECS: Final[dict[tuple[int, bool, int], CommandSpec]] = {}


def define(
    cluster: int, direction: bool, command: int, name: str, layout: str | lay.Layout
) -> None:
    items = lay.parse_layout(layout) if isinstance(layout, str) else layout
    plan = engine.compile_layout(items)
    run = engine.single_run(plan)
    spec = CommandSpec(
        cluster,
        direction,
        command,
        name,
        items,
        plan,
        None if run is None else run.codec,
        () if run is None else run.names,
    )
    SPECS[(cluster, direction, command)] = spec


def lookup(cluster_id: int, server_to_client: bool, command_id: int) -> CommandSpec | None:
    return SPECS.get((cluster_id, server_to_client, command_id))


def all_specs() -> list[CommandSpec]:
    return list(SPECS.values())
