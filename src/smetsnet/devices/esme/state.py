"""The state of a simulated electricity meter (ESME), columnar where it is bulky.

Money is held in integer currency units of 10^-5 GBP: the scaler (-5) of the price matrix that
ECS01a/b carry (GBCS-PAYLOADS §1.8, class 113). Energy in Wh. The half-hourly import profile is
one numpy array with the start time of its first interval (seconds since 2000-01-01 UTC, the
DLMS profile time base).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core.metering import HALF_HOUR as HALF_HOUR
from smetsnet.devices.core.tariff import BLOCK_TIERS, BLOCKS, TOU_TIERS

#: Pence to currency units (10^-5 GBP).
PENCE = 1000
#: Half-hours of profile kept (five weeks; a real ESME keeps at least 13 months, GBCS asks 3).
PROFILE_CAPACITY = 48 * 35
UTRN_CACHE = 5


@dataclass(slots=True, kw_only=True)
class EsmeState:
    """Everything an ESME remembers besides its keys and anti-replay counters."""

    clock_offset_s: int = 0
    import_wh: int = 0
    export_wh: int = 0
    import_varh: int = 0
    payment_mode: str = "credit"  # or "prepayment"
    balance: int = 0  # currency units; meter balance (credit left in prepayment)
    #: Prepayment registers (:mod:`smetsnet.devices.core.prepayment`): emergency credit balance
    #: and the limit granted when it was taken (0: not in use), charges no credit could pay,
    #: time debts 1 and 2, payment debt, and what was recovered of each debt so far.
    emergency_credit: int = 0
    emergency_granted: int = 0
    accumulated_debt: int = 0
    time_debts: list[int] = field(default_factory=lambda: [0, 0])
    payment_debt: int = 0
    debt_recovered: list[int] = field(default_factory=lambda: [0, 0, 0])
    supply: str = "enabled"  # "disabled", "armed"
    price: int = 0  # per kWh, currency units (price matrix, first tier: used with no calendar)
    standing_charge: int = 0  # per day, currency units
    billed: int = 0  # charges accumulated, currency units
    utrn_counters: list[int] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)  # generic COSEM store (encoded Data)
    profile_start: int = 0  # s since 2000 of profile_wh[0]
    profile_wh: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))
    events: list[tuple[int, int]] = field(default_factory=list)  # (s since 2000, event code)
    firmware: bytes = b"\x00\x01\x00\x00"
    preset_clock: int | None = None
    device_log: list[tuple[bytes, int]] = field(default_factory=list)  # (partner EUI, type)
    firmware_image: bytes | None = None  # the upgrade image received, verified
    #: Billing registers (ECS17e): import per TOU tier, per (block tier, block), and the block
    #: counters of the current block period (reset by ECS05); Wh.
    tier_wh: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(TOU_TIERS, np.int64))
    block_wh: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((BLOCK_TIERS, BLOCKS), np.int64)
    )
    block_used: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(BLOCK_TIERS, np.int64)
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "clock_offset_s": self.clock_offset_s,
            "import_wh": self.import_wh,
            "export_wh": self.export_wh,
            "import_varh": self.import_varh,
            "payment_mode": self.payment_mode,
            "balance": self.balance,
            "emergency_credit": self.emergency_credit,
            "emergency_granted": self.emergency_granted,
            "accumulated_debt": self.accumulated_debt,
            "time_debts": list(self.time_debts),
            "payment_debt": self.payment_debt,
            "debt_recovered": list(self.debt_recovered),
            "supply": self.supply,
            "price": self.price,
            "standing_charge": self.standing_charge,
            "billed": self.billed,
            "utrn_counters": list(self.utrn_counters),
            "objects": {k: v.hex() for k, v in self.objects.items()},
            "profile_start": self.profile_start,
            "profile_wh": [int(v) for v in self.profile_wh],
            "events": [list(e) for e in self.events],
            "firmware": self.firmware.hex(),
            "preset_clock": self.preset_clock,
            "device_log": [[e.hex(), t] for e, t in self.device_log],
            "firmware_image": None if self.firmware_image is None else self.firmware_image.hex(),
            "tier_wh": [int(v) for v in self.tier_wh],
            "block_wh": [int(v) for v in self.block_wh.ravel()],
            "block_used": [int(v) for v in self.block_used],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EsmeState:
        # State saved before the tier registers: the whole import was billed in tier 1.
        tiers = data.get("tier_wh") or [int(data["import_wh"])]
        blocks = data.get("block_wh") or [0] * (BLOCK_TIERS * BLOCKS)
        return cls(
            tier_wh=np.pad(
                np.asarray(tiers, np.int64)[:TOU_TIERS], (0, max(0, TOU_TIERS - len(tiers)))
            ),
            block_wh=np.asarray(blocks, np.int64).reshape(BLOCK_TIERS, BLOCKS),
            block_used=np.asarray(data.get("block_used") or [0] * BLOCK_TIERS, np.int64),
            clock_offset_s=int(data["clock_offset_s"]),
            import_wh=int(data["import_wh"]),
            export_wh=int(data["export_wh"]),
            import_varh=int(data["import_varh"]),
            payment_mode=str(data["payment_mode"]),
            balance=int(data["balance"]),
            # State saved before emergency credit and debt: none of either.
            emergency_credit=int(data.get("emergency_credit", 0)),
            emergency_granted=int(data.get("emergency_granted", 0)),
            accumulated_debt=int(data.get("accumulated_debt", 0)),
            time_debts=[int(v) for v in data.get("time_debts", [0, 0])],
            payment_debt=int(data.get("payment_debt", 0)),
            debt_recovered=[int(v) for v in data.get("debt_recovered", [0, 0, 0])],
            supply=str(data["supply"]),
            price=int(data["price"]),
            standing_charge=int(data["standing_charge"]),
            billed=int(data["billed"]),
            utrn_counters=[int(c) for c in data["utrn_counters"]],
            objects={k: bytes.fromhex(v) for k, v in data["objects"].items()},
            profile_start=int(data["profile_start"]),
            profile_wh=np.asarray(data["profile_wh"], dtype=np.uint32),
            events=[(int(t), int(c)) for t, c in data["events"]],
            firmware=bytes.fromhex(data["firmware"]),
            preset_clock=data["preset_clock"],
            device_log=[(bytes.fromhex(e), int(t)) for e, t in data.get("device_log", [])],
            firmware_image=(
                bytes.fromhex(data["firmware_image"]) if data.get("firmware_image") else None
            ),
        )
