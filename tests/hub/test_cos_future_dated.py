"""A future-dated 6.23 (DUIS "DSP and device": the meter holds the CS02b) is followed when the
meter carries it out (``hub.smi_updates``): its immediate answer changes nothing; the meter's
0x00CB alert (future-dated CS02b actioned, every cell replaced) brings the ChangeOfSupplier
alert to the losing supplier and, for a GSME, the GPF's update; a cancelled one brings nothing,
even if an execution were reported for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from smetsnet.devices import Role
from smetsnet.devices.core.keys import TrustAnchors
from smetsnet.duis import DCCAlertMessage, DeviceAlertMessage, MessageId, ResponseMessage, from_xml
from smetsnet.duis.models import Request
from smetsnet.gbcs.codec import decode_message
from smetsnet.hub.audit import Outcome
from smetsnet.hub.smi_updates import CHANGE_OF_SUPPLIER_ALERT, CS02B_OUTCOME_ALERT
from smetsnet.inventory import UserRole
from tests.hub.lifecycle_support import TEMPLATES, Network, network, sign_as_user
from tests.hub.test_cos_alert import ESME, GAINING, LOSING, MPAN, _by_user
from tests.sim.test_cos_gpf import CHF, GSME, REPLACING, SUPPLIER_CELLS, WAKE, _boxed_gas

FUTURE = "CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML"
CANCEL = "CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_REQUEST_DUIS.XML"
TEMPLATE_TIME = b"2030-01-02T00:00:00.00Z"  # the FUTURE template's ExecutionDateTime


def _hand_over(net: Network, at: datetime) -> None:
    """The registration data move the ESME's MPAN to GAINING from ``at``, after LOSING's 6.23
    was accepted. (The boxed key store signs only for LOSING, and a 6.23 is checked against the
    registration at its execution time, so it is sent first; the template's certificates are
    GAINING's.)"""
    net.hub.inventory.change_holder(MPAN, UserRole.IS, GAINING, at)


def _post(net: Network, name: str, target: bytes, counter: int, at: datetime | None) -> None:
    """A 6.23 template from LOSING to ``target``, executed at ``at`` (None: the template's own
    time)."""
    xml = (TEMPLATES / name).read_bytes()
    if at is not None:
        xml = xml.replace(TEMPLATE_TIME, at.strftime("%Y-%m-%dT%H:%M:%S.00Z").encode())
    request = from_xml(xml)
    assert isinstance(request, Request)
    rid = MessageId(originator=LOSING, target=target, counter=counter)
    request = replace(request, header=replace(request.header, request_id=rid))
    _, ack = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"


def _run_premises(net: Network, until: datetime) -> None:
    """The boxed premises run to ``until`` (meter wakes, held commands), their alerts go up,
    and the hub takes what arrives."""
    net.now = until
    for wire in net.setup.premises[CHF].advance(until):
        net.wan.emit(CHF, wire, until)
    net.tick(1)
    net.tick(1)  # anything the hub sent on (the GPF's update) is answered


def _cos_alerts(out: dict[bytes, list[object]]) -> list[tuple[bytes, DCCAlertMessage]]:
    return [
        (user, body)
        for user, bodies in out.items()
        for body in bodies
        if isinstance(body, DCCAlertMessage) and body.code == CHANGE_OF_SUPPLIER_ALERT
    ]


def _supplier_euis(anchors: TrustAnchors) -> set[bytes]:
    return {anchors[(Role.SUPPLIER, u, pp)].eui for u, pp in SUPPLIER_CELLS}


def test_esme_losing_supplier_told_once_when_the_held_6_23_executes() -> None:
    net = network()
    at = net.now + timedelta(hours=2)
    _post(net, FUTURE, ESME, 8_300_000, at)
    _hand_over(net, at)
    net.tick(5)
    out = _by_user(net)
    assert list(out) == [LOSING]
    assert [type(b).__name__ for b in out[LOSING]] == ["ResponseMessage"]  # no alert yet
    assert net.hub.smi.held == 1
    (held,) = [e for e in net.hub.audit.entries() if e.reason == "6.23 held by the device"]
    assert "00-DB-12-34-56-78-90-A0" in held.detail

    _run_premises(net, at - timedelta(minutes=1))
    assert _cos_alerts(_by_user(net)) == []  # not before it executes

    esme = net.setup.premises[CHF].esme
    net.now = at + timedelta(minutes=1)
    alerts = net.setup.premises[CHF].advance(net.now)
    cs02b = [w for w in alerts if decode_message(w).header.message_code == CS02B_OUTCOME_ALERT]
    assert len(cs02b) == 1 and esme.anchors[(Role.SUPPLIER, *SUPPLIER_CELLS[0])].eui == GAINING
    for wire in [*alerts, cs02b[0]]:  # the 0x00CB arrives twice (a WAN duplicate)
        net.wan.emit(CHF, wire, net.now)
    net.tick(1)
    out = _by_user(net)
    ((user, alert),) = _cos_alerts(out)  # exactly one, to the losing supplier
    assert user == LOSING
    change = alert.alert.child("ChangeOfSupplier")
    device = change.child("DeviceChangeOfSupplier") if change is not None else None
    assert device is not None and device.children[0].text == "00-DB-12-34-56-78-90-A0"
    # the meter's own alert goes to the supplier registered now, the gaining one
    assert any(
        isinstance(b, DeviceAlertMessage) and b.alert_code == 0x8F66 for b in out.get(GAINING, [])
    )
    assert net.hub.smi.held == 0
    entries = [e for e in net.hub.audit.entries() if e.reason == "DCC alert"]
    assert [e.outcome for e in entries] == [Outcome.PASS]


def test_gsme_gpf_cells_change_after_the_held_6_23_executes_not_before() -> None:
    net = network()
    gas = _boxed_gas(net)
    at = net.now + timedelta(hours=3)
    before = _supplier_euis(gas.gpf.anchors)
    assert before == {LOSING}
    # the registration stays (the boxed second supplier has no GS role): the GPF follows anyway
    _post(net, FUTURE, GSME, 9_300_000, at)
    net.tick(1)
    _run_premises(net, net.now + WAKE)  # the GSME takes it at its wake and holds it
    answers = [b for b in _by_user(net).get(LOSING, []) if isinstance(b, ResponseMessage)]
    assert len(answers) == 1 and net.hub.smi.held == 1
    _run_premises(net, at - timedelta(minutes=1))
    assert _supplier_euis(gas.gpf.anchors) == _supplier_euis(gas.gsme.anchors) == before
    assert net.hub.metrics()["gpf_cos_updates_sent"] == 0

    _run_premises(net, at + WAKE)  # the first wake at or after ``at`` runs it and reports
    assert _supplier_euis(gas.gsme.anchors) == {REPLACING}
    assert _supplier_euis(gas.gpf.anchors) == {REPLACING}
    metrics = net.hub.metrics()
    assert (metrics["gpf_cos_updates_sent"], metrics["gpf_cos_updates_ok"]) == (1, 1)
    (updated,) = [e for e in net.hub.audit.entries() if e.reason == "GPF updated"]
    assert "00-DB-12-34-56-78-90-A3" in updated.detail
    assert _cos_alerts(_by_user(net)) == []  # nobody lost the meter


def test_a_cancelled_6_23_gives_nothing() -> None:
    net = network()
    at = net.now + timedelta(hours=2)
    _post(net, FUTURE, ESME, 8_400_000, at)  # its own meter: the registration stays
    net.tick(5)
    esme = net.setup.premises[CHF].esme
    (kept,) = esme.held
    assert net.hub.smi.held == 1
    _post(net, CANCEL, ESME, 8_400_001, None)
    net.tick(5)
    assert esme.held == [] and net.hub.smi.held == 0
    (cancelled,) = [e for e in net.hub.audit.entries() if e.reason == "6.23 cancelled"]
    assert "1 future-dated 6.23 dropped" in cancelled.detail
    _run_premises(net, at + timedelta(minutes=1))
    assert esme.anchors[(Role.SUPPLIER, *SUPPLIER_CELLS[0])].eui == LOSING  # not executed
    # even a report of its execution (as if the cancellation had come too late) brings nothing
    late = esme.run_held(decode_message(kept.wire), kept, net.now)
    for alert in late:
        net.wan.emit(CHF, esme.alert(alert, net.now), net.now)
    net.tick(1)
    out = _by_user(net)
    assert any(isinstance(b, DeviceAlertMessage) for bodies in out.values() for b in bodies)
    assert _cos_alerts(out) == []


def test_a_forged_execution_report_is_ignored_and_the_genuine_one_followed() -> None:
    net = network()
    at = net.now + timedelta(hours=2)
    _post(net, FUTURE, ESME, 8_500_000, at)
    _hand_over(net, at)
    net.tick(5)
    net.now = at + timedelta(minutes=1)
    alerts = net.setup.premises[CHF].advance(net.now)
    (genuine,) = [w for w in alerts if decode_message(w).header.message_code == 0x00CB]
    forged = genuine[:-1] + bytes([genuine[-1] ^ 0x01])  # its signature's last byte changed
    net.wan.emit(CHF, forged, net.now)
    net.tick(1)
    assert _cos_alerts(_by_user(net)) == [] and net.hub.smi.held == 1
    (ignored,) = [e for e in net.hub.audit.entries() if "not validly signed" in e.detail]
    assert ignored.outcome is Outcome.SKIP
    net.wan.emit(CHF, genuine, net.now)
    net.tick(1)
    ((user, _),) = _cos_alerts(_by_user(net))
    assert user == LOSING and net.hub.smi.held == 0


def test_registration_is_checked_at_the_6_23_execution_time() -> None:
    """6.23's body is generic (an XML tree): its ExecutionDateTime still decides whose
    registration counts, so a supplier whose role ends before then is refused (E4)."""
    net = network()
    ends = net.now + timedelta(hours=1)
    net.hub.inventory.change_holder(MPAN, UserRole.IS, GAINING, ends)
    xml = (TEMPLATES / FUTURE).read_bytes()
    late = (ends + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.00Z").encode()
    request = from_xml(xml.replace(TEMPLATE_TIME, late))
    assert isinstance(request, Request)
    rid = MessageId(originator=LOSING, target=ESME, counter=8_600_000)
    request = replace(request, header=replace(request.header, request_id=rid))
    _, answer = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(answer, bytes) and answer.header.response_code == "E4"
    _post(net, FUTURE, ESME, 8_600_001, ends - timedelta(minutes=30))  # still its meter then
