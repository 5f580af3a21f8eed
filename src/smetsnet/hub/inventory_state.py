"""What translators may look up in the hub (``translate.asn1.HubState``), over its inventory,
SMKI look-up and the DCC parties' counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from smetsnet.gbcs.asn1 import Role
from smetsnet.hub.translate.asn1 import HubStateMissing
from smetsnet.inventory import DeviceType

if TYPE_CHECKING:
    from smetsnet.hub.service import Hub

#: The DCC parties the hub originates commands as (test PKI EUIs, DOMAIN.md §0).
DCC_PARTIES: dict[Role, bytes] = {
    Role.ACCESS_CONTROL_BROKER: bytes.fromhex("90B3D51F30000002"),
    Role.TRANSITIONAL_COS: bytes.fromhex("90B3D51F30000004"),
}


class InventoryState:
    """What translators may look up in the hub (``translate.asn1.HubState``)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        #: (party EUI, counter) once a translator reserved a DCC party's counter.
        self.reserved: tuple[bytes, int] | None = None

    def device_type(self, device_id: bytes) -> DeviceType | None:
        found = self.hub.inventory.find_device(device_id)
        return None if found is None else found.type

    def key_agreement_certificate(self, device_id: bytes) -> bytes | None:
        for certificate in self.hub.certificates_by_eui.get(device_id, []):
            try:
                usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
            except x509.ExtensionNotFound:
                continue
            if usage.key_agreement:
                return certificate.public_bytes(Encoding.DER)
        return None

    def originator_counter(self, party: Role) -> int:
        eui = DCC_PARTIES.get(party)
        if eui is None:
            raise HubStateMissing(f"the hub does not act as {party.name}")
        counter = self.hub.next_dcc_counter()
        self.reserved = (eui, counter)
        return counter
