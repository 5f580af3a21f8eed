"""Consumer devices on the HAN: the prepayment meter interface (PPMID) and the in-home display.

Both join the HAN through the comms hub's whitelist (:meth:`CommsHub.join`) and show what they
read from the meters over the HAN; the reads are modelled as method calls on the meters, not as
ZigBee frames. The PPMID is a GBCS device of its own (keys, anchors, CS03A2/CS03C join, CS04
unjoin, CS07): in RTDS 8.7.2 the ACB sends and signs its joins ("non-critical" variant), so it
accepts a join signed by the supplier or the ACB (its signer table). A UTRN typed on the PPMID
is applied by the electricity meter's own top-up path (:meth:`Esme.apply_local_utrn`: same
duplicate / not-authentic / not-for-this-device checks as a remote CS01a). Emergency credit is
taken on the meters the PPMID is paired with (the premises pairs it with its ESME and its
GSME): on the ESME as at its own interface (:meth:`Esme.activate_emergency_credit`), on the
GSME as PCS02 (:meth:`GasPremises.emergency_credit_from_ppmid`: the GSME accepts it from its
joined PPMID only).

Firmware (11.4, ZigBee OTA, "combined": delivered and activated together, DOMAIN.md §6): the
PPMID checks an image the comms hub hands it as the meters do (supplier's signature,
:func:`~smetsnet.devices.core.check_image`) and runs a verified one at once; it sends no
GBCS receipt alert (the DCC's N60/N61 tell the supplier), so an image that fails the check is
discarded, which the comms hub reports (FirmwareImageDiscarded: N61) [inferred]. CS08 (11.2)
reads the version it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from smetsnet.devices.core.device import (
    SIGNER_ROLES,
    Execution,
    SimulatedDevice,
    UnsupportedCommand,
)
from smetsnet.devices.core.firmware import Transfer, check_image
from smetsnet.devices.core.keys import DeviceKeys, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.esme import Esme
from smetsnet.devices.esme.meter import TopUpResult
from smetsnet.devices.esme.state import HALF_HOUR, PENCE
from smetsnet.devices.gas import GasPremises
from smetsnet.devices.han.hub import CommsHub
from smetsnet.gbcs.asn1.firmware import ReadFirmwareVersionCommand, ReadFirmwareVersionResponse
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
from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.dlms import seconds_since_2000
from smetsnet.inventory.model import DeviceType

#: Critical join use cases a PPMID answers, signed by the supplier or (RTDS 8.7.2, sent by
#: the ACB) the ACB: CS03A1, CS03A2, CS03C, CS04AC.
JOIN_SIGNERS = frozenset({Role.SUPPLIER, Role.ACCESS_CONTROL_BROKER})
PPMID_SIGNERS = {**SIGNER_ROLES, **dict.fromkeys((0x000D, 0x00AB, 0x00AF, 0x000F), JOIN_SIGNERS)}
#: The meter a consumer's request on the PPMID is for.
Fuel = Literal["electricity", "gas"]
#: CS03 response codes (GBCS-PAYLOADS §3).
JOIN_OK, BAD_METHOD, MISSING_CERTIFICATE = 0, 2, 11
NO_CBKE_RESPONSE = 13
#: The version a PPMID runs before any upgrade (as the meters' first version).
FIRST_FIRMWARE = b"\x00\x01\x00\x00"


@dataclass(frozen=True, slots=True, kw_only=True)
class Display:
    """What a consumer device shows (money in pence, energy in Wh)."""

    electricity_credit_pence: int | None
    electricity_import_wh: int | None
    electricity_today_wh: int | None
    supply: str | None
    gas_credit_pence: int | None = None
    gas_import_wh: int | None = None


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

    __slots__ = ("esme", "firmware", "gas", "hub", "partners")
    SIGNERS = PPMID_SIGNERS
    DEVICE_TYPE = DeviceType.PPMID

    def __init__(
        self, *, eui: bytes, keys: DeviceKeys, anchors: TrustAnchors, hub: CommsHub | None = None
    ) -> None:
        super().__init__(eui=eui, keys=keys, anchors=anchors)
        self.hub = hub
        self.esme: Esme | None = None
        self.gas: object | None = None
        #: meters this PPMID is paired with (CS03): EUI -> GBCS DeviceType (0 GSME, 1 ESME)
        self.partners: dict[bytes, int] = {}
        #: the firmware version it runs (the OTA file version of its last image)
        self.firmware = FIRST_FIRMWARE

    # -- consumer side --------------------------------------------------------------------------
    def join_han(self, now: datetime) -> bool:
        return self.hub is not None and self.hub.join(self.eui, now)

    def on_han(self) -> bool:
        return self.hub is not None and self.hub.joined(self.eui)

    def display(self, now: datetime) -> Display | None:
        return read_display(self.esme, self.gas, now) if self.on_han() else None

    def enter_utrn(self, utrn: str, now: datetime) -> TopUpResult:
        """The consumer types a UTRN: the ESME applies it by its own top-up path."""
        if self.esme is None or not self.on_han():
            return TopUpResult(accepted=False)
        return self.esme.apply_local_utrn(utrn, now)

    def enable_supply(self, fuel: Fuel | None = None) -> bool:
        """The consumer accepts an armed supply (the button on the PPMID): armed -> enabled, on
        the paired meter of ``fuel`` (None: each paired meter whose supply is armed)."""
        if not self.on_han():
            return False
        enabled = False
        esme = self.esme if fuel in (None, "electricity") else None
        if esme is not None and esme.state.supply == "armed":
            esme.state.supply = "enabled"
            enabled = True
        if fuel in (None, "gas") and isinstance(self.gas, GasPremises):
            enabled = self.gas.enable_supply() or enabled
        return enabled

    def request_emergency_credit(self, now: datetime, fuel: Fuel | None = None) -> TopUpResult:
        """The consumer takes emergency credit on the PPMID, on the paired meter of ``fuel``
        (None: each paired meter): granted when a meter allowed it, with every alert the meters
        raised (the gas side's include the GSME's wakes that fell due first)."""
        if not self.on_han():
            return TopUpResult(accepted=False)
        accepted, alerts = False, []
        if fuel in (None, "electricity") and self.esme is not None:
            result = self.esme.activate_emergency_credit(now)
            accepted, alerts = result.accepted, list(result.alerts)
        if fuel in (None, "gas") and isinstance(self.gas, GasPremises):
            granted, sent = self.gas.emergency_credit_from_ppmid(self.eui, now)
            accepted, alerts = accepted or granted, alerts + sent
        return TopUpResult(accepted=accepted, alerts=alerts)

    # -- GBCS -----------------------------------------------------------------------------------
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
        if isinstance(payload, ReadFirmwareVersionCommand):
            return Execution(
                payload=ReadFirmwareVersionResponse(firmware_version=self.firmware, code=0)
            )
        raise UnsupportedCommand(f"{message.use_case} is not supported by the PPMID")

    def receive_firmware_image(self, image: bytes) -> Transfer:
        """11.4: an image handed over by the comms hub, checked and (verified) run at once;
        DISCARDED when the check fails (module docstring)."""
        check = check_image(image, self.anchors)
        if not check.verified or check.parts is None:
            return Transfer.DISCARDED
        self.firmware = check.parts.version
        return Transfer.SUCCESS

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
    def state_json(self) -> dict[str, Any]:
        return {
            "partners": {k.hex(): v for k, v in self.partners.items()},
            "firmware": self.firmware.hex(),
        }

    def load_state_json(self, data: dict[str, Any]) -> None:
        self.partners = {bytes.fromhex(k): int(v) for k, v in data["partners"].items()}
        self.firmware = bytes.fromhex(data.get("firmware", FIRST_FIRMWARE.hex()))


__all__ = ["Display", "Fuel", "Ihd", "Ppmid", "TopUpResult", "read_display"]
