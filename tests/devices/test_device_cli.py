"""``smetsnet device respond``: response and alerts as hex or JSON; state persists in the file;
every device type (ESME, and here a GSME top-up and a CHF read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetsnet.devices.commands import device_app
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import AccessRequest
from smetsnet.gbcs.gbz import GbzComponent, GbzMessage, consumer_top_up
from smetsnet.gbcs.gbz.spec import PREPAYMENT
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.utrn import make_utrn
from smetsnet.smki.pki import Pki
from smetsnet.smki.storage import save_pki
from tests.devices.conftest import ESME_EUI, SUPPLIER
from tests.devices.support import rebuild

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "gbcs" / "rtds-4.5.0"


def test_respond_hex_then_replay_alert(pki: Pki, hub: Protection, tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    save_pki(pki, folder)
    request = AccessRequest.get(112, "0-0:19.10.0.255", 2, invoke_id=1000)
    wire = build_message(
        payload=request,
        originator=SUPPLIER,
        recipient=ESME_EUI,
        counter=1000,
        message_code=0x0069,
        protection=hub,
    ).frame.to_bytes()
    (tmp_path / "cmd.hex").write_text(wire.hex())
    state = tmp_path / "esme.json"
    args = ["--pki", str(folder), "--device", ESME_EUI.hex(), "--state", str(state)]
    runner = CliRunner()
    first = runner.invoke(device_app, [*args, str(tmp_path / "cmd.hex")])
    assert first.exit_code == 0, first.output
    (line,) = first.output.split()
    assert bytes.fromhex(line)[0] == 0xDD  # MAC'd response
    assert json.loads(state.read_text())["security"]["last_counters"] == {SUPPLIER.hex(): 1000}
    again = runner.invoke(device_app, [*args, "--json", str(tmp_path / "cmd.hex")])
    assert again.exit_code == 0, again.output
    (alert,) = [json.loads(x) for x in again.output.splitlines()]
    assert "8F30" in json.dumps(alert).upper() or "36656" in json.dumps(alert)


GSME_EUI = bytes.fromhex("00DB1234567890A1")
CHF_EUI = bytes.fromhex("00DB1234567890A2")
CCS05 = REFERENCE / "8.9_CCS05CCS04" / "CCS05CCS04_8.9_SUCCESS_COMMAND_GBCS.HEX"


def _folder(pki: Pki, tmp_path: Path) -> Path:
    for eui in (GSME_EUI, CHF_EUI):
        if pki.public_key(eui, KeyUsage.KEY_AGREEMENT) is None:
            pki.add_device(eui)
    folder = tmp_path / "pki"
    save_pki(pki, folder)
    return folder


def test_gsme_top_up_through_the_cli(pki: Pki, hub: Protection, tmp_path: Path) -> None:
    folder = _folder(pki, tmp_path)
    counter = 5 << 32  # a top-up's counter has its low 32 bits zero
    z = hub.shared_secret(SUPPLIER, GSME_EUI, prepayment=True)
    assert z is not None
    utrn = make_utrn(z, supplier=SUPPLIER, device=GSME_EUI, counter=counter, pence=1_500)
    command = GbzMessage.of(
        components=[GbzComponent.of(cluster_id=PREPAYMENT, command=consumer_top_up(utrn))]
    )
    wire = build_message(
        payload=command, originator=SUPPLIER, recipient=GSME_EUI, counter=counter,
        message_code=0x0097, protection=hub,
    ).frame.to_bytes()  # fmt: skip
    (tmp_path / "cmd.hex").write_text(wire.hex())
    state = tmp_path / "gsme.json"
    args = ["--pki", str(folder), "--device", GSME_EUI.hex(), "--state", str(state)]
    runner = CliRunner()
    first = runner.invoke(device_app, [*args, "--type", "GSME", str(tmp_path / "cmd.hex")])
    assert first.exit_code == 0, first.output
    (line,) = first.output.split()
    response = decode_message(bytes.fromhex(line), protection=hub)
    assert response.header.originator == GSME_EUI and hub.verify(response.frame).ok
    saved = json.loads(state.read_text())
    assert saved["type"] == "GSME" and saved["state"]["balance"] == 1_500 * 1000
    # the state file knows the type; the same UTRN again is a duplicate (0x8F32 alert only)
    again = runner.invoke(device_app, [*args, str(tmp_path / "cmd.hex")])
    assert again.exit_code == 0, again.output
    assert json.loads(state.read_text())["state"]["balance"] == 1_500 * 1000


@pytest.mark.skipif(not CCS05.is_file(), reason="reference vectors not found")
def test_chf_read_through_the_cli(pki: Pki, hub: Protection, tmp_path: Path) -> None:
    folder = _folder(pki, tmp_path)
    (tmp_path / "cmd.hex").write_text(rebuild(CCS05, hub).hex())
    args = ["--pki", str(folder), "--device", CHF_EUI.hex(), "--type", "chf", "--json"]
    result = CliRunner().invoke(device_app, [*args, str(tmp_path / "cmd.hex")])
    assert result.exit_code == 0, result.output
    first = json.loads(result.output.splitlines()[0])
    assert (first["cra"], first["use_case"]) == ("response", "CCS05/CCS04")
    assert '"result_name": "success"' in json.dumps(first)


def test_unknown_type_is_an_error(pki: Pki, tmp_path: Path) -> None:
    folder = _folder(pki, tmp_path)
    (tmp_path / "cmd.hex").write_text("00")
    args = ["--pki", str(folder), "--device", CHF_EUI.hex(), "--type", "IHD"]
    result = CliRunner().invoke(device_app, [*args, str(tmp_path / "cmd.hex")])
    assert result.exit_code == 2
