"""The key-store interface of the GBCS codec, and an in-memory implementation.

A key is named by the party's EUI-64, its usage (digital signing or key agreement), public or
private, and whether it belongs to the prepayment top-up cell (suppliers hold a separate
key-agreement key for UTRNs). Implementations that read folders or databases live outside the
protocol package (``smetsnet.smki.folder_keystore``); this one holds keys given to it in memory,
for builders, simulators and tests.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec


class KeyUsage(StrEnum):
    """What a key is for; the value is the suffix used in key-store file names."""

    DIGITAL_SIGNATURE = "ds"
    KEY_AGREEMENT = "ka"


class KeyStore(Protocol):
    """Where the codec finds keys. Each method returns None when the key is not held."""

    def public_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePublicKey | None: ...

    def private_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePrivateKey | None: ...


KeyName = tuple[bytes, KeyUsage, bool]


class MemoryKeyStore:
    """Keys held in dictionaries; adding a private key also makes its public key known."""

    def __init__(self) -> None:
        self._public: dict[KeyName, ec.EllipticCurvePublicKey] = {}
        self._private: dict[KeyName, ec.EllipticCurvePrivateKey] = {}

    def __repr__(self) -> str:  # never show key material
        return f"MemoryKeyStore({len(self._public)} public, {len(self._private)} private keys)"

    def add_public(
        self,
        eui: bytes,
        usage: KeyUsage,
        key: ec.EllipticCurvePublicKey,
        *,
        prepayment: bool = False,
    ) -> None:
        self._public[(bytes(eui), usage, prepayment)] = key

    def add_private(
        self,
        eui: bytes,
        usage: KeyUsage,
        key: ec.EllipticCurvePrivateKey,
        *,
        prepayment: bool = False,
    ) -> None:
        name = (bytes(eui), usage, prepayment)
        self._private[name] = key
        self._public.setdefault(name, key.public_key())

    def public_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePublicKey | None:
        return self._public.get((eui, usage, prepayment))

    def private_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePrivateKey | None:
        return self._private.get((eui, usage, prepayment))

    def generate(self, eui: bytes, *, prepayment_cell: bool = False) -> None:
        """Give a party fresh signing and key-agreement key pairs (a simulated device, say)."""
        for usage in KeyUsage:
            self.add_private(eui, usage, ec.generate_private_key(ec.SECP256R1()))
        if prepayment_cell:
            self.add_private(
                eui,
                KeyUsage.KEY_AGREEMENT,
                ec.generate_private_key(ec.SECP256R1()),
                prepayment=True,
            )


class KeyChain:
    """A key store that asks several in turn; the first that holds a key answers."""

    def __init__(self, *stores: KeyStore) -> None:
        self.stores = stores

    def __repr__(self) -> str:  # never show key material
        return f"KeyChain({', '.join(repr(s) for s in self.stores)})"

    def public_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePublicKey | None:
        for store in self.stores:
            key = store.public_key(eui, usage, prepayment=prepayment)
            if key is not None:
                return key
        return None

    def private_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePrivateKey | None:
        for store in self.stores:
            key = store.private_key(eui, usage, prepayment=prepayment)
            if key is not None:
                return key
        return None
