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

Gas: the home's gas meter (GSME) goes on prepayment too, by the home's gas supplier (the world's
first until a gas change of supplier moved it), with its own random stream so the electricity
draws stay as they were: 2.2 (CS01b) with a first UTRN, 1.2.1 (GCS01b) a gas unit rate and
standing charge, 1.6 (GCS03) prepayment mode, 2.1 (GCS05) the same emergency credit limit,
thresholds and low-credit threshold as the electricity meter's (a non-disablement calendar that
never starts: the schema asks for one), and for the homes that owe their gas supplier (about
``DEBT_SHARE``, a draw of their own) 2.3 (GCS04) the same debts, the time debt recovered at
``GAS_TIME_DEBT_RATE``; then top-ups about every top-up interval, sized from
``GAS_DAILY_SPEND_PENCE`` (less than the use in the homes short of money, the same homes as for
electricity), and a rescue top-up when the valve closes for credit (0x8F0F). The hub queues the
commands at the gas proxy until the meter wakes. A short home's gas balance falls to the
emergency credit threshold: the GSME alerts 0x8119 and the consumer takes gas emergency credit,
on the PPMID (it is paired with the GSME too: PCS02; even index) or by asking the gas supplier,
who sends 2.5 (GCS06; odd index); the GSME alerts 0x81AB (0x8168 when that arms a closed valve,
which the consumer then opens), and the next top-up repays what was used.
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

from smetsnet.devices.han.consumer import Fuel
from smetsnet.duis import Node
from smetsnet.duis.bodies import GenericBody, TopUpDevice
from smetsnet.duis.responses import DeviceAlertMessage
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.dlms import AccessResponse
from smetsnet.gbcs.gbz import ClusterCommand, GbzMessage
from smetsnet.gbcs.gbz.general import DefaultResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.inventory import DeviceType
from smetsnet.sim.engine import Simulation, spread
from smetsnet.sim.ops_cos import gas_supplier_of
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
#: The gas meter's unit rate and standing charge (meter currency units): 6p/kWh and 28p/day;
#: what a typical home spends a day on gas at that price (about 30 kWh), pence.
GAS_PRICE = 6_000
GAS_STANDING_CHARGE = 28_000
GAS_DAILY_SPEND_PENCE = 210
#: The gas time debt's recovery rate (2.3 to a GSME), 50p a day: GasDebtRecovery has no price
#: scale, and the GSME takes the rate in its currency units [inferred, as devices/gas/prepayment].
GAS_TIME_DEBT_RATE = 50_000
_RNG_STREAM = 21  # this operation's stream of the run's seed
_GAS_RNG_STREAM = 23  # the gas meters' own stream
_DRAW_DEBT, _DRAW_SHORT, _DRAW_GAS_DEBT = 1, 2, 3  # per-home draws of the run's seed


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUp:
    """One 2.2 a supplier sent: to which meter (``esme``; the GSME for a gas top-up), under
    which counter, for how much."""

    esme: bytes
    supplier: bytes
    counter: int
    pence: int
    utrn: str
    at: datetime


@dataclass(slots=True)
class EmergencyCredit:
    """One fuel's emergency credit as the consumers took it: asked of the supplier (2.5 sent),
    taken on the PPMID, and granted remotely (ECS09 / GCS06 answered with success)."""

    asked_remotely: int = 0
    taken_locally: int = 0
    granted_remotely: int = 0


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
    #: emergency credit taken, per fuel ("electricity", "gas")
    ec: dict[Fuel, EmergencyCredit] = field(
        default_factory=lambda: {"electricity": EmergencyCredit(), "gas": EmergencyCredit()}
    )
    #: the credit bought at set-up (None: enough for one top-up interval, as later top-ups)
    first_credit_pence: int | None = None
    emergency_credit_limit: int = EMERGENCY_CREDIT_LIMIT
    _awaiting: dict[tuple[bytes, bytes, int], TopUp] = field(default_factory=dict)
    _rescue_due: set[bytes] = field(default_factory=set)
    _secrets: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict, repr=False)
    #: gas: the random stream of the gas choices, the GSMEs (-> their home) and their figures
    gas_rng: np.random.Generator | None = field(default=None, repr=False)
    gas_homes: dict[bytes, Home] = field(default_factory=dict)
    gas_in_prepayment: set[bytes] = field(default_factory=set)  # GCS03 answered with success
    gas_price_set: set[bytes] = field(default_factory=set)  # GCS01b answered with success
    gas_configured: set[bytes] = field(default_factory=set)  # GCS05 answered with success
    gas_in_debt: set[bytes] = field(default_factory=set)  # GSMEs sent 2.3
    #: GCS04 answered with success: when the answer came (the GSME set the debt at its wake)
    gas_debt_set: dict[bytes, datetime] = field(default_factory=dict)
    gas_sent: list[TopUp] = field(default_factory=list)
    gas_accepted: list[TopUp] = field(default_factory=list)
    gas_refused: list[TopUp] = field(default_factory=list)
    gas_alerts: Counter[int] = field(default_factory=Counter)
    gas_disabled: set[bytes] = field(default_factory=set)
    gas_rescues: int = 0
    gas_re_enabled: int = 0

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
            **self._credit_figures("electricity"),
            "gas_prepayment_meters": len(self.gas_homes),
            "gas_price_set": len(self.gas_price_set),
            "gas_prepayment_mode_set": len(self.gas_in_prepayment),
            "gas_prepay_configured": len(self.gas_configured),
            "gas_top_ups": len(self.gas_sent),
            "gas_top_ups_accepted": len(self.gas_accepted),
            "gas_top_ups_refused": len(self.gas_refused),
            "gas_credit_added_pence": sum(t.pence for t in self.gas_accepted),
            "gas_low_credit_alerts": self.gas_alerts[LOW_CREDIT],
            "gas_credit_exhausted_alerts": self.gas_alerts[CREDIT_EXHAUSTED],
            "gas_meters_disabled": len(self.gas_disabled),
            "gas_top_ups_after_disablement": self.gas_rescues,
            "gas_supplies_re_enabled": self.gas_re_enabled,
            **self._credit_figures("gas"),
        }

    def _credit_figures(self, fuel: Fuel) -> dict[str, int]:
        """One fuel's debt and emergency credit figures (gas ones named ``gas_...``)."""
        gas = fuel == "gas"
        alerts, counts = (self.gas_alerts if gas else self.alerts), self.ec[fuel]
        meters = self.gas_homes.values() if gas else self.homes.values()
        figures = {
            "meters_with_debt": len(self.gas_debt_set if gas else self.debt_set),
            "debt_cleared_alerts": sum(alerts[c] for c in DEBT_CLEARED),
            "short_of_money_meters": sum(1 for home in meters if home.esme in self.short),
            "emergency_credit_available_alerts": alerts[EC_AVAILABLE],
            "emergency_credit_taken_on_ppmid": counts.taken_locally,
            "emergency_credit_asked_of_supplier": counts.asked_remotely,
            "emergency_credit_activated_alerts": alerts[EC_ACTIVATED],
            "emergency_credit_exhausted_alerts": alerts[EC_EXHAUSTED],
        }
        return {f"gas_{name}" if gas else name: value for name, value in figures.items()}

    # --- what the supplier sends ------------------------------------------------------------

    def set_up(self, home: Home, now: datetime) -> None:
        """First credit, the price, prepayment mode, its configuration, any debt (module
        docstring)."""
        self.set_up_at[home.esme] = now
        first = self.first_credit_pence
        interval = self.sim.config.top_up_interval_days
        self.top_up(home, now, pence=first or self.amount(interval, home))
        steps = [
            ("1.2.1", price_body(PRICE, STANDING_CHARGE)),
            ("1.6", prepayment_body()),
            ("2.1", prepay_configuration_body(ec_limit=self.emergency_credit_limit)),
        ]
        if home.esme in self.in_debt:
            steps.append(("2.3", debt_body()))
        self._send_critical(self.sim.supplier_of(home, now), home.esme, steps, now)

    def _send_critical(
        self, supplier: bytes, meter: bytes, steps: list[tuple[str, Node]], now: datetime
    ) -> None:
        """Critical SRs (service reference, body) by ``supplier`` to ``meter``, in order."""
        user = self.sim.users[supplier]
        for srv, body in steps:
            request = user.request(srv, GenericBody(node=body), target=meter, now=now)
            user.send_critical(self.sim.handle, request, now)

    def top_up(self, home: Home, now: datetime, *, pence: int, utrn: str | None = None) -> TopUp:
        """2.2 by the home's supplier now: a fresh UTRN for ``pence``, or ``utrn`` as given (a
        replay, for tests)."""
        supplier = self.sim.supplier_of(home, now)
        sent = self._send_top_up(supplier, home.esme, now, pence, utrn, self.sent, self.refused)
        self.sim.at(now + CONSUMER_NOTICES, partial(self._consumer_enables, home))
        return sent

    def amount(self, days: float, home: Home | None = None) -> int:
        """A consumer's top-up for ``days`` of use (:func:`purchase`; less than the use for a
        home short of money)."""
        short = home is not None and home.esme in self.short
        return purchase(self.rng, days, DAILY_SPEND_PENCE, short=short)

    # --- gas: what the gas supplier sends ---------------------------------------------------

    def _gas_stream(self) -> np.random.Generator:
        if self.gas_rng is None:
            raise ConfigurationError("prepayment: the gas meters' random stream is not set")
        return self.gas_rng

    def gas_amount(self, days: float, home: Home | None = None) -> int:
        """A consumer's gas top-up for ``days`` of use (:func:`purchase`, from the gas stream;
        less than the use for a home short of money)."""
        short = home is not None and home.esme in self.short
        return purchase(self._gas_stream(), days, GAS_DAILY_SPEND_PENCE, short=short)

    def set_up_gas(self, home: Home, now: datetime) -> None:
        """The gas supplier's first credit, gas price, prepayment mode, its configuration and
        any debt (module docstring)."""
        first = self.first_credit_pence
        interval = self.sim.config.top_up_interval_days
        self.gas_top_up(home, now, pence=first or self.gas_amount(interval, home))
        steps = [
            ("1.2.1", gas_price_body(GAS_PRICE, GAS_STANDING_CHARGE)),
            ("1.6", prepayment_body()),
            ("2.1", prepay_configuration_body(ec_limit=self.emergency_credit_limit, fuel="gas")),
        ]
        if home.gsme in self.gas_in_debt:
            steps.append(("2.3", debt_body(rate=GAS_TIME_DEBT_RATE, fuel="gas")))
        self._send_critical(gas_supplier_of(self.sim, home), home.gsme, steps, now)

    def gas_top_up(self, home: Home, now: datetime, *, pence: int) -> TopUp:
        """2.2 to the GSME by the home's gas supplier now, with a fresh UTRN for ``pence``."""
        supplier = gas_supplier_of(self.sim, home)
        return self._send_top_up(
            supplier, home.gsme, now, pence, None, self.gas_sent, self.gas_refused
        )

    def _send_top_up(
        self,
        supplier: bytes,
        meter: bytes,
        now: datetime,
        pence: int,
        utrn: str | None,
        sent_to: list[TopUp],
        refused: list[TopUp],
    ) -> TopUp:
        """2.2 by ``supplier`` to ``meter``: a fresh UTRN for ``pence`` (or ``utrn`` as given),
        bound to the request's counter, so the request is drafted first."""
        user = self.sim.users[supplier]
        draft = user.request("2.2", TopUpDevice(utrn="0" * 20), target=meter, now=now, top_up=True)
        counter = draft.header.request_id.counter
        if utrn is None:
            z = self._secret(supplier, meter)
            utrn = make_utrn(z, supplier=supplier, device=meter, counter=counter, pence=pence)
        request = replace(draft, body=TopUpDevice(utrn=utrn))
        sent = TopUp(esme=meter, supplier=supplier, counter=counter, pence=pence, utrn=utrn, at=now)
        sent_to.append(sent)
        answer = user.send(self.sim.handle, request, now)
        if answer.code == "I99":
            self._awaiting[(supplier, meter, counter)] = sent
        else:
            refused.append(sent)
        return sent

    def scheduled_gas_top_up(self, home: Home, now: datetime) -> None:
        interval = self.sim.config.top_up_interval_days
        self.gas_top_up(home, now, pence=self.gas_amount(interval, home))

    def gas_rescue(self, home: Home, now: datetime) -> None:
        """The valve closed for credit: the consumer buys gas credit for a few days, and opens
        the valve (the button) once the top-up has armed it."""
        self._rescue_due.discard(home.gsme)
        self.gas_rescues += 1
        days = max(3.0, self.sim.config.top_up_interval_days)
        self.gas_top_up(home, now, pence=self.gas_amount(days))

    def _consumer_opens_valve(self, home: Home, now: datetime) -> None:
        """The meter says the valve is armed: the consumer presses its button."""
        premises = self.sim.network.premises.get(home.chf)
        gas = premises.gas if premises is not None else None
        if gas is not None and gas.enable_supply():
            self.gas_re_enabled += 1

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

    def take_emergency_credit(self, home: Home, now: datetime, fuel: Fuel = "electricity") -> None:
        """The meter of ``fuel`` says emergency credit is available: the consumer takes it, on
        the PPMID (even index; it is paired with both meters) or by asking that meter's supplier
        for it (2.5; odd index). An electricity supply it arms is enabled on the PPMID; a gas
        valve it arms says so (0x8168) first."""
        counts, gas = self.ec[fuel], fuel == "gas"
        if home.index % 2:
            counts.asked_remotely += 1
            supplier = gas_supplier_of(self.sim, home) if gas else self.sim.supplier_of(home, now)
            meter = home.gsme if gas else home.esme
            self._send_critical(supplier, meter, [("2.5", emergency_credit_body())], now)
        else:
            premises = self.sim.network.premises.get(home.chf)
            if premises is None or premises.ppmid is None or not premises.ppmid.on_han():
                return
            result = premises.ppmid.request_emergency_credit(now, fuel=fuel)
            if result.accepted:
                counts.taken_locally += 1
            for wire in result.alerts:  # the meter's alerts go to the supplier over the WAN
                self.sim.network.wan.emit(home.chf, wire, now)
        if not gas:
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
            elif gbcs is not None and gbcs.header.originator in self.gas_homes:
                self._gas_alert(gbcs.header.originator, body.alert_code, received.at)
            return
        rid = received.response.header.request_id
        if rid is None:
            return
        use_case = gbcs.use_case if gbcs is not None else None
        if rid.target in self.gas_homes:
            self._gas_answer(rid.originator, rid.target, rid.counter, received)
            return
        ok = gbcs is not None and _succeeded(gbcs.payload)
        if ok and rid.target in self.homes:
            if use_case == "ECS03":
                self.in_prepayment.add(rid.target)
            elif use_case == "ECS07":
                self.debt_set.add(rid.target)
            elif use_case == "ECS09":
                self.ec["electricity"].granted_remotely += 1
        sent = self._awaiting.pop((rid.originator, rid.target, rid.counter), None)
        if sent is None:
            return
        ok = gbcs is not None and gbcs.use_case == "CS01a" and _succeeded(gbcs.payload)
        (self.accepted if ok else self.refused).append(sent)

    def _gas_answer(self, supplier: bytes, gsme: bytes, counter: int, received: Received) -> None:
        """A GSME's response: its price, payment mode, configuration or debt set, emergency
        credit granted, or a top-up accepted or refused."""
        gbcs = received.gbcs
        ok = gbcs is not None and _gbz_succeeded(gbcs.payload)
        use_case = gbcs.use_case if gbcs is not None else None
        if ok and use_case == "GCS03":
            self.gas_in_prepayment.add(gsme)
        elif ok and use_case == "GCS01b":
            self.gas_price_set.add(gsme)
        elif ok and use_case == "GCS05":
            self.gas_configured.add(gsme)
        elif ok and use_case == "GCS04":
            self.gas_debt_set[gsme] = received.at
        elif ok and use_case == "GCS06":
            self.ec["gas"].granted_remotely += 1
        sent = self._awaiting.pop((supplier, gsme, counter), None)
        if sent is not None:
            accepted = ok and use_case == "CS01b"
            (self.gas_accepted if accepted else self.gas_refused).append(sent)

    def _gas_alert(self, gsme: bytes, code: int, now: datetime) -> None:
        self.gas_alerts[code] += 1
        home = self.gas_homes[gsme]
        if code in (SUPPLY_ARMED, EC_ARMED):
            self.sim.at(now + CONSUMER_NOTICES, partial(self._consumer_opens_valve, home))
        elif code == EC_AVAILABLE:
            take = partial(self.take_emergency_credit, home, fuel="gas")
            self.sim.at(now + CONSUMER_NOTICES, take)
        if code != CREDIT_EXHAUSTED:
            return
        self.gas_disabled.add(gsme)
        if gsme not in self._rescue_due:  # one purchase per cut-off
            self._rescue_due.add(gsme)
            hours = float(self._gas_stream().uniform(*RESCUE_HOURS))
            self.sim.at(now + timedelta(hours=hours), partial(self.gas_rescue, home))

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


def _gbz_succeeded(payload: object) -> bool:
    """A GSME's GBZ response is a success: every Default Response says success (0) and a
    Consumer Top Up Response says accepted (result type 0)."""
    if not isinstance(payload, GbzMessage) or not payload.components:
        return False
    for component in payload.components:
        command = component.command
        if command is None:  # not opened
            return False
        if isinstance(command, DefaultResponse):
            failed = command.status != ACTION_SUCCESS
        else:
            failed = isinstance(command, ClusterCommand) and (
                command.name == "Consumer Top Up Response" and command["result_type"] != 0
            )
        if failed:
            return False
    return True


def gas_price_body(price: int, standing_charge: int) -> Node:
    """1.2.1 ``UpdatePricePrimaryElement`` for a GSME (GCS01b): one TOU rate and a standing
    charge in the meter's currency units, GBP."""
    elements = Node(
        name="GasPriceElements",
        children=(
            _leaf("CurrencyUnits", "GBP"),
            _leaf("StandingCharge", standing_charge),
            Node(name="TOUTariff", children=(_leaf("TOUPrice", price, ("index", "1")),)),
        ),
    )
    prices = Node(name="PriceElements", children=(elements,))
    return Node(name="UpdatePricePrimaryElement", children=(prices,))


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
    fuel: Fuel = "electricity",
) -> Node:
    """2.1 ``UpdatePrepayConfiguration`` for an ESME (ECS08) or a GSME (GCS05), in the schema's
    order: no debt recovery cap, no maximum balance or credit. The schema asks for a
    non-disablement calendar of the fuel's own shape: one that never applies."""
    gas = fuel == "gas"
    config = Node(
        name="UpdatePrepayConfigGas" if gas else "UpdatePrepayConfigElectricity",
        children=(
            _leaf("DebtRecoveryRateCap", 0),
            _leaf("EmergencyCreditLimit", ec_limit),
            _leaf("EmergencyCreditThreshold", ec_threshold),
            _leaf("LowCreditThreshold", low_credit),
            _never_non_disabled_gas() if gas else _never_non_disabled_electricity(),
            _leaf("MaxMeterBalance", 0),
            _leaf("MaxCreditThreshold", 0),
        ),
    )
    return Node(name="UpdatePrepayConfiguration", children=(config,))


def _never_non_disabled_electricity() -> Node:
    """An ESME's non-disablement calendar: one period, on no day of the week and in the year
    2000, which never applies."""
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
            Node(name="DaysOfWeekApplicability"),
            never,
        ),
    )
    return Node(
        name="ElectricityNonDisablementCalendar",
        children=(Node(name="ElectricitySpecialDays"), period),
    )


def _never_non_disabled_gas() -> Node:
    """A GSME's non-disablement calendar: one day profile that stops non-disablement at
    midnight (so it never runs), every day of the one week, one season from each 1 January,
    no special days."""
    stop = Node(
        name="TimeStartAction",
        children=(_leaf("StartTime", "00:00:00.00Z"), _leaf("NonDisablementAction", "STOP")),
    )
    day = Node(name="GasNonDisablementDayProfile", children=(stop, _leaf("GasDayName", 1)))
    days = (_leaf("ReferencedDayName", 1, ("index", str(i))) for i in range(1, 8))
    week = Node(name="WeekProfile", children=(_leaf("WeekName", 1), *days))
    start = Node(
        name="SeasonStartDate",
        children=(
            Node(name="GasYearWithWildcards", children=(Node(name="NonSpecifiedYear"),)),
            Node(name="GasMonthWithWildcards", children=(_leaf("SpecifiedMonth", 1),)),
            Node(name="GasDayOfMonthWithWildcards", children=(_leaf("SpecifiedDayOfMonth", 1),)),
            Node(name="GasDayOfWeekWithWildcards", children=(Node(name="NonSpecifiedDayOfWeek"),)),
        ),
    )
    season = Node(name="Season", children=(start, _leaf("ReferencedWeekName", 1)))
    return Node(
        name="GasNonDisablementCalendar",
        children=(
            Node(name="DayProfiles", children=(day,)),
            Node(name="WeekProfiles", children=(week,)),
            Node(name="SeasonProfiles", children=(season,)),
            Node(name="SpecialDays"),
        ),
    )


def debt_body(
    *,
    time_debt: int = TIME_DEBT,
    rate: int = TIME_DEBT_RATE,
    scale: int = TIME_DEBT_SCALE,
    payment_debt: int = PAYMENT_DEBT,
    per_payment: int = DEBT_PER_PAYMENT,
    fuel: Fuel = "electricity",
) -> Node:
    """2.3 ``UpdateDebt`` for an ESME (ECS07) or a GSME (GCS04): time debt 1 at a daily rate, no
    time debt 2, and a payment-based debt with its share of each top-up. A gas recovery rate has
    no price scale (``scale`` is not sent): it is in the meter's currency units."""
    gas = fuel == "gas"

    def recovery(number: int, amount: int) -> Node:
        scaled = () if gas else (_leaf("DebtRecoveryRatePriceScale", scale),)
        return Node(
            name=f"{'Gas' if gas else 'Elec'}DebtRecovery{number}",
            children=(
                _leaf("DebtRecoveryRate", amount),
                *scaled,
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
            recovery(1, rate),
            recovery(2, 0),
        ),
    )


def emergency_credit_body() -> Node:
    """2.5 ``ActivateEmergencyCredit`` (ECS09 for an ESME, GCS06 for a GSME): no content."""
    return Node(name="ActivateEmergencyCredit")


def purchase(rng: np.random.Generator, days: float, daily_pence: int, *, short: bool) -> int:
    """What a consumer buys for ``days`` of use at ``daily_pence`` a day: whole steps of 500p
    (one at least), a seeded margin (less than the use for a home short of money)."""
    margin = SHORT_MARGIN if short else USUAL_MARGIN
    pence = days * daily_pence * float(rng.uniform(*margin))
    return max(1, math.ceil(pence / TOP_UP_STEP_PENCE)) * TOP_UP_STEP_PENCE


def plan_prepayment(
    sim: Simulation,
    *,
    first_credit_pence: int | None = None,
    emergency_credit_limit: int = EMERGENCY_CREDIT_LIMIT,
) -> PrepaymentTally:
    """Set every prepayment home's meters up at the start (the ESME by the electricity
    supplier, the GSME by the gas supplier) and schedule their top-ups; the
    returned tally, called, gives the outcome figures. ``first_credit_pence``: the credit bought
    at set-up (default: enough for one top-up interval); ``emergency_credit_limit``: what the
    suppliers configure on both meters (0: no emergency credit)."""
    interval = sim.config.top_up_interval_days
    if not interval > 0:
        raise ConfigurationError(f"top_up_interval_days: a positive number, not {interval}")
    rng = np.random.default_rng(sim.config.seed * 31 + _RNG_STREAM)
    gas_rng = np.random.default_rng(sim.config.seed * 31 + _GAS_RNG_STREAM)
    tally = PrepaymentTally(
        sim=sim,
        rng=rng,
        gas_rng=gas_rng,
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
        if DeviceType.GSME not in home.devices:
            continue
        tally.gas_homes[home.gsme] = home
        if _drawn(sim.config.seed, home, _DRAW_GAS_DEBT) < DEBT_SHARE:
            tally.gas_in_debt.add(home.gsme)
        offset = SET_UP_FROM + timedelta(seconds=float(gas_rng.uniform(0, SET_UP_WINDOW_S)))
        sim.at(sim.start + offset, partial(tally.set_up_gas, home))
        for when in top_up_times(sim, gas_rng, interval):
            sim.at(when, partial(tally.scheduled_gas_top_up, home))
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
    "GAS_PRICE",
    "GAS_STANDING_CHARGE",
    "GAS_TIME_DEBT_RATE",
    "PRICE",
    "STANDING_CHARGE",
    "EmergencyCredit",
    "PrepaymentTally",
    "TopUp",
    "debt_body",
    "emergency_credit_body",
    "gas_price_body",
    "plan_prepayment",
    "prepay_configuration_body",
    "prepayment_body",
    "price_body",
    "purchase",
    "top_up_times",
]
