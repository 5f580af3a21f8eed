"""GSME prepayment on the shared account model (issue 6): the gas meter's half-hours draw the
charges from the meter balance, then the emergency credit once taken, then into the accumulated
debt; emergency credit becomes available at its threshold, is taken by GCS06 / PCS02 / the
meter, runs out (0x81AA), and is repaid by the next top-up, which arms the valve (0x8F32); the
GBZ debt, payment-mode and emergency-credit commands (the RTDS GCS03/GCS04/GCS06 commands,
re-built with our PKI) act on these registers, and GCS14 and GCS15d report them. A state saved
before the shared account loads with its registers under their new names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smetsnet.devices.core.metering import HALF_HOUR
from smetsnet.devices.gas import GasPremises, GsmeState
from smetsnet.devices.gas import prepayment as gas_prepayment
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import (
    ClusterCommand,
    DefaultResponse,
    GbzAlert,
    GbzComponent,
    GbzMessage,
    ReadAttributesResponse,
    consumer_top_up,
)
from smetsnet.gbcs.gbz.spec import PREPAYMENT
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.smki.pki import Pki
from tests.devices.conftest import SUPPLIER
from tests.devices.test_gas_reference_commands import (
    COMMANDS,
    GSME_EUI,
    NOW,
    make_premises,
)
from tests.support.vectors import read_hex

#: 1000 currency units (1p) a half-hour: the standing charge alone, nothing priced per kWh.
STANDING = 48_000
CS01B = 0x0097
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # GBZ times are seconds since then


def _premises(pki: Pki) -> GasPremises:
    return make_premises(pki, start=NOW - timedelta(minutes=1))


def _prepayment(premises: GasPremises, balance: int) -> GsmeState:
    """Prepayment at 1p a half-hour; emergency credit of 10p below 3p; low credit below 4p."""
    s = premises.gsme.state
    s.payment_mode, s.balance, s.price, s.standing_charge = "prepayment", balance, 0, STANDING
    s.emergency_credit_limit, s.emergency_credit_threshold = 10_000, 3_000
    s.low_credit_level = 4_000
    return s


def _codes(wires: list[bytes]) -> list[int]:
    alerts = [decode_message(w).payload for w in wires]
    return [a.alert_code for a in alerts if isinstance(a, GbzAlert)]


def _record(premises: GasPremises, start: datetime, count: int) -> list[int]:
    return _codes(premises.gsme.record_half_hours(start, np.zeros(count, np.uint32)))


def _top_up(premises: GasPremises, hub: Protection, pence: int, at: datetime) -> list[bytes]:
    """CS01b with a UTRN of the supplier's, through the GSME's own top-up path."""
    counter = (int(at.timestamp()) & 0xFFFF) << 32
    z = hub.shared_secret(SUPPLIER, GSME_EUI, prepayment=True)
    assert z is not None
    utrn = make_utrn(z, supplier=SUPPLIER, device=GSME_EUI, counter=counter, pence=pence)
    command = GbzMessage.of(
        components=[GbzComponent.of(cluster_id=PREPAYMENT, command=consumer_top_up(utrn))]
    )
    wire = build_message(
        payload=command, originator=SUPPLIER, recipient=GSME_EUI, counter=counter,
        message_code=CS01B, protection=hub,
    ).frame.to_bytes()  # fmt: skip
    outcome = premises.gsme.receive(wire, at)
    assert outcome.response is not None
    return outcome.alerts


def test_a_state_saved_before_the_shared_account_loads() -> None:
    saved = GsmeState(balance=12_345, accumulated_debt=678, payment_mode="prepayment").to_json()
    saved["credit"], saved["debt"] = saved.pop("balance"), saved.pop("accumulated_debt")
    for added in (
        "emergency_granted", "time_debts", "payment_debt", "debt_recovered", "time_debt_rates",
        "debt_recovery_per_payment", "disablement_threshold", "payment_control", "debt_log",
    ):  # fmt: skip
        del saved[added]
    state = GsmeState.from_json(saved)
    assert (state.balance, state.accumulated_debt, state.payment_mode) == (
        12_345,
        678,
        "prepayment",
    )
    assert (state.emergency_granted, state.time_debts, state.payment_debt) == (0, [0, 0], 0)
    assert state.debt_recovered == [0, 0, 0] and state.debt_log == []
    assert GsmeState.from_json(state.to_json()).to_json() == state.to_json()


def test_charges_draw_balance_then_emergency_credit_then_debt(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _premises(gas_pki)
    s = _prepayment(premises, 5_000)
    t = NOW
    # 5p -> 3p: low credit (below 4p) and emergency credit available (at its 3p threshold)
    assert _record(premises, t, 2) == [0x810D, 0x8119]
    assert s.balance == 3_000
    granted, alerts = premises.gsme.activate_emergency_credit(t)
    assert granted and _codes(alerts) == [0x81AB]
    assert (s.emergency_credit, s.emergency_granted) == (10_000, 10_000)
    assert not premises.gsme.activate_emergency_credit(t)[0]  # in use: not again
    # 3 half-hours from the balance, 10 from the emergency credit: the combined credit falls
    # below 4p again (0x810D), the emergency credit runs out, the valve closes
    assert _record(premises, t + timedelta(hours=1), 13) == [0x810D, 0x81AA, 0x8F0F]
    assert (s.balance, s.emergency_credit, s.accumulated_debt, s.supply) == (0, 0, 0, "disabled")
    # the standing charge goes on: nothing left to pay it, so it is owed
    assert _record(premises, t + timedelta(hours=8), 4) == []
    assert s.accumulated_debt == 4_000
    # a top-up repays the emergency credit used (ending it), then the debt; the valve is armed
    alerts = _top_up(premises, gas_hub, 20, t + timedelta(hours=10))
    assert _codes(alerts) == [0x8F32]
    assert (s.emergency_credit, s.emergency_granted, s.accumulated_debt) == (0, 0, 0)
    assert (s.balance, s.supply) == (20_000 - 10_000 - 4_000, "armed")
    assert premises.enable_supply() and s.supply == "enabled"


needs_vectors = pytest.mark.skipif(not COMMANDS, reason="reference vectors not found")


def _command(name: str, hub: Protection, counter: int) -> bytes:
    """The RTDS command ``name`` re-built with our PKI under our own ``counter`` (each test
    sends several: their counters must rise)."""
    m = decode_message(read_hex(next(p for p in COMMANDS if p.name.startswith(name))))
    h = m.header
    return build_message(
        payload=m.payload, originator=h.originator, recipient=h.recipient, counter=counter,
        message_code=h.message_code, date_time=h.date_time, protection=hub,
        sign=bool(m.frame.signature),
    ).frame.to_bytes()  # fmt: skip


def _send(
    premises: GasPremises, hub: Protection, wire: bytes, at: datetime
) -> tuple[list[GbcsMessage], list[int]]:
    """Deliver, then run the wake that takes a queued command: the responses and the alert
    codes that came back."""
    out = premises.deliver(wire, at)
    out += premises.advance(at + timedelta(minutes=30))
    messages = [decode_message(w, protection=hub) for w in out]
    responses = [m for m in messages if m.header.cra == Cra.RESPONSE]
    alerts = [m.payload.alert_code for m in messages if isinstance(m.payload, GbzAlert)]
    return responses, alerts


def _statuses(message: GbcsMessage) -> list[int]:
    assert isinstance(message.payload, GbzMessage)
    return [
        c.command.status
        for c in message.payload.components
        if isinstance(c.command, DefaultResponse)
    ]


def _midnight_after(when: datetime) -> datetime:
    return when.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


@needs_vectors
def test_gcs06_takes_emergency_credit_only_when_available(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _premises(gas_pki)
    s = premises.gsme.state  # credit mode: nothing to take, the command fails
    (refused,), _ = _send(premises, gas_hub, _command("GCS06_2.5_SUCCESS_COMMAND", gas_hub, 1), NOW)
    assert _statuses(refused) == [0x01] and s.emergency_granted == 0
    _prepayment(premises, 2_000)
    later = NOW + timedelta(hours=1)
    (taken,), alerts = _send(
        premises, gas_hub, _command("GCS06_2.5_SUCCESS_COMMAND", gas_hub, 2), later
    )
    assert _statuses(taken) == [0x00] and 0x81AB in alerts
    assert s.emergency_granted == 10_000 and 0 < s.emergency_credit <= 10_000


@needs_vectors
def test_gcs03_and_gcs04_set_the_account_and_gcs14_reads_it(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _premises(gas_pki)
    s = _prepayment(premises, 10_000_000)
    s.payment_mode = "credit"
    # GCS03 (RTDS: configuration 0x0897, cut-off 0): prepayment; time debt collected while the
    # valve is closed (bit 10 clear) and while emergency credit is in use (bit 11 set)
    (_mode,), _ = _send(premises, gas_hub, _command("GCS03_1.6_IMMEDIATE_SUCCESS", gas_hub, 1), NOW)
    assert s.payment_mode == "prepayment" and s.payment_control == 0x0897
    config = gas_prepayment.settings(s)
    assert (config.suspend_debt_disabled, config.suspend_debt_emergency) == (False, False)
    # GCS04 (RTDS): time debt 1 +£10 at 50p a day, time debt 2 +£5 at 50p an hour, payment debt
    # +£10 at 1 % of each top-up (the wake records its half-hour before taking the command)
    wire = _command("GCS04_2.3_SUCCESS_COMMAND", gas_hub, 2)
    (debt,), _ = _send(premises, gas_hub, wire, NOW + timedelta(hours=1))
    assert _statuses(debt) == [0, 0, 0]
    assert (s.time_debts, s.payment_debt) == ([1_000_000, 500_000], 1_000_000)
    assert s.time_debt_rates == [[50_000, 86_400], [50_000, 3_600]]
    assert s.debt_recovery_per_payment == 100
    # a whole day of half-hours: each time debt's rate collected, time debt 2 cleared (0x81A8)
    balance = s.balance
    assert _record(premises, _midnight_after(NOW), 48) == [0x81A8]
    assert s.time_debts == [1_000_000 - 50_000, 0]
    assert s.debt_recovered[:2] == [50_000, 500_000]
    assert s.balance == balance - 48 * 1_000 - 50_000 - 500_000
    # GCS14 reads them back from the GPF's mirror (no wake due in between)
    premises.gpf.refresh(s)
    read = _command("GCS14_4.3_SUCCESS_RELIABLE_GSME_COMMAND", gas_hub, 3)
    answers = [
        decode_message(w, protection=gas_hub)
        for w in premises.deliver(read, NOW + timedelta(hours=1, minutes=40))
    ]
    (answer,) = [m for m in answers if m.header.cra == Cra.RESPONSE]
    assert isinstance(answer.payload, GbzMessage)
    (prepay,) = [
        c.command
        for c in answer.payload.components
        if c.cluster_id == PREPAYMENT and isinstance(c.command, ReadAttributesResponse)
    ]
    values = {r.attribute_id: r.value for r in prepay.records}
    assert (values[0x0001], values[0x0005]) == (s.balance, 0)
    assert (values[0x0211], values[0x0221], values[0x0231]) == (950_000, 0, 1_000_000)


@needs_vectors
def test_gcs15d_reads_the_debt_collected(gas_pki: Pki, gas_hub: Protection) -> None:
    premises = _premises(gas_pki)
    s = _prepayment(premises, 10_000_000)
    s.time_debts, s.time_debt_rates = [0, 96_000], [[0, 86_400], [2_000, 2 * HALF_HOUR]]
    yesterday = _midnight_after(NOW) - timedelta(days=2)
    _record(premises, yesterday, 48)  # 1,000 a half-hour: 48,000 that day, 48,000 left
    midnight = int((yesterday - EPOCH).total_seconds())
    assert s.debt_log == [(midnight, 48_000, 2, 48_000)]
    # GCS15d waits for the wake, which first collects its half-hour's 1,000 (a new day)
    wire = _command("GCS15d_4.4.4_SUCCESS_COMMAND", gas_hub, 1)
    (answer,), _ = _send(premises, gas_hub, wire, NOW)
    assert isinstance(answer.payload, GbzMessage)
    (log,) = [c.command for c in answer.payload.components if isinstance(c.command, ClusterCommand)]
    debts = log["debts"]  # newest first
    assert debts["collection_time"].tolist() == [midnight + 86_400, midnight]
    assert debts["amount_collected"].tolist() == [1_000, 48_000]
    assert debts["debt_type"].tolist() == [2, 2]
    assert debts["outstanding_debt"].tolist() == [47_000, 48_000]


def test_a_top_up_pays_its_share_of_the_payment_debt_first(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _premises(gas_pki)
    s = _prepayment(premises, 0)
    s.payment_debt, s.debt_recovery_per_payment = 5_000, 1_000  # 10 % of each top-up
    _top_up(premises, gas_hub, 30, NOW)  # 30p = 30,000 units
    assert (s.payment_debt, s.debt_recovered[2], s.balance) == (2_000, 3_000, 27_000)
    alerts = _top_up(premises, gas_hub, 40, NOW + timedelta(hours=1))
    assert 0x81A9 in _codes(alerts)  # payment debt cleared
    assert (s.payment_debt, s.balance) == (0, 27_000 + 38_000)
    assert [(e[1], e[2]) for e in s.debt_log] == [(5_000, 3)]
