"""The ESME's prepayment objects: balances, emergency credit, debt, and the settings the supplier
sent, read back from the COSEM objects its commands SET (as :mod:`.tariff` reads the tariff).

Commands answered here (layouts: the hub's translators, the RTDS vectors where there are some):
- ECS03 (1.6 prepayment): disablement threshold 9000 0-0:94.44.128.22 attr 4; the account's
  credit-charge table 111 0-1:19.0.0.255 attr 11 says whether time debt is suspended while the
  supply is disabled (the time-debt row's third collection flag clear) or while emergency credit
  is in use (the accumulated-debt register has rows);
- ECS08 (2.1): low credit threshold 0-0:94.44.128.9, emergency credit limit 0-0:94.44.128.2 and
  threshold 0-0:94.44.128.3 (class 9000 attr 4, the value its activation time then makes
  current), debt recovery rate cap 0-0:94.44.128.12 (kept, not enforced: see below);
- ECS07 (2.3): per time debt (Charge 113 0-0:19.20.1/2.255) the passive unit charge (attr 6:
  {scaling{commodity scale, price scale}, commodity, [{index, charge}]}) and period (attr 8, s),
  made active by method 2; debt recovery per payment (0-0:19.20.3.255 attr 13, hundredths of a
  percent); the registers set by method 4 (set total amount remaining) of each Charge;
- ECS09 (2.5): Credit 112 0-0:19.10.1.255 method 3 (invoke credit) takes emergency credit;
- ECS04a/b (1.5): meter balance method 1 (adjust), methods 2 of the three credits (reset);
- CS01a (2.2, and a UTRN typed locally): the top-up goes through :func:`core.prepayment.pay_in`;
- reads: meter balance, emergency credit (balance, limit, threshold), accumulated debt, each
  debt Charge's amount paid (attr 2) and remaining (attr 12), and the ECS19 prepayment
  collection 1 0-0:94.44.34.30 attr 2 {meter balance, emergency credit balance, accumulated
  debt, time debt 1, time debt 2, payment debt} [GBCS ECS19 object list, as the hub reads it].

A charge's price scale is a power of ten of GBP, as in the price matrix: ``charge`` at scale s is
``charge`` x 10^(s+5) meter currency units. Not modelled: the non-disablement calendar (stored,
the supply is disabled at any time) and the debt recovery rate cap (its unit is not in any
source we have).
"""

from __future__ import annotations

from functools import lru_cache

from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.alerts import SUPPLY_ARMED
from smetsnet.devices.core.device import Alert
from smetsnet.devices.core.metering import LOW_CREDIT
from smetsnet.devices.esme.cosem import (
    OTHER,
    SUCCESS,
    TYPE_UNMATCHED,
    Context,
    Getter,
    Method,
    ObjectServer,
)
from smetsnet.devices.esme.state import EsmeState
from smetsnet.gbcs.dlms import (
    Array,
    BitString,
    Data,
    DoubleLong,
    Obis,
    OctetString,
    Structure,
    decode_data,
)
from smetsnet.gbcs.dlms.scalars import _Int

CREDIT, CHARGE, ACCOUNT, EXTENDED, DATA = 112, 113, 111, 9000, 1
METER_BALANCE, EMERGENCY_CREDIT, ACCUMULATED_DEBT = (f"0-0:19.10.{i}.255" for i in range(3))
TIME_DEBT_CHARGES = ("0-0:19.20.1.255", "0-0:19.20.2.255")
PAYMENT_DEBT_CHARGE = "0-0:19.20.3.255"
PREPAY_COLLECTION = "0-0:94.44.34.30"
#: Class 9000 objects: the passive value (attr 4) is what runs once its activation time passed.
DISABLEMENT_THRESHOLD = "9000/0-0:94.44.128.22/4"
LOW_CREDIT_THRESHOLD = "9000/0-0:94.44.128.9/4"
EMERGENCY_CREDIT_LIMIT = "9000/0-0:94.44.128.2/4"
EMERGENCY_CREDIT_THRESHOLD = "9000/0-0:94.44.128.3/4"
CREDIT_CHARGE_TABLE = "111/0-1:19.0.0.255/11"
#: Charge methods (IEC 62056-6-2 class 113): activate passive unit charge, set total amount.
ACTIVATE_PASSIVE, SET_TOTAL = 2, 4
UNIT_CHARGE_ACTIVE, UNIT_CHARGE_PASSIVE, PERIOD, PROPORTION = 5, 6, 8, 13
AMOUNT_PAID, AMOUNT_REMAINING = 2, 12
#: Credit methods: update amount, set amount (reset), invoke credit; attributes: the amount,
#: the preset amount (emergency credit limit) and the credit-available threshold.
ADJUST, RESET, INVOKE = 1, 2, 3
PRESET_AMOUNT, AVAILABLE_THRESHOLD = 9, 10
#: The meter's currency unit is 10^-5 GBP.
CURRENCY_EXPONENT = 5
_I32 = (-(1 << 31), (1 << 31) - 1)


def _key(class_id: int, obis: str, attribute: int) -> str:
    return f"{class_id}/{obis}/{attribute}"


_SETTING_KEYS = (
    DISABLEMENT_THRESHOLD,
    LOW_CREDIT_THRESHOLD,
    EMERGENCY_CREDIT_LIMIT,
    EMERGENCY_CREDIT_THRESHOLD,
    CREDIT_CHARGE_TABLE,
    *(_key(CHARGE, c, a) for c in TIME_DEBT_CHARGES for a in (UNIT_CHARGE_ACTIVE, PERIOD)),
    _key(CHARGE, PAYMENT_DEBT_CHARGE, PROPORTION),
)
#: What each of :data:`_SETTING_KEYS` reads as when it was never SET.
_NOTHING_SET = (b"",) * len(_SETTING_KEYS)


def settings(state: EsmeState) -> account.Settings:
    """The prepayment settings the stored objects describe (defaults where none was SET)."""
    return _settings(tuple(map(state.objects.get, _SETTING_KEYS, _NOTHING_SET)))


@lru_cache(maxsize=256)
def _settings(raw: tuple[bytes, ...]) -> account.Settings:
    """Cached on the encoded objects: a fleet shares a few configurations."""
    values = [decode_data(b) if b else None for b in raw]
    disable, low, limit, threshold, table, charge1, period1, charge2, period2, share = values
    suspend_disabled, suspend_emergency = _suspensions(table)
    return account.Settings(
        disablement_threshold=_int(disable, 0),
        low_credit_threshold=_int(low, LOW_CREDIT),
        emergency_credit_limit=_int(limit, 0),
        emergency_credit_threshold=_int(threshold, 0),
        time_debt_rates=(_rate(charge1, period1), _rate(charge2, period2)),
        debt_recovery_per_payment=min(max(_int(share, 0), 0), account.WHOLE),
        suspend_debt_disabled=suspend_disabled,
        suspend_debt_emergency=suspend_emergency,
    )


def _int(node: Data | None, default: int) -> int:
    return node.value if isinstance(node, _Int) else default


def _items(node: Data | None) -> tuple[Data, ...]:
    return node.items if isinstance(node, (Array, Structure)) else ()


def _rate(charge: Data | None, period: Data | None) -> account.DebtRate:
    """A debt Charge's active unit charge and period as currency units per period."""
    parts = _items(charge)
    if len(parts) != 3 or len(_items(parts[0])) != 2 or not _items(parts[2]):
        return account.DebtRate()
    scale = _int(_items(parts[0])[1], 0) + CURRENCY_EXPONENT
    entry = _items(_items(parts[2])[0])
    amount = _int(entry[1], 0) if len(entry) == 2 else 0
    units = amount * 10**scale if scale >= 0 else amount // 10**-scale
    return account.DebtRate(amount=max(units, 0), period=max(_int(period, 86_400), 1))


def _suspensions(table: Data | None) -> tuple[bool, bool]:
    """(time debt suspended while disabled, while in emergency credit) from the ECS03 table."""
    time_debt = Obis.of(TIME_DEBT_CHARGES[0]).code
    balance, debt = Obis.of(METER_BALANCE).code, Obis.of(ACCUMULATED_DEBT).code
    disabled = emergency = False
    for row in _items(table):
        parts = _items(row)
        if len(parts) != 3:
            continue
        credit, charge, flags = _octets(parts[0]), _octets(parts[1]), parts[2]
        if credit == debt:
            emergency = True
        elif credit == balance and charge == time_debt:
            # collection flags MSB first; the third: collect while the supply is disabled
            disabled = isinstance(flags, BitString) and flags.bits >= 3 and not flags.data[0] & 0x20
    return disabled, emergency


def _octets(node: Data) -> bytes:
    return node.value if isinstance(node, OctetString) else b""


# -- commands ----------------------------------------------------------------------------------


def _adjust_balance(ctx: Context, value: Data) -> int:
    """ECS04a: the supplier adds to (or takes from) the meter balance; not a payment."""
    if not isinstance(value, DoubleLong):
        return TYPE_UNMATCHED
    ctx.state.balance += value.value
    rearm(ctx)
    return SUCCESS


def _resetter(obis: str) -> Method:
    def reset(ctx: Context, value: Data) -> int:
        """ECS04b: a credit register set to the amount given (zero, on the way to credit mode)."""
        if not isinstance(value, DoubleLong):
            return TYPE_UNMATCHED
        s = ctx.state
        if obis == METER_BALANCE:
            s.balance = value.value
        elif obis == EMERGENCY_CREDIT:
            s.emergency_credit = value.value
            s.emergency_granted = value.value if value.value > 0 else 0
        else:
            s.accumulated_debt = value.value
        return SUCCESS

    return reset


def _activate_unit_charge(obis: str) -> Method:
    def activate(ctx: Context, _: Data) -> int:
        """ECS07: the passive unit charge becomes the active one."""
        objects = ctx.state.objects
        passive = objects.get(_key(CHARGE, obis, UNIT_CHARGE_PASSIVE))
        if passive is not None:
            objects[_key(CHARGE, obis, UNIT_CHARGE_ACTIVE)] = passive
        return SUCCESS

    return activate


def _set_debt(index: int) -> Method:
    def set_total(ctx: Context, value: Data) -> int:
        """ECS07: a debt register set to the amount the supplier gives."""
        if not isinstance(value, DoubleLong) or value.value < 0:
            return TYPE_UNMATCHED
        if index < account.TIME_DEBTS:
            ctx.state.time_debts[index] = value.value
        else:
            ctx.state.payment_debt = value.value
        return SUCCESS

    return set_total


def _invoke_emergency_credit(ctx: Context, _: Data) -> int:
    """ECS09: emergency credit taken remotely; refused (other reason) when not available."""
    return SUCCESS if take_emergency_credit(ctx.state, ctx.alerts) else OTHER


def take_emergency_credit(state: EsmeState, alerts: list[Alert]) -> bool:
    """Emergency credit taken (from the PPMID, the meter or ECS09) when the meter allows it
    (:func:`.core.prepayment.grant_emergency_credit`, whose alerts join ``alerts``)."""
    raised = account.grant_emergency_credit(state, settings(state))
    alerts.extend(Alert(code=code) for code in raised or ())
    return raised is not None


def credit_top_up(state: EsmeState, value: int, alerts: list[Alert]) -> None:
    """A top-up's value: in prepayment through the accounts (payment debt share first); in
    credit mode, where no debt is recovered, straight onto the meter balance."""
    if state.payment_mode != "prepayment":
        state.balance += value
        return
    payment = account.pay_in(state, settings(state), value)
    alerts.extend(Alert(code=code) for code in payment.alerts)


def rearm(ctx: Context) -> None:
    """Credit came back (top-up, adjustment): a supply cut for credit is armed (0x8F32)."""
    s = ctx.state
    threshold = settings(s).disablement_threshold
    if s.payment_mode == "prepayment" and account.should_arm(
        s.supply, account.combined_credit(s), threshold
    ):
        s.supply = "armed"
        ctx.alerts.append(Alert(code=SUPPLY_ARMED))


# -- reads -------------------------------------------------------------------------------------


def _money(value: int) -> DoubleLong:
    return DoubleLong(value=max(_I32[0], min(value, _I32[1])))


def _collection(ctx: Context) -> Data:
    """ECS19: the prepayment registers, in the collection's order."""
    s = ctx.state
    values = (s.balance, s.emergency_credit, s.accumulated_debt, *s.time_debts, s.payment_debt)
    return Structure(items=tuple(_money(v) for v in values))


def register(server: ObjectServer) -> None:
    """Put the prepayment getters and methods on the ESME's object server."""
    g, m = server.getters, server.methods
    g[(CREDIT, METER_BALANCE, 2)] = lambda ctx: _money(ctx.state.balance)
    g[(CREDIT, EMERGENCY_CREDIT, 2)] = lambda ctx: _money(ctx.state.emergency_credit)
    g[(CREDIT, EMERGENCY_CREDIT, PRESET_AMOUNT)] = lambda ctx: _money(
        settings(ctx.state).emergency_credit_limit
    )
    g[(CREDIT, EMERGENCY_CREDIT, AVAILABLE_THRESHOLD)] = lambda ctx: _money(
        settings(ctx.state).emergency_credit_threshold
    )
    g[(CREDIT, ACCUMULATED_DEBT, 2)] = lambda ctx: _money(ctx.state.accumulated_debt)
    g[(DATA, PREPAY_COLLECTION, 2)] = _collection
    m[(CREDIT, METER_BALANCE, ADJUST)] = _adjust_balance
    m[(CREDIT, EMERGENCY_CREDIT, INVOKE)] = _invoke_emergency_credit
    for obis in (METER_BALANCE, EMERGENCY_CREDIT, ACCUMULATED_DEBT):
        m[(CREDIT, obis, RESET)] = _resetter(obis)
    for index, obis in enumerate((*TIME_DEBT_CHARGES, PAYMENT_DEBT_CHARGE)):
        m[(CHARGE, obis, SET_TOTAL)] = _set_debt(index)
        g[(CHARGE, obis, AMOUNT_PAID)] = _paid(index)
        g[(CHARGE, obis, AMOUNT_REMAINING)] = _remaining(index)
    for obis in TIME_DEBT_CHARGES:
        m[(CHARGE, obis, ACTIVATE_PASSIVE)] = _activate_unit_charge(obis)


def _paid(index: int) -> Getter:
    return lambda ctx: _money(ctx.state.debt_recovered[index])


def _remaining(index: int) -> Getter:
    def remaining(ctx: Context) -> Data:
        s = ctx.state
        return _money(s.time_debts[index] if index < account.TIME_DEBTS else s.payment_debt)

    return remaining


__all__ = ["credit_top_up", "rearm", "register", "settings", "take_emergency_credit"]
