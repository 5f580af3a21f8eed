"""The comms hub's COSEM objects, served by the ESME's generic :class:`ObjectServer`.

Layouts follow the RTDS CHF responses (8.9 CCS05CCS04 / CCS07, 8.12.1 CCS03, 6.13 ECS35d, 6.29
DBCH05, 6.30 DBCH03, 6.32 DBCH02): the values are computed from :class:`HubState`. Field names
of the active-device structure follow DLMS class 104 attribute 4 (active devices) [inferred
from the 14-item shape of the CCS05 response].
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from smetsnet.devices.esme.cosem import OTHER, SUCCESS, TYPE_UNMATCHED, Context, ObjectServer
from smetsnet.devices.han.log import HubState, LogEntry
from smetsnet.gbcs.dlms import (
    Array,
    BitString,
    CompactArray,
    CosemDateTime,
    Data,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    TypeDescription,
    Unsigned,
    from_seconds_since_2000,
    seconds_since_2000,
)
from smetsnet.gbcs.dlms import tags as tags

if TYPE_CHECKING:
    from smetsnet.devices.han.hub import CommsHub

NETWORK_CONTROL = 104
HAN_LOG = "0-0:30.3.0.255"
SUB_GHZ_LOG = "0-0:30.3.1.255"
SECURITY_LOG = "0-0:99.98.1.255"
CHANNEL_LOG = "0-0:94.44.10.3"
SUB_GHZ_CONFIG = "0-0:94.44.10.0"
CHANNEL_SCAN = "0-0:94.44.10.1"
#: DBCH02 log event: sub-GHz channel changed (0x8F26, as in the DBCH02 vector's rows).
CHANNEL_CHANGED = 0x8F26
#: Status bits of an active device [inferred]: in the log (bit 7), joined (bit 6).
IN_LOG, JOINED = 0x80, 0x40

_U32 = TypeDescription.simple(tags.DOUBLE_LONG_UNSIGNED)
_U16 = TypeDescription.simple(tags.LONG_UNSIGNED)
_OCTETS = TypeDescription.simple(tags.OCTET_STRING)
_SECURITY_ROWS = TypeDescription.structure(_U32, _U16)
_CHANNEL_ROWS = TypeDescription.structure(_U32, _U16, _OCTETS)


def _stamp(seconds: int) -> OctetString:
    return OctetString(
        value=CosemDateTime.from_datetime(from_seconds_since_2000(seconds)).to_bytes()
    )


def backup(state: HubState, now: datetime) -> Structure:
    """The log as CCS07 and CS14 carry it: {date-time, backup id, array{EUI, link key}}."""
    entries = tuple(
        Structure(items=(OctetString(value=e.eui), OctetString(value=e.link_key)))
        for e in state.devices.values()
    )
    return Structure(
        items=(
            OctetString(value=CosemDateTime.from_datetime(now).to_bytes()),
            OctetString(value=state.backup_id),
            Array(items=entries),
        )
    )


def _active(entry: LogEntry) -> Structure:
    """One active device (CCS05/CCS04): EUI, status, RSSI max/avg/min, LQI max/avg/min, last
    communication, hops, transmission failures/successes, application/stack versions."""
    status = IN_LOG | (JOINED if entry.joined else 0)
    return Structure(
        items=(
            OctetString(value=entry.eui),
            BitString(bits=8, data=bytes([status])),
            Integer(value=-40),
            Integer(value=-55),
            Integer(value=-90),
            Unsigned(value=255),
            Unsigned(value=200),
            Unsigned(value=120),
            _stamp(entry.last_seen),
            Unsigned(value=1),
            Unsigned(value=0),
            Unsigned(value=100),
            Unsigned(value=1),
            Unsigned(value=1),
        )
    )


def _pairs(value: Data) -> list[tuple[bytes, bytes]] | None:
    """array of structure{EUI (8), link key (16 or empty)} -> pairs; None if malformed."""
    if not isinstance(value, Array):
        return None
    out: list[tuple[bytes, bytes]] = []
    for item in value.items:
        if (
            not isinstance(item, Structure)
            or len(item.items) < 2
            or not isinstance(item.items[0], OctetString)
            or not isinstance(item.items[1], OctetString)
            or len(item.items[0].value) != 8
        ):
            return None
        out.append((item.items[0].value, item.items[1].value))
    return out


def _device_type(item: Data) -> int:
    return int(item.value) if isinstance(item, Unsigned | LongUnsigned) else 0


def hub_objects(hub: CommsHub) -> ObjectServer:
    """The object server of one hub (its handlers read and change ``hub.state``)."""
    server = ObjectServer()
    g, st, m, b = server.getters, server.setters, server.methods, server.buffers

    def register(ctx: Context, value: Data) -> int:
        """CCS01 [inferred layout]: structure{EUI, link key[, device type]} or an array of them."""
        items = value.items if isinstance(value, Array) else (value,)
        found: list[LogEntry] = []
        for item in items:
            if not isinstance(item, Structure) or len(item.items) < 2:
                return TYPE_UNMATCHED
            pair = _pairs(Array(items=(item,)))
            if pair is None:
                return TYPE_UNMATCHED
            kind = _device_type(item.items[2]) if len(item.items) > 2 else 0
            found.append(LogEntry(eui=pair[0][0], link_key=pair[0][1], device_type=kind))
        for entry in found:
            hub.state.add(entry)
        return SUCCESS

    def unregister(ctx: Context, value: Data) -> int:
        """CCS02: remove one EUI; a device not in the log is a failure."""
        if not isinstance(value, OctetString) or len(value.value) != 8:
            return TYPE_UNMATCHED
        return SUCCESS if hub.state.devices.pop(value.value, None) is not None else OTHER

    def restore(ctx: Context, value: Data) -> int:
        """CCS03: replace the log by {backup id, array{EUI, link key}}."""
        if (
            not isinstance(value, Structure)
            or len(value.items) != 2
            or not isinstance(value.items[0], OctetString)
        ):
            return TYPE_UNMATCHED
        pairs = _pairs(value.items[1])
        if pairs is None:
            return TYPE_UNMATCHED
        old = hub.state.devices
        hub.state.devices = {
            eui: LogEntry(
                eui=eui, link_key=key, device_type=old[eui].device_type if eui in old else 0
            )
            for eui, key in pairs
        }
        hub.state.backup_id = value.items[0].value[:8].ljust(8, b"\x00")
        hub.state.backup_time = ctx.clock
        return SUCCESS

    def channel_scan(ctx: Context, value: Data) -> int:
        """DBCH05: a scan of the sub-GHz channels; the chosen channel is logged (DBCH02)."""
        if not isinstance(value, Unsigned):
            return TYPE_UNMATCHED
        hub.state.log_channel(ctx.clock, CHANNEL_CHANGED, bytes([0xE0, 0, 0, 1, 9, 1, value.value]))
        return SUCCESS

    g[(1, "0-0:96.1.1.255", 2)] = lambda ctx: OctetString(value=hub.eui)
    g[(1, "0-0:96.1.4.255", 2)] = lambda ctx: OctetString(value=hub.state.model)
    g[(1, "0-0:96.1.6.255", 2)] = lambda ctx: OctetString(value=hub.state.hardware)
    g[(1, "0-0:0.2.1.255", 2)] = lambda ctx: OctetString(value=hub.state.firmware)
    g[(NETWORK_CONTROL, HAN_LOG, 4)] = lambda ctx: Array(
        items=tuple(_active(e) for e in hub.state.devices.values())
    )
    g[(1, SUB_GHZ_CONFIG, 2)] = _sub_ghz_config
    st[(1, CHANNEL_SCAN, 2)] = channel_scan
    m[(NETWORK_CONTROL, HAN_LOG, 1)] = register
    m[(NETWORK_CONTROL, HAN_LOG, 2)] = unregister
    m[(NETWORK_CONTROL, HAN_LOG, 5)] = restore
    b[SECURITY_LOG] = lambda ctx, start, end: CompactArray.from_columns(
        _SECURITY_ROWS, _security_rows(hub.state.security_log, start, end)
    )
    b[CHANNEL_LOG] = lambda ctx, start, end: CompactArray.from_columns(
        _CHANNEL_ROWS, _channel_rows(hub.state.channel_log, start, end)
    )
    return server


def _security_rows(log: list[tuple[int, int]], start: int, end: int) -> list[list[int]]:
    chosen = [row for row in log if start <= row[0] <= end]
    return [[t for t, _ in chosen], [c for _, c in chosen]]


def _channel_rows(
    log: list[tuple[int, int, bytes]], start: int, end: int
) -> list[list[int] | list[OctetString]]:
    chosen = [row for row in log if start <= row[0] <= end]
    return [
        [t for t, _, _ in chosen],
        [c for _, c, _ in chosen],
        [OctetString(value=d) for _, _, d in chosen],
    ]


def _sub_ghz_config(ctx: Context) -> Data:
    """DBCH03: sub-GHz configuration (the 15 items of the DBCH03 response): four 32-bit channel
    masks, then duty-cycle and timing limits [inferred names]; simulated defaults."""
    masks = tuple(BitString(bits=32, data=bytes([m, 0, 0, 3])) for m in (0xE0, 0xE8, 0xF0, 0xF8))
    numbers: tuple[Data, ...] = (
        LongUnsigned(value=100),
        LongUnsigned(value=200),
        Unsigned(value=4),
        LongUnsigned(value=6),
        Unsigned(value=6),
        Unsigned(value=10),
        LongUnsigned(value=5000),
        Unsigned(value=100),
        LongUnsigned(value=90),
        LongUnsigned(value=5000),
        LongUnsigned(value=3000),
    )
    return Structure(items=masks + numbers)


__all__ = ["backup", "hub_objects", "seconds_since_2000"]
