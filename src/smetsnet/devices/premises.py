"""One simulated premises: comms hub, electricity meter, optional gas side, PPMID and IHD.

:meth:`Premises.deliver` routes a GBCS message by its recipient EUI over the HAN (the CHF, the
ESME, the PPMID or the auxiliary load control switch; anything else to the gas side, whose
GPF/GSME answer for themselves) and returns every message the premises sends back.
:meth:`Premises.advance` moves the clock: each half-hour of the consumption model
(:func:`~smetsnet.devices.consumption.half_hourly_wh`) is recorded into the ESME (registers,
profile, billing, prepayment), due work runs, and the gas side wakes. A power outage stops
recording until the restore, which raises ECS80 to the network operator.

The gas side is a :class:`~smetsnet.devices.gas.GasPremises` (GSME and the GPF on the comms
hub); it is optional. Commissioning whitelists the GSME on the CHF too and joins the PPMID to the
GSME with its key-agreement key (as CS03C), so the PPMID's emergency-credit request (PCS02) and
its gas display work.

A firmware image the DCC distributed to the comms hub (``smetsnet.wan.firmware``) is handed by
:meth:`Premises.hand_over_firmware` to its target devices on the HAN, with what became of it
for each (:class:`~smetsnet.devices.core.firmware.Transfer`, the CCS08 codes): the ESME and the
auxiliary switch check the supplier's signature and report receipt (0x00CE); the GPF holds the
image for the sleeping GSME, which takes, checks, reports (0x00CF) and runs it at its next wake;
the PPMID checks and runs it at once, or discards it. A target not on the HAN fails; one whose
hardware version the image's OTA header excludes is not offered it (the comms hub, as the ZigBee
OTA server, answers a device's query with images for its hardware only [inferred]).

An auxiliary load control switch (:class:`~smetsnet.devices.esme.Hcalcs`, DCC Boxed's
``…90-A6``) is optional too: commissioning whitelists and joins it like the ESME, and messages
addressed to it are delivered to it over the HAN.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from smetsnet.devices.consumption import Fuel, Household
from smetsnet.devices.core.device import Alert
from smetsnet.devices.core.firmware import Transfer, fits_hardware
from smetsnet.devices.esme import Esme, Hcalcs
from smetsnet.devices.gas import GasPremises
from smetsnet.devices.han import CommsHub, Ihd, Ppmid
from smetsnet.errors import GbcsError
from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.inventory.model import DeviceType

HALF_HOUR = timedelta(minutes=30)
TAMPER = 0x8F3F  # unauthorised physical access, tamper detect (DOMAIN.md §7)


GasSide = GasPremises


class Premises:
    """A premises' devices on one HAN, advanced through time together."""

    __slots__ = (
        "_day",
        "_household",
        "auxiliary",
        "clock",
        "esme",
        "gas",
        "hub",
        "ihd",
        "outage_since",
        "ppmid",
        "seed",
    )

    def __init__(
        self,
        *,
        seed: int,
        clock: datetime,
        hub: CommsHub,
        esme: Esme,
        ppmid: Ppmid | None = None,
        ihd: Ihd | None = None,
        gas: GasSide | None = None,
        auxiliary: Hcalcs | None = None,
    ) -> None:
        if clock.minute % 30 or clock.second or clock.microsecond:
            raise ValueError("a premises' clock starts on a half-hour boundary")
        self.seed = seed
        self.clock = clock
        self.hub = hub
        self.esme = esme
        self.ppmid = ppmid
        self.ihd = ihd
        self.gas = gas
        self.auxiliary = auxiliary
        self.outage_since: datetime | None = None
        #: the consumption model's day being recorded (computed once a day, not per advance)
        self._day: tuple[date, npt.NDArray[np.uint32]] | None = None
        self._household = Household(seed, Fuel.ELECTRICITY)
        for device in (ppmid, ihd):
            if device is not None:
                device.hub, device.esme, device.gas = hub, esme, gas

    # -- commissioning --------------------------------------------------------------------------
    def commission(self, now: datetime) -> list[bytes]:
        """Whitelist the ESME and the consumer devices on the CHF and join them (CCS01 then
        join); returns the CS14 alerts."""
        out: list[bytes] = []
        members = [(self.esme.eui, DeviceType.ESME)]
        members += [
            (d.eui, t) for d, t in ((self.ppmid, DeviceType.PPMID), (self.ihd, DeviceType.IHD)) if d
        ]
        if self.auxiliary is not None:
            members.append((self.auxiliary.eui, DeviceType.HCALCS))
        if self.gas is not None:
            members.append((self.gas.gsme.eui, DeviceType.GSME))
        for eui, kind in members:
            out += self.hub.whitelist(eui, now, link_key=bytes(16), device_type=int(kind))
            self.hub.join(eui, now)
        if self.gas is not None and self.ppmid is not None:
            self.gas.join_ppmid(
                self.ppmid.eui, self.ppmid.keys.public_point(KeyUsage.KEY_AGREEMENT)
            )
        return out

    # -- messages -------------------------------------------------------------------------------
    def deliver(self, wire: bytes, now: datetime) -> list[bytes]:
        """A message from the WAN: its recipient answers; returns response first, then alerts.
        The comms hub routes by the frame's grouping header alone, as on the HAN: the payload
        is the recipient's to decode (and to refuse)."""
        try:
            recipient = decode_frame(wire).header.recipient
        except GbcsError:
            recipient = b""
        for device in (self.hub, self.esme, self.ppmid, self.auxiliary):
            if device is not None and recipient == device.eui:
                if device is not self.hub and not self.hub.joined(device.eui):
                    return []  # not on the HAN: the CHF cannot reach it
                outcome = device.receive(wire, now)
                head = [outcome.response] if outcome.response is not None else []
                return head + outcome.alerts
        return self.gas.deliver(wire, now) if self.gas is not None else []

    def hand_over_firmware(
        self, image: bytes, targets: tuple[bytes, ...], now: datetime
    ) -> tuple[dict[bytes, Transfer], list[bytes]]:
        """The comms hub hands a distributed image to each target on its HAN (module
        docstring): what became of it per target, and the devices' receipt alerts."""
        alerts: list[bytes] = []
        outcome = {eui: self._hand_over_to(eui, image, now, alerts) for eui in targets}
        return outcome, alerts

    def _hand_over_to(
        self, eui: bytes, image: bytes, now: datetime, alerts: list[bytes]
    ) -> Transfer:
        taker = self._firmware_taker(eui)
        if taker is None or not self.hub.joined(eui):
            return Transfer.FAILURE  # no device here that takes an image, or not on the HAN
        if not fits_hardware(image):
            return Transfer.HARDWARE_MISMATCH
        if isinstance(taker, Ppmid):
            return taker.receive_firmware_image(image)
        if isinstance(taker, GasPremises):
            taker.hold_firmware(image)  # for the GSME's next wake
        else:
            alerts += taker.receive_firmware_image(image, now)
        return Transfer.SUCCESS

    def _firmware_taker(self, eui: bytes) -> Esme | Ppmid | GasPremises | None:
        """The device of these premises with this EUI that takes firmware images (the GSME's
        through its gas side)."""
        for device in (self.esme, self.auxiliary, self.ppmid):
            if device is not None and device.eui == eui:
                return device
        return self.gas if self.gas is not None and self.gas.gsme.eui == eui else None

    # -- time -----------------------------------------------------------------------------------
    def advance(self, now: datetime) -> list[bytes]:
        """Record every whole half-hour up to ``now``; run due work; returns the alerts."""
        out: list[bytes] = []
        while self.clock + HALF_HOUR <= now:
            day = self.clock.date()
            first = (self.clock.hour * 60 + self.clock.minute) // 30
            last = min(48, first + int((now - self.clock) / HALF_HOUR))
            if self._day is None or self._day[0] != day:
                self._day = (day, self._household.half_hourly_wh(day))
            wh = self._day[1][first:last]
            if self.outage_since is not None:
                wh = np.zeros_like(wh)
            out += self.esme.record_half_hours(self.clock, wh)
            self.clock += HALF_HOUR * (last - first)
        for device in (self.hub, self.esme, self.ppmid, self.auxiliary):
            tick = getattr(device, "tick", None)
            if callable(tick):
                out += tick(now)
        if self.gas is not None:
            out += self.gas.advance(now)
        return out

    # -- physical events ------------------------------------------------------------------------
    def power_outage(self, now: datetime) -> None:
        """Mains lost: nothing is recorded until :meth:`power_restored`."""
        self.advance(now)
        self.outage_since = self.outage_since or now

    def power_restored(self, now: datetime) -> list[bytes]:
        """Mains back: ECS80 (0x8F36 / 0x8F35) to the network operator."""
        started = self.outage_since
        out = self.advance(now)
        self.outage_since = None
        if started is not None:
            out.append(self.esme.power_outage(started, now))
        return out

    def tamper(self, now: datetime, code: int = TAMPER) -> bytes:
        """The meter's case is opened: a critical tamper alert to the supplier."""
        return self.esme.alert(Alert(code=code), now)

    # -- persistence ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "clock": self.clock.isoformat(),
            "outage_since": self.outage_since.isoformat() if self.outage_since else None,
            "hub": self.hub.to_json(),
            "esme": self.esme.to_json(),
            "ppmid": self.ppmid.to_json() if self.ppmid else None,
            "ihd": self.ihd.to_json() if self.ihd else None,
            "gas": self.gas.to_json() if self.gas is not None else None,
            "auxiliary": self.auxiliary.to_json() if self.auxiliary is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Premises:
        """Load a saved premises (with its gas side when it has one)."""
        ihd, gas, auxiliary = data.get("ihd"), data.get("gas"), data.get("auxiliary")
        premises = cls(
            seed=int(data["seed"]),
            clock=datetime.fromisoformat(data["clock"]),
            hub=CommsHub.from_json(data["hub"]),
            esme=Esme.from_json(data["esme"]),
            ppmid=Ppmid.from_json(data["ppmid"]) if data.get("ppmid") else None,
            ihd=Ihd(eui=bytes.fromhex(ihd["eui"])) if ihd else None,
            gas=GasPremises.from_json(gas) if gas else None,
            auxiliary=Hcalcs.from_json(auxiliary) if auxiliary else None,
        )
        since = data.get("outage_since")
        premises.outage_since = datetime.fromisoformat(since) if since else None
        return premises


__all__ = ["TAMPER", "GasSide", "Premises"]
