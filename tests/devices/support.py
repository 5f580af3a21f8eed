"""What the device acceptance tests share: pick the reference commands to some devices, re-build
them with our PKI, check the device's response, and tally the verdicts (issue 4 §4)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.bundle import CertificateEntry
from tests.support.vectors import read_hex, rtds_files, split_vector


def reference_commands(recipients: Collection[bytes]) -> list[Path]:
    """The RTDS command vectors (not pre-commands) addressed to one of ``recipients``."""
    out = []
    for path in rtds_files():
        if "PRECOMMAND" in path.name or "COMMAND" not in path.name:
            continue
        raw = split_vector(path)
        if raw.cra == Cra.COMMAND and decode_message(raw.message).header.recipient in recipients:
            out.append(path)
    return out


def rebuild(path: Path, hub: Protection, urp: CertificateEntry | None = None) -> bytes:
    """The reference command with the same typed fields, protected by OUR PKI (and, for a URP
    command, carrying ``urp``'s certificate for ``urp`` as the supplementary remote party)."""
    m = decode_message(read_hex(path))
    h = m.header
    if urp is not None and h.certificate is not None and urp.certificate is not None:
        h = replace(
            h,
            supplementary_remote_party=urp.eui,
            certificate=urp.certificate.public_bytes(Encoding.DER),
        )
    return build_message(
        payload=m.payload,
        originator=h.originator,
        recipient=h.recipient,
        counter=h.counter,
        message_code=h.message_code,
        date_time=h.date_time,
        supplementary_remote_party=h.supplementary_remote_party,
        supplementary_remote_party_counter=h.supplementary_remote_party_counter,
        supplementary_originator_counter=h.supplementary_originator_counter,
        certificate=h.certificate,
        protection=hub,
        sign=bool(m.frame.signature),
    ).frame.to_bytes()


def check_response(
    command: GbcsMessage,
    wire: bytes,
    hub: Protection,
    unknown_party_key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[GbcsMessage, str]:
    """The decoded response and 'ok', or why it does not answer ``command``: its header (same
    message code and counter, a response), its parties (the recipient answers the originator),
    signed when the use case is critical and MAC'd otherwise."""
    response = decode_message(wire, protection=hub, unknown_party_key=unknown_party_key)
    check = hub.verify(response.frame)
    h, c = response.header, command.header
    if (h.message_code, h.cra, h.counter) != (command.message_code, Cra.RESPONSE, c.counter):
        return response, "wrong header"
    if (h.originator, h.recipient) != (c.recipient, c.originator):
        return response, "wrong parties"
    critical = command.info is not None and command.info.is_critical
    if critical and check.signature != "valid":
        return response, f"signature {check.signature}"
    if not critical and check.mac != "valid":
        return response, f"MAC {check.mac}"
    return response, "ok"


@dataclass(slots=True)
class Tally:
    """The verdicts of one acceptance run."""

    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unsupported: set[str] = field(default_factory=set)


def tally(
    commands: list[Path],
    answer: Callable[[Path], str],
    key: Callable[[Path], str],
    unsupported: Mapping[str, str],
) -> Tally:
    """Answer every command; a use case the device does not model (listed in ``unsupported``
    and not answered: the device sends ECS100 instead) is tallied by ``key``, never skipped."""
    out = Tally()
    for path in commands:
        verdict = answer(path)
        if verdict != "ok" and key(path) in unsupported:
            out.unsupported.add(key(path))
        elif verdict == "ok":
            out.passed.append(path.name)
        else:
            out.failed[path.name] = verdict
    return out


def assert_all_answered(result: Tally, unsupported: Mapping[str, str], expected: int) -> None:
    assert result.failed == {}
    assert result.unsupported == set(unsupported)
    assert len(result.passed) == expected, len(result.passed)
