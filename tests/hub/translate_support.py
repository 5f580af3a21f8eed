"""The judge of the translators: a DUIS template and the RTDS command DCC built from it.

Template ``X_REQUEST_DUIS.XML`` corresponds to RTDS ``X_COMMAND_GBCS.HEX`` (non-critical) or
``X_PRECOMMAND_GBCS.HEX`` (critical: what the Transform service returns). The translated command
must carry the same message code, execution date-time and supplementary fields, and a payload
equal byte for byte; the counter is the template's RequestID counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from smetsnet.duis import Request, from_xml
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.hub.translate import Command, Context, translate
from smetsnet.inventory.model import DeviceType
from tests.support.vectors import REFERENCE, RTDS, read_hex

TEMPLATES = REFERENCE / "duis" / "templates"

#: The device type the DCC Boxed set-up gives each device the templates address (RTDS EUIs).
TARGET_TYPES: dict[bytes, DeviceType] = {
    bytes.fromhex("00DB1234567890A0"): DeviceType.ESME,
    bytes.fromhex("00DB1234567890A1"): DeviceType.GSME,
    bytes.fromhex("00DB1234567890A2"): DeviceType.CHF,
    bytes.fromhex("00DB1234567890A3"): DeviceType.GPF,
    bytes.fromhex("00DB1234567890A4"): DeviceType.PPMID,
    bytes.fromhex("00DB1234567890A5"): DeviceType.IHD,
    bytes.fromhex("00DB1234567890A6"): DeviceType.HCALCS,
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def paired_templates() -> list[tuple[Path, Path]]:
    """(template, RTDS command or pre-command) pairs; empty when the reference is absent."""
    if not TEMPLATES.is_dir() or not RTDS.is_dir():
        return []
    vectors = {p.name: p for p in RTDS.rglob("*.HEX")}
    out = []
    for template in sorted(TEMPLATES.glob("*_REQUEST_DUIS.XML")):
        stem = template.name.removesuffix("_REQUEST_DUIS.XML")
        for kind in ("COMMAND", "PRECOMMAND"):
            vector = vectors.get(f"{stem}_{kind}_GBCS.HEX")
            if vector is not None:
                out.append((template, vector))
                break
    return out


def context_of(request: Request, now: datetime = NOW) -> Context:
    rid = request.header.request_id
    return Context(
        srv=request.header.service_reference_variant,
        target=rid.target,
        device_type=TARGET_TYPES[rid.target],
        originator=rid.originator,
        counter=rid.counter,
        now=now,
    )


@dataclass(frozen=True)
class Pair:
    template: Path
    request: Request
    command: Command
    reference: GbcsMessage


def translate_template(template: Path, vector: Path) -> Pair:
    request = from_xml(template.read_bytes())
    assert isinstance(request, Request)
    command = translate(request, context_of(request))
    return Pair(template, request, command, decode_message(read_hex(vector)))


def differences(pair: Pair) -> list[str]:
    """What differs between the translation and DCC's command (empty when they agree)."""
    h, c = pair.reference.header, pair.command
    out = []
    checks = {
        "message code": (c.message_code, h.message_code),
        "date-time": (c.date_time, h.date_time),
        "supplementary remote party": (c.supplementary_remote_party, h.supplementary_remote_party),
        "supplementary remote party counter": (
            c.supplementary_remote_party_counter,
            h.supplementary_remote_party_counter,
        ),
        "supplementary originator counter": (
            c.supplementary_originator_counter,
            h.supplementary_originator_counter,
        ),
        "certificate": (c.certificate, h.certificate),
        "counter": (pair.request.header.request_id.counter, h.counter),
        "recipient": (pair.request.header.request_id.target, h.recipient),
    }
    for name, (ours, theirs) in checks.items():
        if ours != theirs:
            out.append(f"{name}: ours {ours!r} != DCC's {theirs!r}")
    ours_payload, theirs_payload = c.payload.to_bytes(), pair.reference.payload.to_bytes()
    if ours_payload != theirs_payload:
        out.append(f"payload: ours {ours_payload.hex()} != DCC's {theirs_payload.hex()}")
    return out
