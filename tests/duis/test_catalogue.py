"""The SR catalogue: complete, consistent with the verified counts and with every template."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from smetsnet.duis import FutureDated, Request, Role, catalogue, from_xml, sr_info
from smetsnet.duis.bodies import GenericBody
from smetsnet.duis.catalogue import by_body_element
from smetsnet.duis.errors import CommandVariantInvalid, DuisSchemaError
from tests.support.vectors import REFERENCE

TEMPLATES = REFERENCE / "duis" / "templates"
CRITICAL_CVS = frozenset({4, 5, 6, 7})


def test_counts_match_the_duis_matrix() -> None:
    # SR-CATALOGUE.md §0: 129 variants, 37 critical, 16 non-device, 14 schedulable in V5.4,
    # future-dated pattern none 72 / DSP 45 / device 11 / both 1, role totals.
    rows = catalogue().values()
    assert len(rows) == 129
    assert sum(r.critical for r in rows) == 37
    assert sum(r.non_device for r in rows) == 16
    assert sum(r.dcc_schedulable for r in rows) == 14
    assert Counter(r.future_dated for r in rows) == {
        FutureDated.NONE: 72,
        FutureDated.DSP: 45,
        FutureDated.DEVICE: 11,
        FutureDated.DSP_AND_DEVICE: 1,
    }
    roles = Counter(role for r in rows for role in r.roles)
    assert roles == {
        Role.IS: 111, Role.GS: 83, Role.ED: 38, Role.OU: 25, Role.GT: 21, Role.RSA: 18, Role.ES: 16,
    }  # fmt: skip
    assert len({r.body_element for r in rows}) == 129


def test_command_variants_follow_criticality() -> None:
    for info in catalogue().values():
        if info.non_device:
            assert info.command_variants == {8}, info.srv
        elif info.critical:
            assert info.command_variants <= CRITICAL_CVS, info.srv
        else:
            assert info.command_variants <= {1, 2, 3}, info.srv


def test_selected_rows() -> None:
    top_up = sr_info("2.2")
    assert top_up.name == "Top Up Device" and top_up.roles == {Role.IS, Role.GS}
    assert not top_up.critical and top_up.target_types == ("ESME", "GSME")
    commission = sr_info("8.1.1")
    assert commission.critical and commission.command_variants == {4, 5}
    assert sr_info("4.8.1").dcc_schedulable and sr_info("4.8.1").future_dated is FutureDated.DSP
    assert sr_info("11.3").future_dated is FutureDated.DEVICE
    assert sr_info("12.2").non_device and sr_info("12.2").target_types == ("DCC",)
    assert sr_info("7.16").roles == frozenset() and sr_info("4.1.1").service_reference == "4.1"


def test_unknown_variant_and_bad_cv() -> None:
    with pytest.raises(DuisSchemaError, match=r"99\.1"):
        sr_info("99.1")
    with pytest.raises(CommandVariantInvalid, match="allows command variants 4, 5, 6, 7") as info:
        sr_info("7.1").check_command_variant(1)
    assert info.value.response_code == "E12"
    sr_info("7.1").check_command_variant(4)


def _templates() -> list[Path]:
    return sorted(TEMPLATES.glob("*.XML")) if TEMPLATES.is_dir() else []


@pytest.mark.skipif(not TEMPLATES.is_dir(), reason=f"DUIS templates not found at {TEMPLATES}")
def test_every_template_fits_its_catalogue_row() -> None:
    seen = set()
    for path in _templates():
        message = from_xml(path.read_bytes())
        assert isinstance(message, Request)
        h = message.header
        info = sr_info(h.service_reference_variant)
        seen.add(info.srv)
        assert h.service_reference == info.service_reference, path.name
        info.check_command_variant(h.command_variant)
        element = (
            message.body.element
            if isinstance(message.body, GenericBody)
            else type(message.body).ELEMENT
        )
        assert by_body_element()[element] is info, path.name
        # Templates of critical SRs are the request before Transform (CV 4), SR-CATALOGUE §0.
        assert (h.command_variant == 4) == info.critical, path.name
    assert seen == set(catalogue())
