"""The comms hub's state: the HAN device log (the whitelist), its security and sub-GHz logs.

The device log is what CCS01/CCS02/CCS03 change and CCS05/CCS04/CCS07 read (DLMS class 104
"ZigBee network control", ``0-0:30.3.0.255``; GBCS-PAYLOADS §1.8): one entry per device allowed
on the HAN, with the (hashed) trust-centre link key its install code gives. A device joins the
HAN only when it has an entry (GBCS §13: the CHF admits only whitelisted devices). A premises has
a handful of entries, so a small dict is the right shape here (the columnar rule is for bulk).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from smetsnet.devices.esme.state import EsmeState

#: Security-log event codes the hub records (alert code values; DOMAIN.md §7).
DEVICE_LOG_CHANGED = 0x8F12
JOIN_FAILED = 0x8F48
JOIN_SUCCEEDED = 0x8F49
#: Rows kept in the security and channel logs (oldest dropped first).
LOG_CAPACITY = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One whitelisted HAN device."""

    eui: bytes
    link_key: bytes  # hashed trust-centre link key (16 bytes), or b"" when not known
    device_type: int = 0  # DeviceType (inventory) or 0 when the command did not say
    joined: bool = False
    last_seen: int = 0  # s since 2000 of the last join/communication

    def to_json(self) -> dict[str, Any]:
        return {
            "eui": self.eui.hex(),
            "link_key": self.link_key.hex(),
            "device_type": self.device_type,
            "joined": self.joined,
            "last_seen": self.last_seen,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogEntry:
        return cls(
            eui=bytes.fromhex(data["eui"]),
            link_key=bytes.fromhex(data["link_key"]),
            device_type=int(data["device_type"]),
            joined=bool(data["joined"]),
            last_seen=int(data["last_seen"]),
        )


@dataclass(slots=True, kw_only=True)
class HubState:
    """Everything a comms hub remembers besides its keys and anti-replay counters."""

    devices: dict[bytes, LogEntry] = field(default_factory=dict)
    #: 8-byte identifier of the last backup/restore of the log (CCS03 carries one, CCS07 shows it)
    backup_id: bytes = bytes(8)
    backup_time: int = 0
    security_log: list[tuple[int, int]] = field(default_factory=list)  # (s since 2000, code)
    #: sub-GHz channel log (DBCH02): (s since 2000, event code, channel details octets)
    channel_log: list[tuple[int, int, bytes]] = field(default_factory=list)
    firmware: bytes = b"\x00\x01\x00\x00"
    model: bytes = b"SMETSNET"
    hardware: bytes = b"SN1"
    #: the generic COSEM attribute store of the object server (values SET and clock offset)
    cosem: EsmeState = field(default_factory=EsmeState)

    def whitelisted(self, eui: bytes) -> bool:
        return eui in self.devices

    def add(self, entry: LogEntry) -> None:
        old = self.devices.get(entry.eui)
        # Re-adding keeps the joined flag: the key may be refreshed without a rejoin.
        self.devices[entry.eui] = replace(entry, joined=old.joined) if old else entry

    def log_event(self, when: int, code: int) -> None:
        self.security_log.append((when, code))
        del self.security_log[:-LOG_CAPACITY]

    def log_channel(self, when: int, code: int, details: bytes) -> None:
        self.channel_log.append((when, code, details))
        del self.channel_log[:-LOG_CAPACITY]

    def to_json(self) -> dict[str, Any]:
        return {
            "devices": [e.to_json() for e in self.devices.values()],
            "backup_id": self.backup_id.hex(),
            "backup_time": self.backup_time,
            "security_log": [list(r) for r in self.security_log],
            "channel_log": [[t, c, d.hex()] for t, c, d in self.channel_log],
            "firmware": self.firmware.hex(),
            "model": self.model.hex(),
            "hardware": self.hardware.hex(),
            "cosem": self.cosem.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HubState:
        entries = [LogEntry.from_json(e) for e in data["devices"]]
        return cls(
            devices={e.eui: e for e in entries},
            backup_id=bytes.fromhex(data["backup_id"]),
            backup_time=int(data["backup_time"]),
            security_log=[(int(t), int(c)) for t, c in data["security_log"]],
            channel_log=[(int(t), int(c), bytes.fromhex(d)) for t, c, d in data["channel_log"]],
            firmware=bytes.fromhex(data["firmware"]),
            model=bytes.fromhex(data["model"]),
            hardware=bytes.fromhex(data["hardware"]),
            cosem=EsmeState.from_json(data["cosem"]),
        )
