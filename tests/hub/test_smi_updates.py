"""The hub updates the SMI itself from devices' successful answers (issue 6): 8.1.1 commissions
the meter and its comms hub function, 8.11 changes the device log (and links the MPxN), 8.7
commissions the consumer device; a failed or missing answer changes nothing."""

from __future__ import annotations

from dataclasses import replace

from smetsnet.duis import GenericBody, Node, Request, RequestHeader, ResponseMessage
from smetsnet.duis.bodies import SignedPreCommand
from smetsnet.duis.responses import PreCommand
from smetsnet.gbcs.builders import sign_precommand
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.audit import Check, Outcome
from smetsnet.hub.service import HubConfig
from smetsnet.hub.smi_updates import all_results_ok, clock_set, joined
from smetsnet.inventory import DeviceStatus, DeviceType, MeterKind
from smetsnet.inventory.mpxn import make_mpan
from tests.hub.lifecycle_support import Network, network, sign_as_user, template
from tests.support.vectors import REFERENCE, require_reference

S = DeviceStatus
SUPPLIER = bytes.fromhex("90B3D51F30010000")
ESME, GSME = bytes.fromhex("00DB1234567890A0"), bytes.fromhex("00DB1234567890A1")
CHF, GPF = bytes.fromhex("00DB1234567890A2"), bytes.fromhex("00DB1234567890A3")
PPMID = bytes.fromhex("00DB1234567890A4")
NEW_ESME = bytes.fromhex("00DB1234567890B0")
COMMISSION = "ECS70Commission_8.1.1_SUCCESS_REQUEST_DUIS.XML"
RTDS = REFERENCE / "gbcs" / "rtds-4.5.0"


def _back_to(net: Network, status: DeviceStatus, *euis: bytes) -> None:
    """Arrange: put Commissioned devices of the boxed premises back to ``status``."""
    with net.hub.inventory.store.transaction() as tx:
        for eui in euis:
            assert tx.set_status(eui, S.Commissioned, status, None, net.now)
    net.hub.inventory._changed_device(*euis)


def _critical(net: Network, request: Request, counter: int) -> None:
    """Transform (CV 4), sign the pre-command as the user, send it (CV 5)."""
    _, answer = net.post(
        sign_as_user(replace(request, header=_cv(request, 4, counter))), "serviceT"
    )
    assert not isinstance(answer, bytes) and isinstance(answer.body, ResponseMessage)
    pre = answer.body.content
    assert isinstance(pre, PreCommand)
    signed = sign_precommand(pre.gbcs_payload, net.setup.user_protection(SUPPLIER))
    follow = replace(
        request,
        header=_cv(request, 5, counter + 1),
        body=SignedPreCommand(gbcs_payload=signed),
    )
    _, ack = net.post(sign_as_user(follow), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"


def _cv(request: Request, variant: int, counter: int) -> RequestHeader:
    rid = replace(request.header.request_id, counter=counter)
    return replace(request.header, command_variant=variant, request_id=rid)


def _status(net: Network, eui: bytes) -> DeviceStatus:
    return net.hub.inventory.device(eui).status


def _smi_audit(net: Network) -> list[tuple[Outcome, str]]:
    return [
        (e.outcome, e.detail)
        for e in net.hub.audit.entries()
        if e.check is Check.RECEIVED and e.reason.startswith("SMI")
    ]


def _log_request(device: bytes, kind: str, counter: int, *extra: Node) -> Request:
    children = [Node(name="DeviceID", text=format_eui(device)), Node(name="RequestType", text=kind)]
    if kind == "Add":
        whitelist = (
            Node(name="JoinTimePeriod", text="90"),
            Node(name="InstallCode", text=(device + device).hex().upper()),
            *extra,
        )
        children.append(Node(name="AddDeviceToCHFWhitelist", children=whitelist))
    body = GenericBody(node=Node(name="UpdateHANDeviceLog", children=tuple(children)))
    request = template("CCS01_8.11_SUCCESS_REQUEST_DUIS.XML", counter=counter)
    return replace(request, body=body)


def test_commission_device_commissions_the_meter_and_its_comms_hub_function() -> None:
    net = network()
    _back_to(net, S.InstalledNotCommissioned, ESME, CHF)
    _critical(net, template(COMMISSION), 7_000_000)
    assert _status(net, ESME) is S.InstalledNotCommissioned  # nothing before the answer
    net.tick(5)
    assert _status(net, ESME) is S.Commissioned
    assert _status(net, CHF) is S.Commissioned
    assert _status(net, GPF) is S.Commissioned  # the gas side is left as it was
    passed = [detail for outcome, detail in _smi_audit(net) if outcome is Outcome.PASS]
    assert passed == [
        f"8.1.1: ESME {format_eui(ESME)} Commissioned",
        f"8.1.1: CHF {format_eui(CHF)} Commissioned with ESME {format_eui(ESME)}",
    ]
    assert len(net.hub.smi) == 0


def test_a_failed_or_missing_answer_changes_nothing() -> None:
    net = network(config=HubConfig(response_timeout_s=5, max_attempts=1))
    _back_to(net, S.InstalledNotCommissioned, ESME, CHF)
    net.wan.set_down(CHF)
    request = template(COMMISSION)
    _critical(net, request, 7_100_000)
    assert len(net.hub.smi) == 1
    # the device's ERROR answer (RTDS: the clock read-backs fail) commissions nothing
    rid = replace(request.header.request_id, counter=7_100_001)
    error = _rtds("8.1.1_ECS70Commission/ECS70Commission_8.1.1_ERROR_RESPONSE_GBCS.HEX")
    net.hub.smi.answered(rid, error, net.now)
    assert _status(net, ESME) is S.InstalledNotCommissioned
    assert _status(net, CHF) is S.InstalledNotCommissioned
    ((outcome, detail),) = _smi_audit(net)
    assert outcome is Outcome.SKIP and "failure" in detail
    # a command that times out (E21) is forgotten: nothing waits for it any more
    _critical(net, request, 7_100_010)
    assert len(net.hub.smi) == 1
    net.tick(6)
    assert len(net.hub.smi) == 0
    assert _status(net, ESME) is S.InstalledNotCommissioned


def test_device_log_add_whitelists_the_device_and_links_its_mpxn() -> None:
    net = network()
    inventory = net.hub.inventory
    inventory.add_device(NEW_ESME, DeviceType.ESME, at=net.now)  # as 12.2 would
    mpan = make_mpan("120001234570")
    inventory.add_meter_point(mpan, MeterKind.IMPORT_MPAN, 1)
    request = _log_request(NEW_ESME, "Add", 7_200_000, Node(name="ImportMPxN", text=mpan))
    _, ack = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"
    assert _status(net, NEW_ESME) is S.Pending
    net.tick(5)
    device = inventory.device(NEW_ESME)
    assert device.status is S.Whitelisted and device.on_han_log and device.premises_id == 1
    point = inventory.store.meter_point(mpan)
    assert point is not None and point.device_eui == NEW_ESME
    assert NEW_ESME in {d.eui for d in inventory.han_log(CHF)}
    # 8.11 Remove takes it off the log again (back to Pending: it never joined)
    _, ack = net.post(sign_as_user(_log_request(NEW_ESME, "Remove", 7_200_001)), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"
    net.tick(5)
    device = inventory.device(NEW_ESME)
    assert device.status is S.Pending and not device.on_han_log


def test_device_log_remove_the_comms_hub_refuses_changes_nothing() -> None:
    net = network()
    inventory = net.hub.inventory
    inventory.add_device(NEW_ESME, DeviceType.ESME, at=net.now)
    inventory.add_to_han_log(CHF, NEW_ESME, at=net.now)  # in the SMI, not on the CHF
    _, ack = net.post(sign_as_user(_log_request(NEW_ESME, "Remove", 7_300_000)), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"
    net.tick(5)
    (response,) = [r for r in net.outbox() if r.header.response_code == "I0"]
    content = response.body.content  # type: ignore[union-attr]
    assert isinstance(content, bytes) and not all_results_ok(decode_message(content).payload)
    device = inventory.device(NEW_ESME)
    assert device.status is S.Whitelisted and device.on_han_log
    assert [o for o, _ in _smi_audit(net)] == [Outcome.SKIP]


def test_join_with_a_meter_commissions_the_consumer_device() -> None:
    net = network()
    _back_to(net, S.InstalledNotCommissioned, PPMID)
    join = template("CS03A1_8.7.1_SUCCESS_REQUEST_DUIS.XML")
    body = GenericBody(
        node=Node(
            name="JoinServiceCritical",
            children=(Node(name="OtherDeviceID", text=format_eui(PPMID)),),
        )
    )
    _critical(net, replace(join, body=body), 7_400_000)
    net.tick(5)
    assert _status(net, PPMID) is S.Commissioned
    assert _status(net, ESME) is S.Commissioned
    ((outcome, detail),) = _smi_audit(net)
    assert outcome is Outcome.PASS and detail.startswith("8.7.1: PPMID")


def test_success_is_judged_as_the_reference_vectors_name_it() -> None:
    cases = {
        "8.1.1_ECS70Commission/ECS70Commission_8.1.1_{}_RESPONSE_GBCS.HEX": clock_set,
        "8.1.1_GCS28Commission/GCS28Commission_8.1.1_{}_RESPONSE_GBCS.HEX": clock_set,
        "8.7.1_CS03A1/CS03A1_8.7.1_{}_RESPONSE_GBCS.HEX": joined,
    }
    for path, succeeded in cases.items():
        for scenario, expected in (("SUCCESS", True), ("ERROR", False)):
            payload = decode_message(_rtds(path.format(scenario))).payload
            assert succeeded(payload) is expected, (path, scenario)


def _rtds(path: str) -> bytes:
    require_reference(RTDS)
    return bytes.fromhex("".join((RTDS / path).read_text().split()))
