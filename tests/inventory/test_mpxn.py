"""MPAN check digits, MPRN lengths, regions, EUIs: bad input names what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smetsnet.inventory import InvalidIdentifier, Region, mpan_check_digit, parse_mpan, parse_mprn
from smetsnet.inventory.model import eui_of, region_of
from smetsnet.inventory.mpxn import make_mpan, mpan_cores, mpan_valid

twelve_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)


def test_check_digit_worked_examples() -> None:
    # 1*3 + 2*5 + 1*43 = 56; 56 mod 11 = 1; 1 mod 10 = 1
    assert mpan_check_digit("120000000001") == 1
    # 4*43 = 172; 172 mod 11 = 7
    assert mpan_check_digit("000000000004") == 7
    # 2*3 + 1*5 = 11 -> 0; and a sum that is 10 mod 11 gives 0 too: 1*43 + 1*3 + 1*5 + 1*37 = 88
    assert mpan_check_digit("210000000000") == 0
    assert mpan_check_digit("111000000110") == (3 + 5 + 7 + 37 + 41) % 11 % 10


def test_parse_mpan() -> None:
    assert parse_mpan("12 0000 0000 011") == "1200000000011"
    with pytest.raises(InvalidIdentifier, match="check digit is 2, the first 12 digits give 1"):
        parse_mpan("1200000000012")
    with pytest.raises(InvalidIdentifier, match="13 digits"):
        parse_mpan("120000000001")
    with pytest.raises(InvalidIdentifier, match="13 digits"):
        parse_mpan("12000000000A1")


@given(twelve_digits, st.integers(1, 9))
def test_only_the_right_check_digit_passes(first12: str, shift: int) -> None:
    good = make_mpan(first12)
    assert parse_mpan(good) == good
    wrong = first12 + str((int(good[-1]) + shift) % 10)
    with pytest.raises(InvalidIdentifier, match="check digit"):
        parse_mpan(wrong)


@given(st.lists(st.integers(10**11, 10**12 - 1), min_size=1, max_size=50))
def test_vectorised_forms_agree(numbers: list[int]) -> None:
    cores = mpan_cores(np.array(numbers, dtype=np.int64))
    assert [str(c) for c in cores.tolist()] == [make_mpan(str(n)) for n in numbers]
    assert mpan_valid(cores).all()
    assert not mpan_valid(cores + np.where(cores % 10 == 9, -1, 1)).any()


def test_mprn_lengths() -> None:
    assert parse_mprn("123456") == "123456"
    assert parse_mprn("1234 567 890") == "1234567890"
    for bad in ("12345", "12345678901", "12345a"):
        with pytest.raises(InvalidIdentifier, match="6 to 10 digits"):
            parse_mprn(bad)


def test_regions() -> None:
    assert len(Region) == 14
    assert region_of(12) is Region.LONDON
    assert region_of("london") is Region.LONDON
    assert region_of("_P") is Region.NORTH_SCOTLAND
    assert region_of("23") is Region.YORKSHIRE
    assert Region.EASTERN.gsp_group == "_A"
    with pytest.raises(InvalidIdentifier, match="'24' is not a GB distribution region"):
        region_of("24")


def test_eui_parsing_names_the_field() -> None:
    assert eui_of("00-DB-12-34-56-78-90-A0") == bytes.fromhex("00db1234567890a0")
    with pytest.raises(InvalidIdentifier, match="device: '00-DB-12' is not an EUI-64"):
        eui_of("00-DB-12", "device")
    with pytest.raises(InvalidIdentifier, match="is not 8 bytes"):
        eui_of(b"\x00" * 7)
