"""Decode whole GBCS messages: frame, then the payload by its message code.

The payload family is chosen by the message code (GBCS use case), never by the first payload
byte alone: ASN.1 payloads begin with 30/02/04/05 and would be misread (DOMAIN.md, verified
section). Only the generic alerts 0x1000/0x1001, which exist as DLMS and as GBZ, and codes outside
the registry, are told apart by their first bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.gbcs.asn1 import decode_asn1_payload
from smetsnet.gbcs.dlms import decode_dlms_payload
from smetsnet.gbcs.frame import Cra, Frame, GroupingHeader, MacHeader, decode_frame
from smetsnet.gbcs.gbz import decode_gbz_payload
from smetsnet.gbcs.payload import Decryptor, JsonValue
from smetsnet.gbcs.protection import Protection, Verification
from smetsnet.gbcs.reader import Reader
from smetsnet.gbcs.registry import MessageCodeInfo, message_code_info


class Payload(Protocol):
    """What every decoded payload (DLMS, GBZ or ASN.1) offers."""

    def to_bytes(self) -> bytes: ...

    def to_json(self) -> JsonValue: ...


DLMS, GBZ, ASN1 = "dlms", "gbz", "asn1"
_DLMS_FIRST_BYTES = frozenset((0xD9, 0xDA, 0x0F))
_ASN1_FIRST_BYTES = frozenset((0x30, 0x02, 0x04, 0x05))


def payload_family(message_code: int, payload: bytes) -> str:
    """Which codec reads this payload: by the registry, the first bytes only to choose among
    the families the registry allows (or for codes it does not know)."""
    info = message_code_info(message_code)
    allowed = info.families if info is not None else frozenset((DLMS, GBZ, ASN1))
    if len(allowed) == 1:
        return next(iter(allowed))
    if payload[:1] and payload[0] in _DLMS_FIRST_BYTES and DLMS in allowed:
        return DLMS
    if payload[:2] == b"\x01\x09" and GBZ in allowed:
        return GBZ
    if payload[:1] and payload[0] in _ASN1_FIRST_BYTES and ASN1 in allowed:
        return ASN1
    return sorted(allowed)[0]


def decode_payload(
    payload: bytes,
    *,
    message_code: int,
    cra: Cra,
    base: int = 0,
    decrypt: Decryptor | None = None,
) -> Payload:
    """Decode a payload of a message with this code and CRA flag (``base``: its offset)."""
    if not payload:
        raise Reader(payload, base=base).error("payload", "empty payload")
    family = payload_family(message_code, payload)
    if family == DLMS:
        return decode_dlms_payload(payload, message_code=message_code, base=base, decrypt=decrypt)
    if family == GBZ:
        return decode_gbz_payload(
            payload, message_code=message_code, cra=int(cra), base=base, decrypt=decrypt
        )
    return decode_asn1_payload(payload, message_code=message_code, cra=int(cra), base=base)


@dataclass(frozen=True, slots=True, kw_only=True)
class GbcsMessage:
    """A decoded GBCS message: its frame and its typed payload."""

    frame: Frame
    payload: Payload

    @property
    def header(self) -> GroupingHeader:
        return self.frame.header

    @property
    def mac_header(self) -> MacHeader | None:
        return self.frame.mac_header

    @property
    def message_code(self) -> int:
        return self.frame.header.message_code

    @property
    def info(self) -> MessageCodeInfo | None:
        return message_code_info(self.frame.header.message_code)

    @property
    def use_case(self) -> str | None:
        info = self.info
        return info.use_case if info is not None else None

    @property
    def is_precommand(self) -> bool:
        """Grouping header and payload only: what the Transform service hands back to sign."""
        return self.frame.signature is None and self.frame.mac is None

    def to_bytes(self) -> bytes:
        """Encode from the typed payload (byte-exact with the decoded input)."""
        return self.frame.to_bytes(self.payload.to_bytes())


def decode_message(
    data: bytes,
    *,
    protection: Protection | None = None,
    unknown_party_key: ec.EllipticCurvePrivateKey | None = None,
) -> GbcsMessage:
    """Decode a whole message; with ``protection``, sensitive data is decrypted where possible
    (``unknown_party_key``: see :meth:`Protection.decryptor`)."""
    frame = decode_frame(data)
    header = frame.header
    decrypt = None
    if protection is not None:
        decrypt = protection.decryptor(header, unknown_party_key=unknown_party_key)
    base = frame.layout.payload_start if frame.layout is not None else 0
    payload = decode_payload(
        frame.payload, message_code=header.message_code, cra=header.cra, base=base, decrypt=decrypt
    )
    return GbcsMessage(frame=frame, payload=payload)


def decode_and_verify(data: bytes, protection: Protection) -> tuple[GbcsMessage, Verification]:
    """Decode, decrypt what can be decrypted, and check MAC and signature."""
    message = decode_message(data, protection=protection)
    return message, protection.verify(message.frame)
