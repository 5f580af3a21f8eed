"""The state of a simulated gas meter (GSME), columnar where it is bulky.

Units: money in integer currency units of 10^-5 GBP (as the ESME: a price trailing digit of 5);
gas volume in litres (the Metering summation is m³ with divisor 1000, GBCS-PAYLOADS §2.4 worked
example: divisor 1000, multiplier 1, unit 1 = m³); energy in Wh. The half-hourly profile is one
numpy array of litres with the start of its first interval (seconds since 2000-01-01 UTC).

Tariff, calendar and configuration commands the meter only has to remember are kept as the ZCL
payload bytes of the last message's commands per (cluster, command id), under the keys
``CCCC/II/N`` (N: their order); calendar commands per ZSE calendar type too, ``0707/II/TT/N``,
so the tariff switching calendar (type 0, GCS01a) and the non-disablement (friendly credit)
calendar (type 3, GCS05) are kept side by side: plain bytes, so the state serialises to JSON,
and a "Get…" command re-publishes exactly what was set. A state saved when calendar commands
were kept per (cluster, command id) only loads with each under the type its payload names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from smetsnet.devices.battery import BatteryModel
from smetsnet.devices.core.metering import HALF_HOUR as HALF_HOUR
from smetsnet.devices.core.metering import LOW_CREDIT
from smetsnet.devices.core.tariff import BLOCK_TIERS, BLOCKS, TOU_TIERS
from smetsnet.gbcs.gbz import ClusterCommand
from smetsnet.gbcs.gbz.components import decode_command
from smetsnet.gbcs.gbz.spec import CALENDAR

#: Half-hours of profile kept (five weeks; GBCS asks for three months of half-hours).
PROFILE_CAPACITY = 48 * 35
UTRN_CACHE = 5
#: Calorific value (MJ/m³ in tenths: trailing digit 1) and volume conversion factor (10^-5:
#: trailing digit 5): the figures of GB gas bills, as in :mod:`smetsnet.devices.consumption`.
DEFAULT_CV = 395
DEFAULT_CF = 102264
#: Fields renamed since older saved states: the meter balance and the accumulated debt now
#: carry the names of the shared prepayment account (:mod:`smetsnet.devices.core.prepayment`).
_RENAMED = {"credit": "balance", "debt": "accumulated_debt"}
#: Debt collections kept for Get Debt Repayment Log (one entry per debt register and day).
DEBT_LOG_CAPACITY = 60
#: ZSE Calendar Type of the tariff switching calendar (GCS01a: "delivered") and of the
#: non-disablement, friendly credit, calendar (GCS05), as the hub's GBZ translation sets them.
TARIFF_CALENDAR: Final = 0x00
FRIENDLY_CREDIT_CALENDAR: Final = 0x03
#: Publish Calendar, whose issuer calendar id names the type of the Week Profile and Seasons
#: commands of its calendar (those two carry no calendar type field).
PUBLISH_CALENDAR: Final = 0x00
_CLUSTER_SPECIFIC_S2C: Final = 0x09  # ZCL frame control of a stored "Publish…" command


@dataclass(slots=True, kw_only=True)
class GsmeState:
    """Everything a GSME remembers besides its keys and anti-replay counters."""

    clock_offset_s: int = 0
    litres: int = 0  # Metering 0x0000 current summation delivered (m³ / 1000)
    energy_wh: int = 0
    payment_mode: str = "credit"  # or "prepayment"
    #: Prepayment registers, named as the shared account (:class:`core.prepayment.Account`):
    #: meter balance (Prepayment 0x0001 credit remaining), emergency credit balance (0x0002) and
    #: the limit granted when it was taken (0: not in use), accumulated debt (0x0005), time
    #: debts 1 and 2 and the payment debt (debt registers 1-3: 0x0211, 0x0221, 0x0231), and
    #: what was recovered of each so far.
    balance: int = 0
    emergency_credit: int = 0
    emergency_granted: int = 0
    accumulated_debt: int = 0
    time_debts: list[int] = field(default_factory=lambda: [0, 0])
    payment_debt: int = 0
    debt_recovered: list[int] = field(default_factory=lambda: [0, 0, 0])
    #: What the supplier configured: GCS05 emergency credit, GCS03 cut-off value (disablement
    #: threshold) and payment control configuration, GCS04 recovery of each debt register
    #: (time debts: amount per period in seconds; payment debt: hundredths of a percent).
    emergency_credit_limit: int = 0
    emergency_credit_threshold: int = 0
    disablement_threshold: int = 0
    payment_control: int = 0
    time_debt_rates: list[list[int]] = field(default_factory=lambda: [[0, 86_400], [0, 86_400]])
    debt_recovery_per_payment: int = 0
    #: (day start s since 2000, amount collected, debt type 1-3, outstanding) per register a day
    debt_log: list[tuple[int, int, int, int]] = field(default_factory=list)
    low_credit_level: int = LOW_CREDIT
    max_credit: int = 0
    max_credit_per_top_up: int = 0
    debt_cap: int = 0
    supply: str = "enabled"  # "disabled", "armed" (the valve)
    price: int = 0  # per kWh, currency units (price matrix, first entry)
    standing_charge: int = 0  # per day, currency units
    block_thresholds: list[int] = field(default_factory=list)
    calorific_value: int = DEFAULT_CV
    conversion_factor: int = DEFAULT_CF
    billed: int = 0  # bill to date, currency units
    utrn_counters: list[int] = field(default_factory=list)
    top_ups: list[tuple[int, str, int]] = field(default_factory=list)  # (time, UTRN, value)
    published: dict[str, bytes] = field(default_factory=dict)  # "CCCC/II" -> ZCL payload
    profile_start: int = 0  # s since 2000 of profile_l[0]
    profile_l: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))
    events: list[tuple[int, int]] = field(default_factory=list)  # (s since 2000, event id)
    firmware: bytes = b"\x00\x01\x00\x00"
    battery_nah: npt.NDArray[np.uint64] = field(default_factory=lambda: BatteryModel().full(1))
    low_battery_raised: bool = False
    #: HAN partners (CS03/CS04/CS07): (EUI hex, ASN.1 DeviceType, KA point hex or "")
    device_log: list[tuple[str, int, str]] = field(default_factory=list)
    #: Billing registers (Wh, as the ESME's): energy per TOU tier, per (block tier, block) (block
    #: tier 0: block only, "no tier"), and the block counters of the current block period.
    tier_wh: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(TOU_TIERS, np.int64))
    block_wh: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((BLOCK_TIERS, BLOCKS), np.int64)
    )
    block_used: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(BLOCK_TIERS, np.int64)
    )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                out[name] = [int(v) for v in value.ravel()]
            elif isinstance(value, bytes):
                out[name] = value.hex()
            elif isinstance(value, dict):
                out[name] = {k: v.hex() for k, v in value.items()}
            elif isinstance(value, list):
                out[name] = [list(v) if isinstance(v, tuple) else v for v in value]
            else:
                out[name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GsmeState:
        state = cls()
        for saved, value in data.items():
            # State saved before the shared account: the same registers under older names (and
            # none of the registers added since: their defaults, no debt, no emergency credit).
            name = _RENAMED.get(saved, saved)
            current = getattr(state, name)
            if isinstance(current, np.ndarray):
                array = np.asarray(value, dtype=current.dtype)
                fixed = current.ndim > 1 or name in ("tier_wh", "block_used")
                setattr(state, name, array.reshape(current.shape) if fixed else array)
            elif isinstance(current, bytes):
                setattr(state, name, bytes.fromhex(value))
            elif isinstance(current, dict):
                published = {k: bytes.fromhex(v) for k, v in value.items()}
                setattr(state, name, calendars_by_type(published))
            elif name in ("top_ups", "events", "device_log", "debt_log"):
                setattr(state, name, [tuple(v) for v in value])
            elif name in ("time_debts", "debt_recovered"):
                setattr(state, name, [int(v) for v in value])
            elif name == "time_debt_rates":
                setattr(state, name, [[int(a), int(p)] for a, p in value])
            else:
                setattr(state, name, value)
        if "tier_wh" not in data:  # saved before the tier registers: all billed in tier 1
            state.tier_wh[0] = state.energy_wh
        return state

    def copy(self) -> GsmeState:
        """A snapshot (the GPF's mirror). The profile array is never changed in place (appending
        makes a new one), so it is shared; every other container is copied."""
        out = replace(self)
        out.block_thresholds = list(self.block_thresholds)
        out.utrn_counters = list(self.utrn_counters)
        out.top_ups = list(self.top_ups)
        out.published = dict(self.published)
        out.events = list(self.events)
        out.device_log = list(self.device_log)
        out.time_debts, out.debt_recovered = list(self.time_debts), list(self.debt_recovered)
        out.time_debt_rates = [list(rate) for rate in self.time_debt_rates]
        out.debt_log = list(self.debt_log)
        out.battery_nah = self.battery_nah.copy()
        out.tier_wh, out.block_wh = self.tier_wh.copy(), self.block_wh.copy()
        out.block_used = self.block_used.copy()
        return out


# -- the published map: keys, decoding, older saved states ------------------------------------
def published_prefix(cluster: int, command_id: int, calendar_type: int | None = None) -> str:
    """The key prefix of the stored commands with this cluster and id (and calendar type: a
    calendar command's; None: every type)."""
    prefix = f"{cluster:04X}/{command_id:02X}/"
    return prefix if calendar_type is None else f"{prefix}{calendar_type:02X}/"


def stored_in(
    published: Mapping[str, bytes],
    cluster: int,
    command_id: int,
    calendar_type: int | None = None,
) -> list[ClusterCommand]:
    """The commands kept in ``published`` with this cluster and id (and calendar type), in the
    order they were received."""
    prefix = published_prefix(cluster, command_id, calendar_type)
    out = []
    for key in sorted((k for k in published if k.startswith(prefix)), key=_order):
        command = _decode(cluster, command_id, published[key])
        if isinstance(command, ClusterCommand):
            out.append(command)
    return out


def calendar_types(published: Mapping[str, bytes], issuer_calendar_id: int) -> set[int]:
    """The types of the kept calendars whose Publish Calendar has this issuer calendar id."""
    return {
        int(command["calendar_type"])
        for command in stored_in(published, CALENDAR, PUBLISH_CALENDAR)
        if int(command["issuer_calendar_id"]) == issuer_calendar_id
    }


def calendars_by_type(published: dict[str, bytes]) -> dict[str, bytes]:
    """``published`` with any calendar command kept under its (cluster, id) only, as states were
    saved before calendars were kept per type, moved under its calendar type: the type field of
    its payload, or (Week Profile, Seasons) the type of the kept Publish Calendar with its issuer
    calendar id; none such: the tariff calendar [inferred: an older meter kept only one
    calendar's commands of each id, and the tariff's was the only calendar it used]."""
    old = [k for k in published if k.startswith(f"{CALENDAR:04X}/") and k.count("/") == 2]
    if not old:
        return published
    out = {k: v for k, v in published.items() if k not in old}
    commands = {k: _decode(CALENDAR, int(k.split("/")[1], 16), published[k]) for k in old}
    types = {
        int(c["issuer_calendar_id"]): int(c["calendar_type"])
        for c in commands.values()
        if isinstance(c, ClusterCommand) and "calendar_type" in c.values
    }
    for key in sorted(old, key=_order):
        command, command_id = commands[key], int(key.split("/")[1], 16)
        if not isinstance(command, ClusterCommand):
            continue
        calendar_type = int(
            command["calendar_type"]
            if "calendar_type" in command.values
            else types.get(int(command["issuer_calendar_id"]), TARIFF_CALENDAR)
        )
        prefix = published_prefix(CALENDAR, command_id, calendar_type)
        out[f"{prefix}{sum(k.startswith(prefix) for k in out)}"] = published[key]
    return out


def _decode(cluster: int, command_id: int, data: bytes) -> object:
    return decode_command(
        cluster, _CLUSTER_SPECIFIC_S2C, command_id, data, 0, len(data), 0, "stored"
    )


def _order(key: str) -> int:
    return int(key.rsplit("/", 1)[1])
