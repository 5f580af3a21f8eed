"""The user's response receiver over real HTTP: signed messages from the hub accepted and matched
to their requests, alerts kept apart, anything not signed by the hub refused (400, counted,
never stored), and only POST taken."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from smetsnet.client import Receiver, verify_response
from smetsnet.duis import MessageId, Response, ResponseHeader, to_xml
from smetsnet.duis.responses import DeviceAlertMessage, ResponseMessage
from smetsnet.duis.xmldsig import certificate_index, sign
from tests.duis.test_xmldsig import _certificate

USER = bytes.fromhex("90B3D51F30010000")
ESME = bytes.fromhex("00DB1234567890A0")
HUB_KEY, HUB_CERT = _certificate(1001)
OTHER_KEY, OTHER_CERT = _certificate(1002)


def _message(counter: int | None, *, key: object = HUB_KEY, cert: object = HUB_CERT) -> bytes:
    request_id = (
        None if counter is None else MessageId(originator=USER, target=ESME, counter=counter)
    )
    header = ResponseHeader(
        request_id=request_id,
        response_id=MessageId(originator=ESME, target=USER, counter=counter or 1),
        response_code="I0",
        response_datetime=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    body = (
        DeviceAlertMessage(alert_code=0x8F66, gbcs_payload=b"\x00")
        if counter is None
        else ResponseMessage(
            service_reference="4.1", service_reference_variant="4.1.1", content=b"\x01"
        )
    )
    return sign(to_xml(Response(header=header, body=body)), key, cert)  # type: ignore[arg-type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hub_certs = certificate_index([HUB_CERT])
    receiver = Receiver(lambda xml: verify_response(xml, hub_certs))
    receiver.start()
    yield receiver
    receiver.stop()


def test_signed_responses_are_matched_and_the_rest_refused(receiver: Receiver) -> None:
    good, alert = _message(7), _message(None)
    forged = _message(8, key=OTHER_KEY, cert=OTHER_CERT)
    with httpx.Client(base_url=receiver.url) as http:
        assert http.post("/", content=good).status_code == 200
        assert http.post("/any/path", content=alert).status_code == 200
        refused = http.post("/", content=forged)
        garbage = http.post("/", content=b"<not-duis/>")
        assert http.get("/").status_code == 405
    assert refused.status_code == 400 and "not a valid signed DUIS response" in refused.text
    assert garbage.status_code == 400
    assert receiver.rejected == 2
    rid = str(MessageId(originator=USER, target=ESME, counter=7))
    [answer] = receiver.wait(rid, timeout_s=5)
    assert answer.code == "I0"
    assert receiver.responses(str(MessageId(originator=USER, target=ESME, counter=8))) == []
    assert [a.response.body.alert_code for a in receiver.alerts] == [0x8F66]  # type: ignore[union-attr]
    assert receiver.raw == [good, alert]
    assert receiver.total() == 2
