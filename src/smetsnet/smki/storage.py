"""Files on disk: a PKI folder, and reading the reference key stores (the I/O edge of smki).

A PKI folder::

    index.json                  what is where: CAs, every certificate (with its cell), revocations
    ca/<root|org|device>.pem    CA certificates, and ….key their private keys
    crl/<root|org|device>.crl   the current CRL of each CA (PEM)
    certificates.pem            every certificate issued, in the order of the index
    private-keys.key            their private keys (PKCS#8 PEM), same order, where held
    keystore/                   the folder-format key store (see :mod:`smetsnet.smki.export`)

Private keys are written unencrypted (this is a test and simulation PKI) with mode 0600.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.errors import ConfigurationError
from smetsnet.smki.bundle import CertificateBundle, CertificateEntry
from smetsnet.smki.errors import SmkiError
from smetsnet.smki.export import export_folder_files, private_key_pem
from smetsnet.smki.imports import ImportReport, import_folder_files, import_keystore_json
from smetsnet.smki.issue import CaRole, CertificateAuthority
from smetsnet.smki.pki import Pki
from smetsnet.smki.revocation import crl_number, revocations_of

INDEX = "index.json"
CERTIFICATES = "certificates.pem"
PRIVATE_KEYS = "private-keys.key"
FORMAT = "smetsnet-pki/1"
_PEM = serialization.Encoding.PEM


def read_folder_files(folder: Path) -> dict[str, bytes]:
    """Every plain file directly in ``folder``, by name."""
    if not folder.is_dir():
        raise ConfigurationError(f"{folder} is not a folder")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` under ``folder`` (``.key`` files readable by the owner only)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".key"):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            path.write_bytes(data)


def import_keystore_folder(
    folder: Path, *, at: datetime | None = None
) -> tuple[CertificateBundle, ImportReport]:
    files = read_folder_files(folder)
    return import_folder_files(files, at=at or datetime.now(UTC), source=str(folder))


def import_keystore_json_file(
    path: Path, *, at: datetime | None = None
) -> tuple[CertificateBundle, ImportReport]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    return import_keystore_json(data, at=at or datetime.now(UTC), source=str(path))


def pki_files(pki: Pki) -> dict[str, bytes]:
    """Every file of the PKI folder, by relative path."""
    files: dict[str, bytes] = {}
    cas = {}
    for role, ca in pki.cas.items():
        files[f"ca/{role.value}.pem"] = ca.certificate.public_bytes(_PEM)
        files[f"ca/{role.value}.key"] = private_key_pem(ca.private_key)
        cas[role.value] = {"certificate": f"ca/{role.value}.pem", "key": f"ca/{role.value}.key"}
        if role in pki.crls:
            files[f"crl/{role.value}.crl"] = pki.crls[role].public_bytes(_PEM)
            cas[role.value]["crl"] = f"crl/{role.value}.crl"
    certificates, cert_pems, key_pems = [], [], []
    for entry in pki.bundle:
        assert entry.certificate is not None and entry.serial is not None
        cert_pems.append(entry.certificate.public_bytes(_PEM))
        record: dict[str, object] = {
            "serial": f"{entry.serial:x}",
            "kind": entry.kind.value if entry.kind else None,
            "eui": entry.eui.hex(),
            "usage": entry.usage.value,
            "prepayment": entry.prepayment,
            "key": entry.private_key is not None,
        }
        if entry.private_key is not None:
            key_pems.append(private_key_pem(entry.private_key))
        certificates.append(record)
    # Two files for everything issued, not two per certificate: a thousand devices would
    # otherwise mean thousands of small files (slow to create on many file systems).
    files[CERTIFICATES] = b"".join(cert_pems)
    files[PRIVATE_KEYS] = b"".join(key_pems)
    for name, data in export_folder_files(pki.bundle).items():
        files[f"keystore/{name}"] = data
    index: dict[str, object] = {
        "format": FORMAT,
        "written": datetime.now(UTC).isoformat(),
        "cas": cas,
        "certificates": certificates,
    }
    files[INDEX] = json.dumps(index, indent=1).encode()
    return files


def save_pki(pki: Pki, folder: Path) -> None:
    write_files(folder, pki_files(pki))


def is_pki_folder(folder: Path) -> bool:
    return (folder / INDEX).is_file()


def load_pki(folder: Path) -> Pki:
    """Read a PKI folder written by :func:`save_pki`."""
    try:
        index = json.loads((folder / INDEX).read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{folder / INDEX} cannot be read: {exc}") from exc
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ConfigurationError(f"{folder / INDEX} is not a {FORMAT} index")
    try:
        return _load_pki(folder, index)
    except (OSError, KeyError, TypeError, ValueError, StopIteration) as exc:
        raise ConfigurationError(f"PKI folder {folder} is damaged: {exc!r}") from exc


def _load_pki(folder: Path, index: dict[str, object]) -> Pki:
    cas_index = index["cas"]
    assert isinstance(cas_index, dict)
    cas: dict[CaRole, CertificateAuthority] = {}
    crls: dict[CaRole, x509.CertificateRevocationList] = {}
    for role in CaRole:
        item = cas_index[role.value]
        cas[role] = CertificateAuthority(
            role=role,
            certificate=x509.load_pem_x509_certificate((folder / item["certificate"]).read_bytes()),
            private_key=_private_key(folder / item["key"]),
        )
        if "crl" in item:
            crls[role] = x509.load_pem_x509_crl((folder / item["crl"]).read_bytes())
    records = index["certificates"]
    assert isinstance(records, list)
    certificates = x509.load_pem_x509_certificates((folder / CERTIFICATES).read_bytes())
    keys = iter(_private_keys((folder / PRIVATE_KEYS).read_bytes()))
    if len(certificates) != len(records):
        raise SmkiError(
            f"{CERTIFICATES} holds {len(certificates)} certificates, index {len(records)}"
        )
    entries = [
        CertificateEntry.from_certificate(
            cert,
            private_key=next(keys) if record["key"] else None,
            prepayment=bool(record["prepayment"]),
            name=str(record["serial"]),
        )
        for cert, record in zip(certificates, records, strict=True)
    ]
    pki = Pki(
        root=cas[CaRole.ROOT],
        organisation_ca=cas[CaRole.ORGANISATION],
        device_ca=cas[CaRole.DEVICE],
        entries=entries,
        revocations={role: revocations_of(crls[role]) if role in crls else [] for role in CaRole},
        crl_numbers={role: crl_number(crls[role]) if role in crls else 0 for role in CaRole},
    )
    pki.crls.update(crls)
    pki.bundle.set_crls(crls.values())
    return pki


def _private_keys(data: bytes) -> list[ec.EllipticCurvePrivateKey]:
    end = b"-----END PRIVATE KEY-----"
    pems = [part + end for part in data.split(end) if part.strip()]
    out = []
    for pem in pems:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SmkiError(f"{PRIVATE_KEYS} holds a key that is not an EC key")
        out.append(key)
    return out


def _private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SmkiError(f"{path} is not an EC private key")
    return key
