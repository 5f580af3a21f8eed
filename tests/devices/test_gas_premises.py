"""A gas premises in use: top-up and tariff change seen in later reads, commands queued until the
GSME wakes, battery drained by the model, and the security checks (nothing executes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from smetsnet.devices.battery import BatteryModel
from smetsnet.devices.consumption import Fuel, half_hourly_wh
from smetsnet.devices.gas import GasPremises, Gpf, Gsme
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import (
    Columns,
    GbzAlert,
    GbzComponent,
    GbzMessage,
    ReadAttributes,
    ZclCommand,
    cluster_command,
    consumer_top_up,
)
from smetsnet.gbcs.gbz.spec import METERING, PREPAYMENT, PRICE, S2C, lookup
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.smki.pki import Pki
from tests.devices.conftest import PARTIES, SUPPLIER
from tests.devices.test_gas_reference_commands import (
    GPF_EUI,
    GSME_EUI,
    HISTORY_START,
)

START = HISTORY_START
HALF = timedelta(minutes=30)
GCS13A, GCS14, GCS01B, CS01B = 0x0074, 0x0075, 0x00A3, 0x0097


class Hub:
    """The remote parties: build commands with increasing counters, read the answers."""

    def __init__(self, protection: Protection) -> None:
        self.protection = protection
        self.counter = 1 << 40

    def command(self, to: bytes, code: int, *components: tuple[int, ZclCommand]) -> bytes:
        self.counter += 1 << 32  # top-ups need the low 32 bits zero; others just increase
        payload = GbzMessage.of(
            components=[GbzComponent.of(cluster_id=c, command=z) for c, z in components]
        )
        return build_message(
            payload=payload, originator=SUPPLIER, recipient=to, counter=self.counter,
            message_code=code, protection=self.protection,
        ).frame.to_bytes()  # fmt: skip

    def open(self, wire: bytes) -> GbcsMessage:
        message = decode_message(wire, protection=self.protection)
        assert self.protection.verify(message.frame).ok
        return message


def _premises(pki: Pki, battery: BatteryModel | None = None) -> GasPremises:
    return GasPremises(
        gsme=Gsme.from_keystore(GSME_EUI, pki, PARTIES),
        gpf=Gpf.from_keystore(GPF_EUI, pki, PARTIES),
        start=START,
        seed=11,
        battery=battery,
    )


def _read(hub: Hub, premises: GasPremises, cluster: int, attribute: int, now: Any) -> int:
    code = GCS14 if cluster == PREPAYMENT else GCS13A
    wire = hub.command(GPF_EUI, code, (cluster, ReadAttributes(attribute_ids=(attribute,))))
    [response] = premises.deliver(wire, now)
    message = hub.open(response)
    assert isinstance(message.payload, GbzMessage)
    [component] = message.payload.components
    assert component.command is not None
    value = component.command[attribute].value  # type: ignore[index]
    assert isinstance(value, int)
    return value


def _top_up(hub: Hub, premises: GasPremises, pence: int) -> bytes:
    hub.counter += 1 << 32
    z = hub.protection.shared_secret(SUPPLIER, GSME_EUI, prepayment=True)
    assert z is not None
    utrn = make_utrn(z, supplier=SUPPLIER, device=GSME_EUI, counter=hub.counter + (1 << 32),
                     pence=pence)  # fmt: skip
    return hub.command(GSME_EUI, CS01B, (PREPAYMENT, consumer_top_up(utrn)))


def test_top_up_then_read_shows_the_new_credit(gas_pki: Pki, gas_hub: Protection) -> None:
    hub, premises = Hub(gas_hub), _premises(gas_pki)
    wire = _top_up(hub, premises, 1500)
    assert premises.deliver(wire, START + timedelta(minutes=5)) == []  # queued on the GPF
    [response] = premises.advance(START + HALF)
    topped = hub.open(response).payload
    assert isinstance(topped, GbzMessage)
    assert topped.components[0].command["result_type"] == 0  # type: ignore[index]
    assert _read(hub, premises, PREPAYMENT, 0x0001, START + HALF) == 1500 * 1000
    # The same UTRN again: rejected as a duplicate, credit unchanged, 0x8F51 raised.
    premises.deliver(wire, START + HALF)
    out = premises.advance(START + 2 * HALF)
    assert {_alert_code(hub, m) for m in out if _cra(m) == Cra.ALERT} == {0x8F51}
    assert _read(hub, premises, PREPAYMENT, 0x0001, START + 2 * HALF) == 1500 * 1000


def test_reads_bill_at_the_new_price(gas_pki: Pki, gas_hub: Protection) -> None:
    hub, premises = Hub(gas_hub), _premises(gas_pki)
    group = lookup(PRICE, S2C, 0x05)
    assert group is not None
    prices = Columns.of(group.group("prices"), tier_block_id=[1], price=[3000])
    matrix = cluster_command(
        PRICE, 0x05, server_to_client=S2C, provider_id=0, issuer_event_id=0, start_time=0,
        issuer_tariff_id=1, command_index=0, total_commands=1, sub_payload_control=0,
        prices=prices,
    )  # fmt: skip
    premises.deliver(hub.command(GSME_EUI, GCS01B, (PRICE, matrix)), START)
    [ack] = premises.advance(START + HALF)  # tariff set at the first wake
    assert hub.open(ack).header.cra == Cra.RESPONSE
    assert _read(hub, premises, PRICE, 0x0400, START + HALF) == 3000
    billed = _read(hub, premises, METERING, 0x0A00, START + HALF)
    premises.advance(START + 9 * HALF)  # eight more half-hours at the new price
    wh = half_hourly_wh(11, START.date(), Fuel.GAS)[1:9].astype(int)
    expected = billed + int(sum(w * 3000 // 1000 for w in wh))
    assert _read(hub, premises, METERING, 0x0A00, START + 9 * HALF) == expected


def test_queued_command_is_answered_at_the_wake(gas_pki: Pki, gas_hub: Protection) -> None:
    hub, premises = Hub(gas_hub), _premises(gas_pki)
    wire = hub.command(GSME_EUI, GCS13A, (METERING, ReadAttributes(attribute_ids=(0x0000,))))
    assert premises.deliver(wire, START + timedelta(minutes=1)) == []
    assert premises.advance(START + timedelta(minutes=29)) == []
    [response] = premises.advance(START + HALF)
    message = hub.open(response)
    assert message.header.originator == GSME_EUI
    assert isinstance(message.payload, GbzMessage)
    component = message.payload.components[0]
    assert component.encryption is not None and component.encryption.status == "decrypted"


def test_battery_drains_per_wake_and_message(gas_pki: Pki, gas_hub: Protection) -> None:
    model = BatteryModel()
    hub, premises = Hub(gas_hub), _premises(gas_pki, model)
    full = model.capacity_nah
    premises.advance(START + HALF)  # one idle wake
    per_wake = model.sleep_nah_per_wake + model.wake_nah
    assert int(premises.gsme.state.battery_nah[0]) == full - per_wake
    wire = hub.command(GSME_EUI, GCS13A, (METERING, ReadAttributes(attribute_ids=(0x0000,))))
    premises.deliver(wire, START + HALF)
    premises.advance(START + 2 * HALF)  # a wake with one command in and one response out
    left = full - 2 * per_wake - 2 * model.message_nah
    assert int(premises.gsme.state.battery_nah[0]) == left


def test_low_battery_alert_once(gas_pki: Pki, gas_hub: Protection) -> None:
    model = BatteryModel(capacity_nah=200_000, low_fraction=0.5)
    hub, premises = Hub(gas_hub), _premises(gas_pki, model)
    out = premises.advance(START + 12 * HALF)
    assert [_alert_code(hub, m) for m in out] == [0x8F1F]


@pytest.mark.parametrize("damage", ["mac", "replay"])
def test_rejected_commands_execute_nothing(
    gas_pki: Pki,
    gas_hub: Protection,
    damage: str,
) -> None:
    hub, premises = Hub(gas_hub), _premises(gas_pki)
    wire = _top_up(hub, premises, 700)
    if damage == "mac":
        wire = wire[:-1] + bytes([wire[-1] ^ 1])
    else:
        premises.deliver(wire, START)
        premises.advance(START + HALF)
        hub.counter -= 1 << 33  # an older counter: a replay of a command not yet seen
        wire = hub.command(GSME_EUI, 0x00B4, (PREPAYMENT, _adjustment(500)))
        premises.gsme.last_counters[SUPPLIER] = hub.counter + 1
    credit = premises.gsme.state.balance
    premises.deliver(wire, START + HALF)
    out = premises.advance(START + 2 * HALF)
    assert [_cra(m) for m in out] == [Cra.ALERT]
    assert _alert_code(hub, out[0]) == (0x8F1E if damage == "mac" else 0x8F30)
    assert premises.gsme.state.balance == credit


def _adjustment(value: int) -> ZclCommand:
    return cluster_command(
        PREPAYMENT, 0x05, server_to_client=False, issuer_event_id=0, start_time=0,
        credit_adjustment_type=0, credit_adjustment_value=value,
    )  # fmt: skip


def _cra(wire: bytes) -> int:
    return int(decode_message(wire).header.cra)


def _alert_code(hub: Hub, wire: bytes) -> int:
    alert = hub.open(wire).payload
    assert isinstance(alert, GbzAlert)
    return alert.alert_code
