"""What every decoded GBCS payload offers, and the shape of sensitive (encrypted) content.

Payload families (DLMS, GBZ, ASN.1) each decode into their own frozen dataclass tree. Every node
that can be written back has ``to_bytes()``; every payload root also has ``to_json()`` giving a
JSON-compatible tree for ``smetsnet gbcs decode --json``. A node the decoder could not interpret
is rendered in JSON as an object with the key ``"unknown"`` (hex of its bytes): the reference
vectors must decode with no such node.

Sensitive data (GBCS "encryption of sensitive data", e.g. register values and profile data in
responses) is carried as security control ``0x31`` ‖ invocation counter (4) ‖ ciphertext ‖ 12-byte
tag. The frame layer knows the key (KDF type 04 from the message's originator, counter and
recipient), so payload decoders are given a :class:`Decryptor` and keep both the ciphertext (for a
byte-exact re-encode) and the decrypted, decoded content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.reader import Reader

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

#: Security control byte of GBCS sensitive data: encryption + authentication, GCM suite 0.
SENSITIVE_SECURITY_CONTROL = 0x31
GCM_TAG_LENGTH = 12

DecryptStatus = Literal["decrypted", "invalid", "no-key"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decrypted:
    """Outcome of opening sensitive data: the plaintext when ``status == "decrypted"``."""

    status: DecryptStatus
    plaintext: bytes | None = None


class Decryptor(Protocol):
    """Opens sensitive data of one message (the frame layer binds the key and IV parts)."""

    def __call__(self, invocation_counter: int, ciphertext: bytes, tag: bytes) -> Decrypted: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CipheredContent:
    """Encrypted sensitive data as on the wire (without any outer length)."""

    security_control: int
    invocation_counter: int
    ciphertext: bytes
    tag: bytes

    def to_bytes(self) -> bytes:
        return (
            bytes((self.security_control,))
            + self.invocation_counter.to_bytes(4, "big")
            + self.ciphertext
            + self.tag
        )

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "security_control": self.security_control,
            "invocation_counter": self.invocation_counter,
            "ciphertext": self.ciphertext.hex(),
            "tag": self.tag.hex(),
        }

    @classmethod
    def read(cls, r: Reader, n: int, field: str) -> CipheredContent:
        """Read ``n`` bytes of ciphered content (control, counter, ciphertext, tag)."""
        if n < 1 + 4 + GCM_TAG_LENGTH:
            raise r.error(field, f"ciphered content of {n} bytes is shorter than its header+tag")
        start = r.pos
        control = r.u8(field + ".security_control")
        if control != SENSITIVE_SECURITY_CONTROL:
            raise r.error(field, f"security control 0x{control:02X}, expected 0x31", start)
        counter = r.u32(field + ".invocation_counter")
        ciphertext = r.take(n - 5 - GCM_TAG_LENGTH, field + ".ciphertext")
        tag = r.take(GCM_TAG_LENGTH, field + ".tag")
        return cls(
            security_control=control, invocation_counter=counter, ciphertext=ciphertext, tag=tag
        )

    def open(self, decrypt: Decryptor | None) -> Decrypted:
        if decrypt is None:
            return Decrypted(status="no-key")
        return decrypt(self.invocation_counter, self.ciphertext, self.tag)


def unknown_node(data: bytes, why: str) -> dict[str, JsonValue]:
    """JSON form of bytes a decoder could not interpret (never expected in reference vectors)."""
    return {"unknown": data.hex(), "why": why}


__all__ = [
    "GCM_TAG_LENGTH",
    "SENSITIVE_SECURITY_CONTROL",
    "CipheredContent",
    "DecryptStatus",
    "Decrypted",
    "Decryptor",
    "GbcsDecodeError",
    "JsonValue",
    "unknown_node",
]
