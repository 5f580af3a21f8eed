"""GBCS crypto: KDF, GMAC, sensitive data, ECDSA and UTRN against the worked reference examples."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from smetsnet.errors import GbcsEncodeError, GbcsSecurityError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.frame import decode_frame
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection
from smetsnet.gbcs.utrn import ValueClass, check_digit, make_utrn, parse_utrn, verify_utrn
from tests.support.vectors import read_hex, require_reference

SUPPLIER = bytes.fromhex("90B3D51F30010000")
ESME = bytes.fromhex("00DB1234567890A0")
ECS17B = "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_{}_GBCS.HEX"
CS01A = "2.2_CS01a/CS01a_2.2_SUCCESS_COMMAND_GBCS.HEX"


def test_command_mac_worked_example(reference_protection: Protection) -> None:
    """DOMAIN.md: ACB KA private × device KA certificate, KDF originator = the supplier."""
    frame = decode_frame(read_hex(require_reference() / ECS17B.format("COMMAND")))
    z = reference_protection.shared_secret(ACCESS_CONTROL_BROKER, ESME)
    assert z is not None
    key = crypto.kdf(z, crypto.KdfType.COMMAND, SUPPLIER, 1000, ESME)
    tag = crypto.gmac_tag(
        key, crypto.mac_iv(SUPPLIER), crypto.MAC_AAD_PREFIX + frame.authenticated_bytes()
    )
    assert tag.hex() == "f08a88fcb4eebeca47b71589"
    assert frame.mac is not None and crypto.gmac_matches(
        key, crypto.mac_iv(SUPPLIER), crypto.MAC_AAD_PREFIX + frame.authenticated_bytes(), frame.mac
    )


def test_sensitive_data_key_and_decryption(reference_protection: Protection) -> None:
    """GBCS-PAYLOADS.md §1.7: derived key 12CB…F9FD, plaintext = 10 Wh, 10 varh."""
    frame = decode_frame(read_hex(require_reference() / ECS17B.format("RESPONSE")))
    z = reference_protection.shared_secret(ESME, SUPPLIER)
    assert z is not None
    key = crypto.kdf(z, crypto.KdfType.SENSITIVE_DATA, ESME, 1000, SUPPLIER)
    assert key.hex().upper() == "12CB821C471EC2144C68E12A5657F9FD"
    blob = frame.payload[frame.payload.index(b"\x09\x2b\x31") + 2 :][:0x2B]
    counter, ciphertext, tag = int.from_bytes(blob[1:5], "big"), blob[5:-12], blob[-12:]
    decrypt = reference_protection.decryptor(frame.header)
    opened = decrypt(counter, ciphertext, tag)
    assert opened.status == "decrypted"
    assert opened.plaintext == bytes.fromhex(
        "0201020406 0000000A 02020F00161E 060000000A 02020F001620".replace(" ", "")
    )
    assert decrypt(counter, ciphertext, bytes(12)).status == "invalid"
    flipped = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    assert decrypt(counter, flipped, tag).status == "invalid"


@given(st.binary(max_size=200), st.binary(min_size=16, max_size=16))
def test_sensitive_seal_and_open(plaintext: bytes, key: bytes) -> None:
    iv = ESME + b"\x00\x00\x00\x07"
    ciphertext, tag = crypto.seal_sensitive(key, iv, plaintext)
    assert len(tag) == 12
    assert crypto.open_sensitive(key, iv, ciphertext, tag) == plaintext


def test_ecdsa_round_trip_and_tamper() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    signature = crypto.ecdsa_sign(private, b"grouping header and payload")
    assert len(signature) == 64
    assert crypto.ecdsa_verify(private.public_key(), signature, b"grouping header and payload")
    assert not crypto.ecdsa_verify(private.public_key(), signature, b"grouping header and payloaD")
    assert not crypto.ecdsa_verify(private.public_key(), signature[:-1] + b"\x00", b"x")
    assert not crypto.ecdsa_verify(private.public_key(), signature[:10], b"x")


def test_bad_point_is_a_security_error() -> None:
    with pytest.raises(GbcsSecurityError):
        crypto.public_key_from_point(b"\x04" + bytes(64))


# -- UTRN ---------------------------------------------------------------------------------------
def _topup_secret(protection: Protection) -> bytes:
    z = protection.shared_secret(SUPPLIER, ESME, prepayment=True)
    assert z is not None
    return z


def test_utrn_of_the_reference_top_up(reference_protection: Protection) -> None:
    frame = decode_frame(read_hex(require_reference() / CS01A))
    utrn = make_utrn(
        _topup_secret(reference_protection),
        supplier=SUPPLIER,
        device=ESME,
        counter=frame.header.counter,
        value=10,
        value_class=ValueClass.POUNDS,
    )
    assert utrn == "73946144332040217315"
    assert utrn.encode() in frame.payload
    ptut = verify_utrn(
        _topup_secret(reference_protection),
        utrn=utrn,
        supplier=SUPPLIER,
        device=ESME,
        counter=frame.header.counter,
    )
    assert ptut.pence == 1000 and ptut.counter_bits == 3


@pytest.mark.parametrize(
    ("counter", "pence", "expected"),
    [(1 << 32, 10000, "73943333457189043313"), (4 << 32, 1234, "73947252416745201637")],
)
def test_utrn_published_examples(
    reference_protection: Protection, counter: int, pence: int, expected: str
) -> None:
    assert (
        make_utrn(
            _topup_secret(reference_protection),
            supplier=SUPPLIER,
            device=ESME,
            counter=counter,
            pence=pence,
        )
        == expected
    )


def test_utrn_rejections(reference_protection: Protection) -> None:
    z = _topup_secret(reference_protection)
    utrn = make_utrn(z, supplier=SUPPLIER, device=ESME, counter=3 << 32, pence=500)
    with pytest.raises(GbcsSecurityError):
        verify_utrn(
            z,
            utrn=utrn,
            supplier=SUPPLIER,
            device=bytes.fromhex("00DB1234567890A1"),
            counter=3 << 32,
        )
    with pytest.raises(GbcsSecurityError):
        verify_utrn(z, utrn=utrn, supplier=SUPPLIER, device=ESME, counter=4 << 32)
    wrong_digit = utrn[:-1] + str((int(utrn[-1]) + 1) % 10)
    with pytest.raises(GbcsEncodeError, match="check digit"):
        parse_utrn(wrong_digit)
    with pytest.raises(GbcsEncodeError):
        parse_utrn("1234")
    with pytest.raises(GbcsEncodeError):
        make_utrn(z, supplier=SUPPLIER, device=ESME, counter=(3 << 32) + 1, pence=5)
    with pytest.raises(GbcsEncodeError):
        make_utrn(z, supplier=SUPPLIER, device=ESME, counter=3 << 32, pence=819_101)


def test_check_digit_differs_from_textbook_verhoeff() -> None:
    """GBCS-PAYLOADS.md §4: this PPTD's GBCS check digit is 5 (textbook Verhoeff gives 9)."""
    assert check_digit("7394614433204021731") == 5


def test_prepayment_key_is_separate(reference_protection: Protection) -> None:
    keystore = reference_protection.keystore
    normal = keystore.private_key(SUPPLIER, KeyUsage.KEY_AGREEMENT)
    topup = keystore.private_key(SUPPLIER, KeyUsage.KEY_AGREEMENT, prepayment=True)
    assert normal is not None and topup is not None
    assert normal.private_numbers() != topup.private_numbers()
