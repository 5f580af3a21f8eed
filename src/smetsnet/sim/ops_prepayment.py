"""Prepayment: homes that pay in advance, their suppliers' top-ups, and credit running down.

Every home with a PPMID (``Home.prepayment``) is put on prepayment in the first half-hour of the
run by its electricity supplier, with the real SRs, in this order (the WAN keeps a comms hub's
messages in order, so the meter takes them in this order):

1. 2.2 Top Up Device (CS01a) with a first UTRN, so the meter never runs in prepayment mode with
   no credit (it would disable the supply at its next half-hour);
2. 1.2.1 Update Price (critical, ECS01b): one unit rate and a standing charge;
3. 1.6 Update Payment Mode (critical, ECS03) to prepayment.

Then the supplier tops the meter up about every ``config.top_up_interval_days`` days, at a time
of day a consumer buys credit, with an amount that roughly covers the interval's use. A UTRN is
made as a supplier makes it (GBCS §4, DOMAIN.md §5): Z = the supplier's prepayment
key-agreement private key x the meter's key-agreement public key, bound to the request's
counter, whose low 32 bits are zero. The meter checks it with its prepayment trust anchor.

Credit falls with each half-hour the meter bills (the device does that). When it runs out the
meter disables the supply and alerts the supplier (0x8F0F); the consumer then buys credit within
hours (a top-up of their own), the meter arms the supply (0x8F32), and the consumer presses the
PPMID's button to enable it. Each part is seeded from the run's seed.
"""

from __future__ import annotations

import math
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
_RNG_STREAM = 21  # this operation's stream of the run's seed


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
    #: the credit bought at set-up (None: enough for one top-up interval, as later top-ups)
    first_credit_pence: int | None = None
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
        }

    # --- what the supplier sends ------------------------------------------------------------

    def set_up(self, home: Home, now: datetime) -> None:
        """First credit, the price, then prepayment mode (module docstring)."""
        self.set_up_at[home.esme] = now
        first = self.first_credit_pence
        self.top_up(home, now, pence=first or self.amount(self.sim.config.top_up_interval_days))
        user = self.sim.users[self.sim.supplier_of(home, now)]
        for srv, body in (
            ("1.2.1", price_body(PRICE, STANDING_CHARGE)),
            ("1.6", prepayment_body()),
        ):
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

    def amount(self, days: float) -> int:
        """A consumer's top-up for ``days`` of use: whole steps of 500p, a seeded margin."""
        pence = days * DAILY_SPEND_PENCE * float(self.rng.uniform(0.8, 1.6))
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
        self.top_up(home, now, pence=self.amount(self.sim.config.top_up_interval_days))

    def rescue(self, home: Home, now: datetime) -> None:
        """The consumer, cut off, buys credit: enough for a few days and the debt."""
        self._rescue_due.discard(home.esme)
        self.rescues += 1
        self.top_up(home, now, pence=self.amount(max(3.0, self.sim.config.top_up_interval_days)))

    def _consumer_enables(self, home: Home, now: datetime) -> None:
        """The PPMID shows the supply armed: the consumer presses its button."""
        premises = self.sim.network.premises.get(home.chf)
        if premises is not None and premises.ppmid is not None and premises.ppmid.enable_supply():
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
        ecs03 = gbcs is not None and gbcs.use_case == "ECS03" and _succeeded(gbcs.payload)
        if ecs03 and rid.target in self.homes:
            self.in_prepayment.add(rid.target)
        sent = self._awaiting.pop((rid.originator, rid.target, rid.counter), None)
        if sent is None:
            return
        ok = gbcs is not None and gbcs.use_case == "CS01a" and _succeeded(gbcs.payload)
        (self.accepted if ok else self.refused).append(sent)

    def _alert(self, esme: bytes, code: int, now: datetime) -> None:
        self.alerts[code] += 1
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


def plan_prepayment(sim: Simulation, *, first_credit_pence: int | None = None) -> PrepaymentTally:
    """Set every prepayment home up at the start and schedule its supplier's top-ups; the
    returned tally, called, gives the outcome figures. ``first_credit_pence``: the credit bought
    at set-up (default: enough for one top-up interval)."""
    interval = sim.config.top_up_interval_days
    if not interval > 0:
        raise ConfigurationError(f"top_up_interval_days: a positive number, not {interval}")
    rng = np.random.default_rng(sim.config.seed * 31 + _RNG_STREAM)
    tally = PrepaymentTally(sim=sim, rng=rng, first_credit_pence=first_credit_pence)
    sim.listen(tally.listen)
    for home in sim.world.homes:
        if not home.prepayment:
            continue
        tally.homes[home.esme] = home
        offset = SET_UP_FROM + timedelta(seconds=float(tally.rng.uniform(0, SET_UP_WINDOW_S)))
        sim.at(sim.start + offset, partial(tally.set_up, home))
        for when in top_up_times(sim, tally.rng, interval):
            sim.at(when, partial(tally.scheduled_top_up, home))
    return tally


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
    "plan_prepayment",
    "prepayment_body",
    "price_body",
    "top_up_times",
]
