"""The GSME's ASN.1 HAN services and its future-dated GBZ commands.

Join/unjoin/read (CS03C, CS03B, CS04AC/CS04B, CS07) keep the GSME's device log: partner EUI,
DeviceType (GBCS-PAYLOADS §3: 0 GSME … 3 GPF, 5 PPMID) and, for a method-C join, the partner's
key-agreement public point from its certificate. The PPMID's point is what the GSME MACs
PPMID->GSME commands with (PCS01/PCS02: GBCS §4.3.3, no access control broker in between), so
:class:`PartnerProtection` adds the joined partners to the device's anchored parties.

Future-dated GBZ commands (GBCS-PAYLOADS §2.5; 1.1.1_GCS01a FUTURE_DATED vectors): a command is
future-dated by the ``start_time`` of its publish components; 0xFFFFFFFE/0xFFFFFFFF (the
CANCELLATION vector) cancels the held command of the same message code. When it runs, each
component with a start time is reported by a 0x00CD alert (0x8F66 actioned, 0x8F67 failed) whose
data names message code, originator counter, cluster, frame control and command id.
"""

from __future__ import annotations

from typing import Final

from smetsnet.devices.core.credentials import parse_certificate
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.gas.state import GsmeState
from smetsnet.gbcs.asn1 import JoinCommand, JoinMethod, JoinResponse, UnjoinCommand, UnjoinResponse
from smetsnet.gbcs.asn1.join import ReadDeviceJoinDetailsResponse
from smetsnet.gbcs.asn1.types import DeviceLogEntry
from smetsnet.gbcs.gbz import ClusterCommand, GbzMessage
from smetsnet.gbcs.gbz.alerts import FutureDatedOutcome
from smetsnet.gbcs.keystore import KeyUsage

#: Entries a GSME's device log holds [inferred: GBCS leaves the size to the device].
DEVICE_LOG_CAPACITY: Final = 5
GPF_TYPE, PPMID_TYPE = 3, 5  # ASN.1 DeviceType (GBCS-PAYLOADS §3)
INCOMPATIBLE, LOG_FULL, INVALID_CERTIFICATE, INVALID_METHOD = 3, 4, 11, 2
#: start_time values that cancel (GCS01a CANCELLATION vector: 0xFFFFFFFE).
CANCEL_FROM: Final = 0xFFFFFFFE
FUTURE_DATED_ALERT: Final = 0x00CD


def join(state: GsmeState, command: JoinCommand) -> JoinResponse:
    """CS03C (method C with the partner's KA certificate) or CS03B (method B)."""
    point = ""
    if command.method == JoinMethod.METHOD_C:
        parsed = (
            parse_certificate(command.partner_certificate)
            if command.partner_certificate is not None
            else None
        )
        if parsed is None or parsed.usage != KeyUsage.KEY_AGREEMENT:
            return JoinResponse(code=INVALID_CERTIFICATE)
        point = parsed.point.hex()
    elif command.method != JoinMethod.METHOD_B:
        return JoinResponse(code=INVALID_METHOD)
    return JoinResponse(code=add_partner(state, command.partner_id, command.partner_type, point))


def add_partner(state: GsmeState, eui: bytes, kind: int, point: str = "") -> int:
    """Record a partner in the device log; the CS03 response code."""
    for i, (known, known_kind, _) in enumerate(state.device_log):
        if known == eui.hex():
            if known_kind != kind:
                return INCOMPATIBLE
            state.device_log[i] = (known, kind, point)
            return 0
    if len(state.device_log) >= DEVICE_LOG_CAPACITY:
        return LOG_FULL
    state.device_log.append((eui.hex(), kind, point))
    return 0


def unjoin(state: GsmeState, command: UnjoinCommand) -> UnjoinResponse:
    keep = [e for e in state.device_log if e[0] != command.partner_id.hex()]
    if len(keep) == len(state.device_log):
        return UnjoinResponse(code=1)  # not in device log (CS04B ERROR vector)
    state.device_log[:] = keep
    return UnjoinResponse(code=0)


def join_details(state: GsmeState) -> ReadDeviceJoinDetailsResponse:
    """CS07: the device log (as the 8.9_CS07 SUCCESS response)."""
    entries = tuple(
        DeviceLogEntry(device_id=bytes.fromhex(eui), device_type=kind)
        for eui, kind, _ in state.device_log
    )
    return ReadDeviceJoinDetailsResponse(code=0, entries=entries)


def partner_point(state: GsmeState, eui: bytes, kind: int = PPMID_TYPE) -> bytes | None:
    """The KA point of a joined partner of this type (None: not joined, or joined without)."""
    for known, known_kind, point in state.device_log:
        if known == eui.hex() and known_kind == kind and point:
            return bytes.fromhex(point)
    return None


class PartnerProtection(DeviceProtection):
    """The GSME's protection: its anchored remote parties plus its joined PPMID. Made from
    the core's protection (whatever it was built with) so the core decides everything else."""

    def __init__(self, base: DeviceProtection, state: GsmeState) -> None:
        self.__dict__.update(base.__dict__)
        self._state = state

    def shared_secret(self, a: bytes, b: bytes, *, prepayment: bool = False) -> bytes | None:
        z = super().shared_secret(a, b, prepayment=prepayment)
        if z is not None or self._eui not in (a, b):
            return z
        point = partner_point(self._state, b if a == self._eui else a)
        return None if point is None else self._keys.shared_secret(point)


# -- future-dated commands ------------------------------------------------------------------
def start_times(request: GbzMessage) -> list[int]:
    """The start times of the request's publish components (no start time: not listed)."""
    out = []
    for component in request.components:
        command = component.command
        if isinstance(command, ClusterCommand) and command.server_to_client:
            start = command.values.get("start_time")
            if isinstance(start, int):
                out.append(start)
    return out


def due_time(request: GbzMessage, clock: int) -> int | None:
    """None: run now; -1: cancel; else the latest start time in the future."""
    times = start_times(request)
    if any(t >= CANCEL_FROM for t in times):
        return -1
    future = [t for t in times if t > clock]
    return max(future) if future else None


def outcomes(request: GbzMessage, message_code: int, counter: int) -> list[FutureDatedOutcome]:
    """One reference per component with a start time (the 8F66 vectors: one alert each)."""
    out = []
    for component in request.components:
        command = component.command
        if isinstance(command, ClusterCommand) and "start_time" in command.values:
            out.append(
                FutureDatedOutcome(
                    message_code=message_code,
                    originator_counter=counter,
                    cluster_id=component.cluster_id,
                    frame_control=component.frame_control,
                    command_id=component.command_id,
                )
            )
    return out


__all__ = [
    "FUTURE_DATED_ALERT",
    "PartnerProtection",
    "add_partner",
    "due_time",
    "join",
    "join_details",
    "outcomes",
    "partner_point",
    "unjoin",
]
