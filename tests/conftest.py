"""Shared fixtures: the reference key store and protection (skipped when ../shared is absent)."""

from __future__ import annotations

import pytest

from smetsnet.gbcs.protection import Protection
from smetsnet.smki.folder_keystore import FolderKeyStore
from tests.support.vectors import GBCS_KEYSTORE, require_reference


@pytest.fixture(scope="session")
def reference_keystore() -> FolderKeyStore:
    return FolderKeyStore(require_reference(GBCS_KEYSTORE))


@pytest.fixture(scope="session")
def reference_protection(reference_keystore: FolderKeyStore) -> Protection:
    return Protection(reference_keystore)
