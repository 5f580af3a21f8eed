"""Meter point numbers: the MPAN core (electricity) and the MPRN (gas).

An MPAN core is 13 digits; its last digit checks the first twelve: weigh them by the primes
3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43 (11 is skipped), sum, then take the sum modulo 11 and
that modulo 10. Its first two digits are the distributor id (10-23 for the 14 GB regions).
An MPRN is 6 to 10 digits (Xoserve numbers have no check digit that we rely on).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from smetsnet.inventory.errors import InvalidIdentifier
from smetsnet.inventory.model import MeterKind

MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
MPAN_LENGTH = 13
MPRN_LENGTHS = range(6, 11)


def mpan_check_digit(first12: str) -> int:
    """The check digit of the 12 digits before it."""
    if len(first12) != MPAN_LENGTH - 1 or not first12.isdigit():
        raise InvalidIdentifier(f"MPAN core {first12!r}: need 12 digits before the check digit")
    return sum(int(d) * p for d, p in zip(first12, MPAN_PRIMES, strict=True)) % 11 % 10


def make_mpan(first12: str) -> str:
    """The 13-digit MPAN core made of ``first12`` and its check digit."""
    return first12 + str(mpan_check_digit(first12))


def parse_mpan(text: str) -> str:
    """A valid MPAN core (spaces allowed in the input), or InvalidIdentifier saying why not."""
    core = "".join(text.split())
    if len(core) != MPAN_LENGTH or not core.isascii() or not core.isdigit():
        raise InvalidIdentifier(f"MPAN {text!r}: an MPAN core is {MPAN_LENGTH} digits")
    expected = mpan_check_digit(core[:12])
    if int(core[12]) != expected:
        raise InvalidIdentifier(
            f"MPAN {text!r}: check digit is {core[12]}, the first 12 digits give {expected}"
        )
    return core


def parse_mprn(text: str) -> str:
    mprn = "".join(text.split())
    if len(mprn) not in MPRN_LENGTHS or not mprn.isascii() or not mprn.isdigit():
        raise InvalidIdentifier(f"MPRN {text!r}: an MPRN is 6 to 10 digits")
    return mprn


def parse_mpxn(text: str, kind: MeterKind) -> str:
    return parse_mprn(text) if kind is MeterKind.MPRN else parse_mpan(text)


def kind_guess(mpxn: str) -> MeterKind:
    """MPAN (13 digits) or MPRN (6-10): the lengths never overlap. Export vs import is data."""
    return MeterKind.IMPORT_MPAN if len(mpxn) == MPAN_LENGTH else MeterKind.MPRN


def _weighted_sum(first12: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], bool]:
    """Sum of the 12 digits weighted by the MPAN primes (column-wise, not one call per MPAN)."""
    rest = first12.astype(np.int64, copy=True)
    total = np.zeros_like(rest)
    for prime in reversed(MPAN_PRIMES):  # from the 12th digit back to the first
        total += (rest % 10) * prime
        rest //= 10
    return total, bool((rest == 0).all() and (first12 >= 0).all())


def mpan_cores(first12: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Vectorised :func:`make_mpan` for bulk data: 12-digit numbers -> 13-digit MPAN cores."""
    total, fits = _weighted_sum(first12)
    if not fits:
        raise InvalidIdentifier("MPAN cores: every number must have at most 12 digits")
    result: npt.NDArray[np.int64] = first12.astype(np.int64) * 10 + total % 11 % 10
    return result


def mpan_valid(mpan: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Vectorised :func:`parse_mpan` check for bulk data: 13 digits and the check digit."""
    in_range = (mpan >= 10**12) & (mpan < 10**13)
    total, _ = _weighted_sum(np.where(in_range, mpan // 10, 0))
    ok: npt.NDArray[np.bool_] = in_range & (total % 11 % 10 == mpan % 10)
    return ok
