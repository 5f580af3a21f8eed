"""GBCS cryptographic primitives, in one corner, over ``cryptography`` (GBCS §4.3).

- :func:`kdf`: the GBCS key derivation. Z is the ECDH P-256 shared secret between one party's
  key-agreement private key and the other's key-agreement public key; the key is the first 16
  bytes of SHA-256(00000001 ‖ Z ‖ OtherInfo), OtherInfo = algorithm id 60857406080300 ‖ originator
  ‖ 09 ‖ message type (01 command, 02 response, 03 alert, 04 sensitive data) ‖ originator counter
  ‖ recipient. This is NIST SP 800-56A's concatenation KDF with one round, so one SHA-256 call is
  the whole of it (``ConcatKDFHash`` would build three objects per message for the same bytes).
- :func:`gmac_tag`: AES-128-GCM with empty plaintext, 12-byte tag. ``AESGCM`` produces 16-byte
  tags only; a 12-byte GCM tag is by definition the first 12 bytes of the 16-byte one, so we
  compute that and compare its prefix in constant time (several times cheaper than
  ``GCM(min_tag_length=12)``; PERF-LIMITS.md).
- :func:`open_sensitive`: decrypt GBCS sensitive data (AES-GCM, AAD 0x31, 12-byte tag). GCM's
  ciphertext is plaintext XOR a CTR keystream, so encrypting the ciphertext under the same key and
  IV yields the plaintext; a second call over that plaintext gives the tag to compare.
- :func:`ecdsa_sign` / :func:`ecdsa_verify`: ECDSA P-256/SHA-256 with raw 64-byte r ‖ s.

Secrets are never logged or put in reprs; keys live in :class:`cryptography` objects.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smetsnet.errors import GbcsSecurityError

#: OtherInfo's algorithm id (GBCS §4.3.3.3): 60 85 74 06 08 03 00.
KDF_ALGORITHM_ID = bytes.fromhex("60857406080300")
_KDF_ROUND_1 = b"\x00\x00\x00\x01"
#: First bytes of the MAC's additional data: security control 11 then five zero bytes (verified
#: against every MAC'd RTDS vector; the header on the wire has only 11 + a 4-byte counter).
MAC_AAD_PREFIX = b"\x11\x00\x00\x00\x00\x00"
SENSITIVE_AAD = b"\x31"
TAG_LENGTH = 12
_ECDSA = ec.ECDSA(hashes.SHA256())
_CURVE = ec.SECP256R1()


class KdfType(IntEnum):
    """The message-type byte of the KDF's OtherInfo."""

    COMMAND = 1
    RESPONSE = 2
    ALERT = 3
    SENSITIVE_DATA = 4


def shared_secret(
    private_key: ec.EllipticCurvePrivateKey, public_key: ec.EllipticCurvePublicKey
) -> bytes:
    """Z: the static ECDH secret of two parties (cache it per pair: it is the dominant cost)."""
    try:
        return private_key.exchange(ec.ECDH(), public_key)
    except ValueError as exc:  # e.g. keys on different curves
        raise GbcsSecurityError(f"key agreement failed: {exc}") from exc


def kdf(z: bytes, kdf_type: int, originator: bytes, counter: int, recipient: bytes) -> bytes:
    """The 16-byte AES key for one message (GBCS §4.3.3.3)."""
    other_info = b"".join(
        (
            KDF_ALGORITHM_ID,
            originator,
            b"\x09",
            bytes((kdf_type,)),
            counter.to_bytes(8, "big"),
            recipient,
        )
    )
    return hashlib.sha256(_KDF_ROUND_1 + z + other_info).digest()[:16]


def mac_iv(originator: bytes) -> bytes:
    """GMAC IV: originator system title ‖ 00000000 (fresh key per message, so the IV may stay)."""
    return originator + b"\x00\x00\x00\x00"


def gmac_tag(key: bytes, iv: bytes, authenticated: bytes) -> bytes:
    """The 12-byte GMAC of ``authenticated`` (which includes :data:`MAC_AAD_PREFIX`)."""
    return AESGCM(key).encrypt(iv, b"", authenticated)[:TAG_LENGTH]


def gmac_tag16(key: bytes, iv: bytes, authenticated: bytes) -> bytes:
    """The full 16-byte GMAC (the UTRN takes its last four bytes)."""
    return AESGCM(key).encrypt(iv, b"", authenticated)


def gmac_matches(key: bytes, iv: bytes, authenticated: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(gmac_tag(key, iv, authenticated), tag)


def open_sensitive(key: bytes, iv: bytes, ciphertext: bytes, tag: bytes) -> bytes | None:
    """Plaintext of sensitive data, or None when the tag does not match."""
    aes = AESGCM(key)
    plaintext = aes.encrypt(iv, ciphertext, None)[: len(ciphertext)]
    expected = aes.encrypt(iv, plaintext, SENSITIVE_AAD)[
        len(plaintext) : len(plaintext) + TAG_LENGTH
    ]
    return plaintext if hmac.compare_digest(expected, tag) else None


def seal_sensitive(key: bytes, iv: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, 12-byte tag) of sensitive data."""
    sealed = AESGCM(key).encrypt(iv, plaintext, SENSITIVE_AAD)
    return sealed[: len(plaintext)], sealed[len(plaintext) : len(plaintext) + TAG_LENGTH]


def ecdsa_sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """Raw 64-byte r ‖ s over SHA-256(data)."""
    r, s = decode_dss_signature(private_key.sign(data, _ECDSA))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def ecdsa_verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    if len(signature) != 64:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, data, _ECDSA)
    except InvalidSignature:
        return False
    return True


def public_key_from_point(point: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its X9.62 encoded point."""
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, point)
    except ValueError as exc:
        raise GbcsSecurityError(f"not a P-256 point: {exc}") from exc
