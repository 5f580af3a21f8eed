"""ESME/CHF non-critical DLMS translators (ECS10–ECS29, CV 1/2/3) against DCC's RTDS commands.

Group: templates whose use case starts ECS0/ECS1/ECS2 and whose CommandVariant is not 4.

Three kinds of vector check:
- the registered translator, through ``translate``: ``differences == []``;
- :data:`VARIANTS`: templates whose use case depends on a fact the request does not carry (the
  ESME's phases, the CHF's use case, the user's role): the explicit translator given that fact;
- :data:`DCC_ORIGINATED`: commands the DCC sends in its own name with the user as supplementary
  remote party. Their invoke id and transaction id carry the DCC's originator counter, which the
  hub's context does not give yet, so they are checked with that counter; the fields listed are
  excluded (and why).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smetsnet.duis import GenericBody, Node, Request, RequestBody, from_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.gbcs.codec import decode_message, decode_payload
from smetsnet.gbcs.dlms import (
    AccessRequest,
    BitString,
    CosemDateTime,
    DoubleLongUnsigned,
    GetWithSelectionSpec,
    OctetString,
    Structure,
    seconds_since_2000,
)
from smetsnet.gbcs.frame import Cra
from smetsnet.hub.translate import Command, Context, NotTranslatable, translate
from smetsnet.hub.translate import dlms_reads as reads
from tests.hub.translate_support import (
    TARGET_TYPES,
    TEMPLATES,
    Pair,
    context_of,
    differences,
    paired_templates,
)
from tests.support.vectors import read_hex

pytestmark = pytest.mark.skipif(
    not TEMPLATES.is_dir(), reason=f"reference templates not found at {TEMPLATES}"
)

GROUP_RE = re.compile(r"ECS[012]")
Explicit = Callable[[RequestBody, Context], Command]

#: Template → the explicit translator for the device or user fact it was built for.
VARIANTS: dict[str, Explicit] = {
    "ECS23b_4.10_SUCCESS_REQUEST_DUIS.XML": lambda b, c: reads.read_network_data(
        b, c, polyphase=True
    ),
    "ECS25r2_6.2.10_SUCCESS_REQUEST_DUIS.XML": lambda b, c: reads.read_event_and_alert_behaviours(
        b, c, network_operator=True
    ),
    "ECS26k_6.2.1_SUCCESS_REQUEST_DUIS.XML": lambda b, c: reads.read_configuration_voltage(
        b, c, polyphase=True
    ),
    "ECS29f_6.27_SUCCESS_REQUEST_DUIS.XML": lambda b, c: reads.reset_rms_voltage_counters(
        b, c, polyphase=True
    ),
    "ECS26n_6.2.4_SUCCESS_REQUEST_DUIS.XML": lambda b, c: reads.read_chf_identity(
        b, c, use_case="ECS26n"
    ),
}

#: Template → the difference lines (by prefix) that cannot agree, and why.
DCC_ORIGINATED: dict[str, dict[str, str]] = {
    name: {
        "counter": "the grouping-header counter is the DCC's, not the user's DUIS counter",
        "supplementary remote party counter": "the user's DUIS counter, while the context "
        "carries the DCC's counter here (the context has only one counter)",
    }
    for name in (
        "ECS26i_6.2.4_SUCCESS_REQUEST_DUIS.XML",
        "ECS26n_6.2.4_SUCCESS_REQUEST_DUIS.XML",
        "ECS21b_4.14_URP_SUCCESS_REQUEST_DUIS.XML",
    )
}
DCC_ORIGINATED["ECS21b_4.14_URP_SUCCESS_REQUEST_DUIS.XML"]["certificate"] = (
    "the template's KAPublicSecurityCredentials is another certificate (2025) than the one in "
    "DCC's command (2015); ours is the template's, checked in test_urp_certificate_from_body"
)

#: Templates of the group with no translation to their own use case, and why.
NOT_TRANSLATED: dict[str, str] = {
    "ECS17d_4.1.2_SINGLE_SUCCESS_REQUEST_DUIS.XML": "no vector, and no public source lists the "
    "objects of the TOU register collection (0-0:43.2.9.255) a sensitive read restricts to",
    "ECS17d_4.1.2_TWIN_SUCCESS_REQUEST_DUIS.XML": "as ECS17d SINGLE",
    "ECS19_4.3_SUCCESS_REQUEST_DUIS.XML": "no vector; the prepayment registers' collection and "
    "object list are not in any public source found",
    "ECS20a_4.4.4_SUCCESS_REQUEST_DUIS.XML": "no vector; the logical name of the payment-based "
    "debt payments log is not in any public source found",
    "ECS21c_4.6.2_SUCCESS_REQUEST_DUIS.XML": "no vector; the export daily read log's logical "
    "name is not in any public source found",
    "ECS22c_4.8.2_SUCCESS_REQUEST_DUIS.XML": "no vector; the reactive import profile's logical "
    "name is not in any public source found",
    "ECS24b_4.11.2_SUCCESS_REQUEST_DUIS.XML": "no vector; the secondary element's attribute list "
    "(which of 0-0:13.0.1.255, 0-1:11.0.1.255, 0-0:19.20.5.255 ..., in what order) is not public",
    "ECS26a_4.13_SINGLE_SUCCESS_REQUEST_DUIS.XML": "no vector; the prepayment configuration's "
    "attribute list is not in any public source found",
    "ECS26a_4.13_TWIN_SUCCESS_REQUEST_DUIS.XML": "as ECS26a SINGLE",
    "ECS26d_6.2.3_SUCCESS_REQUEST_DUIS.XML": "no vector; 6.2.3 is translated as ECS26l (RTDS); "
    "what ECS26d reads instead is not public, nor what would choose it",
    "ECS26m_6.2.4_SUCCESS_REQUEST_DUIS.XML": "no vector; 6.2.4 to an ESME is translated as ECS26e "
    "(RTDS); ECS26m's extra supply-tamper-state object is not public",
    "ECS21a_5.1._DCC_SCHEDULED_REQUEST_DUIS.XML": "CreateSchedule (CV 8) goes to the DCC, not a "
    "device: no GBCS command; the hub's scheduler later sends 4.6.1 (translated)",
}


def _is_group(template: Path) -> bool:
    return bool(GROUP_RE.match(template.name)) and (
        "<sr:CommandVariant>4<" not in template.read_text()
    )


def group_templates() -> list[Path]:
    if not TEMPLATES.is_dir():
        return []
    return [t for t in sorted(TEMPLATES.glob("*_REQUEST_DUIS.XML")) if _is_group(t)]


def group_pairs() -> list[tuple[Path, Path]]:
    return [(t, v) for t, v in paired_templates() if _is_group(t)]


def _ids(pairs: list[tuple[Path, Path]]) -> list[str]:
    return [t.name.removesuffix("_REQUEST_DUIS.XML") for t, _ in pairs]


def _use_case(template: Path) -> str:
    return template.name.split("_", 1)[0]


def load(template: Path | str, *edits: tuple[str, str]) -> Request:
    path = template if isinstance(template, Path) else TEMPLATES / template
    text = path.read_text()
    for old, new in edits:
        assert old in text, f"{old!r} not in {path.name}"
        text = text.replace(old, new)
    request = from_xml(text.encode())
    assert isinstance(request, Request)
    return request


def run(request: Request, ctx: Context | None = None, name: str | None = None) -> Command:
    ctx = ctx or context_of(request)
    explicit = VARIANTS.get(name or "")
    return explicit(request.body, ctx) if explicit else translate(request, ctx)


def payload_of(command: Command) -> AccessRequest:
    assert isinstance(command.payload, AccessRequest)
    return command.payload


# -- (1) every vector of the group ---------------------------------------------------------------
PAIRS = [p for p in group_pairs() if p[0].name not in DCC_ORIGINATED]


@pytest.mark.parametrize(("template", "vector"), PAIRS, ids=_ids(PAIRS))
def test_matches_dcc_command(template: Path, vector: Path) -> None:
    request = load(template)
    command = run(request, name=template.name)
    pair = Pair(template, request, command, decode_message(read_hex(vector)))
    assert differences(pair) == []
    assert command.use_case == _use_case(template)


DCC_PAIRS = [p for p in group_pairs() if p[0].name in DCC_ORIGINATED]


@pytest.mark.parametrize(("template", "vector"), DCC_PAIRS, ids=_ids(DCC_PAIRS))
def test_matches_dcc_originated_command(template: Path, vector: Path) -> None:
    request = load(template)
    reference = decode_message(read_hex(vector))
    ctx = replace(context_of(request), counter=reference.header.counter)
    command = run(request, ctx, template.name)
    pair = Pair(template, request, command, reference)
    excluded = DCC_ORIGINATED[template.name]
    left = [d for d in differences(pair) if not d.startswith(tuple(excluded))]
    assert left == []
    assert command.supplementary_remote_party == request.header.request_id.originator
    assert reference.header.supplementary_remote_party == request.header.request_id.originator


def test_urp_certificate_from_body() -> None:
    request = load("ECS21b_4.14_URP_SUCCESS_REQUEST_DUIS.XML")
    node = request.body.node if isinstance(request.body, GenericBody) else None
    assert node is not None
    ka = node.child("KAPublicSecurityCredentials")
    assert ka is not None
    command = run(request)
    assert command.certificate is not None and command.certificate[:1] == b"\x30"
    assert command.certificate == base64.b64decode(ka.text)
    krp = run(load("ECS21b_4.14_KRP_SUCCESS_REQUEST_DUIS.XML"))
    assert krp.certificate is None and krp.supplementary_remote_party is None


# -- (2) the group's templates without a vector --------------------------------------------------
def _unpaired() -> list[Path]:
    paired = {t.name for t, _ in group_pairs()}
    return [t for t in group_templates() if t.name not in paired and t.name not in NOT_TRANSLATED]


UNPAIRED = _unpaired()


def _has_unknown(node: object) -> bool:
    if isinstance(node, dict):
        return "unknown" in node or any(_has_unknown(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_unknown(v) for v in node)
    return False


@pytest.mark.parametrize("template", UNPAIRED, ids=[t.name for t in UNPAIRED])
def test_unpaired_template_translates_and_decodes(template: Path) -> None:
    command = run(load(template), name=template.name)
    assert command.use_case == _use_case(template)
    assert command.date_time == b""
    wire = command.payload.to_bytes()
    back = decode_payload(wire, message_code=command.message_code, cra=Cra.COMMAND)
    assert back.to_bytes() == wire
    assert back.to_json() == command.payload.to_json()
    assert not _has_unknown(back.to_json())


def test_unpaired_list_is_what_we_expect() -> None:
    names = {t.name.split("_", 1)[0] for t in UNPAIRED}
    assert names == {
        "ECS16",
        "ECS17b",
        "ECS25a",
        "ECS25a3",
        "ECS25r1",
        "ECS26b",
        "ECS28b",
        "ECS29c",
    }


# -- (5) no gap can hide --------------------------------------------------------------------------
def _translates_to_own_use_case(template: Path) -> bool:
    request = load(template)
    rid = request.header.request_id
    if rid.target not in TARGET_TYPES:  # not a device (CV 8: a request to the DCC)
        return False
    try:
        command = run(request, name=template.name)
    except NotTranslatable:
        return False
    return command.use_case == _use_case(template)


def test_untranslated_set_is_declared() -> None:
    missing = {t.name for t in group_templates() if not _translates_to_own_use_case(t)}
    assert missing == set(NOT_TRANSLATED)


def test_group_size() -> None:
    assert len(group_templates()) == 67


# -- (3) values come from the body ----------------------------------------------------------------
def test_display_message_text() -> None:
    command = run(load("ECS10_3.1_SUCCESS_REQUEST_DUIS.XML", (">Reset<", ">Hello, world~<")))
    assert payload_of(command).data == (OctetString(value=b"Hello, world~"),)


def test_restriction_date_time() -> None:
    edit = ("2014-03-27T15:45:32.00Z", "2021-11-05T01:02:03.40Z")
    command = run(load("ECS12_3.2_SUCCESS_REQUEST_DUIS.XML", edit))
    (value,) = payload_of(command).data
    assert isinstance(value, OctetString)
    assert CosemDateTime.from_bytes(value.value).to_datetime() == datetime(
        2021, 11, 5, 1, 2, 3, 400_000
    )


@pytest.mark.parametrize(
    ("edit", "use_case", "log"),
    [
        ((">ESME<", ">ALCS<"), "ECS15c", "0-17:99.98.2.255"),
        (("<sr:ESMEEventLogType>ESME</sr:ESMEEventLogType>", ""), "ECS15a", "0-0:99.98.0.255"),
    ],
)
def test_clear_event_log_kind(edit: tuple[str, str], use_case: str, log: str) -> None:
    command = run(load("ECS15a_3.3_SUCCESS_REQUEST_DUIS.XML", edit))
    assert command.use_case == use_case
    assert str(payload_of(command).specs[0].instance) == log


def test_supplier_contact_details() -> None:
    command = run(
        load(
            "ECS16_3.4_SUCCESS_REQUEST_DUIS.XML",
            (">E-ON<", ">Other Energy<"),
            (">0333 202 4650<", ">0800 123<"),
        )
    )
    assert payload_of(command).data == (
        OctetString(value=b"Other Energy"),
        OctetString(value=b"0800 123"),
    )


def test_range_read_period_and_counter() -> None:
    request = load(
        "ECS22a_4.8.3_SUCCESS_REQUEST_DUIS.XML",
        ("2014-10-01T09:30:00.00Z", "2020-02-29T12:00:00.00Z"),
        ("2014-10-02T09:30:00.00Z", "2020-03-01T00:00:00+01:00"),
    )
    ctx = replace(context_of(request), counter=0x1234567)
    payload = payload_of(translate(request, ctx))
    assert payload.invoke_id == 0x234567  # low 24 bits of the counter
    spec = payload.specs[0]
    assert isinstance(spec, GetWithSelectionSpec) and isinstance(spec.parameter, Structure)
    start, end = spec.parameter.items[1:3]
    assert start == DoubleLongUnsigned(
        value=seconds_since_2000(datetime(2020, 2, 29, 12, tzinfo=UTC))
    )
    assert end == DoubleLongUnsigned(
        value=seconds_since_2000(datetime(2020, 2, 29, 23, tzinfo=UTC))
    )


def test_protected_read_period_originator_and_counter() -> None:
    request = load(
        "ECS22b_4.8.1_SINGLE_SUCCESS_REQUEST_DUIS.XML",
        ("2014-12-31T00:00:00.00Z", "2019-06-01T00:30:00.00Z"),
        ("2015-01-01T00:00:00.00Z", "2019-06-02T00:00:00.00Z"),
    )
    user = bytes.fromhex("90B3D51F30ABCDEF")
    ctx = replace(context_of(request), counter=4242, originator=user)
    protected = payload_of(translate(request, ctx)).protected_attributes
    assert protected is not None
    (obj,) = protected.objects
    window = obj.restriction_window
    assert window is not None
    assert CosemDateTime.from_bytes(window[0]).to_datetime() == datetime(2019, 6, 1, 0, 30)
    (params,) = protected.parameters
    assert params.originator == user and params.recipient == ctx.target
    assert params.transaction_id == b"\x04" + (4242).to_bytes(8, "big")


def test_alert_behaviour_follows_enable_disable() -> None:
    name = "ECS25a1_6.22_SUCCESS_REQUEST_DUIS.XML"
    before = payload_of(run(load(name))).data[0]
    after = payload_of(run(load(name, ("<sr:x8119>Disable", "<sr:x8119>Enable")))).data[0]
    assert isinstance(before, BitString) and isinstance(after, BitString)
    flipped = int.from_bytes(before.data, "big") ^ int.from_bytes(after.data, "big")
    assert flipped == 1 << 0x19  # the value half's bit for 0x8119


def test_alert_behaviour_bits() -> None:
    bits = reads.behaviour_bits([(0x81FF, True), (0x8100, False)])
    whole = int.from_bytes(bits.data, "big")
    assert bits.bits == 512
    assert whole == (1 << 511) | (1 << 256) | (1 << 255)


def test_voltage_values_from_body() -> None:
    command = run(
        load(
            "ECS29a_6.5_SUCCESS_REQUEST_DUIS.XML",
            ("<sr:RMSVoltageSwellThreshold>253<", "<sr:RMSVoltageSwellThreshold>4294967295<"),
            (
                "<sr:AverageRMSVoltageMeasurementPeriod>30<",
                "<sr:AverageRMSVoltageMeasurementPeriod>900<",
            ),
        )
    )
    data = payload_of(command).data
    assert data[0] == DoubleLongUnsigned(value=900)  # capture period
    assert data[7] == DoubleLongUnsigned(value=4294967295)  # limiter 4 threshold


def test_voltage_without_reset_single_phase() -> None:
    command = run(
        load(
            "ECS29a_6.5_SUCCESS_REQUEST_DUIS.XML",
            (
                "</sr:SinglePhaseVoltageSettings>",
                "</sr:SinglePhaseVoltageSettings><sr:RMSVoltageCountersNotReset/>",
            ),
        )
    )
    assert command.use_case == "ECS29c"
    assert len(payload_of(command).specs) == 11  # 2 thresholds, 1 period, 8 limiter attributes


# -- (4) bad values -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "edit", "field"),
    [
        (
            "ECS10_3.1_SUCCESS_REQUEST_DUIS.XML",
            (">Reset<", ">" + "x" * 117 + "<"),
            "SupplierMessage",
        ),
        ("ECS10_3.1_SUCCESS_REQUEST_DUIS.XML", (">Reset<", ">Résumé<"), "SupplierMessage"),
        ("ECS16_3.4_SUCCESS_REQUEST_DUIS.XML", (">0333 202 4650<", ">+44 333<"), "Telephone"),
        ("ECS12_3.2_SUCCESS_REQUEST_DUIS.XML", ("2014-03-27", "2014-13-27"), "RestrictionDate"),
        ("ECS15a_3.3_SUCCESS_REQUEST_DUIS.XML", (">ESME<", ">GSME<"), "ESMEEventLogType"),
        (
            "ECS22a_4.8.3_SUCCESS_REQUEST_DUIS.XML",
            ("2014-10-01T09:30:00.00Z", "2014-10-03T09:30:00.00Z"),
            "ReadLogPeriod",
        ),
        (
            "ECS20b_4.4.2_SINGLE_SUCCESS_REQUEST_DUIS.XML",
            ("<sr:EndDateTime>2015-03-01T09:00:00.00Z</sr:EndDateTime>", ""),
            "EndDateTime",
        ),
        ("ECS25a1_6.22_SUCCESS_REQUEST_DUIS.XML", (">Enable<", ">On<"), "x810D"),
        ("ECS25a1_6.22_SUCCESS_REQUEST_DUIS.XML", ("sr:x810D", "sr:x800D"), "x800D"),
        (
            "ECS29a_6.5_SUCCESS_REQUEST_DUIS.XML",
            ("<sr:RMSVoltageSagThreshold>216<", "<sr:RMSVoltageSagThreshold>-1<"),
            "RMSVoltageSagThreshold",
        ),
        (
            "ECS29a_6.5_SUCCESS_REQUEST_DUIS.XML",
            ("<sr:RMSVoltageSagThreshold>216<", "<sr:RMSVoltageSagThreshold>4294967296<"),
            "RMSVoltageSagThreshold",
        ),
        ("ECS29b_6.5_SUCCESS_REQUEST_DUIS.XML", ("<sr:Phase>3<", "<sr:Phase>2<"), "phase 2"),
        (
            "ECS17a_4.2_SUCCESS_REQUEST_DUIS.XML",
            ("ExportRegisters/>", "ExportRegisters>x</sr:ReadInstantaneousExportRegisters>"),
            "ReadInstantaneousExportRegisters",
        ),
    ],
)
def test_bad_value_names_field(template: str, edit: tuple[str, str], field: str) -> None:
    request = load(template, edit)
    with pytest.raises(DuisSchemaError, match=field):
        run(request)


def test_wrong_body_is_refused() -> None:
    request = load("ECS17a_4.2_SUCCESS_REQUEST_DUIS.XML")
    wrong = GenericBody(node=Node(name="ReadTariffPrimaryElement"))
    with pytest.raises(DuisSchemaError, match="ReadInstantaneousExportRegisters expected"):
        reads.read_instantaneous_export_registers(wrong, context_of(request))
