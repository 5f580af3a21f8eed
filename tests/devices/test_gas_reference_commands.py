"""Acceptance (issue 4 §4, gas): every reference command to the GSME (…90A1) or the GPF (…90A3),
re-built with our PKI, is delivered to a gas premises (GSME with some days of history, GPF on
the hub) and answered, after the next GSME wake where it is queued, by a response of the same
message code that our decoder verifies (MAC or signature; sensitive components decrypt).

The GPF of the handover vectors (6.21_CS02b…Handover) is one before its handover: the DCC's
credentials (the ACB's EUI, the "existing_subject_unique_id" of those RTDS responses) sit in its
supplier and network operator cells. The GSME has joined the premises' PPMID (CS03C with the
PPMID's KA certificate), so PCS02 (PPMID->GSME, MAC'd between their KA keys) is accepted and
activates emergency credit. Use cases not modelled would be listed in UNSUPPORTED with the
reason; the test asserts exactly those (none in RTDS 4.5.0).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smetsnet.devices.core.keys import Role, point_of
from smetsnet.devices.gas import GasPremises, Gpf, Gsme, services
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.gbz import GbzMessage
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ACB, GPF_EUI, GSME_EUI, PARTIES, PPMID_EUI
from tests.devices.support import (
    assert_all_answered,
    check_response,
    rebuild,
    reference_commands,
    tally,
)
from tests.support.vectors import split_vector

#: The RTDS gas vectors ask for data from 2014-12-22 on: the premises runs from there.
HISTORY_START = datetime(2014, 12, 22, tzinfo=UTC)
NOW = datetime(2015, 1, 2, 12, 0, tzinfo=UTC)

#: use case -> why it is not answered (exactly these fail; nothing is skipped silently).
UNSUPPORTED: dict[str, str] = {}
#: A GPF before handover: the DCC (ACB) holds its supplier and network operator cells.
DCC_PARTIES = {**PARTIES, Role.SUPPLIER: ACB, Role.NETWORK_OPERATOR: ACB}


COMMANDS = reference_commands([GSME_EUI, GPF_EUI])


def make_premises(
    pki: Pki, start: datetime = HISTORY_START, seed: int = 7, *, handover: bool = False
) -> GasPremises:
    gsme = Gsme.from_keystore(GSME_EUI, pki, PARTIES)
    gpf = Gpf.from_keystore(GPF_EUI, pki, DCC_PARTIES if handover else PARTIES)
    return GasPremises(gsme=gsme, gpf=gpf, start=start, seed=seed)


def join_ppmid(pki: Pki, gsme: Gsme) -> None:
    """The PPMID joined to the GSME with its KA key (as CS03C with its certificate)."""
    key = pki.public_key(PPMID_EUI, KeyUsage.KEY_AGREEMENT)
    assert key is not None
    code = services.add_partner(gsme.state, PPMID_EUI, services.PPMID_TYPE, point_of(key).hex())
    assert code == 0


def _answer(premises: GasPremises, wire: bytes, hub: Protection) -> str:
    """'ok', or why the answer is not acceptable."""
    command = decode_message(wire)
    out = premises.deliver(wire, NOW)
    if command.header.recipient == GSME_EUI:
        assert out == [], "a GSME command must wait for the wake"
        out = premises.advance(NOW + timedelta(minutes=30))
    responses = [m for m in out if decode_message(m).header.cra == Cra.RESPONSE]
    if len(responses) != 1:
        alerts = [decode_message(m).payload.to_json() for m in out]
        return f"{len(responses)} responses; alerts {alerts}"
    response, verdict = check_response(command, responses[0], hub)
    if verdict != "ok":
        return verdict
    payload = response.payload
    if isinstance(command.payload, GbzMessage):
        if not isinstance(payload, GbzMessage):
            return "not a GBZ response"
        for c in payload.components:
            if c.encryption is not None and c.encryption.status != "decrypted":
                return "sensitive data does not decrypt"
            if c.command is None:
                return "component without a command"
    return "ok"


def _with_history(pki: Pki) -> GasPremises:
    premises = make_premises(pki)
    join_ppmid(pki, premises.gsme)
    premises.advance(NOW - timedelta(minutes=1))
    return premises


@pytest.mark.skipif(not COMMANDS, reason="reference vectors not found (../shared/reference)")
def test_every_reference_gas_command_is_answered(gas_pki: Pki, gas_hub: Protection) -> None:
    template = _with_history(gas_pki)

    def answer(path: Path) -> str:
        handover = "Handover" in path.name
        premises = make_premises(gas_pki, start=NOW - timedelta(minutes=1), handover=handover)
        premises.gsme.state = template.gsme.state.copy()
        premises.gpf.refresh(premises.gsme.state)
        return _answer(premises, rebuild(path, gas_hub), gas_hub)

    def use_case(path: Path) -> str:
        return decode_message(split_vector(path).message).use_case or "?"

    result = tally(COMMANDS, answer, use_case, UNSUPPORTED)
    assert_all_answered(result, UNSUPPORTED, len(COMMANDS))
    assert len(COMMANDS) == 103  # RTDS 4.5.0
    print(f"{len(result.passed)} of {len(COMMANDS)} reference gas commands answered and verified")
