"""The DCC alert ChangeOfSupplier (issue 6): when the gaining supplier's 6.23 succeeds on the
meter, the losing supplier (the one whose certificates the meter replaced and whom the
registration data no longer names) is told; nobody is told when no supplier lost the meter."""

from __future__ import annotations

from dataclasses import replace

from smetsnet.duis import DCCAlertMessage, MessageId, ResponseMessage
from smetsnet.hub.audit import Outcome
from smetsnet.hub.smi_updates import CHANGE_OF_SUPPLIER_ALERT
from smetsnet.inventory import UserRole
from tests.hub.lifecycle_support import Network, network, sign_as_user, template, verified

LOSING, GAINING = bytes.fromhex("90B3D51F30010000"), bytes.fromhex("90B3D51F30030000")
ESME = bytes.fromhex("00DB1234567890A0")
MPAN = "1200012345679"  # the boxed ESME's import MPAN
COS = "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"


def _cos(net: Network, counter: int) -> None:
    """The 6.23 template: it carries the second test supplier's certificates. The boxed key
    store has no XML-signing key of that supplier, so the registered one sends it, and the
    registration moves to the second supplier before the meter answers (the change takes
    effect while the 6.23 is on its way)."""
    request = template(COS)
    rid = MessageId(originator=LOSING, target=ESME, counter=counter)
    request = replace(request, header=replace(request.header, request_id=rid))
    _, ack = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"


def _by_user(net: Network) -> dict[bytes, list[object]]:
    """What waits in the outbox, by the user it goes to (the URL names the user)."""
    out: dict[bytes, list[object]] = {}
    for o in net.hub.outbox.due(net.now, 1_000):
        user = bytes.fromhex(o.url.rsplit("/", 1)[1])
        out.setdefault(user, []).append(verified(net.setup, o.body).body)
    return out


def test_the_losing_supplier_gets_change_of_supplier_when_the_6_23_succeeds() -> None:
    net = network()
    _cos(net, 8_000_000)
    net.hub.inventory.change_holder(MPAN, UserRole.IS, GAINING, net.now)
    assert _by_user(net) == {}  # nothing until the meter answered
    net.tick(5)
    out = _by_user(net)
    assert list(out) == [LOSING]  # it sent the 6.23 (answer) and lost the meter (alert)
    answer, alert = sorted(out[LOSING], key=lambda b: type(b).__name__, reverse=True)
    assert isinstance(answer, ResponseMessage)
    assert isinstance(alert, DCCAlertMessage) and alert.code == CHANGE_OF_SUPPLIER_ALERT
    change = alert.alert.child("ChangeOfSupplier")
    assert change is not None
    device = change.child("DeviceChangeOfSupplier")
    assert device is not None
    assert [(c.name, c.text) for c in device.children[:2]] == [
        ("DeviceID", "00-DB-12-34-56-78-90-A0"),
        ("DeviceType", "ESME"),
    ]
    mpxns = device.child("MPxNs")
    assert mpxns is not None and [(c.name, c.text) for c in mpxns.children] == [
        ("ImportMPxN", MPAN)
    ]
    entries = [e for e in net.hub.audit.entries() if e.reason == "DCC alert"]
    assert [e.outcome for e in entries] == [Outcome.PASS]
    assert "losing supplier 90-B3-D5-1F-30-01-00-00" in entries[0].detail


def test_no_alert_while_the_replaced_supplier_still_holds_the_meter() -> None:
    net = network()
    _cos(net, 8_100_000)  # no registration change: the replaced supplier still holds the MPAN
    net.tick(5)
    out = _by_user(net)
    assert list(out) == [LOSING]
    assert [type(b).__name__ for b in out[LOSING]] == ["ResponseMessage"]


def test_no_alert_when_the_meter_does_not_answer() -> None:
    net = network()
    net.wan.set_down(next(iter(net.setup.premises)))
    _cos(net, 8_200_000)
    net.hub.inventory.change_holder(MPAN, UserRole.IS, GAINING, net.now)
    for _ in range(8):
        net.tick(30)
    out = _by_user(net)
    alerts = [b for b in out[LOSING] if isinstance(b, DCCAlertMessage)]
    assert [a.code for a in alerts] == ["N999"]  # E21's CommandFailure, no ChangeOfSupplier
    assert len(net.hub.smi) == 0
