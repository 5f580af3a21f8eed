"""General Block Transfer (GBT): splitting a large GBCS message into blocks and joining them.

Sans-I/O: bytes and typed blocks in, bytes and typed blocks out; the caller owns sockets and
clocks. Layout of one block (GBCS-PAYLOADS.md §6, DOMAIN.md §2.5; [W] packet-gbcs.c, [U]
gbcs-parser.html)::

    [routing header]  DD | 09 CRA originator-counter(8) | 08 originator | 08 recipient
                      | date-time (00, or 0C + 12 bytes) | other-info length | message code
                      | key-info (00) | length (BER) | security control (1) | invocation counter (4)
    [GBT header]      E0 | block control | block number (2) | acknowledged block number (2)
                      | data length (BER) | data

The second byte 09 (a 9-byte transaction id) is what tells a GBT block from a MAC'd message
(``DD 00 ...``). Block control: bit 7 last block, bit 6 streaming, bits 0-5 window. Block numbers
start at 1; a block without data is an acknowledgement [W]. Concatenating the data of blocks
1..last gives an ordinary GBCS message (``DD 00 ...`` or ``DF ...``).

Interpretations (no GBT frame is in the reference vectors, GBCS-PAYLOADS.md §7):
- the BER length after key-info counts every byte after it in the block (security header +
  GBT header + data), as the ciphered-content length of a DLMS general-ciphering APDU does;
- limits: "a maximum of 63 GBT messages each containing 1,149 octets" [U] gives 63 blocks and
  63 × 1,149 bytes per message; gbcs-parser-js rejects blocks over 1,200 bytes of data;
- the security control byte and invocation counter are carried as given (default 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader, encode_length, minimal_length_width

GENERAL_CIPHERING = 0xDD
GENERAL_SIGNING = 0xDF
GBT_TAG = 0xE0
TRANSACTION_ID_LENGTH = 9
EUI_LENGTH = 8
DATE_TIME_LENGTH = 12
SECURITY_HEADER_LENGTH = 5
#: Block data size used by GBCS when it sizes attributes ("63 GBT messages of 1,149 octets" [U]).
DEFAULT_BLOCK_SIZE = 1149
#: The block-control window is 6 bits.
MAX_WINDOW = 0x3F
MAX_BLOCKS = 63
MAX_BLOCK_SIZE = 1200
MAX_MESSAGE_SIZE = MAX_BLOCKS * DEFAULT_BLOCK_SIZE

_LAST = 0x80
_STREAMING = 0x40

#: Reassembly key: (originator EUI-64, originator counter) [W].
GbtKey = tuple[bytes, int]


def is_gbt(frame: bytes) -> bool:
    """True for a GBT block (``DD 09``), False for any other frame."""
    return len(frame) >= 2 and frame[0] == GENERAL_CIPHERING and frame[1] == TRANSACTION_ID_LENGTH


def _check_range(value: int, low: int, high: int, field_name: str) -> None:
    if not low <= value <= high:
        raise GbcsEncodeError(field_name, f"{value} is outside {low}..{high}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingHeader:
    """The routing header of a GBT block (shared by every block of one message)."""

    cra: int
    originator_counter: int
    originator: bytes
    recipient: bytes
    message_code: int
    #: Zero-length (the usual case) or a 12-byte DLMS date-time.
    date_time: bytes = b""
    #: Bytes of other-information after the message code (none in GBCS; kept byte-exact).
    other_info_extra: bytes = b""
    key_info: bytes = b""
    security_control: int = 0
    invocation_counter: int = 0

    def __post_init__(self) -> None:
        _check_range(self.cra, 1, 3, "routing.cra")
        _check_range(self.originator_counter, 0, (1 << 64) - 1, "routing.originator_counter")
        _check_range(self.message_code, 0, 0xFFFF, "routing.message_code")
        _check_range(self.security_control, 0, 0xFF, "routing.security_control")
        _check_range(self.invocation_counter, 0, 0xFFFFFFFF, "routing.invocation_counter")
        for name in ("originator", "recipient"):
            if len(getattr(self, name)) != EUI_LENGTH:
                raise GbcsEncodeError(f"routing.{name}", "an EUI-64 must be 8 bytes")
        if len(self.date_time) not in (0, DATE_TIME_LENGTH):
            raise GbcsEncodeError("routing.date_time", "must be empty or 12 bytes")
        # Single-byte lengths only: a longer form could not be re-read byte-exact.
        if len(self.other_info_extra) + 2 >= 0x80 or len(self.key_info) >= 0x80:
            raise GbcsEncodeError("routing", "other-information / key-info too long")

    @property
    def key(self) -> GbtKey:
        return (self.originator, self.originator_counter)

    def prefix(self) -> bytes:
        """Bytes from DD up to (not including) the length before the security header."""
        other = self.message_code.to_bytes(2, "big") + self.other_info_extra
        return b"".join(
            (
                bytes((GENERAL_CIPHERING, TRANSACTION_ID_LENGTH, self.cra)),
                self.originator_counter.to_bytes(8, "big"),
                bytes((EUI_LENGTH,)),
                self.originator,
                bytes((EUI_LENGTH,)),
                self.recipient,
                bytes((len(self.date_time),)),
                self.date_time,
                bytes((len(other),)),
                other,
                bytes((len(self.key_info),)),
                self.key_info,
            )
        )

    def security_header(self) -> bytes:
        return bytes((self.security_control,)) + self.invocation_counter.to_bytes(4, "big")

    @classmethod
    def read(cls, r: Reader) -> RoutingHeader:
        """Read from DD through key-info (the caller reads the length and security header)."""
        if r.u8("routing.tag") != GENERAL_CIPHERING:
            raise r.error("routing.tag", "a GBT block starts with 0xDD", r.pos - 1)
        if r.u8("routing.transaction_id.length") != TRANSACTION_ID_LENGTH:
            raise r.error("routing.transaction_id.length", "GBT needs a 9-byte transaction id")
        cra = r.u8("routing.cra")
        if not 1 <= cra <= 3:
            raise r.error("routing.cra", f"CRA flag {cra} is not 1, 2 or 3", r.pos - 1)
        counter = r.u64("routing.originator_counter")
        originator = _read_eui(r, "routing.originator")
        recipient = _read_eui(r, "routing.recipient")
        dt_len = r.u8("routing.date_time.length")
        if dt_len not in (0, DATE_TIME_LENGTH):
            raise r.error("routing.date_time.length", f"{dt_len} is not 0 or 12", r.pos - 1)
        date_time = r.take(dt_len, "routing.date_time")
        other = r.sub(_short_length(r, "routing.other_info.length"), "routing.other_info")
        if other.remaining < 2:
            raise r.error("routing.other_info", "needs at least the 2-byte message code")
        code = other.u16("routing.message_code")
        key_info = r.take(_short_length(r, "routing.key_info.length"), "routing.key_info")
        return cls(
            cra=cra,
            originator_counter=counter,
            originator=originator,
            recipient=recipient,
            message_code=code,
            date_time=date_time,
            other_info_extra=other.rest(),
            key_info=key_info,
        )

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "cra": self.cra,
            "originator_counter": self.originator_counter,
            "originator": self.originator.hex(),
            "recipient": self.recipient.hex(),
            "message_code": self.message_code,
            "date_time": self.date_time.hex(),
            "other_info_extra": self.other_info_extra.hex(),
            "key_info": self.key_info.hex(),
            "security_control": self.security_control,
            "invocation_counter": self.invocation_counter,
        }


def _read_eui(r: Reader, field_name: str) -> bytes:
    if r.u8(f"{field_name}.length") != EUI_LENGTH:
        raise r.error(f"{field_name}.length", "an EUI-64 element has length 8", r.pos - 1)
    return r.take(EUI_LENGTH, field_name)


def _short_length(r: Reader, field_name: str) -> int:
    value = r.u8(field_name)
    if value >= 0x80:
        raise r.error(field_name, f"length form 0x{value:02X} not used here", r.pos - 1)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class GbtBlock:
    """One GBT block: routing header + GBT header + a slice of the message."""

    routing: RoutingHeader
    block_number: int
    data: bytes
    last: bool = False
    streaming: bool = False
    window: int = 1
    ack_number: int = 0
    #: Widths of the two BER lengths when a sender used a non-minimal form (None = minimal).
    ciphered_length_width: int | None = field(default=None, compare=False)
    data_length_width: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check_range(self.block_number, 0, 0xFFFF, "gbt.block_number")
        _check_range(self.ack_number, 0, 0xFFFF, "gbt.ack_number")
        _check_range(self.window, 0, MAX_WINDOW, "gbt.window")

    @property
    def key(self) -> GbtKey:
        return self.routing.key

    @property
    def is_ack(self) -> bool:
        """A block without data only acknowledges blocks [W]."""
        return not self.data

    def to_bytes(self) -> bytes:
        return self.routing.prefix() + self._after_prefix()

    def _after_prefix(self) -> bytes:
        control = (_LAST if self.last else 0) | (_STREAMING if self.streaming else 0) | self.window
        gbt = b"".join(
            (
                bytes((GBT_TAG, control)),
                self.block_number.to_bytes(2, "big"),
                self.ack_number.to_bytes(2, "big"),
                encode_length(len(self.data), self.data_length_width),
                self.data,
            )
        )
        length = encode_length(SECURITY_HEADER_LENGTH + len(gbt), self.ciphered_length_width)
        return length + self.routing.security_header() + gbt

    @classmethod
    def read(cls, r: Reader) -> GbtBlock:
        """Read one block at the reader's position (blocks may follow it)."""
        routing = RoutingHeader.read(r)
        length, length_width = r.length("routing.length")
        body = r.sub(length, "routing.content")
        security_control = body.u8("routing.security_control")
        invocation_counter = body.u32("routing.invocation_counter")
        if body.u8("gbt.tag") != GBT_TAG:
            raise body.error("gbt.tag", "expected 0xE0 (general-block-transfer)", body.pos - 1)
        control = body.u8("gbt.block_control")
        number = body.u16("gbt.block_number")
        ack = body.u16("gbt.ack_number")
        data_length, data_width = body.length("gbt.data.length")
        data = body.take(data_length, "gbt.data")
        body.expect_end("routing.content")
        return cls(
            routing=_with_security(routing, security_control, invocation_counter),
            block_number=number,
            data=data,
            last=bool(control & _LAST),
            streaming=bool(control & _STREAMING),
            window=control & MAX_WINDOW,
            ack_number=ack,
            ciphered_length_width=_non_minimal(length, length_width),
            data_length_width=_non_minimal(data_length, data_width),
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, base: int = 0) -> GbtBlock:
        """Decode exactly one block; trailing bytes are an error."""
        r = Reader(data, base=base)
        block = cls.read(r)
        r.expect_end("gbt")
        return block

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "routing": self.routing.to_json(),
            "last": self.last,
            "streaming": self.streaming,
            "window": self.window,
            "block_number": self.block_number,
            "ack_number": self.ack_number,
            "data": self.data.hex(),
        }


def _with_security(routing: RoutingHeader, control: int, counter: int) -> RoutingHeader:
    if control == routing.security_control and counter == routing.invocation_counter:
        return routing  # the common case: no second validation
    return replace(routing, security_control=control, invocation_counter=counter)


def _non_minimal(value: int, width: int) -> int | None:
    return None if minimal_length_width(value) == width else width


def blocks_from_bytes(data: bytes, *, base: int = 0) -> list[GbtBlock]:
    """Decode a run of concatenated blocks (as gbcs-parser-js accepts them)."""
    r = Reader(data, base=base)
    blocks = [GbtBlock.read(r)]
    while not r.at_end():
        blocks.append(GbtBlock.read(r))
    return blocks


def routing_header_for(message: bytes) -> RoutingHeader:
    """A routing header copied from a GBCS message's grouping header (CRA, counter, EUIs, code).

    ``message`` is a whole message, MAC'd (``DD 00 ...``) or not (``DF ...``).
    """
    r = Reader(message)
    if r.peek("message.tag") == GENERAL_CIPHERING:
        r.u8("message.tag")
        if r.take(6, "mac_header.fixed") != bytes(6):
            raise r.error("mac_header.fixed", "expected DD 00 00 00 00 00 00", 1)
        r.length("mac_header.length")
        r.take(SECURITY_HEADER_LENGTH, "mac_header.security_header")
    if r.u8("grouping.tag") != GENERAL_SIGNING:
        raise r.error("grouping.tag", "expected 0xDF (general-signing)", r.pos - 1)
    if r.u8("grouping.transaction_id.length") != TRANSACTION_ID_LENGTH:
        raise r.error("grouping.transaction_id.length", "expected 9", r.pos - 1)
    cra = r.u8("grouping.cra")
    if not 1 <= cra <= 3:
        raise r.error("grouping.cra", f"CRA flag {cra} is not 1, 2 or 3", r.pos - 1)
    counter = r.u64("grouping.originator_counter")
    originator = _read_eui(r, "grouping.originator")
    recipient = _read_eui(r, "grouping.recipient")
    r.take(r.u8("grouping.date_time.length"), "grouping.date_time")
    other_length, _ = r.length("grouping.other_info.length")
    if other_length < 2:
        raise r.error("grouping.other_info", "needs at least the 2-byte message code")
    code = r.u16("grouping.message_code")
    return RoutingHeader(
        cra=cra,
        originator_counter=counter,
        originator=originator,
        recipient=recipient,
        message_code=code,
    )


def split_message(
    message: bytes,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    routing: RoutingHeader | None = None,
    window: int = 1,
    streaming: bool = False,
    max_blocks: int = MAX_BLOCKS,
) -> list[GbtBlock]:
    """Split a whole GBCS message into GBT blocks numbered from 1, the last one flagged.

    ``routing`` defaults to :func:`routing_header_for` ``(message)``. Raises GbcsEncodeError for
    an empty message, a block size below 1, or a message needing more than ``max_blocks``.
    """
    if not message:
        raise GbcsEncodeError("gbt.data", "nothing to send")
    if block_size < 1:
        raise GbcsEncodeError("gbt.block_size", f"block size {block_size} < 1")
    count = -(-len(message) // block_size)
    if count > min(max_blocks, 0xFFFF):
        raise GbcsEncodeError(
            "gbt.block_number",
            f"{len(message)} bytes need {count} blocks of {block_size}; the limit is {max_blocks}",
        )
    header = routing_header_for(message) if routing is None else routing
    return [
        GbtBlock(
            routing=header,
            block_number=index + 1,
            data=message[index * block_size : (index + 1) * block_size],
            last=index == count - 1,
            streaming=streaming,
            window=window,
        )
        for index in range(count)
    ]


class GbtReassemblyError(GbcsDecodeError):
    """A block that cannot be part of its message (conflict, over a limit, out of range).

    ``offset`` is 0: the error is about a block as a whole; ``key`` names the message.
    """

    def __init__(self, key: GbtKey, field_name: str, reason: str) -> None:
        self.key = key
        originator, counter = key
        super().__init__(0, field_name, f"message {originator.hex()}/{counter}: {reason}")


class _Partial:
    """The blocks of one message received so far (mutable, private to the reassembler)."""

    __slots__ = ("blocks", "last_number", "routing", "size", "updated")

    def __init__(self, routing: RoutingHeader, now: float) -> None:
        self.routing = routing
        self.blocks: dict[int, bytes] = {}
        self.last_number: int | None = None
        self.size = 0
        self.updated = now


@dataclass(frozen=True, slots=True, kw_only=True)
class GbtLimits:
    """Bounds that keep a reassembler's memory finite whatever the network sends."""

    max_blocks: int = MAX_BLOCKS
    max_block_size: int = MAX_BLOCK_SIZE
    max_message_size: int = MAX_MESSAGE_SIZE
    #: Incomplete messages held at once; a new one beyond this is refused (call expire()).
    max_pending: int = 1024


class Reassembler:
    """Joins GBT blocks of many messages at once; no I/O, no clock of its own.

    :meth:`accept` returns the whole message when its last missing block arrives, else None.
    Blocks may come in any order; a repeated identical block is ignored. Every error leaves the
    state as it was (the offending block is simply not taken).
    """

    __slots__ = ("_pending", "limits")

    def __init__(self, limits: GbtLimits | None = None) -> None:
        self.limits = GbtLimits() if limits is None else limits
        self._pending: dict[GbtKey, _Partial] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def pending(self) -> list[GbtKey]:
        """Keys of the messages still incomplete."""
        return list(self._pending)

    def accept(self, block: GbtBlock, *, now: float = 0.0) -> bytes | None:
        """Take one block; ``now`` is the caller's clock (used only by :meth:`expire`)."""
        if block.is_ack:
            return None
        key = block.key
        partial = self._pending.get(key)
        self._check_block(key, block, partial)
        if partial is None:
            partial = self._pending[key] = _Partial(block.routing, now)
        partial.updated = now
        number = block.block_number
        if number in partial.blocks:
            return None  # an identical repeat (a conflicting one was refused above)
        partial.blocks[number] = block.data
        partial.size += len(block.data)
        if block.last:
            partial.last_number = number
        if partial.last_number is None or len(partial.blocks) != partial.last_number:
            return None
        del self._pending[key]
        blocks = partial.blocks
        return b"".join(blocks[n] for n in range(1, partial.last_number + 1))

    def missing(self, key: GbtKey) -> list[int]:
        """Block numbers not yet received for a pending message, in order.

        Until the last block has arrived the total is unknown: the list then covers 1 up to the
        highest block number received. Raises KeyError for a key that is not pending.
        """
        partial = self._pending.get(key)
        if partial is None:
            raise KeyError(f"no pending GBT message {key[0].hex()}/{key[1]}")
        return _missing_numbers(partial)

    def expire(self, older_than: float) -> list[GbtKey]:
        """Drop incomplete messages whose latest block came before ``older_than``; return them."""
        stale = [key for key, p in self._pending.items() if p.updated < older_than]
        for key in stale:
            del self._pending[key]
        return stale

    def _check_block(self, key: GbtKey, block: GbtBlock, partial: _Partial | None) -> None:
        limits = self.limits
        number = block.block_number
        if not 1 <= number <= limits.max_blocks:
            raise GbtReassemblyError(
                key, "gbt.block_number", f"block {number} is outside 1..{limits.max_blocks}"
            )
        if len(block.data) > limits.max_block_size:
            raise GbtReassemblyError(
                key, "gbt.data", f"{len(block.data)} bytes > {limits.max_block_size} per block"
            )
        if partial is None:
            if len(self._pending) >= limits.max_pending:
                raise GbtReassemblyError(
                    key, "gbt", f"{limits.max_pending} messages already pending"
                )
            return
        _check_against(key, block, partial, limits.max_message_size)


def _check_against(key: GbtKey, block: GbtBlock, partial: _Partial, max_size: int) -> None:
    """Check a block against the blocks already held for its message."""
    number = block.block_number
    routing, first = block.routing, partial.routing
    if (routing.cra, routing.recipient, routing.message_code) != (
        first.cra,
        first.recipient,
        first.message_code,
    ):
        raise GbtReassemblyError(key, "routing", "CRA, recipient or message code changed")
    held = partial.blocks.get(number)
    if held is not None:
        if held != block.data or block.last != (partial.last_number == number):
            raise GbtReassemblyError(
                key, "gbt.data", f"block {number} repeated with different content"
            )
        return
    last = partial.last_number
    if block.last and last is not None:
        raise GbtReassemblyError(key, "gbt.last", f"block {last} was already the last block")
    if block.last and partial.blocks and max(partial.blocks) > number:
        raise GbtReassemblyError(
            key, "gbt.last", f"block {number} flagged last but block {max(partial.blocks)} exists"
        )
    if last is not None and number > last:
        raise GbtReassemblyError(key, "gbt.block_number", f"block {number} is after last {last}")
    if partial.size + len(block.data) > max_size:
        raise GbtReassemblyError(key, "gbt", f"message would exceed {max_size} bytes")


def _missing_numbers(partial: _Partial) -> list[int]:
    top = partial.last_number if partial.last_number is not None else max(partial.blocks)
    return [n for n in range(1, top + 1) if n not in partial.blocks]
