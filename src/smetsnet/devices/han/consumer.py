"""Consumer devices on the HAN: the prepayment meter interface (PPMID) and the in-home display.

Both join the HAN through the comms hub's whitelist (:meth:`CommsHub.join`) and show what they
read from the meters over the HAN; the reads are modelled as method calls on the meters, not as
ZigBee frames. The PPMID is a GBCS device of its own (keys, anchors, CS03A2/CS03C join, CS04
unjoin, CS07): in RTDS 8.7.2 the ACB sends and signs its joins ("non-critical" variant), so it
accepts a join signed by the supplier or the ACB. A UTRN typed on the PPMID is applied by the
electricity meter's own top-up path (same duplicate / not-authentic / not-for-this-device
checks as a remote CS01a); emergency credit on gas goes as PCS02 when a gas meter is present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.device import Execution, Rejected, SimulatedDevice, UnsupportedCommand
from smetsnet.devices.core.keys import DeviceKeys, Identity, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.esme import Esme
from smetsnet.devices.esme.cosem import SUCCESS, Context
from smetsnet.devices.esme.objects import esme_objects
from smetsnet.devices.esme.state import HALF_HOUR, PENCE
from smetsnet.devices.han.hub import CommsHub
from smetsnet.errors import GbcsError
from smetsnet.gbcs.asn1.join import (
    JoinCommand,
    JoinMethod,
    JoinResponse,
    ReadDeviceJoinDetailsCommand,
    ReadDeviceJoinDetailsResponse,
    UnjoinCommand,
    UnjoinResponse,
)
from smetsnet.gbcs.asn1.types import DeviceLogEntry
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.dlms import OctetString, seconds_since_2000
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.keystore import KeyStore, KeyUsage
from smetsnet.gbcs.utrn import parse_utrn
from smetsnet.inventory.model import DeviceType

#: Join use cases a PPMID answers, signed by the supplier or (RTDS 8.7.2) the ACB.
JOIN_CODES = frozenset({0x000D, 0x00AB, 0x000E, 0x00AF, 0x000F, 0x0010, 0x0013})
JOIN_SIGNERS = frozenset({Role.SUPPLIER, Role.ACCESS_CONTROL_BROKER})
#: CS03 response codes (GBCS-PAYLOADS §3).
JOIN_OK, BAD_METHOD, MISSING_CERTIFICATE = 0, 2, 11
NO_CBKE_RESPONSE = 13
CS01A_TOP_UP = 0x0007
_TOKEN_GATEWAY = (115, "0-0:19.40.0.255", 1)
_ESME_SERVER = esme_objects()


@dataclass(frozen=True, slots=True, kw_only=True)
class Display:
    """What a consumer device shows (money in pence, energy in Wh)."""

    electricity_credit_pence: int | None
    electricity_import_wh: int | None
    electricity_today_wh: int | None
    supply: str | None
    gas_credit_pence: int | None = None
    gas_import_wh: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUpResult:
    """A UTRN typed on the PPMID: accepted or not, and the alerts the meter raised."""

    accepted: bool
    alerts: list[bytes] = field(default_factory=list)


def read_display(esme: Esme | None, gas: object | None, now: datetime) -> Display:
    """Read the meters over the HAN (modelled as reads of their state)."""
    if esme is None:
        elec: tuple[int | None, int | None, int | None, str | None] = (None, None, None, None)
    else:
        s = esme.state
        midnight = seconds_since_2000(now) // 86400 * 86400
        first = max(0, (midnight - s.profile_start) // HALF_HOUR)
        today = int(s.profile_wh[first:].sum()) if len(s.profile_wh) else 0
        elec = (s.balance // PENCE, s.import_wh, today, s.supply)
    gas_credit = getattr(gas, "credit_pence", None) if gas is not None else None
    gas_wh = getattr(gas, "import_wh", None) if gas is not None else None
    return Display(
        electricity_credit_pence=elec[0],
        electricity_import_wh=elec[1],
        electricity_today_wh=elec[2],
        supply=elec[3],
        gas_credit_pence=gas_credit if isinstance(gas_credit, int) else None,
        gas_import_wh=gas_wh if isinstance(gas_wh, int) else None,
    )


class Ihd:
    """In-home display: a type-2 HAN device (no GBCS credentials); joins and shows readings."""

    __slots__ = ("esme", "eui", "gas", "hub")

    def __init__(self, *, eui: bytes, hub: CommsHub | None = None) -> None:
        self.eui = eui
        self.hub = hub
        self.esme: Esme | None = None
        self.gas: object | None = None

    def join_han(self, now: datetime) -> bool:
        return self.hub is not None and self.hub.join(self.eui, now)

    def display(self, now: datetime) -> Display | None:
        """The readings, or None while the display is not on the HAN."""
        if self.hub is None or not self.hub.joined(self.eui):
            return None
        return read_display(self.esme, self.gas, now)

    def to_json(self) -> dict[str, Any]:
        return {"eui": self.eui.hex(), "type": "IHD"}


class Ppmid(SimulatedDevice):
    """Prepayment meter interface: joins, displays credit, takes UTRNs and EC requests."""

    __slots__ = ("esme", "gas", "hub", "partners")

    def __init__(
        self, *, eui: bytes, keys: DeviceKeys, anchors: TrustAnchors, hub: CommsHub | None = None
    ) -> None:
        super().__init__(
            identity=Identity(eui=eui, device_type=DeviceType.PPMID), keys=keys, anchors=anchors
        )
        self.hub = hub
        self.esme: Esme | None = None
        self.gas: object | None = None
        #: meters this PPMID is paired with (CS03): EUI -> GBCS DeviceType (0 GSME, 1 ESME)
        self.partners: dict[bytes, int] = {}

    @classmethod
    def from_keystore(cls, eui: bytes, keystore: KeyStore, parties: dict[Role, bytes]) -> Ppmid:
        return cls(
            eui=eui,
            keys=DeviceKeys.from_keystore(keystore, eui),
            anchors=TrustAnchors.from_keystore(keystore, parties),
        )

    # -- consumer side --------------------------------------------------------------------------
    def join_han(self, now: datetime) -> bool:
        return self.hub is not None and self.hub.join(self.eui, now)

    def on_han(self) -> bool:
        return self.hub is not None and self.hub.joined(self.eui)

    def display(self, now: datetime) -> Display | None:
        return read_display(self.esme, self.gas, now) if self.on_han() else None

    def enter_utrn(self, utrn: str, now: datetime) -> TopUpResult:
        """The consumer types a UTRN: the ESME applies it by its own top-up path."""
        esme = self.esme
        if esme is None or not self.on_han():
            return TopUpResult(accepted=False)
        anchor = esme.anchors.get((Role.SUPPLIER, KeyUsage.KEY_AGREEMENT, True))
        if anchor is None:
            return TopUpResult(accepted=False)
        header = GroupingHeader(
            cra=Cra.COMMAND,
            counter=_top_up_counter(utrn, esme.state.utrn_counters),
            originator=anchor.eui,
            recipient=esme.eui,
            message_code=CS01A_TOP_UP,
        )
        ctx = Context(state=esme.state, now=now, header=header, top_up=esme._top_up)
        result = _ESME_SERVER.action(ctx, _TOKEN_GATEWAY, OctetString(value=utrn.encode("ascii")))
        alerts = [esme.alert(a, now) for a in ctx.alerts]
        return TopUpResult(accepted=result == SUCCESS, alerts=alerts)

    def enable_supply(self) -> bool:
        """The consumer accepts an armed supply (the button on the PPMID): armed -> enabled."""
        if self.esme is None or self.esme.state.supply != "armed" or not self.on_han():
            return False
        self.esme.state.supply = "enabled"
        return True

    def request_emergency_credit(self, now: datetime) -> list[bytes]:
        """PCS02 to the gas meter when there is one that models it; returns what it sent back."""
        request = getattr(self.gas, "emergency_credit_from_ppmid", None)
        if request is None or not self.on_han():
            return []
        out = request(self.eui, now)
        return list(out) if isinstance(out, list) else []

    # -- GBCS -----------------------------------------------------------------------------------
    def _check(self, wire: bytes, protection: DeviceProtection) -> GbcsMessage:
        try:
            message = decode_message(wire)
        except GbcsError:
            return super()._check(wire, protection)
        header = message.header
        if header.message_code not in JOIN_CODES or message.frame.signature is None:
            return super()._check(wire, protection)
        # Same checks in the same order as the core, with the ACB allowed to sign joins.
        if header.recipient != self.eui or header.cra != Cra.COMMAND:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, "not a command for this device")
        self._check_mac(message.frame, protection)
        signers = JOIN_SIGNERS & self.anchors.roles_of(header.originator)
        if not signers:
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "originator may not sign a join")
        self._check_signature(message.frame, signers)
        self._check_counter(header.originator, header.counter, False)
        if not self.operational:
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "device is not operational")
        self.last_counters[header.originator] = header.counter
        return message

    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        payload = message.payload
        if isinstance(payload, JoinCommand):
            return Execution(payload=JoinResponse(code=self._join(payload)))
        if isinstance(payload, UnjoinCommand):
            found = self.partners.pop(payload.partner_id, None) is not None
            return Execution(payload=UnjoinResponse(code=0 if found else 1))
        if isinstance(payload, ReadDeviceJoinDetailsCommand):
            entries = tuple(
                DeviceLogEntry(device_id=eui, device_type=kind)
                for eui, kind in self.partners.items()
            )
            return Execution(payload=ReadDeviceJoinDetailsResponse(code=0, entries=entries))
        raise UnsupportedCommand(f"{message.use_case} is not supported by the PPMID")

    def _join(self, command: JoinCommand) -> int:
        if command.method not in (JoinMethod.METHOD_A_RESPONDER, JoinMethod.METHOD_C):
            return BAD_METHOD
        if command.method == JoinMethod.METHOD_C and command.partner_certificate is None:
            return MISSING_CERTIFICATE  # RTDS 8.7.2 CS03C ERROR
        if self.hub is not None and not self.hub.joined(self.eui):
            return NO_CBKE_RESPONSE  # not on the HAN: the key establishment cannot run
        self.partners[command.partner_id] = command.partner_type
        return JOIN_OK

    # -- persistence ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "eui": self.eui.hex(),
            "type": "PPMID",
            "keys": self.keys.to_json(),
            "anchors": self.anchors.to_json(),
            "security": self.security_json(),
            "partners": {k.hex(): v for k, v in self.partners.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ppmid:
        device = cls(
            eui=bytes.fromhex(data["eui"]),
            keys=DeviceKeys.from_json(data["keys"]),
            anchors=TrustAnchors.from_json(data["anchors"]),
        )
        device.load_security_json(data["security"])
        device.partners = {bytes.fromhex(k): int(v) for k, v in data["partners"].items()}
        return device


def _top_up_counter(utrn: str, cache: list[int]) -> int:
    """The top-up counter a locally typed UTRN stands for: the UTRN carries bits 32-41 of it
    (GBCS-PAYLOADS §4); the higher bits come from the newest top-up the meter has seen, moved
    on by one wrap when the bits fell far behind it."""
    try:
        bits = parse_utrn(utrn).counter_bits
    except GbcsError:
        return 0  # the meter's own check rejects it (not authentic)
    latest = max(cache, default=0)
    counter = (latest >> 42 << 42) | bits << 32
    if counter + (1 << 41) < latest:
        counter += 1 << 42
    return counter


__all__ = ["Display", "Ihd", "Ppmid", "TopUpResult", "read_display"]
