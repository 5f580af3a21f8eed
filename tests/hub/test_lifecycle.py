"""The request lifecycle end to end in one process (issue 5 §2): DUIS in, GBCS over the in-memory
WAN to simulated devices, signed DUIS responses out, through the hub's outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from smetsnet.duis import ResponseMessage
from smetsnet.duis.bodies import ReadInstantaneousImportRegisters, SignedPreCommand
from smetsnet.duis.responses import DCCAlertMessage, PreCommand
from smetsnet.gbcs.builders import sign_precommand
from smetsnet.gbcs.codec import decode_and_verify, decode_message
from smetsnet.hub.outbox import Outbox
from smetsnet.hub.service import HubConfig
from smetsnet.wan.link import LinkProfile, Technology
from tests.hub.lifecycle_support import (
    START,
    network,
    sign_as_user,
    template,
)

SUPPLIER = bytes.fromhex("90B3D51F30010000")
ESME = bytes.fromhex("00DB1234567890A0")
READ = "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"


def test_non_critical_read_is_acknowledged_then_answered_with_the_device_response() -> None:
    net = network()
    request = template(READ, counter=1_000_001)
    status, answer = net.post(sign_as_user(request), "serviceS")
    assert status == 200 and not isinstance(answer, bytes)
    assert answer.header.response_code == "I99"
    assert answer.header.request_id == request.header.request_id
    assert net.outbox() == []  # nothing until the device answered
    net.tick(5)
    (response,) = net.outbox()
    assert response.header.response_code == "I0"
    assert response.header.request_id == request.header.request_id
    assert response.header.response_id is not None
    assert response.header.response_id.originator == ESME
    body = response.body
    assert isinstance(body, ResponseMessage) and isinstance(body.content, bytes)
    message, verification = decode_and_verify(body.content, net.setup.user_protection(SUPPLIER))
    assert verification.mac == "valid"
    assert message.header.counter == 1_000_001  # the DUIS counter is the GBCS counter
    assert message.header.recipient == SUPPLIER


def test_critical_flow_transform_sign_send() -> None:
    net = network()
    request = template("ECS70_6.11_SUCCESS_REQUEST_DUIS.XML", counter=2_000_000)
    status, answer = net.post(sign_as_user(request), "serviceT")
    assert status == 200 and not isinstance(answer, bytes)
    assert answer.header.response_code == "I0"
    body = answer.body
    assert isinstance(body, ResponseMessage) and isinstance(body.content, PreCommand)
    signed = sign_precommand(body.content.gbcs_payload, net.setup.user_protection(SUPPLIER))
    follow = template("ECS70_6.11_SUCCESS_REQUEST_DUIS.XML", counter=2_000_001)
    follow = replace(
        follow,
        header=replace(follow.header, command_variant=5),
        body=SignedPreCommand(gbcs_payload=signed),
    )
    status, ack = net.post(sign_as_user(follow), "serviceS")
    assert not isinstance(ack, bytes) and ack.header.response_code == "I99"
    net.tick(5)
    (response,) = net.outbox()
    assert response.header.response_code == "I0"
    content = response.body.content  # type: ignore[union-attr]
    assert isinstance(content, bytes)
    message, verification = decode_and_verify(content, net.setup.user_protection(SUPPLIER))
    assert verification.ok and message.header.counter == 2_000_000


def test_switched_off_premises_gets_retries_then_e21_and_a_dcc_alert() -> None:
    config = HubConfig(response_timeout_s=10, max_attempts=3)
    net = network(config=config)
    chub = next(iter(net.setup.premises))
    net.wan.set_down(chub)
    request = template(READ, counter=3_000_000)
    _, answer = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(answer, bytes) and answer.header.response_code == "I99"
    net.tick(9)
    assert net.outbox() == []
    for _ in range(3):
        net.tick(10)
    out = net.outbox()
    codes = sorted(r.header.response_code for r in out)
    assert "E21" in codes
    assert net.hub.counts.retries == 2 and net.hub.counts.timeouts == 1
    alerts = [r for r in out if isinstance(r.body, DCCAlertMessage)]
    assert len(alerts) == 1
    failure = alerts[0].body.alert.child("CommandFailure")  # type: ignore[union-attr]
    assert failure is not None
    assert failure.child("CommandRequestID").text == str(request.header.request_id)  # type: ignore[union-attr]


def test_lossy_wan_is_overcome_by_retries() -> None:
    lossy = {t: LinkProfile(median_s=0.2, p99_s=0.2, loss=0.2) for t in Technology}
    net = network(profiles=lossy, config=HubConfig(response_timeout_s=5, max_attempts=8))
    ids = []
    for i in range(10):
        request = template(READ, counter=4_000_000 + i)
        net.post(sign_as_user(request), "serviceS")
        ids.append(str(request.header.request_id))
    for _ in range(20):
        net.tick(5)
    out = [r for r in net.outbox() if isinstance(r.body, ResponseMessage)]
    answered = {str(r.header.request_id) for r in out if r.header.response_code == "I0"}
    assert net.hub.counts.retries > 0
    # A retry is the same GBCS command: if an earlier copy reached the device and only its
    # answer was lost, the device refuses the copy as a replay and the request ends in E21.
    failed = {str(r.header.request_id) for r in out if r.header.response_code == "E21"}
    assert answered | failed == set(ids) and not answered & failed
    assert len(out) == len(ids) and len(answered) >= 6


def test_dsp_held_future_dated_request_waits_for_its_time() -> None:
    net = network()
    request = template("ECS17b_4.1.1_DSP_FUTURE_DATED_REQUEST_DUIS.XML", counter=5_000_000)
    at = START + timedelta(hours=1)
    request = replace(request, body=ReadInstantaneousImportRegisters(execution_datetime=at))
    _, answer = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(answer, bytes) and answer.header.response_code == "I99"
    net.tick(600)
    assert net.outbox() == [] and net.wan.in_flight == 0
    net.tick(3000)  # sent now, at its execution time
    assert net.wan.in_flight == 1
    net.tick(5)
    (response,) = net.outbox()
    assert response.header.response_code == "I0"


def test_outbox_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    first = box.put(SUPPLIER, "http://u.invalid/", b"<a/>", START)
    box.put(SUPPLIER, None, b"<b/>", START)
    (out,) = box.due(START)
    box.failed(out.id, START, "connection refused")
    box.close()
    again = Outbox(path)
    assert len(again) == 2 and again.waiting_without_url() == 1
    assert again.due(START) == []  # backing off
    (retry,) = again.due(START + timedelta(seconds=1))
    assert retry.id == first and retry.attempts == 1
    again.delivered(retry.id)
    again.set_url(SUPPLIER, "http://u.invalid/")
    (late,) = again.due(START + timedelta(seconds=2))
    assert late.body == b"<b/>"


@pytest.mark.parametrize(
    ("name", "originator", "message_code"),
    [
        # the transitional CoS replaces the supplier's certificates (DCC-originated CS02b mode 7)
        (
            "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
            "90B3D51F30000004",
            0x0107,
        ),
        # the ACB reads the comms hub's device log for the user (the user is supplementary party)
        ("CCS05CCS04_8.9_SUCCESS_REQUEST_DUIS.XML", "90B3D51F30000002", 0x0004),
    ],
)
def test_dcc_originated_commands_answer_the_user(
    name: str, originator: str, message_code: int
) -> None:
    net = network()
    request = template(name, counter=6_000_000)
    _, answer = net.post(sign_as_user(request), "serviceS")
    assert not isinstance(answer, bytes) and answer.header.response_code == "I99"
    net.tick(5)
    (response,) = net.outbox()
    assert response.header.response_code == "I0"
    assert response.header.request_id == request.header.request_id
    content = response.body.content  # type: ignore[union-attr]
    assert isinstance(content, bytes)
    device_answer = decode_message(content)
    # the device answered the DCC party that originated the command, under that party's counter
    assert device_answer.header.recipient == bytes.fromhex(originator)
    assert device_answer.header.message_code == message_code
    assert device_answer.header.counter != request.header.request_id.counter
