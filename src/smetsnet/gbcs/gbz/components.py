"""GBZ components and the GBZ command/response payload (GBCS-PAYLOADS §2.1).

Payload: profile id ``01 09`` | component count (1) | components. Component: extended header
control (bit0 last, bit1 encrypted, bit4 from-date-time) | cluster id (2, BE) | length of the rest
(2, BE) | [from-date-time (4, BE, s since 2000)] | [encrypted: additional header control +
frame counter] | ZCL header: frame control, [manufacturer code (2, LE) when bit2], sequence number,
command id | ZCL payload, or when encrypted: ciphered length (2, BE) + ciphered content.

A ciphered ZCL payload is kept as on the wire (for a byte-exact re-encode) and, when the
frame layer's decryptor opens it, also decoded as the command's ZCL payload.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.gbz import commands as cmds
from smetsnet.gbcs.gbz import engine, general
from smetsnet.gbcs.gbz.zcl_types import UTC as UTC_TYPE
from smetsnet.gbcs.gbz.zcl_types import put_json
from smetsnet.gbcs.payload import (
    CipheredContent,
    Decryptor,
    DecryptStatus,
    JsonValue,
    unknown_node,
)
from smetsnet.gbcs.reader import Reader

PROFILE_ID: Final = 0x0109
_SPECS: Final = cmds.SPECS

# Extended header control bits.
LAST: Final = 0x01
ENCRYPTED: Final = 0x02
FROM_DATE_TIME: Final = 0x10
# ZCL frame control bits.
CLUSTER_SPECIFIC: Final = 0x01
MANUFACTURER_SPECIFIC: Final = 0x04
SERVER_TO_CLIENT: Final = 0x08
DISABLE_DEFAULT_RESPONSE: Final = 0x10

_HEAD = struct.Struct(">BHH")
_new = object.__new__
_set = object.__setattr__


@dataclass(frozen=True, slots=True, kw_only=True)
class Undecoded:
    """Bytes kept as they came, and why they were not decoded (JSON: an explicit unknown node)."""

    data: bytes
    why: str

    def to_bytes(self) -> bytes:
        return self.data

    def to_json(self, cluster_id: int = -1) -> dict[str, JsonValue]:
        return unknown_node(self.data, self.why)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownCommand(Undecoded):
    """A ZCL payload with no known layout (manufacturer-specific, reserved or unlisted)."""


ZclCommand = general.GeneralCommand | cmds.ClusterCommand | UnknownCommand


@dataclass(frozen=True, slots=True, kw_only=True)
class Encryption:
    """The parts an encrypted component adds, and whether its content could be opened."""

    ciphered: CipheredContent
    status: DecryptStatus
    additional_header_control: int = 0
    frame_counter: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class GbzComponent:
    """One GBZ component: a ZCL command to/from one cluster.

    ``command`` is None only for an encrypted component that was not opened.
    """

    control: int
    cluster_id: int
    frame_control: int
    sequence: int
    command_id: int
    command: ZclCommand | None
    from_date_time: int | None = None
    manufacturer_code: int | None = None
    encryption: Encryption | None = None

    def __post_init__(self) -> None:
        if (self.control & FROM_DATE_TIME != 0) != (self.from_date_time is not None):
            raise GbcsEncodeError("control", "from-date-time bit and value disagree")
        if (self.control & ENCRYPTED != 0) != (self.encryption is not None):
            raise GbcsEncodeError("control", "encrypted bit and ciphered content disagree")
        if (self.frame_control & MANUFACTURER_SPECIFIC != 0) != (
            self.manufacturer_code is not None
        ):
            raise GbcsEncodeError("frame_control", "manufacturer bit and code disagree")
        if self.command is None and self.encryption is None:
            raise GbcsEncodeError("command", "a plain component needs its command")

    # -- flags -----------------------------------------------------------------------------
    @property
    def last(self) -> bool:
        return bool(self.control & LAST)

    @property
    def encrypted(self) -> bool:
        return self.encryption is not None

    @property
    def cluster_specific(self) -> bool:
        return self.frame_control & 0x03 == CLUSTER_SPECIFIC

    @property
    def server_to_client(self) -> bool:
        return bool(self.frame_control & SERVER_TO_CLIENT)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def of(
        cls,
        *,
        cluster_id: int,
        command: ZclCommand,
        sequence: int = 0,
        server_to_client: bool | None = None,
        disable_default_response: bool = False,
        from_date_time: int | None = None,
        encryption: Encryption | None = None,
        last: bool = False,
    ) -> GbzComponent:
        """A component for ``command``; frame control is derived from the command's kind."""
        if isinstance(command, cmds.ClusterCommand):
            frame_control = CLUSTER_SPECIFIC
            direction: bool | None = command.server_to_client
            if server_to_client is not None and server_to_client != direction:
                raise GbcsEncodeError("server_to_client", f"{command.name} goes the other way")
        elif isinstance(command, UnknownCommand):
            raise GbcsEncodeError("command", "cannot build a component from an unknown command")
        else:
            frame_control = 0
            usual = general.USUAL_DIRECTION.get(command.command_id)
            direction = usual if server_to_client is None else server_to_client
        if direction is None:
            raise GbcsEncodeError("server_to_client", f"say which way {command.name} goes")
        frame_control |= SERVER_TO_CLIENT if direction else 0
        frame_control |= DISABLE_DEFAULT_RESPONSE if disable_default_response else 0
        control = (LAST if last else 0) | (ENCRYPTED if encryption else 0)
        control |= FROM_DATE_TIME if from_date_time is not None else 0
        return cls(
            control=control,
            cluster_id=cluster_id,
            frame_control=frame_control,
            sequence=sequence,
            command_id=command.command_id,
            command=command,
            from_date_time=from_date_time,
            encryption=encryption,
        )

    # -- encoding --------------------------------------------------------------------------
    def zcl_payload(self) -> bytes:
        """The ZCL payload as on the wire (the ciphered form when encrypted)."""
        if self.encryption is not None:
            ciphered = self.encryption.ciphered.to_bytes()
            return struct.pack(">H", len(ciphered)) + ciphered
        assert self.command is not None
        return self.command.to_bytes()

    def to_bytes(self) -> bytes:
        try:
            parts = []
            if self.from_date_time is not None:
                parts.append(struct.pack(">I", self.from_date_time))
            if self.encryption is not None:
                enc = self.encryption
                parts.append(bytes((enc.additional_header_control, enc.frame_counter)))
            parts.append(bytes((self.frame_control,)))
            if self.manufacturer_code is not None:
                parts.append(struct.pack("<H", self.manufacturer_code))
            parts.append(bytes((self.sequence, self.command_id)))
            parts.append(self.zcl_payload())
            body = b"".join(parts)
            return _HEAD.pack(self.control, self.cluster_id, len(body)) + body
        except (struct.error, ValueError) as exc:
            raise GbcsEncodeError("component", str(exc)) from None

    def to_json(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "control": self.control,
            "last": self.last,
            "encrypted": self.encrypted,
            "cluster_id": self.cluster_id,
            "cluster": cmds.CLUSTER_NAMES.get(self.cluster_id),
        }
        if self.from_date_time is not None:
            put_json(out, "from_date_time", UTC_TYPE, self.from_date_time)
        out["zcl"] = {
            "frame_control": self.frame_control,
            "cluster_specific": self.cluster_specific,
            "server_to_client": self.server_to_client,
            "disable_default_response": bool(self.frame_control & DISABLE_DEFAULT_RESPONSE),
            "manufacturer_code": self.manufacturer_code,
            "sequence": self.sequence,
            "command_id": self.command_id,
        }
        if self.encryption is not None:
            enc = self.encryption
            out["encryption"] = {
                "additional_header_control": enc.additional_header_control,
                "frame_counter": enc.frame_counter,
                "ciphered": enc.ciphered.to_json(),
                "status": enc.status,
            }
        out["command"] = None if self.command is None else self.command.to_json(self.cluster_id)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class GbzMessage:
    """A GBZ command or response payload: profile 0x0109 and its components."""

    components: tuple[GbzComponent, ...]
    profile_id: int = PROFILE_ID

    @classmethod
    def of(cls, *, components: Sequence[GbzComponent]) -> GbzMessage:
        """A payload of these components; only the last gets the "last component" bit."""
        if not components:
            raise GbcsEncodeError("components", "a GBZ payload needs at least one component")
        final = len(components) - 1
        fixed = tuple(
            replace(c, control=(c.control & ~LAST) | (LAST if i == final else 0))
            for i, c in enumerate(components)
        )
        return cls(components=fixed)

    def to_bytes(self) -> bytes:
        if len(self.components) > 0xFF:
            raise GbcsEncodeError("components", "at most 255 components")
        head = struct.pack(">HB", self.profile_id, len(self.components))
        return head + b"".join(c.to_bytes() for c in self.components)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "kind": "gbz",
            "profile_id": self.profile_id,
            "components": [c.to_json() for c in self.components],
        }


# -- decoding --------------------------------------------------------------------------------
def decode_command(
    cluster_id: int,
    frame_control: int,
    command_id: int,
    data: bytes,
    pos: int,
    end: int,
    base: int,
    where: str,
) -> ZclCommand:
    """Decode the ZCL payload ``data[pos:end]`` of one command (never guesses a layout)."""
    if frame_control & MANUFACTURER_SPECIFIC:
        return UnknownCommand(data=data[pos:end], why="manufacturer-specific command")
    frame_type = frame_control & 0x03
    if frame_type == 0:
        decoded = general.decode_general(command_id, data, pos, end, base, where)
        if decoded is None:
            why = f"general command 0x{command_id:02X} has no known layout"
            return UnknownCommand(data=data[pos:end], why=why)
        return decoded
    if frame_type != CLUSTER_SPECIFIC:
        return UnknownCommand(data=data[pos:end], why=f"reserved ZCL frame type {frame_type}")
    spec = _SPECS.get((cluster_id, frame_control & SERVER_TO_CLIENT != 0, command_id))
    if spec is None:
        why = f"cluster 0x{cluster_id:04X} command 0x{command_id:02X} has no known layout"
        return UnknownCommand(data=data[pos:end], why=why)
    run = spec.single_run
    if run is not None and end - pos == run.size:
        # Most GBZ commands are one run of fixed-size fields: one unpack, no layout walk.
        values: engine.Values = dict(zip(spec.names, run.unpack_from(data, pos), strict=True))
        return cmds.make_command(spec, values, b"", "")
    values = {}
    pos, why_stopped = engine.decode(spec.plan, data, pos, end, base, where, values)
    if pos < end:
        why = why_stopped or "bytes after the last field of the layout"
        return cmds.make_command(spec, values, data[pos:end], why)
    return cmds.make_command(spec, values, b"", "")


def read_component(r: Reader, where: str, decrypt: Decryptor | None) -> GbzComponent:
    """Read one component at the reader's position (the reader moves past it)."""
    data, pos, base = r.data, r.pos, r.base
    if pos + 5 > r.end:
        raise r.error(where + ".header", f"needs 5 bytes but only {r.end - pos} remain")
    control, cluster_id, length = _HEAD.unpack_from(data, pos)
    end = pos + 5 + length
    if end > r.end:
        raise r.error(where + ".length", f"{length} bytes but only {r.end - pos - 5} remain")
    r.pos = end
    p = pos + 5
    need = 3 + (4 if control & FROM_DATE_TIME else 0) + (2 if control & ENCRYPTED else 0)
    if p + need > end:
        raise GbcsDecodeError(base + p, where + ".zcl_header", "component too short")
    from_date_time = None
    if control & FROM_DATE_TIME:
        from_date_time = int.from_bytes(data[p : p + 4], "big")
        p += 4
    encryption_head = None
    if control & ENCRYPTED:
        encryption_head = (data[p], data[p + 1])
        p += 2
    frame_control = data[p]
    manufacturer_code = None
    if frame_control & MANUFACTURER_SPECIFIC:
        if p + 5 > end:
            raise GbcsDecodeError(base + p, where + ".zcl_header", "component too short")
        manufacturer_code = data[p + 1] | data[p + 2] << 8
        p += 2
    sequence, command_id = data[p + 1], data[p + 2]
    p += 3
    encryption = None
    command: ZclCommand | None
    if encryption_head is None:
        # Fast path for the commonest shape: a cluster command that is one run of plain fields.
        spec = _SPECS.get((cluster_id, frame_control & 0x0F == 0x09, command_id))
        run = None if spec is None or frame_control & 0x07 != 1 else spec.single_run
        if run is not None and spec is not None and end - p == run.size:
            values = dict(zip(spec.names, run.unpack_from(data, p), strict=False))
            command = cmds.make_command(spec, values, b"", "")
        elif frame_control & 0x07 == 0 and command_id == general.DEFAULT_RESPONSE and end - p == 2:
            command = general.make_default_response(data[p], data[p + 1])  # the commonest reply
        else:
            command = decode_command(
                cluster_id, frame_control, command_id, data, p, end, base, where + ".command"
            )
    else:
        encryption, command = _read_encrypted(
            Reader(data, p, end, base),
            where,
            decrypt,
            encryption_head,
            cluster_id,
            frame_control,
            command_id,
        )
    # Built without __init__: the values above are consistent by construction, and this path
    # runs for every component of every message (house speed budget, ~0.7 us saved each).
    component = _new(GbzComponent)
    _set(component, "control", control)
    _set(component, "cluster_id", cluster_id)
    _set(component, "frame_control", frame_control)
    _set(component, "sequence", sequence)
    _set(component, "command_id", command_id)
    _set(component, "command", command)
    _set(component, "from_date_time", from_date_time)
    _set(component, "manufacturer_code", manufacturer_code)
    _set(component, "encryption", encryption)
    return component


def _read_encrypted(
    r: Reader,
    where: str,
    decrypt: Decryptor | None,
    head: tuple[int, int],
    cluster_id: int,
    frame_control: int,
    command_id: int,
) -> tuple[Encryption, ZclCommand | None]:
    length = r.u16(where + ".ciphered_length")
    if length != r.remaining:
        raise r.error(where + ".ciphered_length", f"{length} but {r.remaining} bytes follow")
    content_start = r.pos
    ciphered = CipheredContent.read(r, length, where + ".ciphered")
    opened = ciphered.open(decrypt)
    command = None
    plaintext = opened.plaintext
    if opened.status == "decrypted" and plaintext is not None:
        # GCM keeps positions: plaintext byte i sits where ciphertext byte i was (after 0x31 and
        # the 4-byte invocation counter), so errors can name an offset in the message.
        command = decode_command(
            cluster_id,
            frame_control,
            command_id,
            plaintext,
            0,
            len(plaintext),
            r.base + content_start + 5,
            where + ".command",
        )
    encryption = Encryption(
        ciphered=ciphered,
        status=opened.status,
        additional_header_control=head[0],
        frame_counter=head[1],
    )
    return encryption, command


_WHERE: Final = tuple(f"payload.components[{i}]" for i in range(256))


def read_message(r: Reader, count: int, decrypt: Decryptor | None) -> GbzMessage:
    """Read ``count`` components and require the payload to end there."""
    components = []
    for i in range(count):
        components.append(read_component(r, _WHERE[i], decrypt))
    if r.pos != r.end:
        r.expect_end("payload")
    message = _new(GbzMessage)
    _set(message, "components", tuple(components))
    _set(message, "profile_id", PROFILE_ID)
    return message
