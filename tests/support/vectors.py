"""Access to the shared reference material (``../shared/reference``) for tests.

Tests that need it call :func:`require_reference` (or use the ``rtds`` fixtures), which skips with
a clear reason when the folder is absent (a fresh clone has no ``../shared``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(os.environ.get("SMETSNET_REFERENCE", ROOT.parent / "shared" / "reference"))
RTDS = REFERENCE / "gbcs" / "rtds-4.5.0"
GBCS_KEYSTORE = REFERENCE / "gbcs" / "keystore"


def require_reference(path: Path = RTDS) -> Path:
    if not path.is_dir():
        pytest.skip(f"reference material not found at {path} (it lives in ../shared/reference)")
    return path


def read_hex(path: Path) -> bytes:
    return bytes.fromhex("".join(path.read_text().split()))


def rtds_files() -> list[Path]:
    """All RTDS vector files, sorted; empty when the reference is absent."""
    if not RTDS.is_dir():
        return []
    return sorted(RTDS.rglob("*.HEX"))


@dataclass(frozen=True)
class RawVector:
    """A reference message split by a minimal parser (for payload-codec tests)."""

    path: Path
    message: bytes
    cra: int
    message_code: int
    payload: bytes
    payload_offset: int


def split_vector(path: Path) -> RawVector:
    """Split a vector into its parts with a deliberately small parser (test support only)."""
    data = read_hex(path)
    pos = 0

    def length() -> int:
        nonlocal pos
        first = data[pos]
        pos += 1
        if first < 0x80:
            return first
        n = first & 0x7F
        value = int.from_bytes(data[pos : pos + n], "big")
        pos += n
        return value

    if data[0] == 0xDD:
        pos = 7
        length()
        pos += 5
    assert data[pos] == 0xDF, path
    cra = data[pos + 2]
    pos += 11 + 9 + 9
    dt_len = data[pos]
    pos += 1 + dt_len
    other_len = length()
    code = int.from_bytes(data[pos : pos + 2], "big")
    pos += other_len
    payload_len = length()
    return RawVector(path, data, cra, code, data[pos : pos + payload_len], pos)


def rtds_vectors() -> list[RawVector]:
    return [split_vector(p) for p in rtds_files()]
