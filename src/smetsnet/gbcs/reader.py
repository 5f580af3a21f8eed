"""A bounds-checked cursor over bytes, and the GBCS/A-XDR/DER length forms.

Every decoder in :mod:`smetsnet.gbcs` reads through a :class:`Reader`, so that every failure is a
:class:`GbcsDecodeError` naming the absolute offset and the field, and nothing reads past the end.

Lengths (GBCS frame, A-XDR and DER alike) are one byte below 0x80, else ``0x8N`` followed by N
big-endian bytes. Devices sometimes use a non-minimal form (``82 00 7F``; RTDS CS02 responses), so
:meth:`Reader.length` also returns the width of the encoding, and :func:`encode_length` can
reproduce it: decode -> encode must be byte-exact.
"""

from __future__ import annotations

from smetsnet.errors import GbcsDecodeError, GbcsEncodeError

#: Longest length encoding accepted (0x84 + 4 bytes); anything larger cannot fit a GBCS message.
MAX_LENGTH_OCTETS = 4


class Reader:
    """Cursor over ``data[pos:end]``; ``base`` is added to offsets in error reports."""

    __slots__ = ("base", "data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None, base: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.base = base

    # -- errors ------------------------------------------------------------------------------
    def error(self, field: str, reason: str, at: int | None = None) -> GbcsDecodeError:
        """An error at the current position (or at ``at``), as an absolute offset."""
        return GbcsDecodeError(self.base + (self.pos if at is None else at), field, reason)

    def _need(self, n: int, field: str) -> None:
        if self.pos + n > self.end:
            raise self.error(field, f"needs {n} byte(s) but only {self.end - self.pos} remain")

    # -- state -------------------------------------------------------------------------------
    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def expect_end(self, field: str) -> None:
        """Raise unless every byte was consumed (trailing bytes are an error, not ignored)."""
        if self.pos != self.end:
            raise self.error(field, f"{self.end - self.pos} unexpected trailing byte(s)")

    def peek(self, field: str) -> int:
        self._need(1, field)
        return self.data[self.pos]

    # -- primitives --------------------------------------------------------------------------
    def u8(self, field: str) -> int:
        self._need(1, field)
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self, field: str) -> int:
        self._need(2, field)
        p = self.pos
        self.pos = p + 2
        return int.from_bytes(self.data[p : p + 2], "big")

    def u32(self, field: str) -> int:
        self._need(4, field)
        p = self.pos
        self.pos = p + 4
        return int.from_bytes(self.data[p : p + 4], "big")

    def u64(self, field: str) -> int:
        self._need(8, field)
        p = self.pos
        self.pos = p + 8
        return int.from_bytes(self.data[p : p + 8], "big")

    def uint(self, n: int, field: str, byteorder: str = "big") -> int:
        self._need(n, field)
        p = self.pos
        self.pos = p + n
        return int.from_bytes(self.data[p : p + n], byteorder)  # type: ignore[arg-type]

    def take(self, n: int, field: str) -> bytes:
        if n < 0:
            raise self.error(field, f"negative length {n}")
        self._need(n, field)
        p = self.pos
        self.pos = p + n
        return self.data[p : p + n]

    def rest(self) -> bytes:
        p = self.pos
        self.pos = self.end
        return self.data[p : self.end]

    def sub(self, n: int, field: str) -> Reader:
        """A reader over the next ``n`` bytes; this reader skips them."""
        self._need(n, field)
        child = Reader(self.data, self.pos, self.pos + n, self.base)
        self.pos += n
        return child

    def length(self, field: str) -> tuple[int, int]:
        """Read a length; return ``(value, width)`` where width is the encoded size in bytes."""
        first = self.u8(field)
        if first < 0x80:
            return first, 1
        count = first & 0x7F
        if count == 0 or count > MAX_LENGTH_OCTETS:
            raise self.error(field, f"unsupported length form 0x{first:02X}", self.pos - 1)
        return self.uint(count, field), count + 1


def minimal_length_width(n: int) -> int:
    """Width in bytes of the shortest encoding of length ``n``."""
    if n < 0x80:
        return 1
    return 1 + (n.bit_length() + 7) // 8


def encode_length(n: int, width: int | None = None) -> bytes:
    """Encode length ``n`` in the shortest form, or in exactly ``width`` bytes when given."""
    if n < 0:
        raise GbcsEncodeError("length", f"negative length {n}")
    minimal = minimal_length_width(n)
    if width is None or width == minimal:
        if n < 0x80:
            return bytes((n,))
        body = n.to_bytes(minimal - 1, "big")
        return bytes((0x80 | len(body),)) + body
    if width < minimal or width > MAX_LENGTH_OCTETS + 1 or width == 1:
        raise GbcsEncodeError("length", f"length {n} cannot be written in {width} byte(s)")
    return bytes((0x80 | (width - 1),)) + n.to_bytes(width - 1, "big")
