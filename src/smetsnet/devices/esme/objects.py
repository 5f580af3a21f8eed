"""The ESME's COSEM objects: which attributes are computed from state, and what SET/ACTION do.

OBIS codes and classes as the RTDS ESME commands use them (GBCS-PAYLOADS §1.8). Anything not
listed here is served by the generic store of :class:`~.cosem.ObjectServer`.
"""

from __future__ import annotations

from datetime import UTC

import numpy as np

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.device import Alert
from smetsnet.devices.esme import prepayment
from smetsnet.devices.esme.cosem import (
    SUCCESS,
    TYPE_UNMATCHED,
    Context,
    ObjectServer,
)
from smetsnet.devices.esme.state import HALF_HOUR
from smetsnet.gbcs.dlms import (
    Array,
    CompactArray,
    CosemDateTime,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enumerated,
    Integer,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
    TypeDescription,
    Unsigned,
    from_seconds_since_2000,
    seconds_since_2000,
)
from smetsnet.gbcs.dlms import tags as tags

WH, VARH = 30, 32  # DLMS units
_U32 = TypeDescription.simple(tags.DOUBLE_LONG_UNSIGNED)
_U16 = TypeDescription.simple(tags.LONG_UNSIGNED)
_OCTETS = TypeDescription.simple(tags.OCTET_STRING)
_ROWS = TypeDescription.structure(_U32, _U32)
_EVENTS = TypeDescription.structure(_U32, _U16, _OCTETS)


def _scaler_unit(unit: int) -> Structure:
    return Structure(items=(Integer(value=0), Enumerated(value=unit)))


def _registers(ctx: Context) -> Data:
    s = ctx.state
    return Structure(
        items=(
            DoubleLongUnsigned(value=s.import_wh & 0xFFFFFFFF),
            _scaler_unit(WH),
            DoubleLongUnsigned(value=s.import_varh & 0xFFFFFFFF),
            _scaler_unit(VARH),
        )
    )


def _tou_registers(ctx: Context) -> Data:
    """ECS17e: {TOU registers 1..48, block registers (block a..d x tier 1..8, the price matrix
    index order 0xA1..0xD8)}, Wh; together they hold the whole import."""
    s = ctx.state

    def column(values: np.ndarray) -> Array:
        return Array(items=tuple(DoubleLongUnsigned(value=int(v) & 0xFFFFFFFF) for v in values))

    return Structure(items=(column(s.tier_wh), column(s.block_wh.T.ravel())))


def _reset_blocks(ctx: Context, _: Data) -> int:
    """ECS05: the tariff block counter reset script: a new block period starts."""
    ctx.state.block_used = np.zeros_like(ctx.state.block_used)
    return SUCCESS


def _power(ctx: Context) -> Data:
    s = ctx.state
    last = int(s.profile_wh[-1]) if len(s.profile_wh) and s.supply == "enabled" else 0
    return DoubleLong(value=last * 2)  # W over the last half-hour


def _clock(ctx: Context) -> Data:
    return OctetString(
        value=CosemDateTime.from_datetime(from_seconds_since_2000(ctx.clock)).to_bytes()
    )


def _profile(ctx: Context, start: int, end: int) -> Data:
    s = ctx.state
    times = s.profile_start + HALF_HOUR * np.arange(len(s.profile_wh), dtype=np.int64)
    keep = (times >= start) & (times <= end)
    return CompactArray.from_columns(_ROWS, [times[keep], s.profile_wh[keep]])


def _zeros(ctx: Context, start: int, end: int) -> Data:
    s = ctx.state
    times = s.profile_start + HALF_HOUR * np.arange(len(s.profile_wh), dtype=np.int64)
    keep = times[(times >= start) & (times <= end)]
    return CompactArray.from_columns(_ROWS, [keep, np.zeros(len(keep), np.uint32)])


def _daily(ctx: Context, start: int, end: int) -> Data:
    """Daily read log: the import register at each midnight the profile covers."""
    s = ctx.state
    n = len(s.profile_wh)
    cumulative = (
        s.import_wh
        - int(s.profile_wh.sum())
        + np.concatenate(([0], np.cumsum(s.profile_wh, dtype=np.int64)))
    )
    times = s.profile_start + HALF_HOUR * np.arange(n + 1, dtype=np.int64)
    keep = (times % 86400 == 0) & (times >= start) & (times <= end)
    return CompactArray.from_columns(_ROWS, [times[keep], cumulative[keep] & 0xFFFFFFFF])


def _billing(ctx: Context, start: int, end: int) -> Data:
    t = ctx.clock
    rows = ([t], [ctx.state.billed & 0xFFFFFFFF]) if start <= t <= end else ([], [])
    return CompactArray.from_columns(_ROWS, rows)


def _events(ctx: Context, start: int, end: int) -> Data:
    chosen = [(t, c) for t, c in ctx.state.events if start <= t <= end]
    empty = OctetString(value=b"")
    return CompactArray.from_columns(
        _EVENTS, [[t for t, _ in chosen], [c for _, c in chosen], [empty] * len(chosen)]
    )


def _clear_log(ctx: Context, _: Data) -> int:
    ctx.state.events.clear()
    return SUCCESS


# -- prepayment and billing -------------------------------------------------------------------


def _first_price(value: Data) -> int | None:
    """The first price of a class-113 price structure {scaler-unit, ref, array{(index, price)}}."""
    if not isinstance(value, Structure) or len(value.items) < 3:
        return None
    table = value.items[2]
    if not isinstance(table, Array) or not table.items:
        return None
    entry = table.items[0]
    if isinstance(entry, Structure) and len(entry.items) == 2 and isinstance(entry.items[1], Long):
        return entry.items[1].value
    return None


def _set_price(ctx: Context, value: Data) -> int:
    price = _first_price(value)
    if price is None:
        return TYPE_UNMATCHED
    ctx.state.price = price
    return SUCCESS


def _set_standing(ctx: Context, value: Data) -> int:
    price = _first_price(value)
    if price is None:
        return TYPE_UNMATCHED
    ctx.state.standing_charge = price
    return SUCCESS


def _set_payment_mode(ctx: Context, _: Data) -> int:
    # ECS02 (0x001A) -> credit, ECS03 (0x001B) -> prepayment; both SET this same attribute.
    ctx.state.payment_mode = "prepayment" if ctx.header.message_code == 0x001B else "credit"
    return SUCCESS


def _token(ctx: Context, value: Data) -> int:
    if ctx.top_up is None:
        return TYPE_UNMATCHED
    result = ctx.top_up(ctx, value)
    if result == SUCCESS:
        prepayment.rearm(ctx)
    return result


_SUPPLY = {0x004F: "enabled", 0x0050: "disabled", 0x0051: "armed"}


def _supply(ctx: Context, _: Data) -> int:
    """ECS42/43/44 run the same script table; the use case says which state (GBCS-PAYLOADS §5)."""
    state = _SUPPLY.get(ctx.header.message_code)
    if state is not None:
        ctx.state.supply = state
    return SUCCESS


def _supply_state(ctx: Context) -> Data:
    return Enumerated(value={"disabled": 0, "enabled": 1, "armed": 2}[ctx.state.supply])


def _payment_mode(ctx: Context) -> Data:
    mode = 2 if ctx.state.payment_mode == "prepayment" else 1
    return Structure(items=(Enumerated(value=mode), Enumerated(value=1)))


# -- clock --------------------------------------------------------------------------------------


def _preset(ctx: Context, value: Data) -> int:
    if (
        not isinstance(value, Structure)
        or not value.items
        or not isinstance(value.items[0], OctetString)
    ):
        return TYPE_UNMATCHED
    when = (
        CosemDateTime.from_bytes(value.items[0].value).to_datetime()
        if len(value.items[0].value) == 12
        else None
    )
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ctx.state.preset_clock = None if when is None else seconds_since_2000(when)
    return SUCCESS


def _adjust_to_preset(ctx: Context, _: Data) -> int:
    if ctx.state.preset_clock is not None:
        ctx.state.clock_offset_s += ctx.state.preset_clock - ctx.clock
        ctx.state.preset_clock = None
        ctx.alerts.append(Alert(code=codes.CLOCK_ADJUSTED))
    return SUCCESS


def esme_objects() -> ObjectServer:
    """The ESME's object server (one per process; handlers take the state in their context)."""
    server = ObjectServer(default_buffer=_zeros)
    g, st, m, b = server.getters, server.setters, server.methods, server.buffers
    g[(1, "0-0:94.44.34.10", 2)] = _registers
    g[(1, "0-0:94.44.34.2", 2)] = _tou_registers
    g[(1, "0-0:94.44.34.20", 2)] = _power
    g[(3, "1-0:2.8.0.255", 2)] = lambda ctx: DoubleLongUnsigned(
        value=ctx.state.export_wh & 0xFFFFFFFF
    )
    g[(3, "1-0:2.8.0.255", 3)] = lambda ctx: _scaler_unit(WH)
    g[(3, "1-0:4.8.0.255", 2)] = lambda ctx: DoubleLongUnsigned(value=0)
    g[(3, "1-0:4.8.0.255", 3)] = lambda ctx: _scaler_unit(VARH)
    g[(1, "0-0:0.2.1.255", 2)] = lambda ctx: OctetString(value=ctx.state.firmware)
    g[(8, "0-0:1.0.0.255", 2)] = _clock
    # the clock status ECS70 reads back: 0, ok (RTDS 8.1.1_ECS70Commission SUCCESS_RESPONSE)
    g[(8, "0-0:1.0.0.255", 4)] = lambda ctx: Unsigned(value=0)
    g[(111, "0-0:19.0.0.255", 2)] = _payment_mode
    g[(70, "0-1:96.3.10.255", 2)] = _supply_state
    g[(1, "0-0:94.44.0.3", 2)] = lambda ctx: LongUnsigned(value=0)
    st[(113, "0-0:19.20.0.255", 6)] = _set_price
    st[(113, "0-0:19.20.4.255", 6)] = _set_standing
    st[(111, "0-1:19.0.0.255", 2)] = _set_payment_mode
    m[(115, "0-0:19.40.0.255", 1)] = _token
    m[(9, "0-0:10.0.106.255", 1)] = _supply
    m[(9, "0-0:10.0.100.255", 1)] = _reset_blocks
    m[(8, "0-0:1.0.0.255", 5)] = _preset
    m[(8, "0-0:1.0.0.255", 4)] = _adjust_to_preset
    for log in ("0-0:99.98.0.255", "0-0:99.98.1.255", "0-0:99.98.4.255", "0-17:99.98.2.255"):
        b[log] = _events
        m[(7, log, 1)] = _clear_log
    prepayment.register(server)
    b["0-0:99.1.0.255"] = _profile
    b["0-0:99.1.1.255"] = _zeros
    b["0-0:98.1.9.255"] = _daily
    for billing in (
        "0-0:98.1.0.255",
        "0-0:98.1.1.255",
        "0-0:98.1.2.255",
        "0-0:98.1.5.255",
        "0-0:98.1.8.255",
    ):
        b[billing] = _billing
    return server
