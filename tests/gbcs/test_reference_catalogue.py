"""Every reference message is what its folder and file name say it is.

RTDS names each file ``<SRV>_<use case>/<use case>_<SRV>_<scenario>_<KIND>_GBCS.HEX`` (alerts also
carry their alert code). The decoded message code must belong to that use case in our registry,
the CRA flag must match the kind, and an alert must carry the alert code its name gives.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smetsnet.gbcs.codec import decode_message
from tests.support.vectors import read_hex, require_reference, rtds_files

CRA_OF_KIND = {"COMMAND": 1, "PRECOMMAND": 1, "RESPONSE": 2, "ALERT": 3}
#: RTDS quirk: the CS04B ERROR pair carries message code 0x000F (CS04AC), not 0x0010.
FOLDER_EXCEPTIONS = {
    ("CS04B_8.8.2_ERROR_COMMAND_GBCS.HEX", 0x000F),
    ("CS04B_8.8.2_ERROR_RESPONSE_GBCS.HEX", 0x000F),
}
_ALERT_CODE = re.compile(r"_([0-9A-F]{4})_")


def _kind(path: Path) -> str:
    """COMMAND, PRECOMMAND, RESPONSE or ALERT (some alert names carry a variant after it)."""
    kinds = [part for part in path.name.split("_") if part in CRA_OF_KIND]
    assert len(kinds) == 1, path.name
    return kinds[0]


@pytest.fixture(scope="module")
def files() -> list[Path]:
    require_reference()
    return rtds_files()


def test_message_codes_belong_to_the_folders_use_case(files: list[Path]) -> None:
    checked = 0
    for path in files:
        if _kind(path) == "ALERT":
            continue  # alerts use generic or future-dated codes (0x1000, 0x00CC, …)
        message = decode_message(read_hex(path))
        folder_use_case = path.parent.name.split("_", 1)[1].lower()
        registered = (message.use_case or "").replace("/", "").lower()
        if (path.name, message.message_code) in FOLDER_EXCEPTIONS:
            continue
        assert registered and folder_use_case.startswith(registered), (path.name, registered)
        checked += 1
    assert checked == 839 - 62 - len(FOLDER_EXCEPTIONS)


def test_cra_flag_matches_the_file_kind(files: list[Path]) -> None:
    for path in files:
        assert decode_message(read_hex(path)).header.cra == CRA_OF_KIND[_kind(path)], path.name


def test_alerts_carry_the_code_in_their_name(files: list[Path]) -> None:
    checked = 0
    for path in files:
        if _kind(path) != "ALERT":
            continue
        payload = decode_message(read_hex(path)).payload
        code = getattr(payload, "alert_code", None)
        assert isinstance(code, int), path.name
        named = _ALERT_CODE.search(path.name)
        if named:
            assert code == int(named.group(1), 16), path.name
            checked += 1
    assert checked == 61  # every reference alert but CCS08_NA_NA_ALERT names its code
