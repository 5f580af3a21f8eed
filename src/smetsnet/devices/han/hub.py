"""The simulated comms hub function (CHF): a DLMS COSEM object server over its HAN device log.

Use cases (GBCS-PAYLOADS §1.8, §5; the RTDS CHF vectors): CCS01 add to / CCS02 remove from /
CCS03 restore the device log (class 104 ``0-0:30.3.0.255`` methods 1, 2, 5), CCS05/CCS04 read
it (attribute 4, active devices), CCS07 back it up (method 4, on the 2.4 GHz and sub-GHz
instances), ECS26i/ECS26n identity (``0-0:96.1.x.255``), ECS35d security log
(``0-0:99.98.1.255``), DBCH02 channel log (``0-0:94.44.10.3``), DBCH03 sub-GHz configuration
(``0-0:94.44.10.0``) and DBCH05 channel scan (``0-0:94.44.10.1``).

Every change of the device log raises CS14 (0x0018, alert 0x8F12, MAC'd to the ACB as in the
NA_CS14 vector) carrying the log as CCS07 shows it; a firmware transfer to a HAN device is
reported by CCS08 (0x0128, ASN.1, signed, to the ACB as in NA_CCS08). A HAN device joins only
when the log holds it (:meth:`CommsHub.join`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smetsnet.devices.core.device import Alert, Execution, SimulatedDevice, UnsupportedCommand
from smetsnet.devices.core.keys import DeviceKeys, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.esme.cosem import (
    ACTION,
    OTHER,
    SUCCESS,
    TYPE_UNMATCHED,
    Context,
    ObjectServer,
)
from smetsnet.devices.han import objects
from smetsnet.devices.han.log import (
    DEVICE_LOG_CHANGED,
    JOIN_FAILED,
    JOIN_SUCCEEDED,
    HubState,
    LogEntry,
)
from smetsnet.gbcs.asn1.firmware import FirmwareTransferAlert
from smetsnet.gbcs.asn1.types import GeneralizedTime
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.dlms import (
    NULL,
    AccessRequest,
    AccessResponse,
    ActionSpec,
    Data,
    ResponseSpec,
    seconds_since_2000,
)
from smetsnet.gbcs.frame import Cra
from smetsnet.inventory.model import DeviceType

CS14_HAN_LOG_CHANGED = 0x0018
CCS08_FIRMWARE_TRANSFER = 0x0128
FIRMWARE_TRANSFER_SUCCESS = 0x8F8A
#: Methods that answer data (CCS07 backup PAN) rather than a bare result.
_RETURNING = {
    (objects.NETWORK_CONTROL, objects.HAN_LOG, 4),
    (objects.NETWORK_CONTROL, objects.SUB_GHZ_LOG, 4),
}


class CommsHub(SimulatedDevice):
    """The comms hub function: HAN whitelist, join control, CHF reads and alerts."""

    __slots__ = ("_server", "state")
    DEVICE_TYPE = DeviceType.CHF

    def __init__(
        self,
        *,
        eui: bytes,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        state: HubState | None = None,
    ) -> None:
        super().__init__(eui=eui, keys=keys, anchors=anchors)
        self.state = state or HubState()
        self._server: ObjectServer = objects.hub_objects(self)

    # -- the HAN side ---------------------------------------------------------------------------
    def whitelisted(self, eui: bytes) -> bool:
        return self.state.whitelisted(eui)

    def joined(self, eui: bytes) -> bool:
        entry = self.state.devices.get(eui)
        return entry is not None and entry.joined

    def whitelist(
        self, eui: bytes, now: datetime, *, link_key: bytes = b"", device_type: int = 0
    ) -> list[bytes]:
        """CCS01 by a local call (commissioning): add a device; returns the CS14 alert."""
        self.state.add(LogEntry(eui=eui, link_key=link_key, device_type=device_type))
        return [self.alert(self.log_changed_alert(now), now)]

    def join(self, eui: bytes, now: datetime) -> bool:
        """A HAN device asks to join: admitted only when whitelisted (security log either way)."""
        when = seconds_since_2000(now)
        entry = self.state.devices.get(eui)
        if entry is None:
            self.state.log_event(when, JOIN_FAILED)
            return False
        self.state.devices[eui] = LogEntry(
            eui=eui,
            link_key=entry.link_key,
            device_type=entry.device_type,
            joined=True,
            last_seen=when,
        )
        self.state.log_event(when, JOIN_SUCCEEDED)
        return True

    def log_changed_alert(self, now: datetime) -> Alert:
        """CS14: alert 0x8F12 with the log as CCS07 shows it (NA_CS14 vector), to the ACB."""
        self.state.log_event(seconds_since_2000(now), DEVICE_LOG_CHANGED)
        return Alert(
            code=DEVICE_LOG_CHANGED,
            extra=(objects.backup(self.state, now),),
            role=Role.ACCESS_CONTROL_BROKER,
            message_code=CS14_HAN_LOG_CHANGED,
        )

    def firmware_transfer_alert(
        self, entity: bytes, version: bytes, now: datetime, *, outcome: int = 0
    ) -> bytes:
        """CCS08: the CHF reports a firmware image passed to a HAN device (0 ok, 1 discarded,
        2 hardware mismatch, 3 transfer failure); ASN.1, signed, to the ACB (NA_CCS08)."""
        self.alert_counter += 1
        payload = FirmwareTransferAlert(
            alert_code=FIRMWARE_TRANSFER_SUCCESS if outcome == 0 else FIRMWARE_TRANSFER_SUCCESS - 1,
            time=GeneralizedTime.from_datetime(now),
            entity_id=entity,
            firmware_version=version,
            code=outcome,
        )
        return build_message(
            payload=payload,
            originator=self.eui,
            recipient=self.alert_recipient_of(Role.ACCESS_CONTROL_BROKER),
            counter=self.alert_counter,
            message_code=CCS08_FIRMWARE_TRANSFER,
            cra=Cra.ALERT,
            protection=self.protection(),
            sign=True,
            mac=False,
        ).frame.to_bytes()

    def alert_recipient_of(self, role: Role) -> bytes:
        """The EUI of the holder of ``role`` (management cells), else of the supplier."""
        for wanted in (role, Role.SUPPLIER):
            for (r, _, prepayment), anchor in self.anchors.items():
                if r == wanted and not prepayment:
                    return anchor.eui
        raise KeyError(f"no trust anchor for {role.name}")

    # -- commands -------------------------------------------------------------------------------
    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        request = message.payload
        if not isinstance(request, AccessRequest):
            raise UnsupportedCommand(f"{message.use_case} is not supported by the CHF")
        ctx = Context(state=self.state.cosem, now=now, header=message.header)
        before = dict(self.state.devices)
        items = [
            self._one(ctx, spec, data)
            for spec, data in zip(request.specs, request.data, strict=False)
        ]
        alerts = list(ctx.alerts)
        if self.state.devices != before:
            alerts.append(self.log_changed_alert(now))
        response = AccessResponse.build(items, invoke_id=request.invoke_id)
        return Execution(payload=response, alerts=tuple(alerts))

    def _one(self, ctx: Context, spec: object, data: Data) -> tuple[Data, ResponseSpec]:
        if isinstance(spec, ActionSpec):
            key = (spec.class_id, str(spec.instance), spec.method_id)
            if key in _RETURNING:
                return objects.backup(self.state, ctx.now), ResponseSpec(
                    choice=ACTION, result=SUCCESS
                )
            if key not in self._server.methods:
                return NULL, ResponseSpec(choice=ACTION, result=OTHER)
        return self._server.answer(ctx, spec, data)

    # -- persistence ----------------------------------------------------------------------------
    def state_json(self) -> dict[str, Any]:
        return {"state": self.state.to_json()}

    def load_state_json(self, data: dict[str, Any]) -> None:
        self.state = HubState.from_json(data["state"])


__all__ = ["CCS08_FIRMWARE_TRANSFER", "CS14_HAN_LOG_CHANGED", "TYPE_UNMATCHED", "CommsHub"]
