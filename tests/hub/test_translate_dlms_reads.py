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

from smetsnet.devices import Esme
from smetsnet.duis import GenericBody, Node, Request, RequestBody, from_xml
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_datetime
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message, decode_payload
from smetsnet.gbcs.dlms import (
    AccessRequest,
    AccessResponse,
    BitString,
    CompactArray,
    CosemDateTime,
    DoubleLongUnsigned,
    GetWithSelectionSpec,
    Null,
    OctetString,
    Structure,
    seconds_since_2000,
)
from smetsnet.gbcs.frame import Cra
from smetsnet.gbcs.protection import Protection
from smetsnet.hub.translate import Command, Context, NotTranslatable, translate
from smetsnet.hub.translate import dlms_reads as reads
from smetsnet.smki.pki import Pki
from tests.devices.conftest import ESME_EUI, NOW, PARTIES, SUPPLIER, make_pki
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
    "ECS26m_6.2.4_SUCCESS_REQUEST_DUIS.XML": lambda b, c: reads.read_esme_identity(
        b, c, use_case="ECS26m"
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
    "ECS26d_6.2.3_SUCCESS_REQUEST_DUIS.XML": "no vector; ECS26d (billing calendar, GBCS 1) is "
    "absent from the published GBCS 2.1–4.0 use-case tables, which list only ECS26l (6.2.3 is "
    "translated as ECS26l, RTDS); its object list is not public, nor what would choose it",
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
        "ECS17d",
        "ECS19",
        "ECS20a",
        "ECS21c",
        "ECS22c",
        "ECS24b",
        "ECS25a",
        "ECS25a3",
        "ECS25r1",
        "ECS26a",
        "ECS26b",
        "ECS26m",
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


@pytest.mark.parametrize(
    ("template", "start", "end"),
    [
        (
            "ECS20a_4.4.4_SUCCESS_REQUEST_DUIS.XML",
            "2014-12-22T09:30:00.00Z",
            "2015-01-01T00:00:00.00Z",
        ),
        (
            "ECS21c_4.6.2_SUCCESS_REQUEST_DUIS.XML",
            "2014-11-30T09:00:00.00Z",
            "2015-01-01T00:00:00.00Z",
        ),
        (
            "ECS22c_4.8.2_SUCCESS_REQUEST_DUIS.XML",
            "2014-10-01T09:00:00.00Z",
            "2014-10-02T09:00:00.00Z",
        ),
    ],
)
def test_published_range_reads_take_the_period(template: str, start: str, end: str) -> None:
    """ECS20a/21c/22c: the log named by GBCS, rows between the body's two date-times."""
    logs = {"ECS20a": "0-0:98.1.4.255", "ECS21c": "0-0:98.1.10.255", "ECS22c": "0-0:99.1.2.255"}
    edits = ((start, "2023-03-25T23:30:00Z"), (end, "2023-03-26T01:00:00+01:00"))
    payload = payload_of(run(load(template, *edits)))
    (spec,) = payload.specs
    assert isinstance(spec, GetWithSelectionSpec) and isinstance(spec.parameter, Structure)
    assert (spec.class_id, str(spec.instance), spec.attribute_id) == (7, logs[template[:6]], 2)
    assert spec.parameter.items[1:3] == (
        DoubleLongUnsigned(value=seconds_since_2000(datetime(2023, 3, 25, 23, 30, tzinfo=UTC))),
        DoubleLongUnsigned(value=seconds_since_2000(datetime(2023, 3, 26, 0, tzinfo=UTC))),
    )


@pytest.mark.parametrize(
    ("template", "collection", "obj"),
    [
        ("ECS17d_4.1.2_SINGLE_SUCCESS_REQUEST_DUIS.XML", "0-0:43.2.9.255", "0-0:94.44.34.1"),
        ("ECS17d_4.1.2_TWIN_SUCCESS_REQUEST_DUIS.XML", "0-0:43.2.9.255", "0-0:94.44.34.1"),
        ("ECS19_4.3_SUCCESS_REQUEST_DUIS.XML", "0-0:43.2.1.255", "0-0:94.44.34.30"),
    ],
)
def test_published_sensitive_reads(template: str, collection: str, obj: str) -> None:
    """ECS17d / ECS19: one class-1 collection object read through its class-30 collection,
    sealed for the user (originator and counter from the request)."""
    request = load(template)
    ctx = replace(context_of(request), counter=77, originator=bytes.fromhex("90B3D51F30ABCDEF"))
    payload = payload_of(translate(request, ctx))
    (spec,) = payload.specs
    assert (spec.class_id, str(spec.instance)) == (30, collection)
    protected = payload.protected_attributes
    assert protected is not None
    (listed,) = protected.objects
    assert (listed.class_id, str(listed.instance), listed.attribute_id) == (1, obj, 2)
    assert listed.restriction_window is None
    (params,) = protected.parameters
    assert params.originator == ctx.originator and params.transaction_id[1:] == (77).to_bytes(
        8, "big"
    )


def _attrs(command: Command) -> list[tuple[int, str, int]]:
    return [(s.class_id, str(s.instance), s.attribute_id) for s in payload_of(command).specs]  # type: ignore[union-attr]


def test_secondary_tariff_and_prepayment_configuration_lists() -> None:
    """ECS24b / ECS26a (published): each attribute once; the element's own objects."""
    tariff = _attrs(run(load("ECS24b_4.11.2_SUCCESS_REQUEST_DUIS.XML")))
    assert tariff[0] == (113, "0-0:19.20.5.255", 5)
    assert [a for a in tariff if a[0] == 20] == [(20, "0-0:13.0.1.255", a) for a in (3, 4, 5)]
    single = run(load("ECS26a_4.13_SINGLE_SUCCESS_REQUEST_DUIS.XML"))
    prepayment = _attrs(single)
    assert len(prepayment) == len(set(prepayment)) == 16
    assert prepayment[0] == (113, "0-0:19.20.1.255", 5) and prepayment[-1] == (
        111,
        "0-0:19.0.0.255",
        11,
    )
    twin = run(load("ECS26a_4.13_TWIN_SUCCESS_REQUEST_DUIS.XML"))
    assert payload_of(twin).specs == payload_of(single).specs  # the counters differ


def test_esme_identity_variants() -> None:
    """6.2.4 to an ESME: ECS26e (registered, RTDS) or ECS26m (published), by the ESME."""
    request = load("ECS26m_6.2.4_SUCCESS_REQUEST_DUIS.XML")
    ctx = context_of(request)
    e, m = (reads.read_esme_identity(request.body, ctx, use_case=u) for u in ("ECS26e", "ECS26m"))
    assert (e.message_code, m.message_code) == (0x003F, 0x00F9)
    assert _attrs(e)[1:] == _attrs(m) and _attrs(e)[0] == (1, "0-0:96.1.1.255", 2)
    with pytest.raises(ValueError, match="ECS26i"):
        reads.read_esme_identity(request.body, ctx, use_case="ECS26i")


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
        (
            "ECS21c_4.6.2_SUCCESS_REQUEST_DUIS.XML",
            ("2014-11-30T09:00:00.00Z", "2015-01-02T00:00:00.00Z"),
            "ReadLogPeriod",
        ),
        (
            "ECS22c_4.8.2_SUCCESS_REQUEST_DUIS.XML",
            ("<sr:StartDateTime>2014-10-01T09:00:00.00Z</sr:StartDateTime>", ""),
            "StartDateTime",
        ),
        (
            "ECS20a_4.4.4_SUCCESS_REQUEST_DUIS.XML",
            ("2015-01-01T00:00:00.00Z", "2015-01-01T25:00:00.00Z"),
            "EndDateTime",
        ),
        (
            "ECS24b_4.11.2_SUCCESS_REQUEST_DUIS.XML",
            ("SecondaryElement/>", "SecondaryElement>x</sr:ReadTariffSecondaryElement>"),
            "ReadTariffSecondaryElement",
        ),
        (
            "ECS19_4.3_SUCCESS_REQUEST_DUIS.XML",
            ("PrepayValues/>", "PrepayValues><sr:x/></sr:ReadInstantaneousPrepayValues>"),
            "ReadInstantaneousPrepayValues",
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


# -- the simulated ESME answers the published reads -----------------------------------------------
#: Published reads whose objects our simulated ESME does not serve (smetsnet.devices.esme), and
#: what it answers instead. Strict: serving one makes its test pass, so the entry must go.
ESME_LACKS: dict[str, str] = {
    "ECS17d": "no TOU register collection 0-0:94.44.34.1: the sealed value is null",
    "ECS24b": "no secondary-element tariff objects (19.20.5, 94.44.1.8, 11.0.1, 13.0.1): "
    "every attribute answers 11 (object unavailable)",
    "ECS26a": "no prepayment configuration objects but the emergency credit limit and threshold "
    "(0-0:19.10.1.255 attributes 9, 10): the others answer 11",
    "ECS26m": "no identity objects 0-0:96.1.x.255 / 0-0:94.44.0.4 (as for ECS26e): 11",
}
#: The attributes (by position in the read) an ESME_LACKS read is served all the same.
ESME_SERVES: dict[str, set[int]] = {"ECS26a": {12, 13}}
#: One template per published read, and the half-hours of consumption the ESME records first
#: (from the period's start, so that a log or profile read has rows to return).
PUBLISHED = [
    "ECS17d_4.1.2_SINGLE_SUCCESS_REQUEST_DUIS.XML",
    "ECS19_4.3_SUCCESS_REQUEST_DUIS.XML",
    "ECS20a_4.4.4_SUCCESS_REQUEST_DUIS.XML",
    "ECS21c_4.6.2_SUCCESS_REQUEST_DUIS.XML",
    "ECS22c_4.8.2_SUCCESS_REQUEST_DUIS.XML",
    "ECS24b_4.11.2_SUCCESS_REQUEST_DUIS.XML",
    "ECS26a_4.13_SINGLE_SUCCESS_REQUEST_DUIS.XML",
    "ECS26m_6.2.4_SUCCESS_REQUEST_DUIS.XML",
]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki([ESME_EUI])


def _esme_answer(pki: Pki, template: str) -> tuple[Command, AccessResponse, datetime | None]:
    """The translated command, sent by the supplier to a fresh simulated ESME, and its answer
    (decrypted); for a period read, 48 half-hours are recorded from the period's start."""
    hub = Protection(pki)
    esme = Esme.from_keystore(ESME_EUI, pki, PARTIES)
    request = load(template)
    ctx = replace(context_of(request), originator=SUPPLIER, target=ESME_EUI)
    command = run(request, ctx, template)
    node = request.body.node if isinstance(request.body, GenericBody) else None
    period = node.child("ReadLogPeriod") if node is not None else None
    start = None
    if period is not None:
        start = parse_datetime(period.children[0].text, "StartDateTime")
        esme.record_half_hours(start, [100] * 48)
    wire = build_message(
        payload=command.payload,
        originator=ctx.originator,
        recipient=ctx.target,
        counter=ctx.counter,
        message_code=command.message_code,
        protection=hub,
        sign=False,
    ).frame.to_bytes()
    outcome = esme.receive(wire, NOW)
    assert outcome.response is not None
    response = decode_message(outcome.response, protection=hub).payload
    assert isinstance(response, AccessResponse)
    return command, response, start


def _problems(response: AccessResponse) -> list[str]:
    out = [f"spec {i}: result {r.result}" for i, r in enumerate(response.results) if r.result]
    out += [f"item {i}: null" for i, d in enumerate(response.data) if isinstance(d, Null)]
    for sealed in response.protected:
        value = sealed.value
        if sealed.status != "decrypted" or not isinstance(value, Structure):
            out.append(f"sealed: {sealed.status}")
        else:
            out += [f"sealed {i}: null" for i, v in enumerate(value.items) if isinstance(v, Null)]
    return out


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=ESME_LACKS[_use_case(Path(t))]))
        if _use_case(Path(t)) in ESME_LACKS
        else t
        for t in PUBLISHED
    ],
)
def test_simulated_esme_answers_with_data(pki: Pki, template: str) -> None:
    command, response, start = _esme_answer(pki, template)
    assert len(response.results) == len(payload_of(command).specs)
    assert _problems(response) == []
    if start is not None:  # the rows are those of the period the body gave
        (rows,) = response.data
        assert isinstance(rows, CompactArray)
        times = [int(t) for t in rows.columns[0]]
        first = seconds_since_2000(start)
        assert len(times) > 0 and all(first <= t < first + 48 * 1800 for t in times)


@pytest.mark.parametrize("use_case", sorted(ESME_LACKS))
def test_esme_gaps_are_what_is_declared(pki: Pki, use_case: str) -> None:
    """What the ESME answers today for each read it lacks: success with a null, or 11."""
    (template,) = [t for t in PUBLISHED if _use_case(Path(t)) == use_case]
    _, response, _ = _esme_answer(pki, template)
    problems = _problems(response)
    assert problems
    if "11" in ESME_LACKS[use_case]:
        served = ESME_SERVES.get(use_case, set())
        assert {i for i, r in enumerate(response.results) if r.result == 0} == served
        assert {r.result for i, r in enumerate(response.results) if i not in served} == {11}
    else:
        assert [r.result for r in response.results] == [0] and problems == ["sealed 0: null"]
