"""A service user's keys as the client holds them: the XML-signing key for DUIS and the GBCS keys
for critical commands (signing pre-commands) and for reading responses (MACs, sensitive data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.gbcs.keystore import KeyChain, KeyStore, KeyUsage, MemoryKeyStore
from smetsnet.smki.errors import SmkiError
from smetsnet.smki.imports import import_keystore_json
from smetsnet.smki.selection import in_use


@dataclass(kw_only=True)
class UserCredentials:
    """One user's keys; ``devices`` collects device public keys learned from the SMKI look-up."""

    eui: bytes
    xml_key: ec.EllipticCurvePrivateKey = field(repr=False)
    xml_certificate: x509.Certificate
    gbcs: KeyStore = field(repr=False)
    devices: MemoryKeyStore = field(default_factory=MemoryKeyStore, repr=False)

    @property
    def keys(self) -> KeyStore:
        """The user's own keys first, then the devices' public keys."""
        return KeyChain(self.gbcs, self.devices)

    def learn_certificate(self, eui: bytes, certificate: x509.Certificate) -> None:
        """Remember a device's (or party's) public key from its certificate (SMKI look-up)."""
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SmkiError(f"certificate {certificate.serial_number} has no EC public key")
        usage = x509.KeyUsage
        try:
            ku = certificate.extensions.get_extension_for_class(usage).value
            kind = KeyUsage.KEY_AGREEMENT if ku.key_agreement else KeyUsage.DIGITAL_SIGNATURE
        except x509.ExtensionNotFound:
            kind = KeyUsage.DIGITAL_SIGNATURE
        self.devices.add_public(eui, kind, key)

    @classmethod
    def from_keystore_json(
        cls, path: Path, eui: bytes, *, at: datetime | None = None
    ) -> UserCredentials:
        """The user ``eui``'s keys from a DCC Boxed ``keystore.json``."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SmkiError(f"cannot read key store {path}: {exc.strerror}") from None
        bundle, _ = import_keystore_json(data, at=at or datetime.now(UTC), source=str(path))
        # A user with no XML-signing certificate signs with its GBCS signing one, as DCC's tool
        # does for the second supplier (DCC Boxed accepts any of a user's ZAZ1 signing keys).
        entry = bundle.xml_signing(eui) or bundle.current(eui, KeyUsage.DIGITAL_SIGNATURE)
        if entry is None or entry.private_key is None or entry.certificate is None:
            raise SmkiError(f"{path} has no XML-signing key for user {eui.hex('-').upper()}")
        # The user's GBCS keys: of several certificates for one key, the one in use (DCC
        # Boxed's Z1 set), so MACs agree with what the devices were given.
        own = MemoryKeyStore()
        for (party, usage, prepayment), chosen in in_use(bundle).items():
            if party == eui and chosen.private_key is not None:
                own.add_private(party, usage, chosen.private_key, prepayment=prepayment)
        return cls(eui=eui, xml_key=entry.private_key, xml_certificate=entry.certificate, gbcs=own)
