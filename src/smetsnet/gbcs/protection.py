"""Checking and making GBCS protection with the keys of a :class:`KeyStore`.

Who protects what (GBCS §4.3; DOMAIN.md §2.2 and its verified top section):

- **MAC** (AES-GCM as GMAC, 12-byte tag). Commands are MAC'd by the Access Control Broker: the
  key is agreed between the ACB and the recipient device, although the KDF's originator is the
  grouping header's originator (e.g. the supplier); a PPMID's command to a GSME (PCS01/PCS02) is
  MAC'd between the two devices (the vector PCS02 fails with the ACB's key and has no device
  private key to check it, so it reads "no-key"). Responses and alerts are MAC'd between their
  originator (the device) and their recipient. KDF type = the CRA flag (1, 2, 3).
- **Signature** (ECDSA P-256): always the originator's digital-signing key, over the grouping
  header without its DF byte plus the payload.
- **Sensitive data**: KDF type 4 between the originator and the supplementary remote party when
  one is named (it, not the recipient, can read it), else the recipient; IV = originator ‖
  invocation counter; AAD 0x31.

ECDH secrets are static per pair of parties and dominate the cost (~50 µs), so
:class:`Protection` caches Z per pair; everything per message (KDF, GCM) is a few µs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.errors import GbcsKeyNotFound
from smetsnet.gbcs import crypto
from smetsnet.gbcs.frame import Cra, Frame, GroupingHeader
from smetsnet.gbcs.keystore import KeyStore, KeyUsage
from smetsnet.gbcs.payload import Decrypted, Decryptor
from smetsnet.gbcs.registry import PPMID_GSME_COMMAND, message_code_info

#: The DCC Access Control Broker of the test PKI (DOMAIN.md §0).
ACCESS_CONTROL_BROKER = bytes.fromhex("90B3D51F30000002")

Verdict = Literal["valid", "invalid", "absent", "no-key"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """Outcome of checking a message's MAC and signature."""

    mac: Verdict
    signature: Verdict

    @property
    def ok(self) -> bool:
        """No check failed (absent or unknown-key protections are not failures here)."""
        return self.mac != "invalid" and self.signature != "invalid"


def _device_to_device(message_code: int) -> bool:
    """PCS01/PCS02: a PPMID commands a GSME over the HAN; no access control broker is involved."""
    info = message_code_info(message_code)
    return info is not None and info.kind == PPMID_GSME_COMMAND


class Protection:
    """Verify, sign, MAC and decrypt GBCS messages with the keys of one key store."""

    def __init__(
        self, keystore: KeyStore, *, access_control_broker: bytes = ACCESS_CONTROL_BROKER
    ) -> None:
        self.keystore = keystore
        self.access_control_broker = access_control_broker
        self._secrets: dict[tuple[bytes, bytes, bool], bytes | None] = {}
        self._verifiers: dict[bytes, ec.EllipticCurvePublicKey | None] = {}

    def __repr__(self) -> str:
        return f"Protection({self.keystore!r}, {len(self._secrets)} cached secrets)"

    # -- keys ------------------------------------------------------------------------------
    def shared_secret(self, a: bytes, b: bytes, *, prepayment: bool = False) -> bytes | None:
        """Z between parties ``a`` and ``b`` (either's private key with the other's public)."""
        name = (a, b, prepayment) if a <= b else (b, a, prepayment)
        if name in self._secrets:
            return self._secrets[name]
        z = self._agree(a, b, prepayment) or self._agree(b, a, prepayment)
        self._secrets[name] = z
        return z

    def _agree(self, mine: bytes, theirs: bytes, prepayment: bool) -> bytes | None:
        ka = KeyUsage.KEY_AGREEMENT
        private = self.keystore.private_key(mine, ka, prepayment=prepayment)
        if private is None:
            return None
        # The prepayment cell is the supplier's own key; the device answers with its one KA key.
        public = self.keystore.public_key(theirs, ka)
        return None if public is None else crypto.shared_secret(private, public)

    def _verifier(self, eui: bytes) -> ec.EllipticCurvePublicKey | None:
        if eui not in self._verifiers:
            self._verifiers[eui] = self.keystore.public_key(eui, KeyUsage.DIGITAL_SIGNATURE)
        return self._verifiers[eui]

    def mac_parties(self, header: GroupingHeader) -> tuple[bytes, bytes]:
        """The two parties whose key agreement keys the MAC of this message."""
        if header.cra == Cra.COMMAND and not _device_to_device(header.message_code):
            return self.access_control_broker, header.recipient
        return header.originator, header.recipient

    def mac_key(self, header: GroupingHeader) -> bytes | None:
        z = self.shared_secret(*self.mac_parties(header))
        if z is None:
            return None
        return crypto.kdf(z, header.cra, header.originator, header.counter, header.recipient)

    # -- checks ----------------------------------------------------------------------------
    def check_mac(self, frame: Frame) -> Verdict:
        if frame.mac is None:
            return "absent"
        key = self.mac_key(frame.header)
        if key is None:
            return "no-key"
        authenticated = crypto.MAC_AAD_PREFIX + frame.authenticated_bytes()
        iv = crypto.mac_iv(frame.header.originator)
        return "valid" if crypto.gmac_matches(key, iv, authenticated, frame.mac) else "invalid"

    def check_signature(self, frame: Frame) -> Verdict:
        if not frame.signature:
            return "absent"
        public = self._verifier(frame.header.originator)
        if public is None:
            return "no-key"
        ok = crypto.ecdsa_verify(public, frame.signature, frame.signed_bytes())
        return "valid" if ok else "invalid"

    def verify(self, frame: Frame) -> Verification:
        return Verification(mac=self.check_mac(frame), signature=self.check_signature(frame))

    def decryptor(
        self,
        header: GroupingHeader,
        *,
        unknown_party_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> Decryptor:
        """Opens the sensitive data of one message (the key is derived at most once).

        A response to an "unknown remote party" (ECS21b URP: its other-information carries a
        supplementary originator counter) is encrypted to the key-agreement certificate that the
        command carried, not to a key the store holds under that EUI: pass its private key as
        ``unknown_party_key``, else the data reads "no-key". Verified on the RTDS URP response:
        the KDF's recipient is the supplementary remote party and its counter the
        supplementary originator counter.
        """
        reader = header.supplementary_remote_party or header.recipient
        urp = header.supplementary_originator_counter is not None
        counter = (
            header.counter
            if header.supplementary_originator_counter is None
            else (header.supplementary_originator_counter)
        )
        key_cell: list[bytes | None] = []

        def derive() -> bytes | None:
            if urp:
                device = self.keystore.public_key(header.originator, KeyUsage.KEY_AGREEMENT)
                if unknown_party_key is None or device is None:
                    return None
                z: bytes | None = crypto.shared_secret(unknown_party_key, device)
            else:
                z = self.shared_secret(header.originator, reader)
            if z is None:
                return None
            return crypto.kdf(z, crypto.KdfType.SENSITIVE_DATA, header.originator, counter, reader)

        def decrypt(invocation_counter: int, ciphertext: bytes, tag: bytes) -> Decrypted:
            if not key_cell:
                key_cell.append(derive())
            key = key_cell[0]
            if key is None:
                return Decrypted(status="no-key")
            iv = header.originator + invocation_counter.to_bytes(4, "big")
            plaintext = crypto.open_sensitive(key, iv, ciphertext, tag)
            if plaintext is None:
                return Decrypted(status="invalid")
            return Decrypted(status="decrypted", plaintext=plaintext)

        return decrypt

    # -- making protection -----------------------------------------------------------------
    def sign(self, signer: bytes, data: bytes) -> bytes:
        private = self.keystore.private_key(signer, KeyUsage.DIGITAL_SIGNATURE)
        if private is None:
            raise GbcsKeyNotFound(f"no digital-signing private key for {signer.hex('-').upper()}")
        return crypto.ecdsa_sign(private, data)

    def make_mac(self, header: GroupingHeader, authenticated: bytes) -> bytes:
        """The 12-byte MAC over ``authenticated`` (grouping header through signature)."""
        key = self.mac_key(header)
        if key is None:
            a, b = self.mac_parties(header)
            raise GbcsKeyNotFound(
                "no key-agreement key pair to MAC between "
                f"{a.hex('-').upper()} and {b.hex('-').upper()}"
            )
        iv = crypto.mac_iv(header.originator)
        return crypto.gmac_tag(key, iv, crypto.MAC_AAD_PREFIX + authenticated)

    def seal_sensitive(
        self, header: GroupingHeader, invocation_counter: int, plaintext: bytes
    ) -> tuple[bytes, bytes]:
        """(ciphertext, tag) of sensitive data in a message with this header (device side)."""
        reader = header.supplementary_remote_party or header.recipient
        z = self.shared_secret(header.originator, reader)
        if z is None:
            raise GbcsKeyNotFound(f"no key-agreement pair for sensitive data to {reader.hex()}")
        key = crypto.kdf(
            z, crypto.KdfType.SENSITIVE_DATA, header.originator, header.counter, reader
        )
        iv = header.originator + invocation_counter.to_bytes(4, "big")
        return crypto.seal_sensitive(key, iv, plaintext)
