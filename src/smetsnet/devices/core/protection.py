"""The device's side of GBCS protection, over its raw key material.

:class:`DeviceProtection` is a :class:`~smetsnet.gbcs.protection.Protection` whose secrets and
signatures come from one device's :class:`DeviceKeys` and :class:`TrustAnchors` instead of a key
store: the builders (:func:`~smetsnet.gbcs.builders.build_message`) and
:func:`~smetsnet.gbcs.sensitive.sealed_response_item` then protect responses and alerts exactly
as for any other party. It is made per message (two empty dicts) and holds no key objects.

An ECS21b command to an "unknown remote party" carries that party's key-agreement certificate in
its other-information; the response then carries the supplementary remote party, its counter and
the device's own supplementary originator counter, and its sensitive data is encrypted to the
certificate's key: KDF type 4 from Z(device KA, certificate point), recipient = the
supplementary remote party, counter = the supplementary originator counter (RTDS 4.14 ECS21b
URP; :meth:`smetsnet.gbcs.protection.Protection.decryptor` opens it the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.devices.core.keys import DeviceKeys, TrustAnchors
from smetsnet.errors import GbcsKeyNotFound
from smetsnet.gbcs import crypto
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.keystore import MemoryKeyStore
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection

_NO_KEYS = MemoryKeyStore()


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownParty:
    """The remote party of an ECS21b URP command: its KA point and the device's counter."""

    point: bytes
    counter: int  # the response's supplementary originator counter


class DeviceProtection(Protection):
    """Protection as one device computes it (its Z with each anchored party)."""

    def __init__(
        self,
        *,
        eui: bytes,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        access_control_broker: bytes = ACCESS_CONTROL_BROKER,
        unknown_party: UnknownParty | None = None,
    ) -> None:
        super().__init__(_NO_KEYS, access_control_broker=access_control_broker)
        self._eui = eui
        self._keys = keys
        self._anchors = anchors
        self.unknown_party = unknown_party

    def reply_header(self, command: GroupingHeader) -> GroupingHeader:
        """The response's grouping header (URP: with the supplementary party and counters)."""
        urp = self.unknown_party
        return GroupingHeader(
            cra=Cra.RESPONSE,
            counter=command.counter,
            originator=self._eui,
            recipient=command.originator,
            message_code=command.message_code,
            supplementary_remote_party=command.supplementary_remote_party if urp else None,
            supplementary_remote_party_counter=(
                command.supplementary_remote_party_counter if urp else None
            ),
            supplementary_originator_counter=urp.counter if urp else None,
        )

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

    def seal_sensitive(
        self, header: GroupingHeader, invocation_counter: int, plaintext: bytes
    ) -> tuple[bytes, bytes]:
        urp = self.unknown_party
        if urp is None or header.supplementary_originator_counter is None:
            return super().seal_sensitive(header, invocation_counter, plaintext)
        reader = header.supplementary_remote_party or header.recipient
        z = self._keys.agree(urp.point)  # not cached: the party is not one of the anchors
        key = crypto.kdf(
            z,
            crypto.KdfType.SENSITIVE_DATA,
            header.originator,
            header.supplementary_originator_counter,
            reader,
        )
        iv = header.originator + invocation_counter.to_bytes(4, "big")
        return crypto.seal_sensitive(key, iv, plaintext)
