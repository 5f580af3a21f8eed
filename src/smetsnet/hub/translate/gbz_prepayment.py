"""GBZ translators: prepayment (payment mode, debt, prepayment configuration, emergency credit,
balance adjustment, top-up)."""

from __future__ import annotations

from typing import Final

from smetsnet.duis.bodies import (
    Node,
    TopUpDevice,
)
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_int
from smetsnet.gbcs.gbz import (
    C2S,
    consumer_top_up,
    select_available_emergency_credit,
)
from smetsnet.gbcs.gbz.spec import (
    PREPAYMENT,
)
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node, child, integer, text
from smetsnet.hub.translate.gbz_common import (
    GSME,
    Component,
    choice,
    command,
    gbz,
    issuer_event_id,
    start_time,
    zcl,
)


# -- prepayment ------------------------------------------------------------------------------
@translator("2.2", GSME)
def top_up(body: object, ctx: Context) -> Command:
    """CS01b: Consumer Top Up with the UTRN, originating device 0 (energy service interface)."""
    if not isinstance(body, TopUpDevice):
        raise DuisSchemaError("Body: TopUpDevice expected")
    return command("CS01b", gbz((PREPAYMENT, consumer_top_up(body.utrn))))


@translator("2.5", GSME)
def activate_emergency_credit(body: object, ctx: Context) -> Command:
    """GCS06: Select Available Emergency Credit (issue time 0, originating device 0)."""
    body_node(body, "ActivateEmergencyCredit")
    return command("GCS06", gbz((PREPAYMENT, select_available_emergency_credit())))


#: Credit Adjustment types and GBCS use cases, by (payment mode element, action element).
_ADJUSTMENTS: Final = {
    ("PrepaymentMode", "AdjustMeterBalance"): ("GCS40a", 0),  # incremental
    ("PrepaymentMode", "ResetMeterBalance"): ("GCS40b", 1),  # absolute
    ("CreditMode", "AdjustMeterBalance"): ("GCS40c", 3),
    ("CreditMode", "ResetMeterBalance"): ("GCS40d", 2),
}


@translator("1.5", GSME)
def update_meter_balance(body: object, ctx: Context) -> Command:
    """GCS40a-d: Credit Adjustment, chosen by payment mode and adjust / reset (reset = value 0)."""
    node = body_node(body, "UpdateMeterBalance")
    if len(node.children) != 1 or len(node.children[0].children) != 1:
        raise DuisSchemaError("UpdateMeterBalance: one mode with one action expected")
    mode = node.children[0]
    action = mode.children[0]
    chosen = _ADJUSTMENTS.get((mode.name, action.name))
    if chosen is None:
        raise DuisSchemaError(f"UpdateMeterBalance: {mode.name}/{action.name} is not known")
    use_case, adjustment_type = chosen
    value = 0
    if action.name == "AdjustMeterBalance":
        value = parse_int(action.text.strip(), "AdjustMeterBalance", -(2**31), 2**31 - 1)
    adjust = zcl(
        PREPAYMENT,
        0x05,
        server_to_client=C2S,
        issuer_event_id=issuer_event_id(ctx),
        start_time=0,
        credit_adjustment_type=adjustment_type,
        credit_adjustment_value=value,
    )
    return command(use_case, gbz(adjust))


#: Payment control configuration of prepayment mode (GCS03), before the debt flags: bits
#: 0,1,2,4,7 (disconnection, prepayment, credit management, credit display, contactor fitted).
PREPAYMENT_CONFIGURATION: Final = 0x0097


#: Bit 10 set = suspend debt collection when disabled; bit 11 set = collect debt during
#: emergency credit (cleared when SuspendDebtEmergency).
SUSPEND_DEBT_DISABLED, COLLECT_DEBT_IN_EMERGENCY = 0x0400, 0x0800


#: GCS02 (credit mode): GBCS's fixed configuration and "cut-off value unchanged".
CREDIT_CONFIGURATION, CUT_OFF_UNCHANGED = 0x0C94, -1


def _bool(node: Node, name: str) -> bool:
    value = text(node, name)
    if value not in ("true", "false", "1", "0"):
        raise DuisSchemaError(f"{name}: {value!r} is not a boolean")
    return value in ("true", "1")


@translator("1.6", GSME)
def update_payment_mode(body: object, ctx: Context) -> Command:
    """GCS02 (Credit) / GCS03 (Prepayment): Change Payment Mode, device-held future-dated."""
    node = body_node(body, "UpdatePaymentMode")
    when = start_time(node)
    prepayment = node.child("Prepayment")
    if prepayment is not None:
        configuration = PREPAYMENT_CONFIGURATION
        if _bool(prepayment, "SuspendDebtDisabled"):
            configuration |= SUSPEND_DEBT_DISABLED
        if not _bool(prepayment, "SuspendDebtEmergency"):
            configuration |= COLLECT_DEBT_IN_EMERGENCY
        cut_off = integer(prepayment, "DisablementThreshold", -(2**31), 2**31 - 1)
        use_case = "GCS03"
    elif node.child("Credit") is not None:
        configuration, cut_off, use_case = CREDIT_CONFIGURATION, CUT_OFF_UNCHANGED, "GCS02"
    else:
        raise DuisSchemaError("UpdatePaymentMode: Credit or Prepayment expected")
    change = zcl(
        PREPAYMENT,
        0x06,
        server_to_client=C2S,
        provider_id=0,
        issuer_event_id=issuer_event_id(ctx),
        implementation_date_time=when,
        proposed_payment_control_configuration=configuration,
        cut_off_value=cut_off,
    )
    return command(use_case, gbz(change))


#: Debt recovery frequency (ZSE enum8) by DUIS DebtRecoveryRatePeriod.
_RECOVERY_PERIODS: Final = {"HOURLY": 0, "DAILY": 1}


#: Debt amount types (incremental) of time debts 1, 2 and payment-based debt 3.
TIME_DEBT_1, TIME_DEBT_2, PAYMENT_DEBT = 1, 3, 5


_I32: Final = (-(2**31), 2**31 - 1)


def _change_debt(
    ctx: Context,
    amount: int,
    amount_type: int,
    *,
    method: int = 0,
    frequency: int = 1,
    recovery: int = 0,
    percentage: int = 0,
) -> Component:
    return zcl(
        PREPAYMENT,
        0x02,
        server_to_client=C2S,
        issuer_event_id=issuer_event_id(ctx),
        debt_label=b"",
        debt_amount=amount,
        debt_recovery_method=method,
        debt_amount_type=amount_type,
        debt_recovery_start_time=0,
        debt_recovery_collection_time=0,
        debt_recovery_frequency=frequency,
        debt_recovery_amount=recovery,
        debt_recovery_balance_percentage=percentage,
    )


@translator("2.3", GSME)
def update_debt(body: object, ctx: Context) -> Command:
    """GCS04: Change Debt per debt register given (time debts 1, 2; payment debt)."""
    node = body_node(body, "UpdateDebt")
    parts: list[Component] = []
    for register, recovery_name, amount_type in (
        ("TimeDebtRegister1", "GasDebtRecovery1", TIME_DEBT_1),
        ("TimeDebtRegister2", "GasDebtRecovery2", TIME_DEBT_2),
    ):
        if node.child(register) is None:
            continue
        recovery = child(node, recovery_name)
        parts.append(
            _change_debt(
                ctx,
                integer(node, register, *_I32),
                amount_type,
                frequency=choice(recovery, "DebtRecoveryRatePeriod", _RECOVERY_PERIODS),
                recovery=integer(recovery, "DebtRecoveryRate", *_I32),
            )
        )
    if node.child("PaymentDebtRegister") is not None:
        parts.append(
            _change_debt(
                ctx,
                integer(node, "PaymentDebtRegister", *_I32),
                PAYMENT_DEBT,
                method=1,  # percentage based
                percentage=integer(node, "DebtRecoveryPerPayment", 0, 0xFFFF),
            )
        )
    if not parts:
        raise DuisSchemaError("UpdateDebt: no debt register given")
    return command("GCS04", gbz(*parts))
