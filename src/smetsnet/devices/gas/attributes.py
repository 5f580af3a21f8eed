"""The GSME's ZCL attributes: (cluster, attribute id) -> (data type, value computed from state).

Attribute ids and types as the RTDS GSME reads use them (GBCS-PAYLOADS §2.3: Metering summation
u48, unit/multiplier/divisor, Prepayment credit int32, Price thresholds u48, prices u32 ...);
ZSE names in :mod:`smetsnet.gbcs.gbz.attributes`. An attribute not listed answers "unsupported
attribute" (0x86), as a real meter does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from smetsnet.devices.core.tariff import BLOCK_TIERS, BLOCKS, TOU_TIERS
from smetsnet.devices.gas import prepayment
from smetsnet.devices.gas.state import GsmeState
from smetsnet.gbcs.gbz import AttributeStatus, ReadAttributes, ReadAttributesResponse
from smetsnet.gbcs.gbz.spec import BASIC, METERING, PREPAYMENT, PRICE
from smetsnet.gbcs.gbz.zcl_types import ZclValue

BOOL, MAP8, MAP16 = 0x10, 0x18, 0x19
U8, U16, U24, U32, U48 = 0x20, 0x21, 0x22, 0x23, 0x25
I32, ENUM8, OCTSTR, CHARSTR = 0x2B, 0x30, 0x41, 0x42
UNSUPPORTED_ATTRIBUTE: Final = 0x86
#: ZSE supply status (Metering 0x0014): 0 off, 1 off/armed, 2 on.
SUPPLY_STATUS: Final = {"disabled": 0, "armed": 1, "enabled": 2}
GBP: Final = 826
U32_MAX: Final = 0xFFFFFFFF

Getter = Callable[[GsmeState], ZclValue]


def _i32(value: int) -> int:
    return max(-(1 << 31), min(value, (1 << 31) - 1))


def _u(value: int, bits: int) -> int:
    return max(0, min(value, (1 << bits) - 1))


def _threshold(i: int) -> Getter:
    return lambda s: _u(s.block_thresholds[i], 48) if i < len(s.block_thresholds) else 0


def _volume(wh: int, s: GsmeState) -> int:
    """A tier or block register (kept in Wh) as a volume, at the ratio of the volume register
    to the energy it measured, so the registers of a one-tier meter equal it exactly and the
    registers always sum to it within a litre each [inferred]."""
    return _u(wh * s.litres // s.energy_wh, 48) if s.energy_wh > 0 else 0


def _tier_register(tier: int) -> Getter:
    return lambda s: _volume(int(s.tier_wh[tier]), s)


def _block_register(tier: int, block: int) -> Getter:
    return lambda s: _volume(int(s.block_wh[tier, block]), s)


def _days_left(s: GsmeState) -> int:
    # Remaining battery life in days at the modelled rate (BatteryModel.per_day_nah).
    from smetsnet.devices.battery import BatteryModel

    return _u(int(int(s.battery_nah[0]) / BatteryModel().per_day_nah()), 16)


def _payment_control(s: GsmeState) -> int:
    """ZSE Payment Control Configuration as GCS02/GCS03 last set it; a meter never sent one:
    bit 0 disconnection enabled, bit 1 prepayment enabled."""
    if s.payment_control:
        return _u(s.payment_control, 16)
    return 0x0003 if s.payment_mode == "prepayment" else 0x0000


def _debt_amount(debt: int) -> Getter:
    """Debt register 1-3 (0x0211, 0x0221, 0x0231): time debts 1, 2 and the payment debt."""
    return lambda s: _u(prepayment.outstanding(s, debt + 1), 32)


def _recovery_frequency(debt: int) -> Getter:
    """A time debt's Debt Recovery Frequency (ZSE enum8: 0 hourly, 1 daily, 2 weekly)."""
    by_period = {p: f for f, p in prepayment.RECOVERY_PERIODS.items()}
    return lambda s: by_period.get(s.time_debt_rates[debt][1], 1) if debt < 2 else 0


def _recovery_amount(debt: int) -> Getter:
    return lambda s: _u(s.time_debt_rates[debt][0], 32) if debt < 2 else 0


def _recovery_percentage(debt: int) -> Getter:
    return lambda s: _u(s.debt_recovery_per_payment, 16) if debt == 2 else 0


def _table() -> dict[tuple[int, int], tuple[int, Getter]]:
    t: dict[tuple[int, int], tuple[int, Getter]] = {
        (BASIC, 0x0000): (U8, lambda s: 3),  # ZCL version
        (BASIC, 0x0001): (U8, lambda s: s.firmware[1]),  # application version
        (BASIC, 0x0003): (U8, lambda s: 1),
        (BASIC, 0x0004): (CHARSTR, lambda s: b"smetsnet"),
        (BASIC, 0x0005): (CHARSTR, lambda s: b"GSME-SIM"),
        (METERING, 0x0000): (U48, lambda s: _u(s.litres, 48)),
        (METERING, 0x0014): (ENUM8, lambda s: SUPPLY_STATUS[s.supply]),
        (METERING, 0x0205): (U16, _days_left),
        (METERING, 0x0206): (OCTSTR, lambda s: s.firmware),  # GCS38 firmware version (RTDS)
        (METERING, 0x0300): (ENUM8, lambda s: 1),  # m³
        (METERING, 0x0301): (U24, lambda s: 1),
        (METERING, 0x0302): (U24, lambda s: 1000),  # litres
        (METERING, 0x0307): (OCTSTR, lambda s: b""),
        (METERING, 0x0607): (ENUM8, lambda s: 0),
        (METERING, 0x0608): (ENUM8, lambda s: 0),
        (METERING, 0x0A00): (U32, lambda s: _u(s.billed, 32)),
        (METERING, 0x0B10): (U16, lambda s: 0),
        (METERING, 0x0B11): (ENUM8, lambda s: 1),
        (METERING, 0x0B12): (U16, lambda s: 1),
        (METERING, 0x0B13): (U16, lambda s: 1),
        (METERING, 0x0B14): (U8, lambda s: 0),
        (METERING, 0x0B15): (U16, lambda s: 0),
        (PREPAYMENT, 0x0000): (MAP16, _payment_control),
        (PREPAYMENT, 0x0001): (I32, lambda s: _i32(s.balance)),
        (PREPAYMENT, 0x0002): (I32, lambda s: _i32(s.emergency_credit)),
        (PREPAYMENT, 0x0003): (MAP8, prepayment.credit_status),
        (PREPAYMENT, 0x0005): (I32, lambda s: _i32(s.accumulated_debt)),
        (PREPAYMENT, 0x0006): (I32, lambda s: _i32(s.debt_cap)),
        (PREPAYMENT, 0x0010): (U32, lambda s: _u(s.emergency_credit_limit, 32)),
        (PREPAYMENT, 0x0011): (U32, lambda s: _u(s.emergency_credit_threshold, 32)),
        (PREPAYMENT, 0x0021): (U32, lambda s: _u(s.max_credit, 32)),
        (PREPAYMENT, 0x0022): (U32, lambda s: _u(s.max_credit_per_top_up, 32)),
        (PREPAYMENT, 0x0031): (U32, lambda s: _u(s.low_credit_level, 32)),
        (PREPAYMENT, 0x0040): (I32, lambda s: _i32(s.disablement_threshold)),  # cut-off value
        (PRICE, 0x0202): (U24, lambda s: 1),
        (PRICE, 0x0203): (U24, lambda s: 1),
        (PRICE, 0x0301): (U32, lambda s: _u(s.standing_charge, 32)),
        (PRICE, 0x0302): (U32, lambda s: _u(s.conversion_factor, 32)),
        (PRICE, 0x0303): (MAP8, lambda s: 0x50),  # 5 digits after the point
        (PRICE, 0x0304): (U32, lambda s: _u(s.calorific_value, 32)),
        (PRICE, 0x0305): (ENUM8, lambda s: 1),  # MJ/m³
        (PRICE, 0x0306): (MAP8, lambda s: 0x10),
        (PRICE, 0x0615): (ENUM8, lambda s: 0),  # kWh
        (PRICE, 0x0616): (U16, lambda s: GBP),
        (PRICE, 0x0617): (MAP8, lambda s: 0x50),
    }
    for i in range(3):
        t[(PRICE, 0x0100 + i)] = (U48, _threshold(i))
    for i in range(4):
        # Prices as last set (the first price matrix entry): the tariff's own are in .tariff.
        t[(PRICE, 0x0400 + i)] = (U32, lambda s: _u(s.price, 32))
        t[(PRICE, 0x0410 + 0x10 * i)] = (U32, lambda s: _u(s.price, 32))
    for tier in range(TOU_TIERS):
        # ZSE Current Tier N Summation Delivered: 0x0100, 0x0102, ... (GCS13c reads 0x0100..6).
        t[(METERING, 0x0100 + 2 * tier)] = (U48, _tier_register(tier))
    for tier in range(BLOCK_TIERS):
        for block in range(BLOCKS):
            # ZSE Current (No) Tier N Block M Summation Delivered: 0x0700 + 0x10 N + M - 1.
            t[(METERING, 0x0700 + 0x10 * tier + block)] = (U48, _block_register(tier, block))
    for debt in range(3):
        # Debt registers 1-3 (0x02n1 amount, 0x02n6 frequency, 0x02n7 amount, 0x02n9 %).
        base = 0x0211 + 0x10 * debt
        t[(PREPAYMENT, base)] = (U32, _debt_amount(debt))
        t[(PREPAYMENT, base + 5)] = (ENUM8, _recovery_frequency(debt))
        t[(PREPAYMENT, base + 6)] = (U32, _recovery_amount(debt))
        t[(PREPAYMENT, base + 8)] = (U16, _recovery_percentage(debt))
    return t


ATTRIBUTES: Final = _table()


def read_attributes(
    state: GsmeState, cluster_id: int, request: ReadAttributes
) -> ReadAttributesResponse:
    """One record per attribute asked, in order: its value, or "unsupported attribute"."""
    records = []
    for attribute_id in request.attribute_ids:
        entry = ATTRIBUTES.get((cluster_id, attribute_id))
        if entry is None:
            records.append(AttributeStatus(attribute_id=attribute_id, status=UNSUPPORTED_ATTRIBUTE))
        else:
            data_type, getter = entry
            records.append(
                AttributeStatus(
                    attribute_id=attribute_id, status=0, data_type=data_type, value=getter(state)
                )
            )
    return ReadAttributesResponse(records=tuple(records))


__all__ = ["ATTRIBUTES", "SUPPLY_STATUS", "read_attributes"]
