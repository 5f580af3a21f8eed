"""The simulated gas meter (GSME) and gas proxy function (GPF): GBZ command servers.

Both run the checks of :class:`SimulatedDevice` and then answer each GBZ component from a
:class:`GsmeState` (:mod:`.server`): the GSME from its own state, the GPF from its mirror of it.
Sensitive responses (GCS13a/c, 14, 15c/d, 16a, 17, 61: the RTDS RESPONSE vectors whose
components are encrypted) are sealed for the remote party, one invocation counter per component
(the RTDS vectors count the component frame counter 0, 1, ...; distinct counters keep the GCM
nonces distinct). Alerts are GBZ alerts (GBCS-PAYLOADS §2.5) in the generic 0x1000/0x1001 message.

Firmware (11.1): the comms hub takes the image for the sleeping GSME and the GPF holds it
(:meth:`Gpf.hold_firmware`, one image, a newer one replacing it [inferred]); at its next wake the
GSME collects it (:meth:`Gsme.receive_firmware_image`), checks the supplier's signature as the
ESME does (:func:`~smetsnet.devices.core.firmware.check_image`) and sends the 0x00CF receipt
alert (GBZ, ``09 20`` + image hash; 0x8F72 verified, 0x8F1C verification failed). How a GSME
activates an image is not in our sources; ours [inferred]: a verified image is activated at once
on receipt (a ZigBee OTA upgrade-end with the upgrade time "now"), so the running version (GCS38
reads it) changes at that wake and 0x8F43 follows. A failed image is dropped, the version kept.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from datetime import datetime
from functools import partial
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core import metering
from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.device import (
    Alert,
    Execution,
    Rejected,
    SimulatedDevice,
    UnsupportedCommand,
)
from smetsnet.devices.core.firmware import VERSION_CHANGED, check_image
from smetsnet.devices.core.keys import DeviceKeys, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection, UnknownParty
from smetsnet.devices.core.schedule import Held, cancel
from smetsnet.devices.core.tariff import Calendar, Cost, Tariff
from smetsnet.devices.gas import actions as _actions  # noqa: F401  (registers the handlers)
from smetsnet.devices.gas import prepayment, services
from smetsnet.devices.gas.server import FAILURE, Context, Reply, TopUp, serve
from smetsnet.devices.gas.state import PROFILE_CAPACITY, UTRN_CACHE, GsmeState
from smetsnet.devices.gas.tariff import Memo, gsme_tariff
from smetsnet.errors import GbcsEncodeError, GbcsError, GbcsSecurityError
from smetsnet.gbcs.asn1 import JoinCommand, ReadDeviceJoinDetailsCommand, UnjoinCommand
from smetsnet.gbcs.asn1.misc import SetClockCommand, SetClockResponse, TimeStatus
from smetsnet.gbcs.asn1.types import GeneralizedTime
from smetsnet.gbcs.codec import GbcsMessage, Payload, decode_message
from smetsnet.gbcs.dlms import from_seconds_since_2000, seconds_since_2000
from smetsnet.gbcs.frame import Cra, GroupingHeader, decode_frame
from smetsnet.gbcs.gbz import (
    DefaultResponse,
    Encryption,
    FirmwareReceipt,
    GbzAlert,
    GbzComponent,
    GbzMessage,
    ZclCommand,
)
from smetsnet.gbcs.gbz.spec import METERING, PREPAYMENT
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.payload import SENSITIVE_SECURITY_CONTROL, CipheredContent
from smetsnet.gbcs.registry import PPMID_GSME_COMMAND, message_code_info
from smetsnet.gbcs.utrn import verify_utrn
from smetsnet.inventory.model import DeviceType

PENCE: Final = 1000  # currency units (10^-5 GBP) per penny
#: Message code -> clusters whose (non-Default-Response) replies are encrypted (RTDS responses).
SENSITIVE: Final = {
    0x0074: frozenset({METERING}),  # GCS13a
    0x00B6: frozenset({METERING}),  # GCS13c
    0x0075: frozenset({PREPAYMENT}),  # GCS14 (its Price read is plain)
    0x0076: frozenset({METERING, PREPAYMENT}),  # GCS15c
    0x00C4: frozenset({PREPAYMENT}),  # GCS15d
    0x0077: frozenset({METERING}),  # GCS16a
    0x0078: frozenset({METERING}),  # GCS17
    0x00A0: frozenset({METERING}),  # GCS61
}
#: The GSME's firmware distribution receipt alert (DOMAIN.md §6; GBCS-PAYLOADS §2.5).
FIRMWARE_RECEIPT: Final = 0x00CF
#: Consumer Top Up Response result types used here (ZSE).
ACCEPTED, REJECTED_INVALID, REJECTED_DUPLICATE, REJECTED_MAX_CREDIT = 0, 1, 2, 3


class GbzDevice(SimulatedDevice):
    """A device that answers GBZ commands from a :class:`GsmeState` (GSME or GPF)."""

    __slots__ = ()

    @abstractmethod
    def served_state(self) -> GsmeState:
        """The state this device answers from: the GSME's own, or the GPF's mirror of it."""

    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        return self.answer(message, now, protection, self.served_state())

    def answer(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection, state: GsmeState
    ) -> Execution:
        """Serve every component of a GBZ command from (and onto) ``state``."""
        request = message.payload
        if not isinstance(request, GbzMessage):
            raise UnsupportedCommand(f"{message.use_case} is not a GBZ command")
        ctx = Context(state=state, now=now, header=message.header, top_up=self._top_up_hook())
        reply = _response_header(message.header, self.eui)
        sensitive = SENSITIVE.get(message.header.message_code, frozenset())
        out: list[GbzComponent] = []
        for component in request.components:
            replies: list[Reply]
            if component.command is None:  # an encrypted command we cannot open
                replies = [(component.cluster_id, _failure(component), True)]
            else:
                replies = serve(ctx, component)
            for cluster, command, server_to_client in replies:
                encryption = None
                if cluster in sensitive and not isinstance(command, DefaultResponse):
                    encryption = _seal(protection, reply, command, sum(c.encrypted for c in out))
                out.append(
                    GbzComponent.of(
                        cluster_id=cluster,
                        command=command,
                        sequence=component.sequence,
                        server_to_client=server_to_client,
                        disable_default_response=server_to_client,
                        encryption=encryption,
                    )
                )
        return Execution(payload=GbzMessage.of(components=out), alerts=tuple(ctx.alerts))

    def _top_up_hook(self) -> TopUp | None:
        return None

    # -- alerts in GBZ form ---------------------------------------------------------------------
    def alert_payload(self, alert: Alert, now: datetime) -> Payload:
        """A GBZ alert (GBCS-PAYLOADS §2.5): code and time, no data unless the alert brings
        its own payload (the 0x00CD future-dated outcome)."""
        if alert.payload is not None:
            return alert.payload
        return GbzAlert.of(alert_code=alert.code, timestamp=seconds_since_2000(now))


def _failure(component: GbzComponent) -> DefaultResponse:
    return DefaultResponse(command_id_answered=component.command_id, status=FAILURE)


def _seal(
    protection: DeviceProtection, header: GroupingHeader, command: ZclCommand, index: int
) -> Encryption:
    ciphertext, tag = protection.seal_sensitive(header, index, command.to_bytes())
    return Encryption(
        ciphered=CipheredContent(
            security_control=SENSITIVE_SECURITY_CONTROL,
            invocation_counter=index,
            ciphertext=ciphertext,
            tag=tag,
        ),
        status="decrypted",
        frame_counter=index & 0xFF,
    )


def _response_header(command: GroupingHeader, device: bytes) -> GroupingHeader:
    return GroupingHeader(
        cra=Cra.RESPONSE,
        counter=command.counter,
        originator=device,
        recipient=command.originator,
        message_code=command.message_code,
    )


class Gsme(GbzDevice):
    """A battery-powered gas meter that speaks GBCS GBZ (and ASN.1 for its clock, GCS28)."""

    __slots__ = ("_non_disablement", "_tariff", "state")
    DEVICE_TYPE = DeviceType.GSME

    def __init__(
        self,
        *,
        eui: bytes,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        state: GsmeState | None = None,
    ) -> None:
        super().__init__(eui=eui, keys=keys, anchors=anchors)
        self.state = state or GsmeState()
        #: the tariff and non-disablement calendar last built from the stored publications
        self._tariff: Memo[Tariff] = Memo()
        self._non_disablement: Memo[Calendar | None] = Memo()

    def served_state(self) -> GsmeState:
        return self.state

    # -- PPMID -> GSME commands (PCS01/PCS02) ---------------------------------------------------
    def protection(self, unknown_party: UnknownParty | None = None) -> DeviceProtection:
        """The anchored parties plus the joined PPMID (its KA point from the CS03C join)."""
        return services.PartnerProtection(super().protection(unknown_party), self.state)

    def _check(self, wire: bytes, protection: DeviceProtection) -> GbcsMessage:
        """PPMID->GSME commands: the core trusts remote-party roles only, so the GSME checks
        them itself (GBCS §4.3.3): recipient, MAC between the PPMID's and its own KA keys
        (no ACB: :meth:`Protection.mac_parties`), the originator counter, operational state."""
        try:
            header = decode_frame(wire).header
        except GbcsError:
            return super()._check(wire, protection)
        info = message_code_info(header.message_code)
        if info is None or info.kind != PPMID_GSME_COMMAND:
            return super()._check(wire, protection)
        try:
            message = decode_message(wire)
        except GbcsError as exc:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, f"undecodable: {exc}") from None
        if header.recipient != self.eui or header.cra != Cra.COMMAND:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, "not a command for this device")
        self._check_mac(message.frame, protection)  # an unjoined PPMID has no key: 0x8F1E
        self._check_counter(header.originator, header.counter, False)
        if not self.operational:
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "device is not operational")
        self.last_counters[header.originator] = header.counter
        return message

    # -- behaviour --------------------------------------------------------------------------------
    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        p = message.payload
        if isinstance(p, SetClockCommand):
            return Execution(payload=self._set_clock(p, now))
        if isinstance(p, JoinCommand):
            return Execution(payload=services.join(self.state, p))
        if isinstance(p, UnjoinCommand):
            return Execution(payload=services.unjoin(self.state, p))
        if isinstance(p, ReadDeviceJoinDetailsCommand):
            return Execution(payload=services.join_details(self.state))
        if isinstance(p, GbzMessage):
            clock = seconds_since_2000(now) + self.state.clock_offset_s
            due = services.due_time(p, clock)
            if due is not None:
                return self._future_dated(message, now, protection, due)
        return super().execute(message, now, protection)

    def _future_dated(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection, due: int
    ) -> Execution:
        """Hold (or cancel) the command; it is answered as the meter would answer it now, from
        a scratch copy of its state (GCS01a FUTURE_DATED/CANCELLATION responses: successes)."""
        h = message.header
        if due < 0:
            cancel(self.held, h.message_code, h.originator)
        else:
            self.hold(message, due)
        return Execution(payload=self.answer(message, now, protection, self.state.copy()).payload)

    def run_held(self, message: GbcsMessage, held: Held, now: datetime) -> list[Alert]:
        """A due GBZ command runs on the real state; each dated component is reported by a
        0x00CD alert, 0x8F66 when every component succeeded, else 0x8F67."""
        request = message.payload
        if not isinstance(request, GbzMessage):
            return super().run_held(message, held, now)
        execution = self.answer(message, now, self.protection(), self.state)
        replies = execution.payload.components if isinstance(execution.payload, GbzMessage) else ()
        ok = all(c.command.status == 0 for c in replies if isinstance(c.command, DefaultResponse))
        code = codes.FUTURE_DATED_ACTIONED if ok else codes.FUTURE_DATED_FAILED
        h = message.header
        out = list(execution.alerts)
        for outcome in services.outcomes(request, h.message_code, h.counter):
            payload = GbzAlert.of(alert_code=code, timestamp=held.due, data=outcome)
            out.append(Alert(code=code, message_code=services.FUTURE_DATED_ALERT, payload=payload))
        return out

    def _set_clock(self, command: SetClockCommand, now: datetime) -> SetClockResponse:
        """GCS28: a device clock outside the validity interval is set to its start."""
        device = seconds_since_2000(now) + self.state.clock_offset_s
        start = seconds_since_2000(command.validity_start.to_datetime())
        end = seconds_since_2000(command.validity_end.to_datetime())
        if not start <= device <= end:
            self.state.clock_offset_s += start - device
            device = start
        when = GeneralizedTime.from_datetime(from_seconds_since_2000(device))
        return SetClockResponse(device_time=when, time_status=TimeStatus.RELIABLE)

    def _top_up_hook(self) -> TopUp | None:
        return self._top_up

    def _top_up(self, ctx: Context, utrn: str) -> tuple[int, int]:
        """CS01b: the UTRN verified with the supplier's prepayment KA anchor (as the ESME)."""
        anchor = self.anchors.get((Role.SUPPLIER, KeyUsage.KEY_AGREEMENT, True))
        s, counter = self.state, ctx.header.counter
        cache = s.utrn_counters
        if counter in cache or (len(cache) >= UTRN_CACHE and counter < min(cache)):
            ctx.alerts.append(Alert(code=codes.DUPLICATE_UTRN))
            return REJECTED_DUPLICATE, 0
        if anchor is None:
            return REJECTED_INVALID, 0
        try:
            z = self.keys.shared_secret(anchor.point)
            ptut = verify_utrn(z, utrn=utrn, supplier=anchor.eui, device=self.eui, counter=counter)
        except GbcsEncodeError:
            ctx.alerts.append(Alert(code=codes.UTRN_NOT_AUTHENTIC))
            return REJECTED_INVALID, 0
        except GbcsSecurityError:
            ctx.alerts.append(Alert(code=codes.UTRN_NOT_FOR_THIS_DEVICE))
            return REJECTED_INVALID, 0
        value = ptut.pence * PENCE
        if s.max_credit and s.balance + value > s.max_credit:
            ctx.alerts.append(Alert(code=codes.UTRN_EXCEEDS_MAX_CREDIT))
            return REJECTED_MAX_CREDIT, 0
        cache.append(counter)
        del cache[:-UTRN_CACHE]
        prepayment.credit_top_up(s, value, ctx.clock, ctx.alerts)
        s.top_ups.append((ctx.clock, utrn, value))
        return ACCEPTED, value

    # -- the physical side ----------------------------------------------------------------------
    def activate_emergency_credit(self, now: datetime) -> tuple[bool, list[bytes]]:
        """The consumer takes emergency credit at the meter (its button; the PPMID's request
        arrives as PCS02, :meth:`GasPremises.emergency_credit_from_ppmid`): whether it was
        granted (:func:`.prepayment.take_emergency_credit`), and the alerts it raised."""
        raised: list[Alert] = []
        granted = prepayment.take_emergency_credit(self.state, raised)
        return granted, [self.alert(a, now) for a in raised]

    def record_half_hours(self, start: datetime, wh: npt.ArrayLike) -> list[bytes]:
        """Gas used in consecutive half-hours from ``start`` (Wh): registers (per tier and block
        too), profile, billing at the published tariff (:mod:`.tariff`; else the single price)
        and standing charge. In prepayment the charges and the time-debt instalments are drawn
        from the account (:mod:`.prepayment`); the valve closes when the credit is gone, outside
        the non-disablement periods (nothing used after that). Returns the alerts raised (low
        credit, emergency credit available / exhausted, debt cleared, 0x8F0F)."""
        s = self.state
        tariff = gsme_tariff(s, self._tariff) or metering.single_rate(s.price, s.standing_charge)
        held = None
        if s.payment_mode == "prepayment":  # the non-disablement periods (GCS05's calendar)
            t0, count = seconds_since_2000(start), int(np.size(wh))
            # Worked out only if the draw-down goes half-hour by half-hour (it reads them
            # there alone); the calendar is the meter's, which drawing credit leaves alone.
            held = partial(prepayment.non_disablement, s, t0, count, self._non_disablement)
        raised = account.record_half_hours(
            s,
            tariff,
            s.block_used,
            start,
            wh,
            register=self._register,
            settings=prepayment.settings(s),
            drawn_from=partial(prepayment.log_collections, s),
            non_disabled=held,
        )
        return [self.alert(Alert(code=code), at) for at, code in raised]

    def _register(self, start: datetime, demand: npt.NDArray[np.int64], detail: Cost) -> None:
        """What was used and charged into the registers, the bill and the profile."""
        from smetsnet.devices.consumption import gas_litres

        s = self.state
        s.tier_wh = s.tier_wh + detail.tier_wh
        s.block_wh = s.block_wh + detail.block_wh
        s.block_used = detail.block_used
        s.billed += int(np.add.reduce(detail.cost))
        s.energy_wh += int(np.add.reduce(demand))
        litres = gas_litres(demand.astype(np.uint32))
        s.litres += int(litres.sum(dtype=np.int64))
        s.profile_start, s.profile_l = metering.append_profile(
            s.profile_start, s.profile_l, seconds_since_2000(start), litres, PROFILE_CAPACITY
        )

    def receive_firmware_image(self, image: bytes, now: datetime) -> list[bytes]:
        """The image the GPF held, collected at a wake (module docstring): the 0x00CF receipt
        alert, and on a verified image the new version running at once, with 0x8F43."""
        check = check_image(image, self.anchors)
        receipt = GbzAlert.of(
            alert_code=check.receipt_code,
            timestamp=seconds_since_2000(now),
            data=FirmwareReceipt(hash=check.digest),
        )
        raised = [Alert(code=check.receipt_code, message_code=FIRMWARE_RECEIPT, payload=receipt)]
        if check.verified and check.parts is not None:
            self.state.firmware = check.parts.version
            raised.append(Alert(code=VERSION_CHANGED))
        return [self.alert(a, now) for a in raised]

    # -- persistence ----------------------------------------------------------------------------
    def state_json(self) -> dict[str, Any]:
        return {"state": self.state.to_json()}

    def load_state_json(self, data: dict[str, Any]) -> None:
        self.state = GsmeState.from_json(data["state"])


#: Messages a GPF holds for its GSME (HenryGiraldo's CH emulator: 32; DOMAIN.md §2.4).
QUEUE_CAPACITY: Final = 32


class Gpf(GbzDevice):
    """The gas proxy function on the comms hub: a mirror of the GSME, its command queue and the
    firmware image held for it."""

    __slots__ = ("firmware", "mirror", "queue")
    DEVICE_TYPE = DeviceType.GPF

    def __init__(self, *, eui: bytes, keys: DeviceKeys, anchors: TrustAnchors) -> None:
        super().__init__(eui=eui, keys=keys, anchors=anchors)
        self.mirror = GsmeState()
        self.queue: deque[bytes] = deque()
        #: the upgrade image waiting for the GSME's next wake (None: none)
        self.firmware: bytes | None = None

    def served_state(self) -> GsmeState:
        return self.mirror

    def enqueue(self, wire: bytes) -> bool:
        """Hold a command for the GSME until it wakes; False when the queue is full."""
        if len(self.queue) >= QUEUE_CAPACITY:
            return False
        self.queue.append(wire)
        return True

    def take(self) -> list[bytes]:
        """What the waking GSME collects: every queued command, oldest first."""
        taken = list(self.queue)
        self.queue.clear()
        return taken

    def hold_firmware(self, image: bytes) -> None:
        """Hold an upgrade image for the GSME until it wakes (replacing one not yet taken)."""
        self.firmware = image

    def take_firmware(self) -> bytes | None:
        """What the waking GSME collects of firmware: the image held, if any."""
        image, self.firmware = self.firmware, None
        return image

    def refresh(self, state: GsmeState) -> None:
        """The GSME's data as synchronised at its wake."""
        self.mirror = state.copy()

    # -- persistence ----------------------------------------------------------------------------
    def state_json(self) -> dict[str, Any]:
        held = None if self.firmware is None else self.firmware.hex()
        return {
            "mirror": self.mirror.to_json(),
            "queue": [w.hex() for w in self.queue],
            "firmware": held,
        }

    def load_state_json(self, data: dict[str, Any]) -> None:
        if "mirror" in data:
            self.mirror = GsmeState.from_json(data["mirror"])
        self.queue.extend(bytes.fromhex(w) for w in data.get("queue", []))
        held = data.get("firmware")
        self.firmware = bytes.fromhex(held) if held else None


__all__ = ["FIRMWARE_RECEIPT", "QUEUE_CAPACITY", "SENSITIVE", "GbzDevice", "Gpf", "Gsme"]
