"""What a simulation runs: its size, its seed, and how often each operation happens.

Defaults give a mix like GB's network (DOMAIN.md §8): tens of messages per meter per month, most
of them the daily reading packages, the rest security, tariffs, prepayment, firmware, install and
alerts. A JSON ``--config`` file may set any field (unknown keys are refused, naming them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from smetsnet.errors import ConfigurationError
from smetsnet.hub.boxed import read_json_object


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    premises: int = 1000
    days: int = 7
    seed: int = 1
    start: date = date(2026, 1, 5)
    #: share of premises that pay in advance (PPMID, prepayment mode, top-ups)
    prepayment_share: float = 0.2
    #: daily reading packages: when each meter's DCC schedule runs (minutes after midnight UTC,
    #: spread evenly over the window so the burst is a plateau, not a spike)
    daily_read_from_min: int = 60
    daily_read_window_min: int = 240
    #: share of ESMEs whose half-hours the electricity distributor also reads daily (4.8.1 is
    #: open to ED): its aggregated demand per region and half-hour
    distributor_read_share: float = 0.1
    #: per meter and day: a supplier's on-demand read of the registers
    on_demand_read_rate: float = 0.03
    #: per premises and day: a power cut (restored after minutes to hours)
    outage_rate: float = 0.002
    #: prepayment premises top up every this many days (on average)
    top_up_interval_days: float = 7.0
    #: share of each electricity supplier's meters given a new tariff, on the day of the run
    #: given by ``tariff_change_day`` (None: no tariff change)
    tariff_change_share: float = 0.1
    tariff_change_day: int | None = 2
    #: premises that change electricity supplier during the run (spread over its days)
    changes_of_supplier: int = 2
    #: a staged firmware rollout to the ESMEs and the GSMEs, starting on this day (None: none)
    firmware_day: int | None = 1
    firmware_stage_share: tuple[float, ...] = (0.1, 0.5, 1.0)
    firmware_halt_failure_rate: float = 0.2
    #: share of comms hubs whose copy of the image arrives damaged (the meter refuses it)
    firmware_corruption_rate: float = 0.02
    #: new premises installed and commissioned during the run
    installs: int = 2
    #: a premises with nothing to do is advanced this often (hours); a message advances it to
    #: its arrival anyway, and prepayment premises and gas meters with queued commands are
    #: advanced on time (see SimulatedNetwork.idle_interval)
    idle_advance_h: float = 12.0
    #: how often a prepayment premises is advanced (minutes): its low-credit and cut-off alerts
    #: carry the half-hour they happened and reach the supplier at the latest this much later
    prepayment_advance_min: float = 120.0
    #: WAN link profiles by technology (see ``smetsnet.hub.build.wan_profiles``)
    wan: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.premises < 1:
            raise ConfigurationError(f"premises: at least 1, not {self.premises}")
        if self.days < 1:
            raise ConfigurationError(f"days: at least 1, not {self.days}")
        for name in (
            "prepayment_share",
            "on_demand_read_rate",
            "outage_rate",
            "distributor_read_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigurationError(f"{name}: a share from 0 to 1, not {value}")
        if self.changes_of_supplier > self.premises:
            raise ConfigurationError(
                f"changes_of_supplier: {self.changes_of_supplier} is more than the premises"
            )
        if not 0 <= self.daily_read_from_min < 1440 or self.daily_read_window_min < 1:
            raise ConfigurationError("daily_read_from_min/window_min: minutes within the day")

    def with_overrides(self, **values: Any) -> SimConfig:
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    @classmethod
    def from_file(cls, path: Path) -> SimConfig:
        return cls.from_dict(read_json_object(path), source=str(path))

    @classmethod
    def from_dict(cls, document: dict[str, Any], *, source: str = "config") -> SimConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ConfigurationError(f"{source}: unknown setting(s) {', '.join(unknown)}")
        values = dict(document)
        try:
            if "start" in values:
                values["start"] = date.fromisoformat(str(values["start"]))
            if "firmware_stage_share" in values:
                values["firmware_stage_share"] = tuple(values["firmware_stage_share"])
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{source}: {exc}") from None
