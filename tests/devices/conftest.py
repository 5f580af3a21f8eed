"""A small PKI (supplier, network operator, ACB, WAN provider and the RTDS ESME) shared by the
device tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smetsnet.devices import Esme, Role
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Party, Pki
from smetsnet.smki.profile import RemotePartyRole

SUPPLIER = bytes.fromhex("90B3D51F30010000")
NETWORK_OPERATOR = bytes.fromhex("90B3D51F30020000")
ACB = bytes.fromhex("90B3D51F30000002")
TRANS_COS = bytes.fromhex("90B3D51F30000004")
RECOVERY = bytes.fromhex("90B3D51F30000001")
ESME_EUI = bytes.fromhex("00DB1234567890A0")
OTHER_ESME = bytes.fromhex("00DB1234567890AF")
WAN_PROVIDER = bytes.fromhex("90B3D51F30000007")  # NA_CS02bWPByWP; anchored by the CHF only
NEW_SUPPLIER = bytes.fromhex("90B3D51F30030000")  # the gaining supplier of a change of supplier
GSME_EUI = bytes.fromhex("00DB1234567890A1")
GPF_EUI = bytes.fromhex("00DB1234567890A3")
PPMID_EUI = bytes.fromhex("00DB1234567890A4")
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
PARTIES = {
    Role.SUPPLIER: SUPPLIER,
    Role.NETWORK_OPERATOR: NETWORK_OPERATOR,
    Role.ACCESS_CONTROL_BROKER: ACB,
    Role.TRANSITIONAL_COS: TRANS_COS,
    Role.RECOVERY: RECOVERY,
}


def make_pki(devices: list[bytes], *, at: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> Pki:
    """The test parties (every role the device tests use) and ``devices``, issued ``at``."""
    pki = Pki.create(at=at)
    pki.add_party(Party(eui=SUPPLIER, role=RemotePartyRole.SUPPLIER))
    pki.add_party(Party(eui=NETWORK_OPERATOR, role=RemotePartyRole.NETWORK_OPERATOR))
    pki.add_party(Party(eui=ACB, role=RemotePartyRole.ACCESS_CONTROL_BROKER))
    pki.add_party(Party(eui=TRANS_COS, role=RemotePartyRole.TRANSITIONAL_COS))
    pki.add_party(Party(eui=RECOVERY, role=RemotePartyRole.RECOVERY))
    pki.add_party(Party(eui=NEW_SUPPLIER, role=RemotePartyRole.SUPPLIER))
    pki.add_party(Party(eui=WAN_PROVIDER, role=RemotePartyRole.WAN_PROVIDER))
    pki.add_devices(devices)
    return pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki([ESME_EUI, OTHER_ESME])


@pytest.fixture(scope="session")
def hub(pki: Pki) -> Protection:
    """The remote parties' side: supplier/NO sign, the ACB MACs, parties verify and decrypt."""
    return Protection(pki)


@pytest.fixture
def esme(pki: Pki) -> Esme:
    return Esme.from_keystore(ESME_EUI, pki, PARTIES)


def build_gas_pki() -> Pki:
    """Test parties, the GSME, its GPF and the premises' PPMID."""
    return make_pki([GSME_EUI, GPF_EUI, PPMID_EUI], at=datetime(2014, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="session")
def gas_pki() -> Pki:
    return build_gas_pki()


@pytest.fixture(scope="session")
def gas_hub(gas_pki: Pki) -> Protection:
    return Protection(gas_pki)
