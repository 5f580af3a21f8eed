"""GBZ alerts (GBCS-PAYLOADS §2.1, §2.5).

Alert payload: ``01 09`` | count (``00`` generic, ``01`` when use-case data follows) | alert code
(2, BE) | timestamp (4, BE, seconds since 2000) | use-case data, whose shape the message code
decides:

- 0x00F2 meter integrity warning: reason (2, BE) (RTDS ``81A0``: reason 5).
- 0x00CD future-dated execution outcome: marker ``0E`` | message code (2) | originator counter (8)
  | cluster id (2) | ZCL frame control | command id (RTDS ``8F66``).
- 0x00CF firmware distribution receipt (GSME): ``09`` | length | calculated hash ([P]).
- 0x008B GCS53 billing data log: one GBZ component (§2.1 layout) ([P], [U]).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.gbz import commands as cmds
from smetsnet.gbcs.gbz.components import PROFILE_ID, GbzComponent, Undecoded, read_component
from smetsnet.gbcs.gbz.zcl_types import UTC, pack, put_json
from smetsnet.gbcs.payload import Decryptor, JsonValue
from smetsnet.gbcs.reader import Reader

INTEGRITY_WARNING: Final = 0x00F2
FUTURE_DATED: Final = 0x00CD
FIRMWARE_RECEIPT: Final = 0x00CF
BILLING_DATA_LOG: Final = 0x008B
FUTURE_DATED_MARKER: Final = 0x0E

_FUTURE = struct.Struct(">BHQHBB")


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityWarning:
    """Meter integrity issue warning: the reason code ([P]: 5 = unexpected hardware reset)."""

    reason: int

    def to_bytes(self) -> bytes:
        return pack(">H", "reason", self.reason)

    def to_json(self) -> dict[str, JsonValue]:
        return {"kind": "integrity_warning", "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class FutureDatedOutcome:
    """Which future-dated command was executed: its message code, counter and ZCL command."""

    message_code: int
    originator_counter: int
    cluster_id: int
    frame_control: int
    command_id: int
    marker: int = FUTURE_DATED_MARKER

    def to_bytes(self) -> bytes:
        return pack(
            _FUTURE.format,
            "future_dated",
            self.marker,
            self.message_code,
            self.originator_counter,
            self.cluster_id,
            self.frame_control,
            self.command_id,
        )

    def to_json(self) -> dict[str, JsonValue]:
        spec = cmds.lookup(self.cluster_id, bool(self.frame_control & 0x08), self.command_id)
        cluster_specific = self.frame_control & 0x03 == 1
        return {
            "kind": "future_dated",
            "marker": self.marker,
            "message_code": self.message_code,
            "originator_counter": self.originator_counter,
            "cluster_id": self.cluster_id,
            "cluster": cmds.CLUSTER_NAMES.get(self.cluster_id),
            "frame_control": self.frame_control,
            "command_id": self.command_id,
            "command": spec.name if spec is not None and cluster_specific else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareReceipt:
    """Firmware distribution receipt: the hash the device calculated (an octet-string)."""

    hash: bytes
    tag: int = 0x09

    def to_bytes(self) -> bytes:
        if len(self.hash) > 0x7F:
            raise GbcsEncodeError("hash", "too long for a one-byte length")
        return bytes((self.tag, len(self.hash))) + self.hash

    def to_json(self) -> dict[str, JsonValue]:
        return {"kind": "firmware_receipt", "hash": self.hash.hex()}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertComponent:
    """GCS53: a billing data log pushed as one GBZ component."""

    component: GbzComponent

    def to_bytes(self) -> bytes:
        return self.component.to_bytes()

    def to_json(self) -> dict[str, JsonValue]:
        return {"kind": "component", "component": self.component.to_json()}


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownAlertData(Undecoded):
    """Use-case data of an alert code whose layout is not known."""


AlertData = (
    IntegrityWarning | FutureDatedOutcome | FirmwareReceipt | AlertComponent | UnknownAlertData
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GbzAlert:
    """A GBZ alert: code, time and (``component_count`` 1) the use-case data."""

    alert_code: int
    timestamp: int
    component_count: int
    data: AlertData | None = None
    profile_id: int = PROFILE_ID

    @classmethod
    def of(cls, *, alert_code: int, timestamp: int, data: AlertData | None = None) -> GbzAlert:
        return cls(
            alert_code=alert_code,
            timestamp=timestamp,
            component_count=0 if data is None else 1,
            data=data,
        )

    def to_bytes(self) -> bytes:
        head = pack(
            ">HBHI", "alert", self.profile_id, self.component_count, self.alert_code, self.timestamp
        )
        return head if self.data is None else head + self.data.to_bytes()

    def to_json(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "kind": "gbz_alert",
            "profile_id": self.profile_id,
            "component_count": self.component_count,
            "alert_code": self.alert_code,
            "alert_code_hex": f"{self.alert_code:04X}",
        }
        put_json(out, "timestamp", UTC, self.timestamp)
        out["data"] = None if self.data is None else self.data.to_json()
        return out


def read_alert(r: Reader, count: int, message_code: int, decrypt: Decryptor | None) -> GbzAlert:
    """Read an alert after its profile id and count (the reader is left at the end)."""
    alert_code = r.u16("payload.alert_code")
    timestamp = r.u32("payload.timestamp")
    data = _read_data(r, message_code, decrypt)
    r.expect_end("payload.data")
    return GbzAlert(alert_code=alert_code, timestamp=timestamp, component_count=count, data=data)


def _read_data(r: Reader, message_code: int, decrypt: Decryptor | None) -> AlertData | None:
    where = "payload.data"
    if message_code == INTEGRITY_WARNING:
        return IntegrityWarning(reason=r.u16(where + ".reason"))
    if message_code == FUTURE_DATED:
        if r.remaining < _FUTURE.size:
            raise r.error(where, f"future-dated outcome needs {_FUTURE.size} bytes")
        marker, code, counter, cluster, frame_control, command = _FUTURE.unpack_from(r.data, r.pos)
        r.pos += _FUTURE.size
        return FutureDatedOutcome(
            marker=marker,
            message_code=code,
            originator_counter=counter,
            cluster_id=cluster,
            frame_control=frame_control,
            command_id=command,
        )
    if message_code == FIRMWARE_RECEIPT:
        tag = r.u8(where + ".tag")
        if tag != 0x09:
            raise r.error(where + ".tag", f"0x{tag:02X}, expected octet-string 0x09", r.pos - 1)
        size = r.u8(where + ".length")
        if size > 0x7F:
            raise r.error(where + ".length", "long length forms are not used here", r.pos - 1)
        return FirmwareReceipt(tag=tag, hash=r.take(size, where + ".hash"))
    if message_code == BILLING_DATA_LOG:
        return AlertComponent(component=read_component(r, where + ".component", decrypt))
    if r.at_end():
        return None
    why = f"alert data of message code 0x{message_code:04X} has no known layout"
    return UnknownAlertData(data=r.rest(), why=why)
