"""The device's side of GBCS protection, over its raw key material.

:class:`DeviceProtection` is a :class:`~smetsnet.gbcs.protection.Protection` whose secrets and
signatures come from one device's :class:`DeviceKeys` and :class:`TrustAnchors` instead of a key
store: the builders (:func:`~smetsnet.gbcs.builders.build_message`) and
:func:`~smetsnet.gbcs.sensitive.sealed_response_item` then protect responses and alerts exactly
as for any other party. It is made per message (two empty dicts) and holds no key objects.
"""

from __future__ import annotations

from smetsnet.devices.core.keys import DeviceKeys, TrustAnchors
from smetsnet.errors import GbcsKeyNotFound
from smetsnet.gbcs.keystore import MemoryKeyStore
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection

_NO_KEYS = MemoryKeyStore()


class DeviceProtection(Protection):
    """Protection as one device computes it (its Z with each anchored party)."""

    def __init__(
        self,
        *,
        eui: bytes,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        access_control_broker: bytes = ACCESS_CONTROL_BROKER,
    ) -> None:
        super().__init__(_NO_KEYS, access_control_broker=access_control_broker)
        self._eui = eui
        self._keys = keys
        self._anchors = anchors

    def shared_secret(self, a: bytes, b: bytes, *, prepayment: bool = False) -> bytes | None:
        if self._eui not in (a, b):
            return None
        other = b if a == self._eui else a
        point = self._anchors.ka_point_of(other)
        return None if point is None else self._keys.shared_secret(point)

    def sign(self, signer: bytes, data: bytes) -> bytes:
        if signer != self._eui:
            raise GbcsKeyNotFound(f"a device signs only as itself, not {signer.hex()}")
        return self._keys.sign(data)
