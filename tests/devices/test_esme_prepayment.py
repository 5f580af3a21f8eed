"""ESME prepayment (issue 6): emergency credit, debt recovery and their alerts, driven by the
commands the hub builds from the DUIS reference templates (2.1 ECS08, 2.3 ECS07, 2.5 ECS09,
1.6 ECS03, 4.3 ECS19), with our PKI; then half-hours of use drawn from the credit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smetsnet.devices import Esme
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core import prepayment as account
from smetsnet.devices.esme import prepayment
from smetsnet.duis import Request, from_xml
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import (
    AccessResponse,
    DataNotification,
    DoubleLong,
    ProtectedContent,
    Structure,
)
from smetsnet.gbcs.protection import Protection
from smetsnet.hub.translate import Context, translate
from smetsnet.inventory.model import DeviceType
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, NOW, SUPPLIER
from tests.devices.test_esme_security import _alert_codes, _top_up
from tests.support.vectors import REFERENCE, require_reference

TEMPLATES = REFERENCE / "duis" / "templates"
PRICE, STANDING = 20_000, 24_000  # 20p/kWh, 24p/day: 500 units a half-hour
HALF_HOUR_STANDING = STANDING // 48
DAY = datetime(2025, 1, 16, tzinfo=UTC)
#: The 2.1 template: EC limit £3, EC threshold £1, low credit £2.
EC_LIMIT, EC_THRESHOLD, LOW = 300_000, 100_000, 200_000


class Meter:
    """The ESME with the supplier's side: commands from DUIS templates, counters rising."""

    def __init__(self, esme: Esme, hub: Protection) -> None:
        self.esme, self.hub, self.counter = esme, hub, 10_000

    def send(self, template: str, edits: dict[str, str] | None = None) -> tuple[list[int], object]:
        """Translate the template (with ``edits``) as the hub does and deliver it: the alerts
        the meter raised and the decoded response payload."""
        require_reference(TEMPLATES)
        text = (TEMPLATES / f"{template}_REQUEST_DUIS.XML").read_text()
        for old, new in (edits or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        request = from_xml(text.encode())
        assert isinstance(request, Request)
        self.counter += 1
        ctx = Context(
            srv=request.header.service_reference_variant,
            target=ESME_EUI,
            device_type=DeviceType.ESME,
            originator=SUPPLIER,
            counter=self.counter,
            now=NOW,
        )
        command = translate(request, ctx)
        wire = build_message(
            payload=command.payload,
            originator=SUPPLIER,
            recipient=ESME_EUI,
            counter=self.counter,
            message_code=command.message_code,
            protection=self.hub,
        ).frame.to_bytes()
        out = self.esme.receive(wire, NOW)
        assert out.response is not None
        payload = decode_message(out.response, protection=self.hub).payload
        return _alert_codes(out.alerts, self.hub), payload

    def use(self, start: datetime, wh: list[int]) -> list[tuple[datetime, int]]:
        """Half-hours of use from ``start``: the alerts (time, code) the meter raised."""
        out = []
        for wire in self.esme.record_half_hours(start, np.asarray(wh)):
            m = decode_message(wire)
            assert self.hub.verify(m.frame).ok
            payload = m.payload
            assert isinstance(payload, DataNotification)
            code, stamp = payload.alert_code, payload.alert_date_time
            assert code is not None and stamp is not None
            when = stamp.to_datetime()
            assert when is not None
            out.append((when.replace(tzinfo=UTC) if when.tzinfo is None else when, code))
        return out


def _results(payload: object) -> list[int]:
    assert isinstance(payload, AccessResponse)
    return [r.result for r in payload.results]


@pytest.fixture
def meter(esme: Esme, hub: Protection) -> Meter:
    """An ESME on prepayment (ECS03, threshold 0, debt not suspended), a single price, and the
    2.1 template's configuration (ECS08)."""
    m = Meter(esme, hub)
    esme.state.price, esme.state.standing_charge = PRICE, STANDING
    prepay = {
        ">556677<": ">0<",
        "<sr:SuspendDebtDisabled>true": "<sr:SuspendDebtDisabled>false",
        "<sr:SuspendDebtEmergency>true": "<sr:SuspendDebtEmergency>false",
    }
    _, response = m.send("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS", prepay)
    assert set(_results(response)) == {0} and esme.state.payment_mode == "prepayment"
    _, response = m.send("ECS08_2.1_IMMEDIATE_SUCCESS")
    assert set(_results(response)) == {0}
    return m


def test_prepay_configuration_sets_the_thresholds_the_meter_uses(meter: Meter) -> None:
    config = prepayment.settings(meter.esme.state)
    assert (config.emergency_credit_limit, config.emergency_credit_threshold) == (
        EC_LIMIT,
        EC_THRESHOLD,
    )
    assert config.low_credit_threshold == LOW and config.disablement_threshold == 0
    assert not config.suspend_debt_disabled and not config.suspend_debt_emergency


def test_payment_mode_table_carries_the_debt_suspension_flags(esme: Esme, hub: Protection) -> None:
    Meter(esme, hub).send("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS")
    config = prepayment.settings(esme.state)
    assert config.suspend_debt_disabled and config.suspend_debt_emergency
    assert config.disablement_threshold == 556677


def test_emergency_credit_is_refused_above_its_threshold(meter: Meter) -> None:
    meter.esme.state.balance = EC_THRESHOLD + 1
    alerts, response = meter.send("ECS09_2.5_SUCCESS")
    assert _results(response) == [250] and alerts == []
    assert meter.esme.state.emergency_credit == 0


def test_emergency_credit_from_available_to_exhausted_then_repaid(meter: Meter, pki: Pki) -> None:
    s = meter.esme.state
    s.balance = 110_000
    # 1 kWh a half-hour: 20,000 + 500 a half-hour; the balance passes £1 in the first.
    assert meter.use(DAY, [1000]) == [
        (DAY + timedelta(minutes=30), account.EMERGENCY_CREDIT_AVAILABLE)
    ]
    assert s.balance == 110_000 - 20_500
    alerts, response = meter.send("ECS09_2.5_SUCCESS")
    assert _results(response) == [0] and alerts == [account.EMERGENCY_CREDIT_ACTIVATED]
    assert (s.emergency_credit, s.emergency_granted) == (EC_LIMIT, EC_LIMIT)
    # Taken again while in use: refused.
    assert _results(meter.send("ECS09_2.5_SUCCESS")[1]) == [250]
    # Combined credit 89,500 + 300,000 = 389,500: 19 half-hours of 20,500 leave 0.
    start = DAY + timedelta(minutes=30)
    raised = meter.use(start, [1000] * 20)
    # Combined credit below £2 in the 10th half-hour (205,000 -> 184,500); the emergency
    # credit exhausted and the supply cut in the 19th.
    end19 = start + timedelta(minutes=30 * 19)
    assert raised == [
        (start + timedelta(hours=5), account.LOW_CREDIT_ALERT),
        (end19, account.EMERGENCY_CREDIT_EXHAUSTED),
        (end19, codes.CREDIT_BELOW_DISABLEMENT),
    ]
    assert (s.balance, s.emergency_credit, s.supply) == (0, 0, "disabled")
    # The 20th half-hour: nothing used, its standing charge owed.
    assert s.accumulated_debt == HALF_HOUR_STANDING
    assert int(s.profile_wh[-1]) == 0 and int(s.profile_wh[-2]) == 1000
    # A £10 top-up repays the emergency credit, then the debt; the rest is credit.
    out = meter.esme.receive(_top_up(meter.hub, pki, 1 << 33, 1000), NOW)
    assert out.response is not None
    assert _alert_codes(out.alerts, meter.hub) == [codes.SUPPLY_ARMED]
    assert (s.emergency_credit, s.emergency_granted, s.accumulated_debt) == (0, 0, 0)
    assert s.balance == 1_000_000 - EC_LIMIT - HALF_HOUR_STANDING
    assert s.supply == "armed"


def test_taking_emergency_credit_arms_a_disabled_supply(meter: Meter) -> None:
    s = meter.esme.state
    s.balance, s.supply = 0, "disabled"
    result = meter.esme.activate_emergency_credit(NOW)  # the PPMID's button
    assert result.accepted
    assert _alert_codes(result.alerts, meter.hub) == [
        account.EMERGENCY_CREDIT_ACTIVATED,
        account.DISABLED_THEN_ARMED_BY_EMERGENCY_CREDIT,
    ]
    assert s.supply == "armed" and s.emergency_credit == EC_LIMIT
    assert not meter.esme.activate_emergency_credit(NOW).accepted


def test_low_credit_alert_at_the_configured_threshold(meter: Meter) -> None:
    meter.esme.state.balance = LOW + 20_500 * 2
    raised = meter.use(DAY, [1000] * 3)
    assert raised == [(DAY + timedelta(minutes=90), account.LOW_CREDIT_ALERT)]


_SCALE = (
    "<sr:DebtRecoveryRatePriceScale>{}</sr:DebtRecoveryRatePriceScale>\n"
    "        <sr:DebtRecoveryRatePeriod>{}</sr:DebtRecoveryRatePeriod>\n"
    "      </sr:ElecDebtRecovery2>"
)
#: The 2.3 template with registers and rates of our choosing: time debt 1 £1 at 30p a day,
#: time debt 2 15p at 3p an hour, payment debt £10 at 25 % of each top-up.
DEBT = {
    ">30000</sr:TimeDebtRegister1>": ">100000</sr:TimeDebtRegister1>",
    ">15000</sr:TimeDebtRegister2>": ">15000</sr:TimeDebtRegister2>",
    ">50000</sr:PaymentDebtRegister>": ">1000000</sr:PaymentDebtRegister>",
    ">1000</sr:DebtRecoveryPerPayment>": ">2500</sr:DebtRecoveryPerPayment>",
    "<sr:DebtRecoveryRate>15</sr:DebtRecoveryRate>": "<sr:DebtRecoveryRate>3</sr:DebtRecoveryRate>",
    _SCALE.format(-1, "DAILY"): _SCALE.format(-2, "HOURLY"),
}


def test_time_debt_is_recovered_at_its_rate_as_the_tariff_runs(meter: Meter) -> None:
    s = meter.esme.state
    _, response = meter.send("ECS07_2.3_SUCCESS", DEBT)
    assert set(_results(response)) == {0}
    assert (s.time_debts, s.payment_debt) == ([100_000, 15_000], 1_000_000)
    s.balance = 5_000_000
    raised = meter.use(DAY, [400] * 48)
    # Time debt 1: 30,000 a day (625 a half-hour); time debt 2: 3,000 an hour (1,500 a
    # half-hour), cleared after 10 half-hours.
    assert s.time_debts == [70_000, 0]
    assert s.debt_recovered[:2] == [30_000, 15_000]
    assert raised == [(DAY + timedelta(hours=5), account.DEBT_CLEARED[1])]
    day_tariff = 48 * (400 * PRICE // 1000 + HALF_HOUR_STANDING)
    assert s.billed == day_tariff
    assert s.balance == 5_000_000 - day_tariff - 45_000
    # Exactly 30,000 a day: 10,000 left after day 3, gone 16 half-hours into day 4.
    raised = meter.use(DAY + timedelta(days=1), [400] * (48 * 3))
    assert s.time_debts == [0, 0] and s.debt_recovered[:2] == [100_000, 15_000]
    assert raised == [(DAY + timedelta(days=3, hours=8), account.DEBT_CLEARED[0])]
    assert s.balance == 5_000_000 - s.billed - 115_000


def test_payment_debt_takes_its_share_of_each_top_up(meter: Meter, pki: Pki) -> None:
    s = meter.esme.state
    meter.send("ECS07_2.3_SUCCESS", DEBT)
    s.balance = 0
    top_ups = [(2000, 500_000), (200, 50_000), (4000, 450_000)]  # pence, debt recovered
    balance, owed = 0, 1_000_000
    for n, (pence, share) in enumerate(top_ups, 1):
        out = meter.esme.receive(_top_up(meter.hub, pki, n << 33, pence), NOW)
        assert out.response is not None
        balance, owed = balance + pence * 1000 - share, owed - share
        assert (s.balance, s.payment_debt) == (balance, owed)
        cleared = [account.DEBT_CLEARED[2]] if owed == 0 else []
        assert _alert_codes(out.alerts, meter.hub) == cleared
    assert s.debt_recovered[2] == 1_000_000


def test_prepayment_registers_read_back_through_ecs19(meter: Meter) -> None:
    s = meter.esme.state
    meter.send("ECS07_2.3_SUCCESS", DEBT)
    s.balance, s.accumulated_debt = 123_456, 789
    meter.esme.activate_emergency_credit(NOW)  # refused: above the threshold
    _, payload = meter.send("ECS19_4.3_SUCCESS")
    assert isinstance(payload, AccessResponse) and _results(payload) == [0]
    (sealed,) = payload.data
    values = [123_456, 0, 789, 100_000, 15_000, 1_000_000]
    assert _opened(sealed) == Structure(
        items=(Structure(items=tuple(DoubleLong(value=v) for v in values)),)
    )


def _opened(sealed: object) -> object:
    """The protected-attributes answer, opened with the supplier's key (decoding did that)."""
    assert isinstance(sealed, Structure) and len(sealed.items) == 2
    content = sealed.items[1]
    assert isinstance(content, ProtectedContent) and content.status == "decrypted"
    return content.value
