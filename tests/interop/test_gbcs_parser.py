"""Our devices' messages verified by an independent GBCS parser (issue 4 §4).

DCC's TypeScript ``@smartdcc/gbcs-parser`` (installed once into ``.cache/interop/``) parses what
our simulated devices and builders produce, with nothing but the key-store folder that
``smetsnet pki`` writes (``keystore/<eui>[-pp]-<ds|ka>.<pem|key>``). It must find every MAC
valid, every signature present valid, and open the sensitive data to the same plaintext our
decoder opens. Skips only when node/npm are missing or the package cannot be installed.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smetsnet.devices import Esme
from smetsnet.devices.gas import GasPremises, Gpf, Gsme
from smetsnet.gbcs.builders import apply_mac, build_message, sign_precommand
from smetsnet.gbcs.codec import GbcsMessage, Payload, decode_message
from smetsnet.gbcs.dlms import (
    AccessRequest,
    AccessResponse,
    CosemDateTime,
    DoubleLongUnsigned,
    Structure,
    protected_attributes_request,
)
from smetsnet.gbcs.gbz import GbzComponent, GbzMessage, ReadAttributes
from smetsnet.gbcs.gbz.spec import METERING
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Party, Pki
from smetsnet.smki.profile import RemotePartyRole
from smetsnet.smki.storage import save_pki
from tests.devices.conftest import (
    ACB,
    NETWORK_OPERATOR,
    PARTIES,
    RECOVERY,
    SUPPLIER,
    TRANS_COS,
)
from tests.interop.npm_package import Unavailable, ensure_installed, installed_version

DRIVER = Path(__file__).with_name("gbcs_parser_check.mjs")
ESME_EUI = bytes.fromhex("00DB1234567890B0")
GSME_EUI = bytes.fromhex("00DB1234567890B1")
GPF_EUI = bytes.fromhex("00DB1234567890B3")
START = datetime(2025, 1, 14, tzinfo=UTC)
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
# Message codes (GBCS-PAYLOADS): ECS17b/ECS22b sensitive reads, ECS43 supply disable
# (critical), GCS13a gas read.
ECS17B, ECS22B, ECS43, GCS13A = 0x0027, 0x0037, 0x0050, 0x0074


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One message for the TS parser, and what it must report."""

    wire: bytes
    signed: bool
    plaintexts: tuple[bytes, ...] = ()
    #: Values our decoder read from the sensitive data; the TS parser must show each (its notes).
    values: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def parser_prefix() -> Path:
    try:
        return ensure_installed()
    except Unavailable as why:
        pytest.skip(f"@smartdcc/gbcs-parser unavailable: {why}")


@pytest.fixture(scope="module")
def pki() -> Pki:
    pki = Pki.create(at=datetime(2024, 1, 1, tzinfo=UTC))
    for eui, role in (
        (SUPPLIER, RemotePartyRole.SUPPLIER),
        (NETWORK_OPERATOR, RemotePartyRole.NETWORK_OPERATOR),
        (ACB, RemotePartyRole.ACCESS_CONTROL_BROKER),
        (TRANS_COS, RemotePartyRole.TRANSITIONAL_COS),
        (RECOVERY, RemotePartyRole.RECOVERY),
    ):
        pki.add_party(Party(eui=eui, role=role))
    pki.add_devices([ESME_EUI, GSME_EUI, GPF_EUI])
    return pki


@pytest.fixture(scope="module")
def keystore(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``smetsnet pki create`` writes; the parser gets only its ``keystore/``."""
    folder = tmp_path_factory.mktemp("pki")
    save_pki(pki, folder)
    return folder / "keystore"


def _command(hub: Protection, code: int, payload: Payload, counter: int, to: bytes) -> bytes:
    return build_message(
        payload=payload,
        originator=SUPPLIER,
        recipient=to,
        counter=counter,
        message_code=code,
        protection=hub,
    ).frame.to_bytes()


def _opened(wire: bytes, hub: Protection) -> tuple[bytes, ...]:
    """The sensitive plaintexts our own decoder opens, in wire order (all must open)."""
    message = decode_message(wire, protection=hub)
    if isinstance(message.payload, AccessResponse):
        contents = message.payload.protected
        assert all(c.status == "decrypted" for c in contents)
        return tuple(c.plaintext or b"" for c in contents)
    assert isinstance(message.payload, GbzMessage)
    opened = []
    decrypt = hub.decryptor(message.frame.header)
    for component in message.payload.components:
        if component.encryption is not None:
            assert component.encryption.status == "decrypted" and component.command is not None
            plain = component.encryption.ciphered.open(decrypt).plaintext
            assert plain is not None
            opened.append(plain)
    return tuple(opened)


def _first_register(wire: bytes, hub: Protection) -> int:
    message = decode_message(wire, protection=hub)
    assert isinstance(message.payload, AccessResponse)
    collection = message.payload.protected[0].value
    assert isinstance(collection, Structure) and isinstance(collection.items[0], Structure)
    register = collection.items[0].items[0]
    assert isinstance(register, DoubleLongUnsigned)
    return register.value


def _esme_cases(pki: Pki, hub: Protection) -> dict[str, Case]:
    esme = Esme.from_keystore(ESME_EUI, pki, PARTIES)
    esme.record_half_hours(START, np.arange(48) * 10)
    cases: dict[str, Case] = {}
    # ECS17b: the import register collection (as the RTDS 4.1.1 command reads it), sensitive.
    read17 = protected_attributes_request(
        [(1, "0-0:94.44.34.10", 2)], originator=SUPPLIER, recipient=ESME_EUI, counter=7000
    )
    cases["ECS17b command"] = Case(wire=_command(hub, ECS17B, read17, 7000, ESME_EUI), signed=False)
    # ECS22b: the half-hourly profile of one day, sensitive.
    read22 = protected_attributes_request(
        [(7, "0-0:99.1.0.255", 2)],
        originator=SUPPLIER,
        recipient=ESME_EUI,
        counter=7001,
        restriction_from=CosemDateTime.from_datetime(START),
        restriction_to=CosemDateTime.from_datetime(START + timedelta(days=1)),
    )
    cases["ECS22b command"] = Case(wire=_command(hub, ECS22B, read22, 7001, ESME_EUI), signed=False)
    for name in ("ECS17b command", "ECS22b command"):
        out = esme.receive(cases[name].wire, NOW)
        assert out.response is not None, name
        response = out.response
        key = name.replace("command", "response")
        plaintexts = _opened(response, hub)
        assert plaintexts, f"{key} carries no sensitive data"
        cases[key] = Case(wire=response, signed=False, plaintexts=plaintexts)
    # The register the meter reports is its state (sum of the recorded half-hours).
    register = _first_register(cases["ECS17b response"].wire, hub)
    assert register == esme.state.import_wh == 10 * sum(range(48))
    cases["ECS17b response"] = replace(cases["ECS17b response"], values=(str(register),))
    # ECS43 supply disable, critical: pre-command, signed by the supplier, MAC'd by the ACB.
    disable = AccessRequest.action(9, "0-0:10.0.106.255", 1, invoke_id=8000)
    pre = build_message(
        payload=disable,
        originator=SUPPLIER,
        recipient=ESME_EUI,
        counter=8000,
        message_code=ECS43,
        precommand=True,
    ).frame.to_bytes()
    critical = apply_mac(sign_precommand(pre, hub), hub)
    cases["ECS43 critical command"] = Case(wire=critical, signed=True)
    out = esme.receive(critical, NOW)
    assert out.response is not None
    ack = decode_message(out.response)
    cases["ECS43 response"] = Case(wire=out.response, signed=bool(ack.frame.signature))
    # Alerts: ECS80 outage (signed, to the network operator) and a security alert raised by a
    # replayed command (the generic critical alert, to the supplier).
    outage = esme.power_outage(NOW - timedelta(minutes=10), NOW)
    cases["ECS80 outage alert"] = Case(wire=outage, signed=True)
    rejected = esme.receive(critical, NOW)
    assert rejected.response is None and len(rejected.alerts) == 1
    cases["0x8F security alert"] = Case(wire=rejected.alerts[0], signed=True)
    return cases


def _gas_cases(pki: Pki, hub: Protection) -> dict[str, Case]:
    premises = GasPremises(
        gsme=Gsme.from_keystore(GSME_EUI, pki, PARTIES),
        gpf=Gpf.from_keystore(GPF_EUI, pki, PARTIES),
        start=START,
        seed=3,
    )
    premises.advance(START + timedelta(hours=2))
    read = GbzMessage.of(
        components=[
            GbzComponent.of(cluster_id=METERING, command=ReadAttributes(attribute_ids=(0x0000,)))
        ]
    )
    cases = {"GCS13a command": Case(wire=_command(hub, GCS13A, read, 9000, GPF_EUI), signed=False)}
    [response] = premises.deliver(cases["GCS13a command"].wire, START + timedelta(hours=2))
    message: GbcsMessage = decode_message(response, protection=hub)
    assert hub.verify(message.frame).ok
    assert isinstance(message.payload, GbzMessage)
    summation = message.payload.components[0].command[0x0000].value  # type: ignore[index]
    assert isinstance(summation, int)
    cases["GCS13a response"] = Case(
        wire=response,
        signed=bool(message.frame.signature),
        plaintexts=_opened(response, hub),
        values=(str(summation),),
    )
    return cases


@pytest.fixture(scope="module")
def cases(pki: Pki) -> dict[str, Case]:
    hub = Protection(pki)
    made = _esme_cases(pki, hub) | _gas_cases(pki, hub)
    # Controls that the driver is not vacuous: one flipped bit in the MAC, one in a signature.
    maced = made["ECS17b response"].wire
    made["tampered MAC"] = Case(wire=maced[:-1] + bytes([maced[-1] ^ 1]), signed=False)
    signed = bytearray(made["ECS80 outage alert"].wire)
    signed[-5] ^= 1
    made["tampered signature"] = Case(wire=bytes(signed), signed=True)
    for name in NAMES:  # our own decoder agrees before the TS parser is asked
        assert hub.verify(decode_message(made[name].wire).frame).ok, name
    return made


@pytest.fixture(scope="module")
def parsed(parser_prefix: Path, keystore: Path, cases: dict[str, Case]) -> dict[str, Any]:
    request = {
        "keystore": str(keystore),
        "acb": ACB.hex(),
        "messages": [{"name": n, "hex": c.wire.hex()} for n, c in cases.items()],
    }
    done = subprocess.run(
        ["node", str(DRIVER), str(parser_prefix)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {r["name"]: r for r in json.loads(done.stdout)}


NAMES = [
    "ECS17b command",
    "ECS17b response",
    "ECS22b command",
    "ECS22b response",
    "ECS43 critical command",
    "ECS43 response",
    "ECS80 outage alert",
    "0x8F security alert",
    "GCS13a command",
    "GCS13a response",
]


def test_every_case_is_listed(cases: dict[str, Case]) -> None:
    assert sorted(cases) == sorted([*NAMES, "tampered MAC", "tampered signature"])


def test_ts_parser_rejects_tampering(parsed: dict[str, Any], cases: dict[str, Case]) -> None:
    assert parsed["tampered MAC"]["mac"] == "invalid"
    assert decode_message(cases["tampered signature"].wire).frame.mac is None
    assert parsed["tampered signature"]["signature"] == "false"


@pytest.mark.parametrize("name", NAMES)
def test_ts_parser_verifies(
    name: str, parsed: dict[str, Any], cases: dict[str, Case], parser_prefix: Path
) -> None:
    case, result = cases[name], parsed[name]
    where = (
        f"{name} (gbcs-parser {installed_version(parser_prefix)}, looked up {result['lookups']})"
    )
    assert result["error"] is None, f"{where}: {result['error']}"
    frame = decode_message(case.wire).frame
    if frame.mac is not None:
        assert result["mac"] == "valid", where
    else:
        assert result["mac"] is None, where
    assert result["signature"] == ("true" if case.signed else None), where
    assert tuple(bytes.fromhex(h) for h in result["decrypted"]) == case.plaintexts, where
    for value in case.values:
        assert value in result["notes"], f"{where}: {value} not in {result['notes']}"
