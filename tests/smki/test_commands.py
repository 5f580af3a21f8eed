"""``smetsnet pki``: init, show and export through typer's CliRunner on the sub-app."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.commands import pki_app
from smetsnet.smki.folder_keystore import FolderKeyStore
from smetsnet.smki.storage import load_pki
from tests.support.vectors import REFERENCE

runner = CliRunner()
KEYSTORE_JSON = REFERENCE / "duis" / "keystore" / "keystore.json"
SUPPLIER = bytes.fromhex("90b3d51f30010000")


def test_init_with_default_parties_and_devices(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    result = runner.invoke(pki_app, ["init", str(folder), "--devices", "5"])
    assert result.exit_code == 0, result.output
    assert "9 parties, 5 devices, 33 certificates" in result.output
    pki = load_pki(folder)
    assert pki.private_key(SUPPLIER, KeyUsage.KEY_AGREEMENT, prepayment=True) is not None
    assert pki.public_key(bytes.fromhex("00db123456789005"), KeyUsage.DIGITAL_SIGNATURE)
    index = json.loads((folder / "index.json").read_text())
    assert len(index["certificates"]) == 33
    store = FolderKeyStore(folder / "keystore")
    assert store.private_key(bytes.fromhex("00db123456789001"), KeyUsage.KEY_AGREEMENT)
    # A second init into the same folder is refused without --force.
    again = runner.invoke(pki_app, ["init", str(folder)])
    assert again.exit_code == 2 and "not empty" in again.output


def test_init_with_parties_and_device_prefix(tmp_path: Path) -> None:
    args = ["init", str(tmp_path / "p"), "--users", "supplier:11-22-33-44-55-66-77-88:ACME"]
    args += ["-u", "network-operator:1122334455667799,03:11-22-33-44-55-66-77-AA"]
    args += ["--devices", "3", "--device-prefix", "AA-BB-CC-DD", "--device-start", "0"]
    result = runner.invoke(pki_app, args)
    assert result.exit_code == 0, result.output
    pki = load_pki(tmp_path / "p")
    euis = {e.eui.hex() for e in pki.bundle}
    assert euis == {
        "1122334455667788",
        "1122334455667799",
        "11223344556677aa",
        "aabbccdd00000000",
        "aabbccdd00000001",
        "aabbccdd00000002",
    }
    supplier = pki.bundle.current(bytes.fromhex("1122334455667788"), KeyUsage.DIGITAL_SIGNATURE)
    assert supplier is not None and supplier.info is not None
    assert supplier.info.common_name == "ACME"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "grocer:1122334455667788"], "unknown role"),
        (["--users", "supplier:11"], "not an EUI-64"),
        (["--devices", "300", "--device-prefix", "00-11-22-33-44-55-66"], "do not fit"),
        (["--device-prefix", "zz"], "not hex"),
    ],
)
def test_init_rejects_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(pki_app, ["init", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_show_pki_folder(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert runner.invoke(pki_app, ["init", str(folder), "--devices", "2"]).exit_code == 0
    result = runner.invoke(pki_app, ["show", str(folder)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Certificate authorities" in out and "OU=07" in out
    assert "90-B3-D5-1F-30-01-00-00" in out and "00-DB-12-34-56-78-90-02" in out
    assert "prepayment" in out and "xml-signing" in out and "valid" in out
    assert "9999-12-31 23:59:59" in out  # device certificates never expire
    limited = runner.invoke(pki_app, ["show", str(folder), "--limit", "3"])
    assert "more not shown" in limited.output
    later = runner.invoke(pki_app, ["show", str(folder), "--at", "2100-01-01"])
    assert "expired" in later.output


def test_show_single_pem(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert runner.invoke(pki_app, ["init", str(folder)]).exit_code == 0
    result = runner.invoke(pki_app, ["show", str(folder / "keystore" / "90b3d51f30010000-ds.pem")])
    assert result.exit_code == 0, result.output
    assert "supplier (02)" in result.output
    ca = runner.invoke(pki_app, ["show", str(folder / "ca" / "root.pem")])
    assert ca.exit_code == 0 and "OU=00" in ca.output
    (tmp_path / "bad.pem").write_text("nothing")
    bad = runner.invoke(pki_app, ["show", str(tmp_path / "bad.pem")])
    assert bad.exit_code == 2


def test_show_reference_keystore_json() -> None:
    if not KEYSTORE_JSON.is_file():
        pytest.skip(f"reference keystore.json not found at {KEYSTORE_JSON}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = runner.invoke(pki_app, ["show", str(KEYSTORE_JSON), "--at", "2026-11-28"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "33 certificates found" in out
    assert "expired" in out and "warning" in out and "mdr-ds" in out


def test_export_reference_json_to_folder(tmp_path: Path) -> None:
    if not KEYSTORE_JSON.is_file():
        pytest.skip(f"reference keystore.json not found at {KEYSTORE_JSON}")
    result = runner.invoke(pki_app, ["export", str(KEYSTORE_JSON), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    store = FolderKeyStore(tmp_path / "out")
    assert store.private_key(SUPPLIER, KeyUsage.KEY_AGREEMENT, prepayment=True) is not None
    assert "expired on" in result.output  # the findings are reported, not swallowed


def test_show_missing_path(tmp_path: Path) -> None:
    result = runner.invoke(pki_app, ["show", str(tmp_path / "absent.json")])
    assert result.exit_code == 2 and "error" in result.output
