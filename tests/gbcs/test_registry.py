"""The message-code and alert-code registry, checked against the sources and the RTDS vectors."""

from __future__ import annotations

import dataclasses

import pytest

from smetsnet.gbcs import registry
from smetsnet.gbcs.registry import (
    ALERT_KINDS,
    FAMILIES,
    KINDS,
    TARGETS,
    alert_code_info,
    all_alert_codes,
    all_message_codes,
    is_critical,
    message_code_for,
    message_code_info,
    message_codes_for,
)
from tests.support.vectors import RawVector, require_reference, rtds_vectors


def payload_family(payload: bytes) -> str:
    """The family a payload's first bytes show (GBCS-PAYLOADS.md §0)."""
    if payload[:1] in (b"\xd9", b"\xda", b"\x0f"):
        return "dlms"
    if payload[:2] == b"\x01\x09":
        return "gbz"
    assert payload[:1] in (b"\x30", b"\x02", b"\x04", b"\x05"), payload[:4].hex()
    return "asn1"


def is_signed(v: RawVector) -> bool:
    end = v.payload_offset + len(v.payload)
    return end < len(v.message) and v.message[end] == 0x40


def alert_code_of(v: RawVector) -> int:
    """The two-byte alert code inside an alert payload (DLMS, GBZ or ASN.1)."""
    p = v.payload
    if p[0] == 0x0F:  # 0F invoke-id(4) 00 | 02 nn | 12 code
        assert p[5] == 0x00 and p[6] == 0x02 and p[8] == 0x12, p[:12].hex()
        return int.from_bytes(p[9:11], "big")
    if p[:2] == b"\x01\x09":  # 01 09 count | code | time
        return int.from_bytes(p[3:5], "big")
    # 30 len | 02 03 00 code
    pos = 2 if p[1] < 0x80 else 2 + (p[1] & 0x7F)
    assert p[pos : pos + 3] == b"\x02\x03\x00", p[:12].hex()
    return int.from_bytes(p[pos + 3 : pos + 5], "big")


# -- contents --------------------------------------------------------------------------------


def test_registry_covers_the_code_space() -> None:
    infos = all_message_codes()
    codes = [i.code for i in infos]
    assert codes == sorted(set(codes))
    assert len(codes) >= 235
    assert codes[0] == 0x0001
    assert {0x012B, 0x1000, 0x1001} <= set(codes)
    assert all(c <= 0x012B for c in codes if c < 0x1000)


def test_known_entries() -> None:
    hh = message_code_info(0x0037)
    assert hh is not None
    assert (hh.use_case, hh.families, hh.kind, hh.target) == (
        "ECS22b",
        frozenset({"dlms"}),
        "non-critical-command",
        "ESME",
    )
    assert "Half Hour Profile" in hh.title
    tariff = message_code_info(0x0019)
    assert tariff is not None and tariff.kind == "critical-command" and tariff.is_critical
    top_up = message_code_info(0x0007)
    assert top_up is not None and top_up.kind == "top-up-command" and not top_up.is_critical
    pcs02 = message_code_info(0x0090)
    assert pcs02 is not None and pcs02.kind == "ppmid-gsme-command"
    assert pcs02.families == {"gbz"}
    gas = message_code_info(0x0074)
    assert gas is not None and gas.target == "GPF|GSME" and gas.families == {"gbz"}
    outage = message_code_info(0x0067)
    assert outage is not None and outage.kind == "critical-alert" and outage.is_alert
    generic = message_code_info(0x1000)
    assert generic is not None and generic.families == {"dlms", "gbz"}
    assert message_code_info(0x1001) is not None
    cs02g = message_code_info(0x0126)
    assert cs02g is not None and cs02g.families == {"asn1"} and cs02g.use_case == "CS02g"
    assert message_code_info(0x0005) is None
    assert message_code_info(0xFFFF) is None


def test_every_row_is_well_formed() -> None:
    for info in all_message_codes():
        assert info.kind in KINDS, info
        assert info.families and info.families <= FAMILIES, info
        assert set(info.target.split("|")) - {""} <= TARGETS, info
        assert info.title, info
        # Use-case prefixes and families agree wherever the prefix decides (§5); CCS08, an
        # alert, is ASN.1 in RTDS.
        if info.use_case.startswith(("ECS", "CCS", "DBCH")) and info.use_case != "CCS08":
            assert info.families == {"dlms"}, info
        if info.use_case.startswith(("PCS", "CS01b", "CS10", "CS11")):
            assert info.families == {"gbz"}, info


def test_use_case_lookup() -> None:
    assert message_code_for("ECS22b") == 0x0037
    assert message_code_for("ecs22B") == 0x0037
    assert message_code_for("GCS13a") == 0x0074
    assert message_code_for("CCS04") == message_code_for("CCS05") == 0x0004
    assert message_code_for("ECS47") == 0x0055
    assert message_code_for("ECS47a") == 0x011E
    assert message_codes_for("CS02b") == tuple(range(0x0100, 0x010A))
    assert message_codes_for("nothing") == ()
    with pytest.raises(KeyError, match="unknown GBCS use case 'ECS999'"):
        message_code_for("ECS999")
    with pytest.raises(KeyError, match=r"several message codes .*0x0107"):
        message_code_for("CS02b")


def test_is_critical() -> None:
    assert is_critical(0x0019) is True
    assert is_critical(0x0067) is True
    assert is_critical(0x0037) is False
    assert is_critical(0x1001) is False
    with pytest.raises(KeyError, match="0x0005"):
        is_critical(0x0005)


def test_entries_are_frozen_and_loaded_once() -> None:
    info = message_code_info(0x0037)
    assert info is message_code_info(0x0037)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.kind = "critical-command"  # type: ignore[misc, union-attr]
    assert registry._registry() is registry._registry()


def test_alert_codes() -> None:
    alerts = all_alert_codes()
    assert len(alerts) >= 180
    assert [a.code for a in alerts] == sorted({a.code for a in alerts})
    assert all(0x8000 <= a.code <= 0x8FFF and a.name for a in alerts)
    fd = alert_code_info(0x8F66)
    assert fd is not None and fd.critical is True and fd.basis == "rtds"
    assert "Future" in fd.name
    added = alert_code_info(0x810E)
    assert added is not None and added.critical is False and added.name == "Credit Added Locally"
    outage = alert_code_info(0x8F35)
    assert outage is not None and outage.critical is True and outage.basis == "use-case"
    assert alert_code_info(0x8F21) is not None and alert_code_info(0x8F21).critical is None  # type: ignore[union-attr]
    assert alert_code_info(0x0037) is None
    assert {a.basis for a in alerts} <= {"rtds", "use-case", "range", ""}


# -- against the reference vectors ----------------------------------------------------------


@pytest.fixture(scope="module")
def vectors() -> list[RawVector]:
    require_reference()
    return rtds_vectors()


def test_every_vector_code_is_registered_with_its_family(vectors: list[RawVector]) -> None:
    seen = set()
    for v in vectors:
        info = message_code_info(v.message_code)
        assert info is not None, f"{v.path.name}: 0x{v.message_code:04X} not registered"
        assert payload_family(v.payload) in info.families, v.path.name
        seen.add(v.message_code)
    assert len(seen) == 160


def test_kinds_match_how_vectors_are_protected(vectors: list[RawVector]) -> None:
    for v in vectors:
        info = message_code_info(v.message_code)
        assert info is not None
        assert info.is_alert == (v.cra == 3), v.path.name
        if v.cra == 3:
            # A critical alert is signed and not MAC'd; a non-critical one is MAC'd only.
            assert is_signed(v) == info.is_critical, v.path.name
            assert (v.message[0] == 0xDD) != info.is_critical, v.path.name
        elif v.cra == 2 and v.message_code != 0x0104:
            # Responses to critical commands are signed (0x0104's command is not: ACB-by-ACB).
            assert is_signed(v) == info.is_critical, v.path.name


def test_alert_codes_in_vectors_are_registered(vectors: list[RawVector]) -> None:
    alerts = [v for v in vectors if v.cra == 3]
    assert len(alerts) == 62
    for v in alerts:
        code = alert_code_of(v)
        info = alert_code_info(code)
        assert info is not None, f"{v.path.name}: alert 0x{code:04X} not registered"
        assert info.critical is is_signed(v), v.path.name


def test_lookup_is_fast() -> None:
    import timeit

    per_call = timeit.timeit(lambda: message_code_info(0x0037), number=20_000) / 20_000
    assert per_call < 5e-6
    assert ALERT_KINDS <= KINDS
