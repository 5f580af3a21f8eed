"""The simulated gas meter (GSME) and gas proxy function (GPF): GBZ command servers.

Both run the checks of :class:`SimulatedDevice` and then answer each GBZ component from a
:class:`GsmeState` (:mod:`.server`): the GSME from its own state, the GPF from its mirror of it.
Sensitive responses (GCS13a/c, 14, 15c/d, 16a, 17, 61: the RTDS RESPONSE vectors whose
components are encrypted) are sealed for the remote party, one invocation counter per component
(the RTDS vectors count the component frame counter 0, 1, ...; distinct counters keep the GCM
nonces distinct). Alerts are GBZ alerts (GBCS-PAYLOADS §2.5) in the generic 0x1000/0x1001 message.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core.device import Alert, Execution, SimulatedDevice, UnsupportedCommand
from smetsnet.devices.core.keys import DeviceKeys, Identity, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.gas import actions as _actions  # noqa: F401  (registers the handlers)
from smetsnet.devices.gas.server import FAILURE, Context, Reply, TopUp, serve
from smetsnet.devices.gas.state import HALF_HOUR, PROFILE_CAPACITY, UTRN_CACHE, GsmeState
from smetsnet.errors import GbcsEncodeError, GbcsSecurityError
from smetsnet.gbcs.asn1.misc import SetClockCommand, SetClockResponse, TimeStatus
from smetsnet.gbcs.asn1.types import GeneralizedTime
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.dlms import from_seconds_since_2000, seconds_since_2000
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.gbz import (
    DefaultResponse,
    Encryption,
    GbzAlert,
    GbzComponent,
    GbzMessage,
    ZclCommand,
)
from smetsnet.gbcs.gbz.alerts import AlertData
from smetsnet.gbcs.gbz.spec import METERING, PREPAYMENT
from smetsnet.gbcs.keystore import KeyStore, KeyUsage
from smetsnet.gbcs.payload import SENSITIVE_SECURITY_CONTROL, CipheredContent
from smetsnet.gbcs.registry import message_code_info
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
#: Consumer Top Up Response result types used here (ZSE).
ACCEPTED, REJECTED_INVALID, REJECTED_DUPLICATE, REJECTED_MAX_CREDIT = 0, 1, 2, 3


class GbzDevice(SimulatedDevice):
    """A device that answers GBZ commands from a :class:`GsmeState` (GSME or GPF)."""

    __slots__ = ()

    def served_state(self) -> GsmeState:
        raise NotImplementedError

    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        request = message.payload
        if not isinstance(request, GbzMessage):
            raise UnsupportedCommand(f"{message.use_case} is not a GBZ command")
        ctx = Context(
            state=self.served_state(), now=now, header=message.header, top_up=self._top_up_hook()
        )
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
    def alert(self, alert: Alert, now: datetime) -> bytes:
        return self.gbz_alert(alert, now)

    def gbz_alert(self, alert: Alert, now: datetime, data: AlertData | None = None) -> bytes:
        """One GBZ alert from this device (its own counter) to the holder of ``alert.role``."""
        anchor = self.anchors.get((alert.role, KeyUsage.DIGITAL_SIGNATURE, False)) or (
            self.anchors.get((alert.role, KeyUsage.KEY_AGREEMENT, False))
        )
        if anchor is None:
            anchor = self.anchors[(Role.SUPPLIER, KeyUsage.DIGITAL_SIGNATURE, False)]
        if alert.message_code is None:
            code = codes.generic_message_code(alert.code)
            signed = codes.is_critical_alert(alert.code)
        else:
            code = alert.message_code
            info = message_code_info(code)
            signed = info is not None and info.is_critical
        self.alert_counter += 1
        payload = GbzAlert.of(alert_code=alert.code, timestamp=seconds_since_2000(now), data=data)
        return build_message(
            payload=payload,
            originator=self.eui,
            recipient=anchor.eui,
            counter=self.alert_counter,
            message_code=code,
            cra=Cra.ALERT,
            protection=self.protection(),
            sign=signed,
            mac=not signed,
        ).frame.to_bytes()


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

    __slots__ = ("state",)

    def __init__(
        self,
        *,
        eui: bytes,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        state: GsmeState | None = None,
    ) -> None:
        super().__init__(
            identity=Identity(eui=eui, device_type=DeviceType.GSME), keys=keys, anchors=anchors
        )
        self.state = state or GsmeState()

    @classmethod
    def from_keystore(cls, eui: bytes, keystore: KeyStore, parties: dict[Role, bytes]) -> Gsme:
        return cls(
            eui=eui,
            keys=DeviceKeys.from_keystore(keystore, eui),
            anchors=TrustAnchors.from_keystore(keystore, parties),
        )

    def served_state(self) -> GsmeState:
        return self.state

    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        if isinstance(message.payload, SetClockCommand):
            return Execution(payload=self._set_clock(message.payload, now))
        return super().execute(message, now, protection)

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
        if s.max_credit and s.credit + value > s.max_credit:
            ctx.alerts.append(Alert(code=codes.UTRN_EXCEEDS_MAX_CREDIT))
            return REJECTED_MAX_CREDIT, 0
        cache.append(counter)
        del cache[:-UTRN_CACHE]
        s.credit += value
        s.top_ups.append((ctx.clock, utrn, value))
        return ACCEPTED, value

    # -- the physical side ----------------------------------------------------------------------
    def record_half_hours(self, start: datetime, wh: npt.ArrayLike) -> list[bytes]:
        """Gas used in consecutive half-hours from ``start`` (Wh): registers, profile, billing at
        the tariff's price and standing charge, prepayment credit (valve closed when it runs
        out: 0x8F0F). Returns the alerts raised."""
        from smetsnet.devices.consumption import gas_litres

        s = self.state
        demand = np.asarray(wh, dtype=np.int64)
        if s.supply != "enabled":
            demand = np.zeros_like(demand)
        cost = (demand * s.price) // 1000 + s.standing_charge // 48
        out: list[bytes] = []
        if s.payment_mode == "prepayment" and len(demand):
            left = s.credit + s.emergency_credit - np.cumsum(cost)
            empty = np.flatnonzero(left <= 0)
            if len(empty):
                cut = int(empty[0]) + 1
                demand[cut:] = 0
                cost[cut:] = 0
                s.supply = "disabled"
                when = from_seconds_since_2000(seconds_since_2000(start) + cut * HALF_HOUR)
                out.append(self.alert(Alert(code=codes.CREDIT_BELOW_DISABLEMENT), when))
            s.credit -= int(cost.sum())
        litres = gas_litres(demand.astype(np.uint32))
        s.billed += int(cost.sum())
        s.energy_wh += int(demand.sum())
        s.litres += int(litres.sum(dtype=np.int64))
        self._append_profile(seconds_since_2000(start), litres)
        return out

    def _append_profile(self, start: int, values: npt.NDArray[np.uint32]) -> None:
        s = self.state
        if not len(s.profile_l):
            s.profile_start = start
        gap = (start - s.profile_start) // HALF_HOUR - len(s.profile_l)
        joined = np.concatenate((s.profile_l, np.zeros(max(gap, 0), np.uint32), values))
        drop = max(len(joined) - PROFILE_CAPACITY, 0)
        s.profile_start += drop * HALF_HOUR
        s.profile_l = joined[drop:]

    # -- persistence ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "eui": self.eui.hex(),
            "type": "GSME",
            "keys": self.keys.to_json(),
            "anchors": self.anchors.to_json(),
            "security": self.security_json(),
            "state": self.state.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gsme:
        meter = cls(
            eui=bytes.fromhex(data["eui"]),
            keys=DeviceKeys.from_json(data["keys"]),
            anchors=TrustAnchors.from_json(data["anchors"]),
            state=GsmeState.from_json(data["state"]),
        )
        meter.load_security_json(data["security"])
        return meter


#: Messages a GPF holds for its GSME (HenryGiraldo's CH emulator: 32; DOMAIN.md §2.4).
QUEUE_CAPACITY: Final = 32


class Gpf(GbzDevice):
    """The gas proxy function on the comms hub: a mirror of the GSME and its command queue."""

    __slots__ = ("mirror", "queue")

    def __init__(self, *, eui: bytes, keys: DeviceKeys, anchors: TrustAnchors) -> None:
        super().__init__(
            identity=Identity(eui=eui, device_type=DeviceType.GPF), keys=keys, anchors=anchors
        )
        self.mirror = GsmeState()
        self.queue: deque[bytes] = deque()

    @classmethod
    def from_keystore(cls, eui: bytes, keystore: KeyStore, parties: dict[Role, bytes]) -> Gpf:
        return cls(
            eui=eui,
            keys=DeviceKeys.from_keystore(keystore, eui),
            anchors=TrustAnchors.from_keystore(keystore, parties),
        )

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

    def refresh(self, state: GsmeState) -> None:
        """The GSME's data as synchronised at its wake."""
        self.mirror = state.copy()


__all__ = ["QUEUE_CAPACITY", "SENSITIVE", "GbzDevice", "Gpf", "Gsme"]
