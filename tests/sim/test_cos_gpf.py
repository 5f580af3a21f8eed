"""After a gas change of supplier the gas proxy function (GPF) trusts the gaining supplier too
(issue 6, ``hub.cos_gpf``): when the GSME carried out the gaining supplier's 6.23, the hub sends
the GSME's GPF the same certificates (CS02b supplierByTransCoS). Then the GPF refuses what the
losing supplier might still get to it, and serves the gaining supplier's GPF-served reads. The
GPF's answer is the DCC's own: counted and audited, never a second answer to the 6.23; a GPF
that cannot be updated is audited and the 6.23's sender gets a DCC alert CommandFailure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from smetsnet.devices import Role
from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.keys import TrustAnchors, point_of
from smetsnet.devices.gas import GasPremises
from smetsnet.duis import DCCAlertMessage, MessageId, ResponseMessage
from smetsnet.duis.bodies import ReadInstantaneousImportRegisters
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, decode_and_verify, decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import GbzAlert
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.hub.audit import Outcome
from smetsnet.hub.cos_gpf import GPF_UPDATE_FAILED_ALERT, SUPPLIER_BY_TRANS_COS
from smetsnet.hub.service import HubConfig
from smetsnet.hub.translate import Context, translate
from smetsnet.inventory import DeviceType
from smetsnet.sim.engine import Simulation
from smetsnet.sim.ops_cos import gas_supplier_of, plan_gas_changes_of_supplier
from smetsnet.sim.users import Received, SimUser
from smetsnet.sim.world import GAS_SUPPLIER, Home
from tests.hub.lifecycle_support import Network, network, sign_as_user, template, verified
from tests.sim.test_ops_cos_gas import _simulation

DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT
#: the supplier cells a 6.23 replaces: (usage, prepayment top-up cell)
SUPPLIER_CELLS = ((DS, False), (KA, False), (KA, True))
GCS13A = 0x0074  # 4.1.1 Read Instantaneous Import Registers on a GSME / GPF


@dataclass
class GasCos:
    sim: Simulation
    home: Home
    losing: bytes
    gaining: bytes
    #: (user, message) of everything users received during the run
    received: list[tuple[bytes, Received]]


@pytest.fixture(scope="module")
def cos() -> GasCos:
    """A gas change of supplier in a two-day run; six hours before its end, the gaining
    supplier reads the GSME's registers from the GPF (4.1.1 to the GPF), through the hub."""
    sim = _simulation()
    received: list[tuple[bytes, Received]] = []
    sim.listen(lambda user, message: received.append((user.eui, message)))
    plan_gas_changes_of_supplier(sim)
    sim.run(until=sim.end - timedelta(hours=6))
    (home,) = [h for h in sim.world.homes if h.gsme in sim.supplier]
    gaining = gas_supplier_of(sim, home)
    user, now = sim.users[gaining], sim.now
    read = ReadInstantaneousImportRegisters()
    request = user.request("4.1.1", read, target=_gpf(home), now=now)
    assert user.send(sim.handle, request, now).code == "I99"
    sim.run()
    return GasCos(sim=sim, home=home, losing=GAS_SUPPLIER, gaining=gaining, received=received)


def _gpf(home: Home) -> bytes:
    return home.devices[DeviceType.GPF]


def _gas(run: GasCos) -> GasPremises:
    gas = run.sim.network.premises[run.home.chf].gas
    assert gas is not None
    return gas


def test_the_gpf_supplier_cells_hold_the_gaining_supplier(cos: GasCos) -> None:
    gpf = _gas(cos).gpf
    for usage, prepayment in SUPPLIER_CELLS:
        anchor = gpf.anchors[(Role.SUPPLIER, usage, prepayment)]
        key = cos.sim.world.pki.public_key(cos.gaining, usage, prepayment=prepayment)
        assert key is not None
        assert (anchor.eui, anchor.point) == (cos.gaining, point_of(key))
    assert cos.losing not in {a.eui for a in gpf.anchors.values()}
    # the GPF holds what its GSME holds
    assert _supplier_cells(gpf.anchors) == _supplier_cells(_gas(cos).gsme.anchors)


def _supplier_cells(anchors: TrustAnchors) -> dict[tuple[KeyUsage, bool], tuple[bytes, bytes]]:
    return {
        (usage, prepayment): (anchors[cell].eui, anchors[cell].point)
        for usage, prepayment in SUPPLIER_CELLS
        if (cell := (Role.SUPPLIER, usage, prepayment)) in set(anchors)
    }


def test_the_gpf_update_is_counted_and_no_user_gets_its_answer(cos: GasCos) -> None:
    metrics = cos.sim.hub.metrics()
    assert metrics["gpf_cos_updates_sent"] == 1
    assert metrics["gpf_cos_updates_ok"] == 1
    assert metrics["gpf_cos_updates_failed"] == 0
    assert metrics["gpf_cos_updates_in_flight"] == 0
    cs02b = [
        (user, m.gbcs.header.originator)
        for user, m in cos.received
        if m.gbcs is not None and m.gbcs.header.message_code == SUPPLIER_BY_TRANS_COS
    ]
    # one answer to the 6.23: the GSME's, to its sender; the GPF's stays with the DCC
    assert cs02b == [(cos.gaining, cos.home.gsme)]


def test_the_gaining_supplier_reads_from_the_gpf_through_the_hub(cos: GasCos) -> None:
    reads = [
        m
        for user, m in cos.received
        if user == cos.gaining and m.gbcs is not None and m.gbcs.header.message_code == GCS13A
    ]
    gpf = _gpf(cos.home)
    (read,) = [m for m in reads if m.gbcs is not None and m.gbcs.header.originator == gpf]
    assert read.response.header.response_code == "I0"
    assert cos.sim.users[cos.gaining].alerts["N999"] == 0  # no CommandFailure, no E21


def _read_for_gpf(user: SimUser, gpf: bytes, now: datetime) -> bytes:
    """4.1.1 to the GPF as the user's client and the ACB make it (MAC'd with the ACB's key,
    which the user's key chain holds), without the hub: the command GBCS says (GCS13a)."""
    request = user.request("4.1.1", ReadInstantaneousImportRegisters(), target=gpf, now=now)
    counter = request.header.request_id.counter
    ctx = Context(
        srv="4.1.1", target=gpf, device_type=DeviceType.GPF, originator=user.eui,
        counter=counter, now=now,
    )  # fmt: skip
    command = translate(request, ctx)
    return build_message(
        payload=command.payload,
        originator=user.eui,
        recipient=gpf,
        counter=counter,
        message_code=command.message_code,
        protection=user.protection,
    ).frame.to_bytes()


def test_the_gpf_refuses_the_losing_supplier_and_serves_the_gaining_one(cos: GasCos) -> None:
    sim, now, gpf = cos.sim, cos.sim.end, _gpf(cos.home)
    premises = sim.network.premises[cos.home.chf]
    out = premises.deliver(_read_for_gpf(sim.users[cos.losing], gpf, now), now)
    messages = [decode_message(w) for w in out]
    assert [m for m in messages if m.header.cra == Cra.RESPONSE] == []
    (alert,) = [m for m in messages if m.header.cra == Cra.ALERT]
    assert alert.header.originator == gpf and alert.header.recipient == cos.gaining
    assert isinstance(alert.payload, GbzAlert)
    assert alert.payload.alert_code == codes.SOURCE_LACKS_AUTHORITY
    # the same read from the gaining supplier is answered: the refusal was the sender
    later = now + timedelta(minutes=1)
    out = premises.deliver(_read_for_gpf(sim.users[cos.gaining], gpf, later), later)
    (response,) = [m for m in map(decode_message, out) if m.header.cra == Cra.RESPONSE]
    assert (response.header.originator, response.header.recipient) == (gpf, cos.gaining)
    _, verdict = decode_and_verify(response.frame.to_bytes(), sim.users[cos.gaining].protection)
    assert verdict.mac == "valid"


# --- the hub on DCC Boxed's network: the GPF's answer and its failures ------------------------

SUPPLIER = bytes.fromhex("90B3D51F30010000")  # holds GS for the boxed MPRN; sends the 6.23
REPLACING = bytes.fromhex("90B3D51F30030000")  # the template's certificates are this supplier's
GSME, CHF, GPF = (bytes.fromhex(f"00DB1234567890{x}") for x in ("A1", "A2", "A3"))
COS = "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
WAKE = timedelta(minutes=31)  # the GSME takes what its GPF queued at its next wake


def _gas_cos(net: Network, counter: int) -> MessageId:
    """The 6.23 template sent for the boxed GSME: queued at the GPF, taken at the meter's next
    wake, and its answer sent up (the boxed network has no clock of its own for the premises)."""
    request = template(COS)
    rid = MessageId(originator=SUPPLIER, target=GSME, counter=counter)
    request = replace(request, header=replace(request.header, request_id=rid))
    _, ack = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"
    net.tick(1)
    premises = net.setup.premises[CHF]
    net.now += WAKE
    for wire in premises.advance(net.now):
        net.wan.emit(CHF, wire, net.now)
    net.tick(1)  # the GSME's answer reaches the hub: the GPF's command goes out
    return rid


def _boxed_gas(net: Network) -> GasPremises:
    gas = net.setup.premises[CHF].gas
    assert gas is not None
    return gas


def _gbcs(response: object) -> GbcsMessage | None:
    if isinstance(response, ResponseMessage) and isinstance(response.content, bytes):
        return decode_message(response.content)
    return None


@pytest.fixture
def boxed() -> Network:
    return network(config=HubConfig(response_timeout_s=5, max_attempts=2))


def test_hub_updates_the_gpf_audits_it_and_answers_the_6_23_once(boxed: Network) -> None:
    rid = _gas_cos(boxed, 9_000_000)
    boxed.tick(5)
    gas = _boxed_gas(boxed)
    assert {gas.gpf.anchors[(Role.SUPPLIER, u, pp)].eui for u, pp in SUPPLIER_CELLS} == {REPLACING}
    assert _supplier_cells(gas.gpf.anchors) == _supplier_cells(gas.gsme.anchors)
    entries = [e for e in boxed.hub.audit.entries() if e.request_id == str(rid)]
    (updated,) = [e for e in entries if e.reason == "GPF updated"]
    assert updated.outcome is Outcome.PASS and "00-DB-12-34-56-78-90-A3" in updated.detail
    gpf = "device 00-DB-12-34-56-78-90-A3 code 0x0107"  # the command and its answer
    sent = [e for e in entries if e.check.value == "sent to device" and gpf in e.detail]
    got = [e for e in entries if e.check.value == "received from device" and gpf in e.detail]
    assert len(sent) == len(got) == 1 and got[0].outcome is Outcome.PASS
    answers = [verified(boxed.setup, o.body).body for o in boxed.hub.outbox.due(boxed.now, 100)]
    (answer,) = answers  # the GSME's answer; no alert (the registration did not move)
    gbcs = _gbcs(answer)
    assert gbcs is not None and gbcs.header.originator == GSME
    assert boxed.hub.metrics()["gpf_cos_updates_ok"] == 1
    assert boxed.hub.counts.unmatched == 0


def test_a_gpf_that_does_not_answer_is_audited_and_the_sender_told(boxed: Network) -> None:
    _boxed_gas(boxed).gpf.operational = False  # it refuses every command (0x8F30), unanswered
    rid = _gas_cos(boxed, 9_100_000)
    for _ in range(4):
        boxed.tick(5)
    metrics = boxed.hub.metrics()
    assert (metrics["gpf_cos_updates_sent"], metrics["gpf_cos_updates_failed"]) == (2, 1)
    assert metrics["gpf_cos_updates_in_flight"] == 0
    entries = [e for e in boxed.hub.audit.entries() if e.request_id == str(rid)]
    (failed,) = [e for e in entries if e.reason == "GPF not updated"]
    assert failed.outcome is Outcome.FAIL and "no answer after 2 sends" in failed.detail
    alerts = [
        message
        for o in boxed.hub.outbox.due(boxed.now, 100)
        if isinstance(message := verified(boxed.setup, o.body).body, DCCAlertMessage)
    ]
    (alert,) = [a for a in alerts if a.code == GPF_UPDATE_FAILED_ALERT]
    failure = alert.alert.child("CommandFailure")
    assert failure is not None
    assert [(c.name, c.text) for c in failure.children] == [
        ("CommandRequestID", str(rid)),
        ("DeviceID", "00-DB-12-34-56-78-90-A3"),
    ]


def test_a_gpf_that_answers_a_failure_is_not_retried(boxed: Network) -> None:
    gas = _boxed_gas(boxed)
    # a GPF without the supplier's top-up cell cannot replace it (status: no trust anchor)
    cells = {c: gas.gpf.anchors[c] for c in gas.gpf.anchors if c != (Role.SUPPLIER, KA, True)}
    gas.gpf.anchors = TrustAnchors(cells)
    _gas_cos(boxed, 9_200_000)
    for _ in range(4):
        boxed.tick(5)
    metrics = boxed.hub.metrics()
    assert (metrics["gpf_cos_updates_sent"], metrics["gpf_cos_updates_failed"]) == (1, 1)
    (failed,) = [e for e in boxed.hub.audit.entries() if e.reason == "GPF not updated"]
    assert "not every cell replaced" in failed.detail
