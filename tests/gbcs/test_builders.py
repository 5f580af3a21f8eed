"""Building: every reference command is rebuilt from its decoded fields with the builder."""

from __future__ import annotations

import pytest

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.builders import (
    all_builders,
    apply_mac,
    build_message,
    builder_for,
    sign_precommand,
)
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.frame import Cra, decode_frame
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.registry import all_message_codes
from tests.support.vectors import read_hex, require_reference, rtds_files


def rebuild(original: GbcsMessage, protection: Protection, *, sign: bool, mac: bool) -> GbcsMessage:
    """``original`` built again from its typed header fields and payload alone."""
    header = original.header
    return build_message(
        payload=original.payload,
        message_code=header.message_code,
        cra=header.cra,
        originator=header.originator,
        recipient=header.recipient,
        counter=header.counter,
        date_time=header.date_time,
        supplementary_remote_party=header.supplementary_remote_party,
        supplementary_remote_party_counter=header.supplementary_remote_party_counter,
        supplementary_originator_counter=header.supplementary_originator_counter,
        certificate=header.certificate,
        protection=protection,
        sign=sign,
        mac=mac,
        precommand=original.is_precommand,
    )


def _rebuild(data: bytes, protection: Protection) -> tuple[bytes, bytes]:
    """(reference, rebuilt) for one command, rebuilt from typed fields only."""
    original = decode_message(data)
    frame = original.frame
    rebuilt = rebuild(original, protection, sign=bool(frame.signature), mac=frame.mac is not None)
    return data, rebuilt.to_bytes()


def test_every_reference_command_is_rebuilt(reference_protection: Protection) -> None:
    require_reference()
    identical = signed = 0
    for path in rtds_files():
        if "COMMAND" not in path.name:
            continue
        data = read_hex(path)
        frame = decode_frame(data)
        if frame.mac is not None and reference_protection.check_mac(frame) != "valid":
            continue  # PCS02: a PPMID's MAC, whose key no one published
        signer = frame.header.originator
        keystore = reference_protection.keystore
        if frame.signature and keystore.private_key(signer, KeyUsage.DIGITAL_SIGNATURE) is None:
            continue
        reference, rebuilt = _rebuild(data, reference_protection)
        if not frame.signature:
            assert rebuilt == reference, path.name
            identical += 1
            continue
        # ECDSA signatures differ each time: everything else is identical, both protections verify.
        again = decode_frame(rebuilt)
        assert again.layout is not None and frame.layout is not None
        assert rebuilt[: again.layout.payload_end] == reference[: frame.layout.payload_end], (
            path.name
        )
        verification = reference_protection.verify(again)
        assert verification.signature == "valid", path.name
        assert verification.mac in ("valid", "absent"), path.name
        signed += 1
    assert identical > 250
    assert signed > 50


def test_precommand_sign_then_mac(reference_protection: Protection) -> None:
    """The critical flow: Transform's pre-command, signed by the user, MAC'd by the ACB."""
    require_reference()
    precommand = next(
        read_hex(p) for p in rtds_files() if "ECS01a" in p.name and "PRECOMMAND" in p.name
    )
    signed = sign_precommand(precommand, reference_protection)
    assert signed[: len(precommand)] == precommand and signed[len(precommand)] == 0x40
    maced = apply_mac(signed, reference_protection)
    verification = reference_protection.verify(decode_frame(maced))
    assert (verification.signature, verification.mac) == ("valid", "valid")
    with pytest.raises(GbcsEncodeError):
        sign_precommand(signed, reference_protection)
    with pytest.raises(GbcsEncodeError):
        apply_mac(maced, reference_protection)


def test_every_use_case_has_a_builder() -> None:
    builders = all_builders()
    assert len(builders) == len({info.use_case for info in all_message_codes()})
    assert builder_for("ECS17b").keywords["message_code"] == 0x0027


def test_builder_refuses_wrong_payload_family(reference_protection: Protection) -> None:
    require_reference()
    gbz = decode_message(
        next(read_hex(p) for p in rtds_files() if "GCS13a" in p.name and "COMMAND" in p.name)
    )
    with pytest.raises(GbcsEncodeError, match="dlms"):
        build_message(
            payload=gbz.payload,
            use_case="ECS17b",
            originator=gbz.header.originator,
            recipient=gbz.header.recipient,
            counter=1,
            cra=Cra.COMMAND,
            protection=reference_protection,
        )
    with pytest.raises(GbcsEncodeError, match="keys"):
        build_message(
            payload=gbz.payload,
            message_code=gbz.message_code,
            originator=gbz.header.originator,
            recipient=gbz.header.recipient,
            counter=1,
        )
