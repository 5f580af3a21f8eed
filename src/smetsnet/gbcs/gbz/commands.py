"""Cluster-specific commands as decoded values, and typed constructors for building them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.gbz import clusters as _clusters  # noqa: F401  (declares the specs)
from smetsnet.gbcs.gbz import engine
from smetsnet.gbcs.gbz import layout as lay
from smetsnet.gbcs.gbz import zcl_types as t
from smetsnet.gbcs.gbz.spec import (
    C2S,
    CLUSTER_NAMES,
    METERING,
    PREPAYMENT,
    SPECS,
    CommandSpec,
    all_specs,
    lookup,
)
from smetsnet.gbcs.payload import JsonValue, unknown_node


# -- the decoded command ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterCommand:
    """A cluster-specific command: its spec and the values of its fields, by name.

    ``trailing`` holds bytes the layout does not describe (shown in JSON as an unknown node);
    none in the reference vectors.
    """

    spec: CommandSpec
    values: Mapping[str, Any]
    trailing: bytes = b""
    trailing_why: str = ""

    @property
    def command_id(self) -> int:
        return self.spec.command_id

    @property
    def server_to_client(self) -> bool:
        return self.spec.server_to_client

    @property
    def name(self) -> str:
        return self.spec.name

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_bytes(self) -> bytes:
        out: list[bytes] = []
        engine.encode(self.spec.plan, self.values, out, self.spec.name)
        out.append(self.trailing)
        return b"".join(out)

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {"command": self.spec.name}
        _items_json(self.spec.layout, self.values, out)
        if self.trailing:
            out["trailing"] = unknown_node(self.trailing, self.trailing_why)
        return out


_new = object.__new__
_set = object.__setattr__


def make_command(
    spec: CommandSpec, values: Mapping[str, Any], trailing: bytes, why: str
) -> ClusterCommand:
    """Decoder's constructor: skips __init__ (the decoder's values match the spec already)."""
    command = _new(ClusterCommand)
    _set(command, "spec", spec)
    _set(command, "values", values)
    _set(command, "trailing", trailing)
    _set(command, "trailing_why", why)
    return command


def _items_json(items: lay.Layout, values: Mapping[str, Any], out: dict[str, JsonValue]) -> None:
    for item in items:
        if isinstance(item, lay.Field):
            if item.name not in values:
                return  # an absent optional tail
            t.put_json(out, item.name, item.type, values[item.name])
        elif isinstance(item, lay.Group):
            columns = values.get(item.name)
            if isinstance(columns, lay.Columns):
                out[item.name] = columns.to_json()
        elif isinstance(item, lay.Tail):
            _items_json(item.items, values, out)
        else:
            case = dict(item.cases).get(values.get(item.on, -1))
            if case is not None:
                _items_json(case, values, out)


def cluster_command(
    cluster_id: int, command_id: int, *, server_to_client: bool, **values: Any
) -> ClusterCommand:
    """Build a command from its field values (checked by encoding it once)."""
    spec = lookup(cluster_id, server_to_client, command_id)
    if spec is None:
        raise GbcsEncodeError(
            "command", f"no layout for cluster 0x{cluster_id:04X} command 0x{command_id:02X}"
        )
    command = ClusterCommand(spec=spec, values=dict(values))
    command.to_bytes()
    return command


def consumer_top_up(utrn: str, *, originating_device: int = 0) -> ClusterCommand:
    """CS01b: Prepayment 0x0705 / Consumer Top Up 0x04 with a 20-digit UTRN (GBCS-PAYLOADS §4)."""
    if len(utrn) != 20 or not utrn.isdigit() or not utrn.isascii():
        raise GbcsEncodeError("top_up_code", "a UTRN is 20 decimal digits")
    return cluster_command(
        PREPAYMENT,
        0x04,
        server_to_client=C2S,
        originating_device=originating_device,
        top_up_code=utrn.encode("ascii"),
    )


def select_available_emergency_credit(
    *, command_issue_date_time: int = 0, originating_device: int = 0
) -> ClusterCommand:
    """GCS06/PCS02: Prepayment 0x0705 / Select Available Emergency Credit 0x00."""
    return cluster_command(
        PREPAYMENT,
        0x00,
        server_to_client=C2S,
        command_issue_date_time=command_issue_date_time,
        originating_device=originating_device,
    )


def get_sampled_data(
    *, sample_id: int, earliest_sample_time: int, sample_type: int, number_of_samples: int
) -> ClusterCommand:
    """GCS17/GCS61: Metering 0x0702 / Get Sampled Data 0x08."""
    return cluster_command(
        METERING,
        0x08,
        server_to_client=C2S,
        sample_id=sample_id,
        earliest_sample_time=earliest_sample_time,
        sample_type=sample_type,
        number_of_samples=number_of_samples,
    )


__all__ = [
    "CLUSTER_NAMES",
    "SPECS",
    "ClusterCommand",
    "CommandSpec",
    "all_specs",
    "cluster_command",
    "consumer_top_up",
    "get_sampled_data",
    "lookup",
    "make_command",
    "select_available_emergency_credit",
]
