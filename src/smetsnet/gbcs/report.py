"""A decoded message as a JSON-compatible summary (for the CLI, logs and the JSON API)."""

from __future__ import annotations

from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.protection import Verification

_CRA_NAMES = {1: "command", 2: "response", 3: "alert"}


def message_summary(
    message: GbcsMessage, verification: Verification | None
) -> dict[str, JsonValue]:
    """Header facts, protection verdicts and the decoded payload tree of one message."""
    frame = message.frame
    header = frame.header
    info = message.info
    summary: dict[str, JsonValue] = {
        "cra": _CRA_NAMES[int(header.cra)],
        "message_code": f"0x{header.message_code:04X}",
        "use_case": info.use_case if info is not None else None,
        "title": info.title if info is not None else None,
        "kind": info.kind if info is not None else None,
        "originator": format_eui(header.originator),
        "recipient": format_eui(header.recipient),
        "counter": header.counter,
        "date_time": header.date_time.hex() if header.date_time else None,
        "precommand": message.is_precommand,
        "mac": _verdict(frame.mac is not None, verification, "mac"),
        "signature": _verdict(bool(frame.signature), verification, "signature"),
        "length": len(frame.wire),
    }
    if header.supplementary_remote_party is not None:
        summary["supplementary_remote_party"] = format_eui(header.supplementary_remote_party)
        summary["supplementary_remote_party_counter"] = header.supplementary_remote_party_counter
    if header.supplementary_originator_counter is not None:
        summary["supplementary_originator_counter"] = header.supplementary_originator_counter
    if header.certificate is not None:
        summary["certificate"] = header.certificate.hex()
    summary["payload"] = message.payload.to_json()
    return summary


def _verdict(present: bool, verification: Verification | None, which: str) -> str:
    if not present:
        return "absent"
    if verification is None:
        return "no-key"
    return str(getattr(verification, which))
