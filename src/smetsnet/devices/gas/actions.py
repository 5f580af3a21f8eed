"""GSME metering, prepayment and event-log commands (client->server), answered from state.

Profile reads: Get Sampled Data (GCS17: half-hourly consumption, sample id 0; GCS61: daily
consumption, sample id 1) gives the samples from the first interval at or after the earliest
time asked; Get Snapshot (GCS16a daily read log, GCS15c billing snapshots) gives the register at
each midnight in the window, newest first, ``snapshot_offset`` choosing which.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.device import Alert
from smetsnet.devices.gas import attributes, prepayment
from smetsnet.devices.gas.server import (
    DAILY_SAMPLES,
    DAY,
    FAILURE,
    INVALID_FIELD,
    NOT_FOUND,
    SUCCESS,
    Context,
    _build,
    _group,
    handles,
)
from smetsnet.devices.gas.state import HALF_HOUR, GsmeState
from smetsnet.gbcs.gbz import ClusterCommand, Columns, ZclCommand
from smetsnet.gbcs.gbz.spec import EVENTS, METERING, PREPAYMENT, S2C

U24_MAX: Final = 0xFFFFFF
#: Consumer Top Up Response result types (ZSE): accepted, invalid, duplicate.
ACCEPTED, REJECTED_INVALID, REJECTED_DUPLICATE = 0x00, 0x01, 0x02
#: Snapshot payload type 6: TOU and block registers delivered (clusters.py; decrypted RTDS).
REGISTER_SNAPSHOT, DEBT_CREDIT_SNAPSHOT = 6, 0


def profile_times(state: GsmeState) -> npt.NDArray[np.int64]:
    return state.profile_start + HALF_HOUR * np.arange(len(state.profile_l), dtype=np.int64)


def daily_totals(state: GsmeState) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(day start, litres that day) for every whole or part day of the profile."""
    times = profile_times(state)
    days = times - times % DAY
    starts, index = np.unique(days, return_index=True)
    totals = np.add.reduceat(state.profile_l.astype(np.int64), index) if len(index) else index
    return starts, totals


@handles(METERING, False, 0x08)
def _sampled(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    v = command.values
    if v["sample_id"] == DAILY_SAMPLES:
        # A day (86,400 s) does not fit the u16 interval in seconds: 0 [inferred].
        times, values, interval = *daily_totals(ctx.state), 0
    else:
        times, interval = profile_times(ctx.state), HALF_HOUR
        values = ctx.state.profile_l.astype(np.int64)
    keep = np.flatnonzero(times >= v["earliest_sample_time"])[: v["number_of_samples"]]
    if not len(keep):
        return NOT_FOUND
    samples = np.minimum(values[keep], U24_MAX).tolist()
    spec_group = _group(METERING, S2C, 0x07, "samples")
    return [
        _build(
            METERING, 0x07, sample_id=v["sample_id"], sample_start_time=int(times[keep[0]]),
            sample_type=v["sample_type"], sample_request_interval=interval,
            number_of_samples=len(keep), samples=Columns.of(spec_group, value=samples),
        )
    ]  # fmt: skip


def _midnights(state: GsmeState, start: int, end: int) -> list[tuple[int, int]]:
    """(midnight, register then) in [start, end], newest first."""
    times = profile_times(state)
    if not len(times):
        return []
    before = state.litres - int(state.profile_l.sum(dtype=np.int64))
    cumulative = before + np.concatenate(([0], np.cumsum(state.profile_l, dtype=np.int64)))
    edges = np.concatenate((times, [times[-1] + HALF_HOUR]))
    keep = (edges % DAY == 0) & (edges >= start) & (edges <= end)
    return [(int(t), int(c)) for t, c in zip(edges[keep], cumulative[keep], strict=True)][::-1]


@handles(METERING, False, 0x06)
def _snapshot(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    v = command.values
    found = _midnights(ctx.state, v["earliest_start_time"], v["latest_end_time"])
    if v["snapshot_offset"] >= len(found):
        return NOT_FOUND
    when, register = found[v["snapshot_offset"]]
    registers = [min(register, (1 << 48) - 1), 0, 0, 0]
    tiers = _group(METERING, S2C, 0x06, "tier_summations")
    blocks = _group(METERING, S2C, 0x06, "tier_block_summations")
    return [
        _build(
            METERING, 0x06, snapshot_id=v["snapshot_offset"], snapshot_time=when,
            total_snapshots_found=min(len(found), 255), command_index=0, total_commands=1,
            snapshot_cause=v["snapshot_cause"], snapshot_payload_type=REGISTER_SNAPSHOT,
            current_summation_delivered=registers[0], number_of_tiers_in_use=4,
            tier_summations=Columns.of(tiers, summation=registers),
            number_of_tiers_and_block_thresholds_in_use=0x14,
            tier_block_summations=Columns.of(blocks, summation=registers),
        )
    ]  # fmt: skip


@handles(METERING, False, 0x07)
def _start_sampling(ctx: Context, command: ClusterCommand) -> list[ZclCommand]:
    return [_build(METERING, 0x0D, sample_id=PROFILE_SAMPLES_ID)]


PROFILE_SAMPLES_ID: Final = 0


@handles(METERING, False, 0x0B)
def _change_supply(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    """GCS39 valve: 0 off, 1 armed, 2 on (ZSE); arming raises 0x8F32 as on the ESME."""
    v = command.values
    supply = {0: "disabled", 1: "armed", 2: "enabled"}.get(v["proposed_supply_status"])
    if supply is None:
        return INVALID_FIELD
    ctx.state.supply = supply
    if supply == "armed":
        ctx.alerts.append(Alert(code=codes.SUPPLY_ARMED))
    return [
        _build(
            METERING, 0x0C, provider_id=v["provider_id"], issuer_event_id=v["issuer_event_id"],
            implementation_date_time=v["implementation_date_time"],
            supply_status=attributes.SUPPLY_STATUS[supply],
        )
    ]  # fmt: skip


@handles(METERING, False, 0x0D, 0x0E)
def _supply_settings(ctx: Context, command: ClusterCommand) -> int:
    return SUCCESS


# -- prepayment -------------------------------------------------------------------------------
@handles(PREPAYMENT, False, 0x00)
def _emergency_credit(ctx: Context, command: ClusterCommand) -> int:
    return select_emergency_credit(ctx)


def select_emergency_credit(ctx: Context) -> int:
    """GCS06 / PCS02 Select Available Emergency Credit: taken when the meter allows it (the
    shared account's rule: prepayment, a limit set, none in use, the balance at or below the
    threshold), with 0x81AB (and 0x8168 when it arms the valve); refused: failure."""
    return SUCCESS if prepayment.take_emergency_credit(ctx.state, ctx.alerts) else FAILURE


#: Change Debt amount types (ZSE): even absolute, odd incremental; 0-1 debt 1, 2-3 debt 2,
#: 4-5 debt 3 (the payment debt). Recovery methods: 0 time based, 1 percentage based.
_LAST_AMOUNT_TYPE, TIME_BASED, PERCENTAGE_BASED = 5, 0, 1


@handles(PREPAYMENT, False, 0x02)
def _change_debt(ctx: Context, command: ClusterCommand) -> int:
    """GCS04: one debt register set (absolute) or added to (incremental), with its recovery:
    a time debt's amount per period, the payment debt's share of each top-up."""
    s, v = ctx.state, command.values
    amount_type, method = int(v["debt_amount_type"]), int(v["debt_recovery_method"])
    if not 0 <= amount_type <= _LAST_AMOUNT_TYPE:
        return INVALID_FIELD
    debt_type = amount_type // 2 + 1
    amount = int(v["debt_amount"])
    total = amount + (prepayment.outstanding(s, debt_type) if amount_type % 2 else 0)
    if total < 0:
        return INVALID_FIELD
    if debt_type == prepayment.DEBT_TYPES:
        if method != PERCENTAGE_BASED:
            return INVALID_FIELD
        s.payment_debt = total
        s.debt_recovery_per_payment = int(v["debt_recovery_balance_percentage"])
        return SUCCESS
    period = prepayment.RECOVERY_PERIODS.get(int(v["debt_recovery_frequency"]))
    if method != TIME_BASED or period is None or int(v["debt_recovery_amount"]) < 0:
        return INVALID_FIELD
    s.time_debts[debt_type - 1] = total
    s.time_debt_rates[debt_type - 1] = [int(v["debt_recovery_amount"]), period]
    return SUCCESS


@handles(PREPAYMENT, False, 0x03)
def _emergency_credit_setup(ctx: Context, command: ClusterCommand) -> int:
    ctx.state.emergency_credit_limit = int(command["emergency_credit_limit"])
    ctx.state.emergency_credit_threshold = int(command["emergency_credit_threshold"])
    return SUCCESS


@handles(PREPAYMENT, False, 0x04)
def _top_up(ctx: Context, command: ClusterCommand) -> list[ZclCommand]:
    """CS01b: the UTRN checked by the meter (see :meth:`Gsme._top_up`), then its response."""
    code = command["top_up_code"] or b""
    result, value = (
        ctx.top_up(ctx, code.decode("ascii", "replace")) if ctx.top_up else (REJECTED_INVALID, 0)
    )
    if result == ACCEPTED:
        prepayment.rearm(ctx.state, ctx.alerts)
    return [
        _build(
            PREPAYMENT, 0x03, result_type=result, top_up_value=value,
            source_of_top_up=command["originating_device"],
            credit_remaining=attributes._i32(ctx.state.balance),
        )
    ]  # fmt: skip


#: Credit Adjustment types (the hub's GCS40a-d): 0 / 3 add to the balance, 1 / 2 set it.
_ABSOLUTE_ADJUSTMENTS = frozenset({1, 2})


@handles(PREPAYMENT, False, 0x05)
def _credit_adjustment(ctx: Context, command: ClusterCommand) -> int:
    """GCS40a-d: the supplier adds to (or sets) the meter balance; not a payment, so no debt
    is recovered from it."""
    value = int(command["credit_adjustment_value"])
    if command["credit_adjustment_type"] in _ABSOLUTE_ADJUSTMENTS:
        ctx.state.balance = value
    else:
        ctx.state.balance += value
    prepayment.rearm(ctx.state, ctx.alerts)
    return SUCCESS


#: GCS02's cut-off value: leave the disablement threshold as it is.
CUT_OFF_UNCHANGED: Final = -1


@handles(PREPAYMENT, False, 0x06)
def _payment_mode(ctx: Context, command: ClusterCommand) -> list[ZclCommand]:
    """GCS02/GCS03: bit 1 of the proposed Payment Control Configuration = prepayment (ZSE);
    the configuration's debt flags and the cut-off value (the disablement threshold) kept."""
    s = ctx.state
    configuration = int(command["proposed_payment_control_configuration"])
    prepay = bool(configuration & prepayment.PREPAYMENT_ENABLED)
    s.payment_mode = "prepayment" if prepay else "credit"
    s.payment_control = configuration
    cut_off = int(command["cut_off_value"])
    if prepay or cut_off != CUT_OFF_UNCHANGED:
        s.disablement_threshold = cut_off
    return [
        _build(
            PREPAYMENT, 0x02, friendly_credit=0, friendly_credit_calendar_id=0,
            emergency_credit_limit=attributes._u(s.emergency_credit_limit, 32),
            emergency_credit_threshold=attributes._u(s.emergency_credit_threshold, 32),
        )
    ]  # fmt: skip


@handles(PREPAYMENT, False, 0x07)
def _prepay_snapshot(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    """Only the present state is kept: offset 0 inside the window, else not found."""
    v, s = command.values, ctx.state
    if v["snapshot_offset"] != 0 or not v["earliest_start_time"] <= ctx.clock:
        return NOT_FOUND
    return [
        _build(
            PREPAYMENT, 0x01, snapshot_id=0, snapshot_time=ctx.clock, total_snapshots_found=1,
            command_index=0, total_commands=1, snapshot_cause=v["snapshot_cause"],
            snapshot_payload_type=DEBT_CREDIT_SNAPSHOT,
            accumulated_debt=attributes._i32(s.accumulated_debt),
            type1_debt_remaining=attributes._u(s.time_debts[0], 32),
            type2_debt_remaining=attributes._u(s.time_debts[1], 32),
            type3_debt_remaining=attributes._u(s.payment_debt, 32),
            emergency_credit_remaining=attributes._i32(s.emergency_credit),
            credit_remaining=attributes._i32(s.balance),
        )
    ]  # fmt: skip


@handles(PREPAYMENT, False, 0x08)
def _top_up_log(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    v = command.values
    rows = [t for t in ctx.state.top_ups if t[0] <= v["latest_end_time"]][::-1]
    rows = rows[: v["number_of_records"]]
    if not rows:
        return NOT_FOUND
    group = _group(PREPAYMENT, S2C, 0x05, "top_ups")
    top_ups = Columns.of(
        group,
        top_up_code=[r[1].encode("ascii") for r in rows],
        top_up_amount=[attributes._i32(r[2]) for r in rows],
        top_up_time=[r[0] for r in rows],
    )
    return [_build(PREPAYMENT, 0x05, command_index=0, total_commands=1, top_ups=top_ups)]


@handles(PREPAYMENT, False, 0x09)
def _low_credit(ctx: Context, command: ClusterCommand) -> int:
    ctx.state.low_credit_level = int(command["low_credit_warning_level"])
    return SUCCESS


#: Get Debt Repayment Log debt type 0: every register [inferred: ZSE "all debts"].
ALL_DEBTS: Final = 0


@handles(PREPAYMENT, False, 0x0A)
def _debt_log(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    """GCS15d: the debt collections up to the latest end time, newest first (one entry per
    register and day), of the debt type asked (0: all)."""
    v = command.values
    wanted = int(v["debt_type"])
    rows = [
        r
        for r in ctx.state.debt_log
        if r[0] <= v["latest_end_time"] and wanted in (ALL_DEBTS, r[2])
    ][::-1]
    if v["number_of_debts"]:
        rows = rows[: v["number_of_debts"]]
    if not rows:
        return NOT_FOUND
    debts = Columns.of(
        _group(PREPAYMENT, S2C, 0x06, "debts"),
        collection_time=[r[0] for r in rows],
        amount_collected=[attributes._u(r[1], 32) for r in rows],
        debt_type=[r[2] for r in rows],
        outstanding_debt=[attributes._u(r[3], 32) for r in rows],
    )
    return [_build(PREPAYMENT, 0x06, command_index=0, total_commands=1, debts=debts)]


@handles(PREPAYMENT, False, 0x0B)
def _max_credit(ctx: Context, command: ClusterCommand) -> int:
    ctx.state.max_credit = int(command["maximum_credit_level"])
    ctx.state.max_credit_per_top_up = int(command["maximum_credit_per_top_up"])
    return SUCCESS


@handles(PREPAYMENT, False, 0x0C)
def _debt_cap(ctx: Context, command: ClusterCommand) -> int:
    ctx.state.debt_cap = int(command["overall_debt_cap"])
    return SUCCESS


# -- events -----------------------------------------------------------------------------------
@handles(EVENTS, False, 0x00)
def _event_log(ctx: Context, command: ClusterCommand) -> list[ZclCommand] | int:
    v = command.values
    rows = [e for e in ctx.state.events if v["start_time"] <= e[0] <= v["end_time"]][::-1]
    rows = rows[v["event_offset"] :]
    if v["number_of_events"]:
        rows = rows[: v["number_of_events"]]
    if not rows:
        return NOT_FOUND
    group = _group(EVENTS, S2C, 0x01, "events")
    events = Columns.of(
        group,
        log_id=[3] * len(rows),  # general event log
        event_id=[r[1] for r in rows],
        event_time=[r[0] for r in rows],
        event_data=[b""] * len(rows),
    )
    return [
        _build(
            EVENTS, 0x01, total_number_of_events=len(rows), command_index=0, total_commands=1,
            log_payload_control=0, events=events,
        )
    ]  # fmt: skip


@handles(EVENTS, False, 0x01)
def _clear_events(ctx: Context, command: ClusterCommand) -> list[ZclCommand]:
    ctx.state.events.clear()
    return [_build(EVENTS, 0x02, cleared_event_logs=command["log_id"])]
