"""Export a bundle in the RTDS key-store folder format, for independent GBCS parsers.

One ``<eui>[-pp]-<ds|ka>.pem`` per (EUI, usage, cell): the certificate the bundle's key look-ups
use (the newest valid one; see :class:`~smetsnet.smki.bundle.CertificateBundle`), or the bare
public key when only that is held; ``….key`` (PKCS#8 PEM) where the private key is held.
XML-signing certificates have no place in this format and are not exported. The result is a
name → bytes mapping; :mod:`smetsnet.smki.storage` writes it to disk.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.gbcs.keystore import KeyName
from smetsnet.smki.bundle import CertificateBundle, CertificateEntry

_PEM = serialization.Encoding.PEM


def file_stem(name: KeyName) -> str:
    eui, usage, prepayment = name
    return f"{eui.hex()}{'-pp' if prepayment else ''}-{usage.value}"


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def entry_pem(entry: CertificateEntry) -> bytes:
    if entry.certificate is not None:
        return entry.certificate.public_bytes(_PEM)
    return entry.public_key.public_bytes(_PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def export_folder_files(
    bundle: CertificateBundle, *, at: datetime | None = None, private_keys: bool = True
) -> dict[str, bytes]:
    """The folder-format files of ``bundle`` as of ``at`` (default: the bundle's time)."""
    files: dict[str, bytes] = {}
    for name in bundle.names():
        eui, usage, prepayment = name
        entry = bundle.current(eui, usage, prepayment=prepayment, at=at)
        if entry is None:
            continue
        stem = file_stem(name)
        files[f"{stem}.pem"] = entry_pem(entry)
        if private_keys and entry.private_key is not None:
            files[f"{stem}.key"] = private_key_pem(entry.private_key)
    return files
