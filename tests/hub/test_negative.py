"""The negative matrix (issue 5 §5): each bad request gets its code, nothing reaches a device, and
the audit log shows why."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

from smetsnet.duis import MessageId, Request, to_element, to_xml
from smetsnet.duis.bodies import SignedPreCommand
from smetsnet.duis.responses import PreCommand, ResponseMessage
from smetsnet.duis.xmldsig import sign_element
from smetsnet.gbcs.builders import sign_precommand
from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.protection import Protection
from smetsnet.hub.audit import Outcome
from smetsnet.inventory import UserStatus
from smetsnet.smki.imports import import_keystore_json
from tests.hub.lifecycle_support import KEYSTORE, START, Network, network, sign_as_user, template

SUPPLIER = bytes.fromhex("90B3D51F30010000")
SUPPLIER2 = bytes.fromhex("90B3D51F30030000")
OPERATOR = bytes.fromhex("90B3D51F30020000")
READ = "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
CRITICAL = "ECS70_6.11_SUCCESS_REQUEST_DUIS.XML"


def _as(request: Request, originator: bytes, counter: int) -> Request:
    rid = request.header.request_id
    new = MessageId(originator=originator, target=rid.target, counter=counter)
    return replace(request, header=replace(request.header, request_id=new))


def _sent_to_devices(net: Network) -> int:
    return sum(s.sent for s in net.wan.statistics().values())


def _code(net: Network, xml: bytes, endpoint: str = "serviceS") -> str:
    status, answer = net.post(xml, endpoint)
    if isinstance(answer, bytes):
        return f"HTTP {status}"
    assert status == 200
    return answer.header.response_code


def _failed_checks(net: Network) -> list[tuple[str, str | None]]:
    return [(e.check.value, e.response_code) for e in net.hub.audit if e.outcome is Outcome.FAIL]


@pytest.fixture
def net() -> Network:
    return network()


def test_unsigned(net: Network) -> None:
    assert _code(net, to_xml(template(READ, counter=10))) == "E1"
    assert _failed_checks(net) == [("signature", "E1")] and _sent_to_devices(net) == 0


def test_bad_signature(net: Network) -> None:
    signed = sign_as_user(template(READ, counter=11))
    tampered = signed.replace(b"<sr:ServiceReference>4.1", b"<sr:ServiceReference>4.1 ")
    assert tampered != signed
    assert _code(net, tampered) == "E1"
    assert _failed_checks(net) == [("signature", "E1")] and _sent_to_devices(net) == 0


def test_signed_by_another_user(net: Network) -> None:
    # a valid signature, but by the second supplier on the first supplier's RequestID
    request = _as(template(READ, counter=12), SUPPLIER2, 12)
    xml = _sign_with_gbcs_key(net, request).replace(
        b"90-B3-D5-1F-30-03-00-00:", b"90-B3-D5-1F-30-01-00-00:"
    )
    assert _code(net, xml) == "E1"
    assert _failed_checks(net)[-1][0] == "signature" and _sent_to_devices(net) == 0


def test_unknown_user(net: Network) -> None:
    # The load controller has ZAZ1 keys but is no service user: its certificate is not among
    # the users' signing certificates, so the signature check (before the user check) refuses.
    request = _as(template(READ, counter=13), bytes.fromhex("90B3D51F30010008"), 13)
    assert _code(net, _sign_with_gbcs_key(net, request)) == "E1"
    assert _failed_checks(net) == [("signature", "E1")] and _sent_to_devices(net) == 0


def _sign_with_gbcs_key(net: Network, request: Request) -> bytes:
    """Sign with the originator's ZAZ1 GBCS signing certificate (DCC Boxed accepts that)."""
    bundle, _ = import_keystore_json(KEYSTORE.read_bytes(), at=START)
    eui = request.header.request_id.originator
    entry = next(e for e in bundle if e.eui == eui and e.private_key is not None and "ds" in e.name)
    root = to_element(request)
    assert entry.private_key is not None and entry.certificate is not None
    sign_element(root, entry.private_key, entry.certificate)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def test_suspended_user(net: Network) -> None:
    net.setup.inventory.set_user_status(SUPPLIER, UserStatus.SUSPENDED)
    assert _code(net, sign_as_user(template(READ, counter=14))) == "E3"
    assert _failed_checks(net) == [("user", "E3")] and _sent_to_devices(net) == 0


def test_wrong_role(net: Network) -> None:
    request = _as(template("CS01a_2.2_SUCCESS_REQUEST_DUIS.XML"), OPERATOR, 15)
    assert _code(net, sign_as_user(request)) == "E2"
    assert _failed_checks(net) == [("role", "E2")] and _sent_to_devices(net) == 0


def test_not_registered_for_the_mpxn(net: Network) -> None:
    request = _as(template(READ), SUPPLIER2, 16)
    assert _code(net, _sign_with_gbcs_key(net, request)) == "E4"
    assert _failed_checks(net) == [("registration", "E4")] and _sent_to_devices(net) == 0


def test_replayed_counter(net: Network) -> None:
    xml = sign_as_user(template(READ, counter=17))
    assert _code(net, xml) == "I99"
    sent = _sent_to_devices(net)
    assert _code(net, xml) == "E1"
    older = sign_as_user(template(READ, counter=16))
    assert _code(net, older) == "E1"
    assert _failed_checks(net) == [("counter", "E1"), ("counter", "E1")]
    assert _sent_to_devices(net) == sent == 1


def test_wrong_endpoint(net: Network) -> None:
    assert _code(net, sign_as_user(template(READ, counter=18)), "serviceT") == "E13"
    assert _failed_checks(net) == [("command variant", "E13")] and _sent_to_devices(net) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<sr:Request", "HTTP 400"),
        (b"not xml at all", "HTTP 400"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<r>&x;</r>",
            "HTTP 400",
        ),
        (b"<a>" + b"x" * 11_000_000 + b"</a>", "HTTP 413"),
    ],
    ids=["malformed", "not-xml", "xxe", "oversize"],
)
def test_bytes_that_never_become_a_request(net: Network, body: bytes, status: str) -> None:
    assert _code(net, body) == status
    assert _failed_checks(net) == [("shape", None)] and _sent_to_devices(net) == 0


def _transform(net: Network, counter: int) -> bytes:
    _, answer = net.post(sign_as_user(template(CRITICAL, counter=counter)), "serviceT")
    assert not isinstance(answer, bytes)
    body = answer.body
    assert isinstance(body, ResponseMessage) and isinstance(body.content, PreCommand)
    return body.content.gbcs_payload


def _cv5(net: Network, signed: bytes, counter: int) -> str:
    follow = template(CRITICAL, counter=counter)
    follow = replace(
        follow,
        header=replace(follow.header, command_variant=5),
        body=SignedPreCommand(gbcs_payload=signed),
    )
    return _code(net, sign_as_user(follow))


def test_critical_request_signed_by_the_wrong_key(net: Network) -> None:
    pre = _transform(net, 20)
    # signed by the network operator's GBCS key, not the supplier's
    operator = Protection(net.setup.user_keys[OPERATOR])
    forged = pre + b"\x40" + operator.sign(OPERATOR, decode_frame(pre).signed_bytes())
    assert _cv5(net, forged, 21) == "E1"
    assert _failed_checks(net) == [("pre-command", "E1")] and _sent_to_devices(net) == 0


def test_critical_request_without_transform(net: Network) -> None:
    pre = _transform(net, 30)
    signed = sign_precommand(pre, net.setup.user_protection(SUPPLIER))
    assert _cv5(net, signed, 31) == "I99"  # the genuine one goes
    assert _cv5(net, signed, 32) == "E1"  # and cannot be sent twice
    assert _failed_checks(net) == [("pre-command", "E1")]


def test_precommand_altered_by_the_user(net: Network) -> None:
    pre = bytearray(_transform(net, 40))
    pre[-1] ^= 0x01  # the last payload byte
    signed = sign_precommand(bytes(pre), net.setup.user_protection(SUPPLIER))
    assert _cv5(net, signed, 41) == "E1"
    assert _failed_checks(net) == [("pre-command", "E1")] and _sent_to_devices(net) == 0
