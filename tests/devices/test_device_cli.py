"""``smetsnet device respond``: response and alerts as hex or JSON; state persists in the file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from smetsnet.devices.commands import device_app
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.dlms import AccessRequest
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from smetsnet.smki.storage import save_pki
from tests.devices.conftest import ESME_EUI, SUPPLIER


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
