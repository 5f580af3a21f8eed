"""UTRN: the 20-digit Unique Transaction Reference Number of a prepayment top-up (GBCS §14).

A UTRN is the 19-digit PPTD followed by one check digit. PPTD = PTUT + 7 394 156 990 786 306 048
(the offset keeps GBCS tokens apart from STS token classes). The 64-bit PTUT is:

    bits 63-57  zero
    bits 56-47  bits 41-32 of the originator counter (the counter's low 32 bits are zero)
    bits 46-45  value class: 0 pennies, 1 pounds
    bits 44-32  value (0-8191)
    bits 31-0   the last 4 bytes of a 16-byte GMAC keyed from ECDH(supplier prepayment KA key,
                device KA key), "command" KDF, AAD = 11 00000000 00 ‖ supplier ‖ device ‖ 01 ‖
                counter ‖ PTUT bits 63-32

The check digit uses GBCS's own Verhoeff-style tables (§14.8): they differ from textbook Verhoeff
(other inverse table, and the digits run left to right from a starting row of 4).
Worked and tested on ``2.2_CS01a/CS01a_2.2_SUCCESS_COMMAND_GBCS.HEX``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from smetsnet.errors import GbcsEncodeError, GbcsSecurityError
from smetsnet.gbcs import crypto

PPTD_OFFSET = 7_394_156_990_786_306_048
MAX_VALUE = 8191
UTRN_DIGITS = 20

_P = (
    "0123456789",
    "1576283094",
    "5803796142",
    "8916043527",
    "9453126870",
    "4286573901",
    "2793806415",
    "7046913258",
)
_D = (
    "0123456789",
    "1234067895",
    "2340178956",
    "3401289567",
    "4012395678",
    "5987604321",
    "6598710432",
    "7659821043",
    "8765932104",
    "9876543210",
)
_INVERSE = "1267583094"
_PERMUTE = tuple(tuple(int(c) for c in row) for row in _P)
_MULTIPLY = tuple(tuple(int(c) for c in row) for row in _D)


class ValueClass(IntEnum):
    PENNIES = 0
    POUNDS = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Ptut:
    """The Prepayment Top-Up Token inside a UTRN."""

    counter_bits: int
    value_class: ValueClass
    value: int
    mac: int

    @property
    def high_word(self) -> int:
        return (self.counter_bits << 15) | (self.value_class << 13) | self.value

    def to_int(self) -> int:
        return (self.high_word << 32) | self.mac

    @classmethod
    def from_int(cls, ptut: int) -> Ptut:
        high = ptut >> 32
        return cls(
            counter_bits=(high >> 15) & 0x3FF,
            value_class=ValueClass((high >> 13) & 0x3),
            value=high & 0x1FFF,
            mac=ptut & 0xFFFFFFFF,
        )

    @property
    def pence(self) -> int:
        return self.value * (100 if self.value_class == ValueClass.POUNDS else 1)


def check_digit(digits: str) -> int:
    """The GBCS check digit of the 19 PPTD digits."""
    c, k = 0, 4
    for ch in digits:
        c = _MULTIPLY[c][_PERMUTE[k][ord(ch) - 48]]
        k = (k + 1) % 8
    return int(_INVERSE[c])


def utrn_mac(z: bytes, supplier: bytes, device: bytes, counter: int, high_word: int) -> int:
    """The low 32 bits of the PTUT: the last 4 bytes of the 16-byte GMAC."""
    key = crypto.kdf(z, crypto.KdfType.COMMAND, supplier, counter, device)
    aad = b"".join(
        (
            crypto.MAC_AAD_PREFIX,
            supplier,
            device,
            b"\x01",
            counter.to_bytes(8, "big"),
            high_word.to_bytes(4, "big"),
        )
    )
    tag16 = crypto.gmac_tag16(key, crypto.mac_iv(supplier), aad)
    return int.from_bytes(tag16[12:16], "big")


def _value_parts(pence: int) -> tuple[ValueClass, int]:
    if 0 <= pence <= MAX_VALUE:
        return ValueClass.PENNIES, pence
    if pence % 100 == 0 and pence // 100 <= MAX_VALUE:
        return ValueClass.POUNDS, pence // 100
    raise GbcsEncodeError(
        "utrn.value",
        f"{pence} pence is neither <= {MAX_VALUE} pence nor whole pounds <= £{MAX_VALUE}",
    )


def make_utrn(
    z: bytes,
    *,
    supplier: bytes,
    device: bytes,
    counter: int,
    pence: int | None = None,
    value: int | None = None,
    value_class: ValueClass | None = None,
) -> str:
    """Generate a UTRN (Z = supplier prepayment KA × device KA).

    Give either ``pence`` (pennies when it fits 13 bits, else whole pounds) or ``value`` and
    ``value_class`` exactly as they go into the PTUT.
    """
    if counter & 0xFFFFFFFF:
        raise GbcsEncodeError("utrn.counter", "a top-up counter's low 32 bits must be zero")
    if pence is not None:
        value_class, value = _value_parts(pence)
    elif value is None or value_class is None or not 0 <= value <= MAX_VALUE:
        raise GbcsEncodeError("utrn.value", f"give pence, or a value 0..{MAX_VALUE} and its class")
    high = ((counter >> 32) & 0x3FF) << 15 | value_class << 13 | value
    mac = utrn_mac(z, supplier, device, counter, high)
    pptd = f"{PPTD_OFFSET + ((high << 32) | mac):019d}"
    return pptd + str(check_digit(pptd))


def parse_utrn(utrn: str) -> Ptut:
    """Check the form and the check digit of a UTRN and return its PTUT (MAC not checked)."""
    if len(utrn) != UTRN_DIGITS or not utrn.isascii() or not utrn.isdigit():
        raise GbcsEncodeError("utrn", f"{utrn!r} is not 20 decimal digits")
    pptd, check = utrn[:19], int(utrn[19])
    if check_digit(pptd) != check:
        raise GbcsEncodeError("utrn.check_digit", f"{utrn} fails the GBCS check digit")
    ptut = int(pptd) - PPTD_OFFSET
    if not 0 <= ptut < 1 << 57:
        raise GbcsEncodeError("utrn", f"{utrn} is outside the GBCS PPTD range")
    return Ptut.from_int(ptut)


def verify_utrn(z: bytes, *, utrn: str, supplier: bytes, device: bytes, counter: int) -> Ptut:
    """The PTUT of a UTRN that is authentic for this supplier, device and counter; else raise."""
    ptut = parse_utrn(utrn)
    if ptut.counter_bits != (counter >> 32) & 0x3FF:
        raise GbcsSecurityError("UTRN counter bits do not match the top-up counter")
    if utrn_mac(z, supplier, device, counter, ptut.high_word) != ptut.mac:
        raise GbcsSecurityError("UTRN is not authentic for this supplier and device")
    return ptut
