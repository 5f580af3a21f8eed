"""A gas premises: the GSME, the GPF on the comms hub, the meter's wake cycle and battery.

:meth:`GasPremises.deliver` takes a message from the WAN: the GPF answers what is addressed to
it at once (from its mirror); what is addressed to the GSME waits in the GPF's queue.
:meth:`GasPremises.advance` runs every GSME wake (about every 30 minutes, DOMAIN.md §2.4) up to a
time: the meter records the gas used since its last wake (the consumption model), runs its
future-dated commands that are due, takes and executes its queued commands, and the GPF passes
back the responses and alerts and refreshes its mirror. The battery pays for each wake and each
message the meter receives or sends (:class:`BatteryModel`); below its low threshold the meter
raises 0x8F1F once.

A firmware image the comms hub received for the GSME (:meth:`GasPremises.hold_firmware`) waits
at the GPF; the meter collects it at its next wake, after its queued commands, and checks,
reports (0x00CF) and runs it there (:meth:`Gsme.receive_firmware_image`) [inferred: the image's
ZigBee OTA blocks counted as one message for the battery].
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from smetsnet.devices.battery import BatteryModel
from smetsnet.devices.consumption import Fuel, Household
from smetsnet.devices.core.device import Alert
from smetsnet.devices.gas import services
from smetsnet.devices.gas.actions import select_emergency_credit
from smetsnet.devices.gas.meter import PENCE, Gpf, Gsme
from smetsnet.devices.gas.server import SUCCESS, Context
from smetsnet.devices.gas.state import HALF_HOUR
from smetsnet.errors import GbcsError
from smetsnet.gbcs.frame import Cra, GroupingHeader, decode_frame

LOW_BATTERY: Final = 0x8F1F  # alert_codes.csv: Low Battery Capacity
GSME_COMMAND_NOT_RETRIEVED: Final = 0x819D
PCS02: Final = 0x0090  # Activate Emergency Credit on GSME from PPMID
#: More messages than a wake with nothing queued can send: a half-hour's prepayment alerts are
#: at most six (two debts cleared, emergency credit exhausted, low credit, emergency credit
#: available, credit exhausted), and the low-battery alert.
MOST_ALERTS_PER_WAKE: Final = 16


class GasPremises:
    """One GSME and its GPF, woken on a fixed schedule."""

    __slots__ = ("_day", "_household", "battery", "gpf", "gsme", "next_wake", "seed")

    def __init__(
        self,
        *,
        gsme: Gsme,
        gpf: Gpf,
        start: datetime,
        seed: int = 0,
        battery: BatteryModel | None = None,
    ) -> None:
        self.gsme = gsme
        self.gpf = gpf
        self.seed = seed
        self.battery = battery or BatteryModel()
        if battery is not None:  # a model of its own: the meter starts with its full battery
            gsme.state.battery_nah = battery.full(1)
        self.next_wake = start + timedelta(seconds=self.battery.wake_interval_s)
        self._day: tuple[date, npt.NDArray[np.uint32]] | None = None
        self._household = Household(seed, Fuel.GAS)
        services.add_partner(gsme.state, gpf.eui, services.GPF_TYPE)  # the GSME's own GPF
        gpf.refresh(gsme.state)

    def deliver(self, wire: bytes, now: datetime) -> list[bytes]:
        """A message from the WAN at ``now``: what comes back at once (wakes due first)."""
        out = self.advance(now)
        try:
            recipient = decode_frame(wire).header.recipient
        except GbcsError:
            recipient = self.gpf.eui  # the hub's GPF rejects what it cannot read (0x8F1E)
        if recipient == self.gsme.eui:
            if not self.gpf.enqueue(wire):
                out.append(self.gpf.alert(Alert(code=GSME_COMMAND_NOT_RETRIEVED), now))
            return out
        outcome = self.gpf.receive(wire, now)
        out.extend([outcome.response] if outcome.response is not None else [])
        out.extend(outcome.alerts)
        return out

    def advance(self, now: datetime) -> list[bytes]:
        """Run every wake up to ``now``: the responses and alerts they produced, in order.
        Wakes with nothing to do but record run together (:meth:`_quiet_wakes`); the GPF's
        mirror is refreshed once, after the last (nothing reads it in between)."""
        out: list[bytes] = []
        step = timedelta(seconds=self.battery.wake_interval_s)
        woke = self.next_wake <= now
        while self.next_wake <= now:
            quiet = self._quiet_wakes(now, step)
            if quiet > 1:
                out.extend(self._sleepy_wakes(quiet, step))
                continue
            out.extend(self._wake(self.next_wake))
            self.next_wake += step
        if woke:  # the mirror as the last wake left the meter
            self.gpf.refresh(self.gsme.state)
        return out

    def _quiet_wakes(self, now: datetime, step: timedelta) -> int:
        """How many wakes up to ``now`` have nothing to do but record (no command or image
        waiting at the GPF, none held by the meter, half-hourly wakes): they can be run as one.
        A run of half-hours is billed and drawn from a prepayment account exactly as one at a
        time (:func:`.core.prepayment.draw_down` goes half-hour by half-hour wherever anything
        can happen: alerts dated at their half-hour, the valve closed at its), so a prepayment
        meter's wakes are run together too, as long as its battery cannot cross the
        low-battery threshold within them (that alert follows its own wake's)."""
        if (
            self.gpf.queue
            or self.gpf.firmware is not None
            or self.gsme.held
            or step != timedelta(seconds=HALF_HOUR)
        ):
            return 0
        count = int((now - self.next_wake) / step) + 1
        state = self.gsme.state
        if state.payment_mode == "prepayment" and not state.low_battery_raised:
            count = min(count, self._wakes_above_low_battery())
        return count

    def _wakes_above_low_battery(self) -> int:
        """How many wakes the battery surely stays at or above its low threshold, each wake
        sending as many as :data:`MOST_ALERTS_PER_WAKE` messages."""
        model = self.battery
        threshold = int(model.capacity_nah * model.low_fraction)
        worst = model.sleep_nah_per_wake + model.wake_nah + MOST_ALERTS_PER_WAKE * model.message_nah
        return max(int(self.gsme.state.battery_nah[0]) - threshold, 0) // worst

    def _sleepy_wakes(self, count: int, step: timedelta) -> list[bytes]:
        """``count`` quiet wakes at once: the same half-hours recorded (in one call), battery
        drained and alerts raised as wake by wake, at a fraction of the cost (a simulated
        national day wakes 4.8 million gas meters)."""
        first = self.next_wake
        last = first + step * (count - 1)
        wh = self._half_hours(first - timedelta(seconds=HALF_HOUR), count)
        gsme = self.gsme
        out = gsme.record_half_hours(first - timedelta(seconds=HALF_HOUR), wh)
        state = gsme.state
        self.battery.drain(state.battery_nah, wakes=count, messages=len(out))
        if not state.low_battery_raised and bool(self.battery.low(state.battery_nah)[0]):
            state.low_battery_raised = True
            out.append(gsme.alert(Alert(code=LOW_BATTERY), last))
        self.next_wake = last + step
        return out

    def _wake(self, when: datetime) -> list[bytes]:
        gsme = self.gsme
        out = gsme.record_half_hours(when - timedelta(seconds=HALF_HOUR), self._half_hour(when))
        out += gsme.tick(when)  # future-dated commands due by this wake (0x8F66/0x8F67)
        queued = self.gpf.take()
        for wire in queued:
            outcome = gsme.receive(wire, when)
            out.extend([outcome.response] if outcome.response is not None else [])
            out.extend(outcome.alerts)
        received = len(queued)
        image = self.gpf.take_firmware()
        if image is not None:
            received += 1
            out.extend(gsme.receive_firmware_image(image, when))
        state = gsme.state
        self.battery.drain(state.battery_nah, wakes=1, messages=received + len(out))
        if not state.low_battery_raised and bool(self.battery.low(state.battery_nah)[0]):
            state.low_battery_raised = True
            out.append(gsme.alert(Alert(code=LOW_BATTERY), when))
        return out

    def hold_firmware(self, image: bytes) -> None:
        """The comms hub received an upgrade image for the GSME: the GPF holds it until the
        meter's next wake (module docstring)."""
        self.gpf.hold_firmware(image)

    # -- the HAN side (PPMID, IHD) ------------------------------------------------------------
    @property
    def credit_pence(self) -> int:
        """Gas credit as the PPMID/IHD show it (whole pence)."""
        return self.gsme.state.balance // PENCE

    @property
    def import_wh(self) -> int:
        return self.gsme.state.energy_wh

    def join_ppmid(self, eui: bytes, ka_point: bytes) -> int:
        """The PPMID joined to the GSME (as CS03C with its KA certificate); the CS03 code."""
        return services.add_partner(self.gsme.state, eui, services.PPMID_TYPE, ka_point.hex())

    def emergency_credit_from_ppmid(self, ppmid: bytes, now: datetime) -> tuple[bool, list[bytes]]:
        """The consumer asks for emergency credit on the PPMID (PCS02 over the HAN, modelled as
        a call like the PPMID's other reads): a joined PPMID only. Whether the meter granted
        it, and what the premises sent meanwhile (wakes due, then the meter's alerts)."""
        out = self.advance(now)
        if services.partner_point(self.gsme.state, ppmid) is None:
            return False, out
        ctx = Context(state=self.gsme.state, now=now, header=_han_header(ppmid, self.gsme.eui))
        granted = select_emergency_credit(ctx) == SUCCESS
        out += [self.gsme.alert(a, now) for a in ctx.alerts]
        self.gpf.refresh(self.gsme.state)
        return granted, out

    def enable_supply(self) -> bool:
        """The consumer opens an armed valve (the button on the meter or the PPMID)."""
        state = self.gsme.state
        if state.supply != "armed":
            return False
        state.supply = "enabled"
        self.gpf.refresh(state)
        return True

    # -- persistence ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "gsme": self.gsme.to_json(),
            "gpf": self.gpf.to_json(),
            "seed": self.seed,
            "next_wake": self.next_wake.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GasPremises:
        gsme, gpf = Gsme.from_json(data["gsme"]), Gpf.from_json(data["gpf"])
        mirror, wake = gpf.mirror, datetime.fromisoformat(data["next_wake"])
        premises = cls(gsme=gsme, gpf=gpf, start=wake, seed=int(data["seed"]))
        premises.next_wake, gpf.mirror = wake, mirror
        return premises

    def _half_hours(self, start: datetime, count: int) -> npt.NDArray[np.uint32]:
        """Wh used in ``count`` consecutive half-hours from ``start`` (a half-hour boundary)."""
        parts = []
        while count > 0:
            day = start.date()
            if self._day is None or self._day[0] != day:
                self._day = (day, self._household.half_hourly_wh(day))
            slot = (start.hour * 3600 + start.minute * 60) // HALF_HOUR
            take = min(count, 48 - slot)
            parts.append(self._day[1][slot : slot + take])
            count -= take
            start += timedelta(seconds=HALF_HOUR * take)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _half_hour(self, wake: datetime) -> npt.NDArray[np.uint32]:
        """Wh used in the half-hour that ends at ``wake`` (the seeded consumption model)."""
        start = wake - timedelta(seconds=HALF_HOUR)
        day = start.date()
        if self._day is None or self._day[0] != day:
            self._day = (day, self._household.half_hourly_wh(day))
        slot = (start.hour * 3600 + start.minute * 60) // HALF_HOUR
        return self._day[1][slot : slot + 1]


def _han_header(ppmid: bytes, gsme: bytes) -> GroupingHeader:
    return GroupingHeader(
        cra=Cra.COMMAND, counter=0, originator=ppmid, recipient=gsme, message_code=PCS02
    )


__all__ = ["GSME_COMMAND_NOT_RETRIEVED", "LOW_BATTERY", "GasPremises"]
