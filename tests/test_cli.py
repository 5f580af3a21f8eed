"""The command line: ``smetsnet gbcs decode`` over files and folders, JSON and tree output."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from smetsnet.cli import app
from tests.support.vectors import GBCS_KEYSTORE, RTDS, require_reference

runner = CliRunner()


def test_decode_folder_as_json() -> None:
    folder = require_reference() / "4.1.1_ECS17b"
    result = runner.invoke(
        app, ["gbcs", "decode", "--json", "--keystore", str(GBCS_KEYSTORE), str(folder)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 6
    command = next(o for o in lines if o["path"].endswith("SINGLE_SUCCESS_COMMAND_GBCS.HEX"))
    for key in (
        "path",
        "cra",
        "message_code",
        "use_case",
        "originator",
        "recipient",
        "counter",
        "mac",
        "signature",
        "payload",
    ):
        assert key in command
    assert command["cra"] == "command"
    assert command["message_code"] == "0x0027"
    assert command["use_case"] == "ECS17b"
    assert command["originator"] == "90-B3-D5-1F-30-01-00-00"
    assert command["recipient"] == "00-DB-12-34-56-78-90-A0"
    assert command["counter"] == 1000
    assert (command["mac"], command["signature"]) == ("valid", "absent")


def test_decode_without_keys_says_no_key() -> None:
    path = require_reference() / "1.1.1_ECS01a"
    result = runner.invoke(app, ["gbcs", "decode", "--json", str(path)])
    assert result.exit_code == 0
    verdicts = {(o["mac"], o["signature"]) for o in map(json.loads, result.stdout.splitlines())}
    assert ("no-key", "no-key") in verdicts


def test_readable_tree(tmp_path: Path) -> None:
    source = require_reference() / "11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX"
    copy = tmp_path / "x.txt"
    text = source.read_text()
    copy.write_text(" ".join(text[i : i + 2] for i in range(0, len(text.strip()), 2)))  # spaced hex
    result = runner.invoke(app, ["gbcs", "decode", str(copy)])
    assert result.exit_code == 0, result.output
    assert "ECS52" in result.stdout and "0x0059" in result.stdout


def test_bad_input_is_reported_and_exit_status_is_1(tmp_path: Path) -> None:
    good = require_reference() / "11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX"
    bad = tmp_path / "bad.HEX"
    bad.write_text(good.read_text().strip()[:-10])
    notes = tmp_path / "notes.HEX"
    notes.write_text("not hex at all")
    result = runner.invoke(app, ["gbcs", "decode", "--json", str(good), str(bad), str(notes)])
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    assert "bad.HEX" in result.stderr and "offset" in result.stderr
    assert "notes.HEX" in result.stderr and "not hex" in result.stderr


def test_missing_keystore_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["gbcs", "decode", "--keystore", str(tmp_path / "nope"), str(RTDS)])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
