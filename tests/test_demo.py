"""``make run``'s demonstration builds, decodes and verifies real protected messages."""

from __future__ import annotations

import io

from rich.console import Console

from smetsnet.demo import run_demo


def test_demo_shows_valid_protection_and_decryption() -> None:
    out = io.StringIO()
    run_demo(Console(file=out, width=200))
    text = out.getvalue()
    assert text.count("valid / absent") == 2  # the MAC'd command and the MAC'd response
    assert "valid / valid" in text  # the critical command: signature and MAC
    assert "decryption: decrypted" in text
    assert "invalid" not in text
    assert text.count("byte-exact re-encode │ True") == 3
    assert "Top-up UTRN" in text and "verified for £10.00" in text
