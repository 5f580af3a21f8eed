"""Which of several certificates for one key is in use (DCC Boxed's key store holds ``Z1`` and
``Z1b`` certificates for most keys: its devices and tools use the ``Z1`` set)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from smetsnet.gbcs.keystore import KeyName
from smetsnet.smki.bundle import CertificateEntry
from smetsnet.smki.profile import CertificateKind


def _rank(entry: CertificateEntry) -> tuple[int, datetime]:
    """Which of several certificates for one key is in use: ``Z1-`` names first (module
    docstring), then unnamed or other names, ``Z1b-`` last; then the newest."""
    name = entry.name
    order = 0 if name.startswith("Z1-") else 2 if name.startswith("Z1b-") else 1
    start = entry.certificate.not_valid_before_utc if entry.certificate else datetime.min
    return (-order, start.replace(tzinfo=None))


def in_use(entries: Iterable[CertificateEntry]) -> dict[KeyName, CertificateEntry]:
    """The organisation entry in use for each (EUI, usage, prepayment cell)."""
    chosen: dict[KeyName, CertificateEntry] = {}
    for entry in entries:
        if entry.kind in (CertificateKind.XML_SIGNING, CertificateKind.DEVICE):
            continue
        held = chosen.get(entry.key_name)
        if held is None or _rank(entry) > _rank(held):
            chosen[entry.key_name] = entry
    return chosen
