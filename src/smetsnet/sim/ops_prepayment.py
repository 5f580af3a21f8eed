"""Prepayment: homes that pay in advance, their suppliers' top-ups, and credit running down.

Every home with a PPMID (``Home.prepayment``) is put on prepayment in the first half-hour of the
run by its electricity supplier, with the real SRs, in this order (the WAN keeps a comms hub's
messages in order, so the meter takes them in this order):

1. 2.2 Top Up Device (CS01a) with a first UTRN, so the meter never runs in prepayment mode with
   no credit (it would disable the supply at its next half-hour);
2. 1.2.1 Update Price (critical, ECS01b): one unit rate and a standing charge;
3. 1.6 Update Payment Mode (critical, ECS03) to prepayment;
4. 2.1 Update Prepay Configuration (critical, ECS08): emergency credit limit and threshold, the
   low-credit threshold;
5. for the homes that owe their supplier (about ``DEBT_SHARE``): 2.3 Update Debt (critical,
   ECS07): a time-based debt recovered at a daily rate as the meter runs, and a payment-based
   debt that takes a share of every top-up.

Then the supplier tops the meter up about every ``config.top_up_interval_days`` days, at a time
of day a consumer buys credit, with an amount that roughly covers the interval's use. A UTRN is
made as a supplier makes it (GBCS §4, DOMAIN.md §5): Z = the supplier's prepayment
key-agreement private key x the meter's key-agreement public key, bound to the request's
counter, whose low 32 bits are zero. The meter checks it with its prepayment trust anchor.

Credit falls with each half-hour the meter bills (the device does that). When it runs out the
meter disables the supply and alerts the supplier (0x8F0F); the consumer then buys credit within
hours (a top-up of their own), the meter arms the supply (0x8F32), and the consumer presses the
PPMID's button to enable it.

Homes short of money (about ``SHORT_SHARE``) buy less than they use, so their balance falls to
the emergency credit threshold: the meter says emergency credit is available (0x8119, to the
supplier and on the PPMID), and the consumer takes it, on the PPMID (homes of even index) or by
asking the supplier, who sends 2.5 Activate Emergency Credit (critical, ECS09; odd index). The
meter alerts 0x81AB; what was used is repaid from the next top-up. Which homes owe and which are
short is drawn per home index, so a partition of a world draws the same homes. Each part is
seeded from the run's seed.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from smetsnet.duis import Node
from smetsnet.duis.bodies import GenericBody, TopUpDevice
from smetsnet.duis.responses import DeviceAlertMessage
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.dlms import AccessResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.sim.engine import Simulation, spread
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import Home

#: Unit rate and standing charge in the meter's currency units (10^-5 GBP, price scale -5):
#: 24.5p/kWh and 30p/day; a price-matrix entry is a DLMS long (at most 32767).
PRICE = 24_500
STANDING_CHARGE = 30_000
#: One UTRN pence is this many meter currency units.
UNITS_PER_PENNY = 1_000
#: What a typical home spends a day at that price (about 9 kWh and the standing charge), pence:
#: top-ups are sized from it so that most homes keep credit.
DAILY_SPEND_PENCE = 250
#: Consumers buy credit in whole multiples of this (pence), at least one.
TOP_UP_STEP_PENCE = 500
#: The first messages go out in the first half-hour, so the whole set-up lands within it.
SET_UP_FROM = timedelta(minutes=5)
SET_UP_WINDOW_S = 20 * 60
#: How long a consumer takes to notice the PPMID saying the supply is armed and press its button.
CONSUMER_NOTICES = timedelta(minutes=10)
#: How long after the supply is cut off the consumer buys credit (hours, uniform).
RESCUE_HOURS = (1.0, 6.0)
ACTION_SUCCESS = 0  # DLMS action-result success
LOW_CREDIT, CREDIT_EXHAUSTED, SUPPLY_ARMED = 0x810D, 0x8F0F, 0x8F32  # DOMAIN.md §5
EC_AVAILABLE, EC_ACTIVATED, EC_EXHAUSTED = 0x8119, 0x81AB, 0x81AA
EC_ARMED = 0x8168  # supply disabled, then armed: emergency credit taken
DEBT_CLEARED = (0x81A7, 0x81A8, 0x81A9)  # time debt 1, time debt 2, payment debt
#: The suppliers' prepayment configuration (2.1), meter currency units: emergency credit of £5
#: once the balance is at or below 50p; low credit below £1.
EMERGENCY_CREDIT_LIMIT = 500_000
EMERGENCY_CREDIT_THRESHOLD = 50_000
LOW_CREDIT_THRESHOLD = 100_000
#: Share of prepayment homes with debt (2.3), and what they owe: a time-based debt of £15 at
#: 50p a day (rate 5 at price scale -1: 5 x 10^-1 GBP), a payment-based debt of £20 at 10 % of
#: each top-up (DebtRecoveryPerPayment 1000: hundredths of a percent).
DEBT_SHARE = 0.4
TIME_DEBT = 1_500_000
TIME_DEBT_RATE, TIME_DEBT_SCALE = 5, -1
PAYMENT_DEBT = 2_000_000
DEBT_PER_PAYMENT = 1000
#: Share of prepayment homes short of money: their top-ups cover 40-80 % of what they use.
SHORT_SHARE = 0.3
SHORT_MARGIN = (0.4, 0.8)
USUAL_MARGIN = (0.8, 1.6)
_RNG_STREAM = 21  # this operation's stream of the run's seed
_DRAW_DEBT, _DRAW_SHORT = 1, 2  # per-home draws of the run's seed


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUp:
    """One 2.2 a supplier sent: to which meter, under which counter, for how much."""

    esme: bytes
    supplier: bytes
    counter: int
    pence: int
    utrn: str
    at: datetime


@dataclass(slots=True, kw_only=True)
class PrepaymentTally:
    """The prepayment operation's state and figures; calling it gives the report's outcome."""

    sim: Simulation = field(repr=False)
    rng: np.random.Generator = field(repr=False)
    homes: dict[bytes, Home] = field(default_factory=dict)  # ESME -> its home
    set_up_at: dict[bytes, datetime] = field(default_factory=dict)
    in_prepayment: set[bytes] = field(default_factory=set)  # ECS03 answered with success
    sent: list[TopUp] = field(default_factory=list)
    accepted: list[TopUp] = field(default_factory=list)
    refused: list[TopUp] = field(default_factory=list)
    alerts: Counter[int] = field(default_factory=Counter)
    disabled: set[bytes] = field(default_factory=set)  # meters that ever cut the supply off
    re_enabled: int = 0
    rescues: int = 0
    in_debt: set[bytes] = field(default_factory=set)  # homes sent 2.3
    debt_set: set[bytes] = field(default_factory=set)  # ECS07 answered with success
    short: set[bytes] = field(default_factory=set)  # homes that buy less than they use
    ec_asked_remotely: int = 0  # 2.5 sent
    ec_taken_locally: int = 0  # taken on the PPMID
    ec_granted_remotely: int = 0  # ECS09 answered with success
    #: the credit bought at set-up (None: enough for one top-up interval, as later top-ups)
    first_credit_pence: int | None = None
    emergency_credit_limit: int = EMERGENCY_CREDIT_LIMIT
    _awaiting: dict[tuple[bytes, bytes, int], TopUp] = field(default_factory=dict)
    _rescue_due: set[bytes] = field(default_factory=set)
    _secrets: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict, repr=False)

    def __call__(self) -> dict[str, Any]:
        return {
            "prepayment_meters": len(self.homes),
            "prepayment_mode_set": len(self.in_prepayment),
            "top_ups": len(self.sent),
            "top_ups_accepted": len(self.accepted),
            "top_ups_refused": len(self.refused),
            "credit_added_pence": sum(t.pence for t in self.accepted),
            "low_credit_alerts": self.alerts[LOW_CREDIT],
            "credit_exhausted_alerts": self.alerts[CREDIT_EXHAUSTED],
            "meters_disabled": len(self.disabled),
            "top_ups_after_disablement": self.rescues,
            "supplies_re_enabled": self.re_enabled,
            "meters_with_debt": len(self.debt_set),
            "debt_cleared_alerts": sum(self.alerts[c] for c in DEBT_CLEARED),
            "short_of_money_meters": len(self.short),
            "emergency_credit_available_alerts": self.alerts[EC_AVAILABLE],
            "emergency_credit_taken_on_ppmid": self.ec_taken_locally,
            "emergency_credit_asked_of_supplier": self.ec_asked_remotely,
            "emergency_credit_activated_alerts": self.alerts[EC_ACTIVATED],
            "emergency_credit_exhausted_alerts": self.alerts[EC_EXHAUSTED],
        }

    # --- what the supplier sends ------------------------------------------------------------

    def set_up(self, home: Home, now: datetime) -> None:
        """First credit, the price, prepayment mode, its configuration, any debt (module
        docstring)."""
        self.set_up_at[home.esme] = now
        first = self.first_credit_pence
        interval = self.sim.config.top_up_interval_days
        self.top_up(home, now, pence=first or self.amount(interval, home))
        user = self.sim.users[self.sim.supplier_of(home, now)]
        steps = [
            ("1.2.1", price_body(PRICE, STANDING_CHARGE)),
            ("1.6", prepayment_body()),
            ("2.1", prepay_configuration_body(ec_limit=self.emergency_credit_limit)),
        ]
        if home.esme in self.in_debt:
            steps.append(("2.3", debt_body()))
        for srv, body in steps:
            request = user.request(srv, GenericBody(node=body), target=home.esme, now=now)
            user.send_critical(self.sim.handle, request, now)

    def top_up(self, home: Home, now: datetime, *, pence: int, utrn: str | None = None) -> TopUp:
        """2.2 by the home's supplier now: a fresh UTRN for ``pence``, or ``utrn`` as given (a
        replay, for tests)."""
        supplier = self.sim.supplier_of(home, now)
        user = self.sim.users[supplier]
        # The UTRN is bound to the request's counter, so the request is made first.
        draft = user.request(
            "2.2", TopUpDevice(utrn="0" * 20), target=home.esme, now=now, top_up=True
        )
        counter = draft.header.request_id.counter
        if utrn is None:
            z = self._secret(supplier, home.esme)
            utrn = make_utrn(z, supplier=supplier, device=home.esme, counter=counter, pence=pence)
        request = replace(draft, body=TopUpDevice(utrn=utrn))
        sent = TopUp(
            esme=home.esme, supplier=supplier, counter=counter, pence=pence, utrn=utrn, at=now
        )
        self.sent.append(sent)
        answer = user.send(self.sim.handle, request, now)
        if answer.code == "I99":
            self._awaiting[(supplier, home.esme, counter)] = sent
        else:
            self.refused.append(sent)
        self.sim.at(now + CONSUMER_NOTICES, partial(self._consumer_enables, home))
        return sent

    def amount(self, days: float, home: Home | None = None) -> int:
        """A consumer's top-up for ``days`` of use: whole steps of 500p, a seeded margin (less
        than the use for a home short of money)."""
        short = home is not None and home.esme in self.short
        margin = SHORT_MARGIN if short else USUAL_MARGIN
        pence = days * DAILY_SPEND_PENCE * float(self.rng.uniform(*margin))
        return max(1, math.ceil(pence / TOP_UP_STEP_PENCE)) * TOP_UP_STEP_PENCE

    def _secret(self, supplier: bytes, esme: bytes) -> bytes:
        """Z of the supplier's prepayment KA key and the meter's KA key (cached: ECDH is the
        dominant cost of a top-up)."""
        key = (supplier, esme)
        if key not in self._secrets:
            own = self.sim.world.setup.user_keys.get(supplier)
            private = (
                own.private_key(supplier, KeyUsage.KEY_AGREEMENT, prepayment=True) if own else None
            )
            public = self.sim.device_key(esme, KeyUsage.KEY_AGREEMENT)
            if private is None or public is None:
                raise ConfigurationError(
                    f"no prepayment key agreement between supplier {supplier.hex()} "
                    f"and meter {esme.hex()}"
                )
            self._secrets[key] = crypto.shared_secret(private, public)
        return self._secrets[key]

    # --- what the home does -----------------------------------------------------------------

    def scheduled_top_up(self, home: Home, now: datetime) -> None:
        self.top_up(home, now, pence=self.amount(self.sim.config.top_up_interval_days, home))

    def rescue(self, home: Home, now: datetime) -> None:
        """The consumer, cut off, buys credit: enough for a few days and the debt."""
        self._rescue_due.discard(home.esme)
        self.rescues += 1
        self.top_up(home, now, pence=self.amount(max(3.0, self.sim.config.top_up_interval_days)))

    def take_emergency_credit(self, home: Home, now: datetime) -> None:
        """The PPMID says emergency credit is available: the consumer takes it, on the PPMID
        (even index) or by asking the supplier for it (2.5; odd index)."""
        if home.index % 2:
            self.ec_asked_remotely += 1
            user = self.sim.users[self.sim.supplier_of(home, now)]
            body = GenericBody(node=Node(name="ActivateEmergencyCredit"))
            request = user.request("2.5", body, target=home.esme, now=now)
            user.send_critical(self.sim.handle, request, now)
        else:
            premises = self.sim.network.premises.get(home.chf)
            if premises is None or premises.ppmid is None or not premises.ppmid.on_han():
                return
            # The PPMID takes it on the ESME it is paired with.
            result = premises.ppmid.request_emergency_credit(now, fuel="electricity")
            if result.accepted:
                self.ec_taken_locally += 1
            for wire in result.alerts:  # the meter's alerts go to the supplier over the WAN
                self.sim.network.wan.emit(home.chf, wire, now)
        self.sim.at(now + CONSUMER_NOTICES, partial(self._consumer_enables, home))

    def _consumer_enables(self, home: Home, now: datetime) -> None:
        """The PPMID shows the supply armed: the consumer presses its button."""
        premises = self.sim.network.premises.get(home.chf)
        ppmid = premises.ppmid if premises is not None else None
        if ppmid is not None and ppmid.enable_supply("electricity"):
            self.re_enabled += 1

    # --- what comes back --------------------------------------------------------------------

    def listen(self, _user: SimUser, received: Received) -> None:
        body = received.response.body
        gbcs = received.gbcs
        if isinstance(body, DeviceAlertMessage):
            if gbcs is not None and gbcs.header.originator in self.homes:
                self._alert(gbcs.header.originator, body.alert_code, received.at)
            return
        rid = received.response.header.request_id
        if rid is None:
            return
        ok = gbcs is not None and _succeeded(gbcs.payload)
        use_case = gbcs.use_case if gbcs is not None else None
        if ok and rid.target in self.homes:
            if use_case == "ECS03":
                self.in_prepayment.add(rid.target)
            elif use_case == "ECS07":
                self.debt_set.add(rid.target)
            elif use_case == "ECS09":
                self.ec_granted_remotely += 1
        sent = self._awaiting.pop((rid.originator, rid.target, rid.counter), None)
        if sent is None:
            return
        ok = gbcs is not None and gbcs.use_case == "CS01a" and _succeeded(gbcs.payload)
        (self.accepted if ok else self.refused).append(sent)

    def _alert(self, esme: bytes, code: int, now: datetime) -> None:
        self.alerts[code] += 1
        if code == EC_AVAILABLE:
            self.sim.at(
                now + CONSUMER_NOTICES, partial(self.take_emergency_credit, self.homes[esme])
            )
        if code != CREDIT_EXHAUSTED:
            return
        self.disabled.add(esme)
        # The meter repeats 0x8F0F while it stays off: one purchase per cut-off.
        if esme not in self._rescue_due:
            self._rescue_due.add(esme)
            hours = float(self.rng.uniform(*RESCUE_HOURS))
            self.sim.at(now + timedelta(hours=hours), partial(self.rescue, self.homes[esme]))


def _succeeded(payload: object) -> bool:
    return isinstance(payload, AccessResponse) and all(
        r.result == ACTION_SUCCESS for r in payload.results
    )


def price_body(price: int, standing_charge: int) -> Node:
    """1.2.1 ``UpdatePricePrimaryElement``: one TOU rate and a standing charge, price scale -5
    (the meter's currency units), as the ECS01b template has them."""

    def leaf(name: str, value: int, *attributes: tuple[str, str]) -> Node:
        return Node(name=name, text=str(value), attributes=attributes)

    elements = Node(
        name="ElectricityPriceElements",
        children=(
            leaf("StandingCharge", standing_charge),
            leaf("StandingChargeScale", -5),
            leaf("PriceScale", -5),
            Node(name="TOUTariff", children=(leaf("TOUPrice", price, ("index", "1")),)),
        ),
    )
    prices = Node(name="PriceElements", children=(elements,))
    return Node(name="UpdatePricePrimaryElement", children=(prices,))


def prepayment_body() -> Node:
    """1.6 ``UpdatePaymentMode`` to prepayment (ECS03); no debt is collected, and the supply is
    disabled when credit reaches zero."""
    mode = Node(
        name="Prepayment",
        children=(
            Node(name="SuspendDebtDisabled", text="false"),
            Node(name="SuspendDebtEmergency", text="false"),
            Node(name="DisablementThreshold", text="0"),
        ),
    )
    return Node(name="UpdatePaymentMode", children=(mode,))


def _leaf(name: str, value: object, *attributes: tuple[str, str]) -> Node:
    return Node(name=name, text=str(value), attributes=attributes)


def prepay_configuration_body(
    *,
    ec_limit: int = EMERGENCY_CREDIT_LIMIT,
    ec_threshold: int = EMERGENCY_CREDIT_THRESHOLD,
    low_credit: int = LOW_CREDIT_THRESHOLD,
) -> Node:
    """2.1 ``UpdatePrepayConfiguration`` for an ESME (ECS08), in the schema's order. The schema
    asks for one non-disablement period at least: one in the year 2000, which never applies."""
    never = Node(
        name="ScheduleDatesAndTime",
        children=(
            _leaf("SwitchTime", "00:00:00.00Z"),
            _leaf("StartDate", "2000-01-01Z"),
            _leaf("EndDate", "2000-01-01Z"),
        ),
    )
    period = Node(
        name="ElectricityNonDisablementSchedule",
        children=(
            _leaf("NonDisablementScript", "START"),
            Node(name="SpecialDaysApplicability"),
            never,
        ),
    )
    calendar = Node(
        name="ElectricityNonDisablementCalendar",
        children=(Node(name="ElectricitySpecialDays"), period),
    )
    elec = Node(
        name="UpdatePrepayConfigElectricity",
        children=(
            _leaf("DebtRecoveryRateCap", 0),
            _leaf("EmergencyCreditLimit", ec_limit),
            _leaf("EmergencyCreditThreshold", ec_threshold),
            _leaf("LowCreditThreshold", low_credit),
            calendar,
            _leaf("MaxMeterBalance", 0),
            _leaf("MaxCreditThreshold", 0),
        ),
    )
    return Node(name="UpdatePrepayConfiguration", children=(elec,))


def debt_body(
    *,
    time_debt: int = TIME_DEBT,
    rate: int = TIME_DEBT_RATE,
    scale: int = TIME_DEBT_SCALE,
    payment_debt: int = PAYMENT_DEBT,
    per_payment: int = DEBT_PER_PAYMENT,
) -> Node:
    """2.3 ``UpdateDebt`` for an ESME (ECS07): time debt 1 at a daily rate, no time debt 2,
    and a payment-based debt with its share of each top-up."""

    def recovery(name: str, amount: int) -> Node:
        return Node(
            name=name,
            children=(
                _leaf("DebtRecoveryRate", amount),
                _leaf("DebtRecoveryRatePriceScale", scale),
                _leaf("DebtRecoveryRatePeriod", "DAILY"),
            ),
        )

    return Node(
        name="UpdateDebt",
        children=(
            _leaf("TimeDebtRegister1", time_debt),
            _leaf("TimeDebtRegister2", 0),
            _leaf("PaymentDebtRegister", payment_debt),
            _leaf("DebtRecoveryPerPayment", per_payment),
            recovery("ElecDebtRecovery1", rate),
            recovery("ElecDebtRecovery2", 0),
        ),
    )


def plan_prepayment(
    sim: Simulation,
    *,
    first_credit_pence: int | None = None,
    emergency_credit_limit: int = EMERGENCY_CREDIT_LIMIT,
) -> PrepaymentTally:
    """Set every prepayment home up at the start and schedule its supplier's top-ups; the
    returned tally, called, gives the outcome figures. ``first_credit_pence``: the credit bought
    at set-up (default: enough for one top-up interval); ``emergency_credit_limit``: what the
    suppliers configure (0: no emergency credit)."""
    interval = sim.config.top_up_interval_days
    if not interval > 0:
        raise ConfigurationError(f"top_up_interval_days: a positive number, not {interval}")
    rng = np.random.default_rng(sim.config.seed * 31 + _RNG_STREAM)
    tally = PrepaymentTally(
        sim=sim,
        rng=rng,
        first_credit_pence=first_credit_pence,
        emergency_credit_limit=emergency_credit_limit,
    )
    sim.listen(tally.listen)
    for home in sim.world.homes:
        if not home.prepayment:
            continue
        tally.homes[home.esme] = home
        if _drawn(sim.config.seed, home, _DRAW_DEBT) < DEBT_SHARE:
            tally.in_debt.add(home.esme)
        if _drawn(sim.config.seed, home, _DRAW_SHORT) < SHORT_SHARE:
            tally.short.add(home.esme)
        offset = SET_UP_FROM + timedelta(seconds=float(tally.rng.uniform(0, SET_UP_WINDOW_S)))
        sim.at(sim.start + offset, partial(tally.set_up, home))
        for when in top_up_times(sim, tally.rng, interval):
            sim.at(when, partial(tally.scheduled_top_up, home))
    return tally


def _drawn(seed: int, home: Home, draw: int) -> float:
    """A uniform draw of one home's own (its index, the run's seed), as world.plan_homes draws."""
    return random.Random((seed * 1_000_003 + home.index) * 7 + draw).random()


def top_up_times(sim: Simulation, rng: np.random.Generator, interval: float) -> list[datetime]:
    """A home's top-ups: the first within one interval of the start, then every 0.75-1.25
    intervals, each at a waking hour of its day."""
    out: list[datetime] = []
    cursor = float(rng.uniform(0.0, interval))
    while True:
        day = sim.start + timedelta(days=math.floor(cursor))
        (when,) = spread(rng, day, 1)
        if when >= sim.end:
            return out
        out.append(when)
        cursor += interval * float(rng.uniform(0.75, 1.25))


__all__ = [
    "PRICE",
    "STANDING_CHARGE",
    "PrepaymentTally",
    "TopUp",
    "debt_body",
    "plan_prepayment",
    "prepay_configuration_body",
    "prepayment_body",
    "price_body",
    "top_up_times",
]
