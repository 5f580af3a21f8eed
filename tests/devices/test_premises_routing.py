"""The comms hub routes a WAN message by its grouping header alone: a frame addressed to the
ESME whose payload cannot be decoded reaches the ESME, which refuses it with an alert (the CHF
does not read payloads)."""

from __future__ import annotations

from smetsnet.devices.core import alerts as codes
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI
from tests.devices.test_firmware_gas_ppmid import cs08_command
from tests.devices.test_month import START
from tests.devices.test_premises import _premises, premises_pki  # noqa: F401 (fixture)


def test_a_frame_for_the_esme_with_a_broken_payload_is_refused_by_the_esme(
    premises_pki: Pki,  # noqa: F811
) -> None:
    premises = _premises(premises_pki)
    protection = Protection(premises_pki)
    wire = cs08_command(protection, ESME_EUI)
    frame = decode_frame(wire)
    start = frame.layout.payload_start
    broken = wire[:start] + b"\xff" + wire[start + 1 :]  # not an ASN.1 SEQUENCE any more
    assert decode_frame(broken).header.recipient == ESME_EUI
    out = premises.deliver(broken, START)
    [alert] = out  # no response: the ESME's alert alone
    decoded = decode_message(alert, protection=protection)
    assert decoded.header.originator == ESME_EUI
    assert decoded.payload.alert_code == codes.COMMAND_INTEGRITY_FAILED  # type: ignore[attr-defined]
