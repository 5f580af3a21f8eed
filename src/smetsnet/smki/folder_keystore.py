"""A :class:`~smetsnet.gbcs.keystore.KeyStore` over a folder of PEM files.

The folder layout is that of the RTDS key store (``../shared/reference/gbcs/keystore``):
``<eui>[-pp]-<ds|ka>.pem`` holds a certificate (or a bare public key) and ``….key`` a PKCS#8
private key, ``<eui>`` being 16 lower- or upper-case hex digits and ``-pp`` marking the
prepayment top-up key-agreement cell. Files are read once, when the store is opened; keys are
parsed on first use and kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.keystore import KeyName, KeyUsage

_FILE_NAME = re.compile(r"^([0-9A-Fa-f]{16})(-pp)?-(ds|ka)\.(pem|key)$")


class FolderKeyStore:
    """Keys and certificates read from one folder."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ConfigurationError(f"key store folder {self.folder} does not exist")
        self._pem: dict[KeyName, bytes] = {}
        self._key: dict[KeyName, bytes] = {}
        for path in sorted(self.folder.iterdir()):
            match = _FILE_NAME.match(path.name)
            if match is None:
                continue
            eui_hex, pp, usage, kind = match.groups()
            name = (bytes.fromhex(eui_hex), KeyUsage(usage), pp is not None)
            (self._pem if kind == "pem" else self._key)[name] = path.read_bytes()
        self._public: dict[KeyName, ec.EllipticCurvePublicKey | None] = {}
        self._private: dict[KeyName, ec.EllipticCurvePrivateKey | None] = {}
        self._certificates: dict[KeyName, x509.Certificate | None] = {}

    def __repr__(self) -> str:
        held = f"{len(self._pem)} public, {len(self._key)} private"
        return f"FolderKeyStore({str(self.folder)!r}, {held})"

    def certificate(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> x509.Certificate | None:
        """The certificate, when the ``.pem`` file holds one (not a bare public key)."""
        name = (eui, usage, prepayment)
        if name not in self._certificates:
            pem = self._pem.get(name)
            cert = None
            if pem is not None and b"CERTIFICATE" in pem:
                cert = x509.load_pem_x509_certificate(pem)
            self._certificates[name] = cert
        return self._certificates[name]

    def public_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePublicKey | None:
        name = (eui, usage, prepayment)
        if name in self._public:
            return self._public[name]
        key: ec.EllipticCurvePublicKey | None = None
        pem = self._pem.get(name)
        if pem is not None:
            cert = self.certificate(eui, usage, prepayment=prepayment)
            loaded = cert.public_key() if cert else serialization.load_pem_public_key(pem)
            key = _expect_ec_public(loaded, self.folder, name)
        else:
            private = self.private_key(eui, usage, prepayment=prepayment)
            key = private.public_key() if private is not None else None
        self._public[name] = key
        return key

    def private_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePrivateKey | None:
        name = (eui, usage, prepayment)
        if name not in self._private:
            pem = self._key.get(name)
            key = None
            if pem is not None:
                loaded = serialization.load_pem_private_key(pem, password=None)
                if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                    raise ConfigurationError(f"{_file(self.folder, name, 'key')} is not an EC key")
                key = loaded
            self._private[name] = key
        return self._private[name]


def _expect_ec_public(key: object, folder: Path, name: KeyName) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ConfigurationError(f"{_file(folder, name, 'pem')} does not hold an EC public key")
    return key


def _file(folder: Path, name: KeyName, kind: str) -> Path:
    eui, usage, pp = name
    return folder / f"{eui.hex()}{'-pp' if pp else ''}-{usage.value}.{kind}"
