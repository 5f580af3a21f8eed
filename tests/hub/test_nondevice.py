"""NonDeviceServices: each of the 16 non-device templates answered against an inventory built
here, each refusal with its code, and every answer valid against the DUIS V5.4 XSD."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from smetsnet.duis import Node, Request, Response, ResponseHeader, from_xml, sr_info, to_xml
from smetsnet.duis.schema import DuisSchema
from smetsnet.duis.xmldsig import IssuerSerial
from smetsnet.hub.access import Accepted
from smetsnet.hub.nondevice import NonDeviceAnswer, NonDeviceServices
from smetsnet.hub.nondevice_local import AcbCredentials
from smetsnet.hub.nondevice_records import DeviceDetails, PremisesAddress
from smetsnet.hub.schedules import ScheduleStore
from smetsnet.inventory import DeviceStatus, DeviceType, Inventory, MeterKind, Region
from smetsnet.inventory.mpxn import make_mpan
from smetsnet.store import open_store
from tests.support.vectors import REFERENCE

TEMPLATES = REFERENCE / "duis" / "templates"
SCHEMA = REFERENCE / "duis" / "schema"
START = datetime(2014, 6, 1, tzinfo=UTC)
NOW = datetime(2015, 1, 1, 9, tzinfo=UTC)  # the 5.1 template starts 2015-01-02
SUPPLIER = bytes.fromhex("90b3d51f30010000")  # the templates' originator
RIVAL = bytes.fromhex("90b3d51f30030000")
DNO = bytes.fromhex("90b3d51f30020000")
OTHER = bytes.fromhex("00db123456780004")
ESME, GSME, CHF, GPF, PPMID = (bytes.fromhex(f"00db1234567890a{k}") for k in range(5))
MPAN = make_mpan("131234567811")  # the 8.6 template's MPAN with a valid check digit
MPRN = "1000999888"  # the 8.14 templates' MPxN
UPRN = 100023336956
ADDRESS = PremisesAddress(uprn=UPRN, postcode="CH1 1AA", address_identifier="1 Watergate St")
OTA = bytes.fromhex("1EF1EE0B") + bytes(60)


@pytest.fixture(scope="module")
def schema() -> DuisSchema:
    if not SCHEMA.is_dir():
        pytest.skip(f"DUIS schema needs ../shared/reference (absent: {SCHEMA})")
    return DuisSchema(SCHEMA)


@dataclass
class World:
    inventory: Inventory
    services: NonDeviceServices
    schema: DuisSchema
    premises: int

    def ask(
        self,
        template: str,
        *,
        by: bytes = SUPPLIER,
        now: datetime = NOW,
        edit: dict[str, str] | None = None,
    ) -> NonDeviceAnswer:
        """The template (edited) answered for ``by``; the answer must be XSD-valid."""
        if not TEMPLATES.is_dir():
            pytest.skip(f"DUIS templates need ../shared/reference (absent: {TEMPLATES})")
        text = next(TEMPLATES.glob(f"{template}*")).read_text()
        for old, new in (edit or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        request = from_xml(text.encode())
        assert isinstance(request, Request)
        user = self.inventory.user(by)
        accepted = Accepted(
            request=request,
            user=user,
            sr=sr_info(request.header.service_reference_variant),
            device=None,
            role=min(user.roles),
            signer=IssuerSerial(issuer="CN=U1,OU=07", serial=1),
        )
        answer = self.services.answer(accepted, now)
        response = Response(
            header=ResponseHeader(
                response_code=answer.response_code,
                response_datetime=now,
                request_id=request.header.request_id,
            ),
            body=answer.message,
        )
        xml = to_xml(response)
        self.schema.validate(xml)
        assert from_xml(xml) == response  # the answer reads back as written
        return answer

    def status(self, eui: bytes) -> DeviceStatus:
        return self.inventory.device(eui).status


def _world(schema: DuisSchema, *, installed: bool, acb: bool = True) -> World:
    inv = Inventory(open_store("sqlite://:memory:"), clock=lambda: START)
    inv.add_user(SUPPLIER, "Supplier", ["IS", "GS"], "https://supplier.example/duis")
    inv.add_user(RIVAL, "Rival", ["IS", "GS"], "https://rival.example/duis")
    inv.add_user(DNO, "Network operator", ["ED"], "https://dno.example/duis")
    inv.add_user(OTHER, "Other user", ["OU"], "https://other.example/duis")
    premises = inv.add_premises(Region.MERSEYSIDE_NORTH_WALES)
    inv.add_meter_point(MPAN, MeterKind.IMPORT_MPAN, premises.id)
    inv.add_meter_point(MPRN, MeterKind.MPRN, premises.id)
    inv.register(MPAN, "IS", SUPPLIER, START)
    inv.register(MPAN, "ED", DNO, START)
    inv.register(MPRN, "GS", SUPPLIER, START)
    credentials = AcbCredentials(key_agreement=b"ACB key agreement", digital_signing=b"ACB ds")
    services = NonDeviceServices(
        inv, ScheduleStore.from_json('{"next_id":123,"schedules":[]}'),
        acb=credentials if acb else None,
    )  # fmt: skip
    services.records.set_address(premises.id, ADDRESS)
    world = World(inventory=inv, services=services, schema=schema, premises=premises.id)
    for eui, kind in ((CHF, DeviceType.CHF), (GPF, DeviceType.GPF)):
        inv.add_device(eui, kind)
    services.records.gpf_of[CHF] = GPF
    if installed:
        inv.install_comms_hub(premises.id, CHF, GPF)
        inv.commission(CHF)
        for eui, kind in (
            (ESME, DeviceType.ESME),
            (GSME, DeviceType.GSME),
            (PPMID, DeviceType.PPMID),
        ):
            inv.add_device(eui, kind)
            inv.add_to_han_log(CHF, eui)
            inv.apply(eui, "join")
            inv.commission(eui)
        inv.link_meter(MPAN, ESME)
        inv.link_meter(MPRN, GSME)
        services.records.details[ESME] = DeviceDetails(manufacturer="AB01", model="010A030B")
    return world


@pytest.fixture
def live(schema: DuisSchema) -> World:
    """A premises with its comms hub, ESME, GSME and PPMID commissioned."""
    return _world(schema, installed=True)


@pytest.fixture
def fresh(schema: DuisSchema) -> World:
    """A premises with its meter points; only the comms hub is known (Pending)."""
    return _world(schema, installed=False)


def _refused(answer: NonDeviceAnswer, code: str) -> None:
    assert answer.response_code == code, answer.reason
    assert answer.message.content is None and answer.reason


# --- the 16 templates --------------------------------------------------------------------------


def test_8_2_read_inventory_by_device(live: World) -> None:
    answer = live.ask("8.2_")
    assert answer.response_code == "I0"
    inventory = answer.message.content
    assert isinstance(inventory, Node) and inventory.name == "DSPInventory"
    (device,) = inventory.children
    assert _leaves(device)["DeviceID"] == "00-DB-12-34-56-78-90-A2"
    assert _leaves(device)["DeviceStatus"] == "Commissioned"
    assert _leaves(device)["CSPRegion"] == "Central"


def test_8_3_decommission(live: World) -> None:
    assert live.ask("8.3_").response_code == "I99"
    assert live.status(ESME) is DeviceStatus.Decommissioned


def test_8_4_delete_device_withdraws_a_device_never_live(fresh: World) -> None:
    assert fresh.ask("12.2_").response_code == "I99"
    assert fresh.ask("8.4_").response_code == "I99"
    assert fresh.status(ESME) is DeviceStatus.Withdrawn


def test_12_2_prenotification_adds_a_pending_device(fresh: World) -> None:
    assert fresh.ask("12.2_").response_code == "I99"
    assert fresh.status(ESME) is DeviceStatus.Pending
    details = fresh.services.records.details_of(ESME)
    assert (details.manufacturer, details.model, details.esme_variant) == ("AB01", "010A030B", "AD")
    assert details.notified_by == SUPPLIER


def test_8_6_opt_in_answers_the_acb_credentials(live: World) -> None:
    answer = live.ask("8.6_", edit={"1312345678111": MPAN})
    assert answer.response_code == "I0"
    assert isinstance(answer.message.content, Node)
    leaves = _leaves(answer.message.content)
    assert (
        base64.b64decode(leaves["DSPBrokerSecurityCredentialsKeyAgreement"]) == b"ACB key agreement"
    )
    (opt_in,) = live.services.records.opt_ins
    assert opt_in.opt_in_date == date(2015, 2, 1) and opt_in.device == ESME


def test_8_13_local_command_response_is_recorded(live: World) -> None:
    assert live.ask("8.13_").response_code == "I99"
    (recorded,) = live.services.records.local_responses
    assert recorded.device == ESME and recorded.by == SUPPLIER


def test_8_14_1_install_success(fresh: World) -> None:
    assert fresh.ask("8.14.1_").response_code == "I99"
    assert fresh.status(CHF) is fresh.status(GPF) is DeviceStatus.InstalledNotCommissioned
    assert fresh.inventory.device(CHF).premises_id == fresh.premises
    assert fresh.services.records.installs[CHF].sm_wan


def test_8_14_2_install_without_sm_wan(fresh: World) -> None:
    assert fresh.ask("8.14.2_").response_code == "I99"
    assert not fresh.services.records.installs[CHF].sm_wan


def test_8_14_3_fault_return_before_install_withdraws(fresh: World) -> None:
    assert fresh.ask("8.14.3_").response_code == "I99"
    assert fresh.status(CHF) is fresh.status(GPF) is DeviceStatus.Withdrawn
    assert fresh.services.records.returns[0].reason == "Damaged case"


def test_8_14_4_no_fault_return_of_a_live_hub_decommissions(live: World) -> None:
    assert live.ask("8.14.4_").response_code == "I99"
    assert live.status(CHF) is live.status(GPF) is DeviceStatus.Decommissioned
    assert live.inventory.device(CHF).premises_id is None  # a replacement may be installed


def test_11_1_update_firmware_is_recorded_for_the_engine(live: World) -> None:
    assert live.ask("11.1_").response_code == "I99"
    (request,) = live.services.records.pending_firmware()
    assert request.devices == (ESME,) and request.version == "00000000"
    assert len(request.image_hash) == 32


def test_11_4_update_ppmid_firmware(live: World) -> None:
    assert live.ask("11.4_").response_code == "I99"
    assert live.services.records.pending_firmware()[0].devices == (PPMID,)


def test_12_1_wan_matrix_by_partial_address(live: World) -> None:
    answer = live.ask("12.1_")
    assert answer.response_code == "I0"
    matrix = answer.message.content
    assert isinstance(matrix, Node) and matrix.name == "DSPWANMatrix"
    regions = [r.child("CSPRegion") for r in matrix.children[1:]]
    assert [r.text for r in regions if r] == ["North", "4G North"]  # M22 is Manchester
    assert live.ask("12.1_") == answer  # deterministic


def test_5_1_to_5_3_create_read_delete(live: World) -> None:
    created = live.ask("ECS21a_5.1.")
    assert (created.response_code, created.message.content) == ("I0", 123)
    schedule = live.services.schedules.get(123)
    assert schedule.next_run == datetime(2015, 1, 2, tzinfo=UTC) and schedule.srv == "4.6.1"
    read = live.ask("5.2_")
    assert read.response_code == "I0"
    assert isinstance(read.message.content, Node)
    (entry,) = read.message.content.children
    details = entry.child("DSPScheduleDetails")
    assert details is not None and details.children[-1] == schedule.scheduled
    assert live.ask("5.3_").response_code == "I99"
    assert len(live.services.schedules) == 0


# --- refusals ----------------------------------------------------------------------------------

_CHF_NOTIFICATION = {
    "<sr:DeviceType>ESME</sr:DeviceType>": "<sr:DeviceType>CHF</sr:DeviceType>",
    "<sr:ESMEVariant>AD</sr:ESMEVariant>": "<sr:AssociatedGPFDeviceID>00-DB-12-34-56-78-90-A0"
    "</sr:AssociatedGPFDeviceID>",
}


def test_12_2_refusals(live: World, fresh: World) -> None:
    _refused(live.ask("12.2_"), "E120203")  # the ESME is in the inventory
    _refused(fresh.ask("12.2_", edit=_CHF_NOTIFICATION), "E120201")  # CHF ID == GPF ID
    no_gpf = {"<sr:DeviceType>ESME</sr:DeviceType>": "<sr:DeviceType>CHF</sr:DeviceType>",
              "<sr:ESMEVariant>AD</sr:ESMEVariant>": ""}  # fmt: skip
    _refused(fresh.ask("12.2_", edit=no_gpf), "E120204")
    taken_gpf = {**_CHF_NOTIFICATION}
    taken_gpf["<sr:ESMEVariant>AD</sr:ESMEVariant>"] = (
        "<sr:AssociatedGPFDeviceID>00-DB-12-34-56-78-90-A3</sr:AssociatedGPFDeviceID>"
    )
    edit = {
        **taken_gpf,
        "<sr:DeviceID>00-DB-12-34-56-78-90-A0<": "<sr:DeviceID>00-DB-12-34-56-78-90-B2<",
    }
    _refused(fresh.ask("12.2_", edit=edit), "E120207")  # A3 is a known GPF
    assert fresh.inventory.find_device(bytes.fromhex("00db1234567890b2")) is None


def test_12_2_brings_a_withdrawn_device_back(fresh: World) -> None:
    fresh.ask("12.2_")
    fresh.ask("8.4_")
    assert fresh.ask("12.2_").response_code == "I99"
    assert fresh.status(ESME) is DeviceStatus.Pending


def test_8_2_search_keys_and_what_a_user_may_see(live: World) -> None:
    by_mpxn = live.ask("8.2_", edit={"<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID>":
                                     f"<sr:MPxN>{MPAN}</sr:MPxN>"})  # fmt: skip
    assert isinstance(by_mpxn.message.content, Node)
    devices = {_leaves(d)["DeviceID"]: _leaves(d) for d in by_mpxn.message.content.children}
    assert len(devices) == 5
    assert devices["00-DB-12-34-56-78-90-A0"]["ImportMPxN"] == MPAN
    assert devices["00-DB-12-34-56-78-90-A0"]["DeviceManufacturer"] == "AB01"
    by_uprn = {"<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID>": f"<sr:UPRN>{UPRN}</sr:UPRN>"}
    rival = live.ask("8.2_", by=RIVAL, edit=by_uprn)
    assert isinstance(rival.message.content, Node)
    assert all("ImportMPxN" not in _leaves(d) and d.child("PropertyFilter") is None
               for d in rival.message.content.children)  # fmt: skip
    by_address = {"<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID>":
                  "<sr:PropertyFilter><sr:PostCode>ch11aa</sr:PostCode>"
                  "<sr:AddressIdentifier>1 Water</sr:AddressIdentifier>"
                  "</sr:PropertyFilter>"}  # fmt: skip
    assert live.ask("8.2_", edit=by_address).message.content == by_mpxn.message.content
    _refused(live.ask("8.2_", edit={"90-A2</sr:DeviceID>": "90-FF</sr:DeviceID>"}), "E19")
    unknown = {"<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID>": "<sr:MPxN>999999</sr:MPxN>"}
    _refused(live.ask("8.2_", edit=unknown), "E080201")


def test_8_3_refusals(live: World, fresh: World) -> None:
    _refused(live.ask("8.3_", by=RIVAL), "E4")
    _refused(live.ask("8.3_", edit={"90-A0</sr:DeviceID>": "90-A2</sr:DeviceID>"}), "E080301")
    fresh.ask("12.2_")
    _refused(fresh.ask("8.3_"), "E4")  # a Pending ESME is at no premises: nobody holds it
    assert live.status(ESME) is DeviceStatus.Commissioned


def test_8_3_removes_the_devices_schedules(live: World) -> None:
    live.ask("ECS21a_5.1.")
    live.ask("8.3_")
    assert len(live.services.schedules) == 0
    assert [s.id for s in live.services.records.schedule_removals] == [123]


def test_8_4_refusals_and_updates(live: World) -> None:
    _refused(live.ask("8.4_"), "E5")  # a commissioned ESME is not deleted
    status_ch = {
        "<sr:DeleteDevice/>": "<sr:UpdateDeviceStatusCH>Withdrawn</sr:UpdateDeviceStatusCH>"
    }
    _refused(live.ask("8.4_", edit=status_ch), "E080405")
    mpxn = {
        "<sr:DeleteDevice/>": "<sr:UpdateMPxN><sr:ImportMPxN>1312345678999</sr:ImportMPxN>"
        "</sr:UpdateMPxN>"
    }
    _refused(live.ask("8.4_", edit=mpxn), "E080408")
    mprn = {
        "<sr:DeleteDevice/>": f"<sr:UpdateMPxN><sr:ImportMPxN>{MPRN}</sr:ImportMPxN>"
        "</sr:UpdateMPxN>"
    }
    _refused(live.ask("8.4_", edit=mprn), "E080409")
    _refused(live.ask("8.4_", by=RIVAL), "E4")
    details = {"<sr:DeleteDevice/>": "<sr:UpdateDeviceDetails><sr:FirmwareVersion>0102"
               "</sr:FirmwareVersion></sr:UpdateDeviceDetails>"}  # fmt: skip
    assert live.ask("8.4_", edit=details).response_code == "I99"
    assert live.services.records.details_of(ESME).firmware_version == "0102"
    assert live.services.records.details_of(ESME).manufacturer == "AB01"  # kept


def test_8_14_refusals(live: World, fresh: World) -> None:
    _refused(live.ask("8.14.1_"), "E5")  # installed already
    _refused(fresh.ask("8.14.1_", by=RIVAL), "E4")
    _refused(fresh.ask("8.14.1_", edit={f">{MPRN}<": ">999999<"}), "E081405")
    _refused(fresh.ask("8.14.1_", edit={"90-A2</sr:DeviceID>": "90-A3</sr:DeviceID>"}), "E081401")
    _refused(live.ask("8.14.3_"), "E5")  # "prior to installation" for a commissioned hub
    assert fresh.status(CHF) is DeviceStatus.Pending


def test_a_returned_hub_makes_way_for_a_replacement(live: World) -> None:
    live.ask("8.14.4_")
    new_chf, new_gpf = bytes.fromhex("00db1234567890b2"), bytes.fromhex("00db1234567890b3")
    notify = {
        "<sr:DeviceID>00-DB-12-34-56-78-90-A0<": "<sr:DeviceID>00-DB-12-34-56-78-90-B2<",
        "<sr:DeviceType>ESME</sr:DeviceType>": "<sr:DeviceType>CHF</sr:DeviceType>",
        "<sr:ESMEVariant>AD</sr:ESMEVariant>":
            "<sr:AssociatedGPFDeviceID>00-DB-12-34-56-78-90-B3</sr:AssociatedGPFDeviceID>",
    }  # fmt: skip
    assert live.ask("12.2_", edit=notify).response_code == "I99"
    install = {"90-A2</sr:DeviceID>": "90-B2</sr:DeviceID>"}
    assert live.ask("8.14.1_", edit=install).response_code == "I99"
    assert live.status(new_chf) is live.status(new_gpf) is DeviceStatus.InstalledNotCommissioned


def test_5_x_refusals(live: World) -> None:
    _refused(live.ask("ECS21a_5.1.", now=datetime(2015, 1, 3, tzinfo=UTC)), "E050103")
    _refused(live.ask("ECS21a_5.1.", edit={">4.6.1<": ">4.1.1<"}), "E050101")
    _refused(live.ask("ECS21a_5.1.", by=DNO), "E2")  # ED may not send 4.6.1
    _refused(live.ask("ECS21a_5.1.", by=RIVAL), "E4")
    _refused(live.ask("ECS21a_5.1.", edit={"90-A0</sr:DeviceID>": "90-A2</sr:DeviceID>"}), "E11")
    end = {"</sr:ScheduleStartDate>": "</sr:ScheduleStartDate><sr:ScheduleEndDate>2015-01-01"
           "</sr:ScheduleEndDate>"}  # fmt: skip
    _refused(live.ask("ECS21a_5.1.", edit=end), "E050105")
    assert len(live.services.schedules) == 0
    live.ask("ECS21a_5.1.")
    _refused(live.ask("5.2_", by=RIVAL), "E050201")  # someone else's id reads as unknown
    _refused(live.ask("5.3_", by=RIVAL), "E050301")
    by_device = {
        "<sr:DSPScheduleID>123</sr:DSPScheduleID>": "<sr:DeviceID>00-DB-12-34-56-78-90-A1"
        "</sr:DeviceID>"
    }
    _refused(live.ask("5.2_", edit=by_device), "E050202")
    _refused(live.ask("5.3_", edit=by_device), "E050302")
    assert len(live.services.schedules) == 1


def test_11_x_warnings_and_refusals(live: World) -> None:
    listed = {
        "90-A0</sr:DeviceIDList>": "90-A0,00-DB-12-34-56-78-90-A4,00-DB-12-34-56-78-90-FF"
        "</sr:DeviceIDList>"
    }
    answer = live.ask("11.1_", edit=listed)
    assert answer.response_code == "W110101"
    assert isinstance(answer.message.content, Node)
    assert _leaves(answer.message.content) == {
        "InvalidDeviceIDList": "00-DB-12-34-56-78-90-A4,00-DB-12-34-56-78-90-FF"
    }
    _refused(live.ask("11.1_"), "E110102")  # A0 has a distribution in progress
    again = live.ask("11.1_", edit=listed | {"90-A0,": "90-A1,"})  # GSME A1 is free
    assert again.response_code == "W110101"
    _refused(live.ask("11.1_", by=RIVAL), "E110102")
    bad_image = {"<sr:FirmwareImage>HvHu": "<sr:FirmwareImage>AAAA"}
    _refused(live.ask("11.4_", edit=bad_image), "E110401")


def test_12_1_refusals_and_uprn(live: World) -> None:
    _refused(live.ask("12.1_", edit={"M22 0RR": "NOT A PC"}), "E120101")
    _refused(live.ask("12.1_", edit={"M22 0RR": "BT1 1AA"}), "E120103")
    answer = live.ask("12.1_", edit=_by_uprn(UPRN))
    assert answer.response_code == "I0"
    assert isinstance(answer.message.content, Node)
    request = answer.message.content.child("Request")
    assert request is not None and request.children[0].name == "UPRN"
    _refused(live.ask("12.1_", edit=_by_uprn(42)), "E120102")


def _by_uprn(uprn: int) -> dict[str, str]:
    """The 12.1 template asking by UPRN (the partial address commented out)."""
    return {
        "<sr:PartialAddress>": f"<sr:UPRN>{uprn}</sr:UPRN><!--",
        "</sr:PartialAddress>": "-->",
    }


def test_8_13_refusals(live: World) -> None:
    _refused(live.ask("8.13_", by=RIVAL), "E081302")  # the response is for the supplier
    _refused(live.ask("8.13_", edit={"90-A0:1000<": "90-A0:999<"}), "E081302")
    _refused(
        live.ask("8.13_", edit={"<sr:DeviceGBCSResponse>3wkC": "<sr:DeviceGBCSResponse>AAAA"}),
        "E081301",
    )
    assert live.services.records.local_responses == []


def test_8_6_refusals(live: World, schema: DuisSchema) -> None:
    mpan = {"1312345678111": MPAN}
    _refused(live.ask("8.6_", edit=mpan | {">ESME<": ">GSME<"}), "E080601")
    _refused(live.ask("8.6_"), "E080602")  # the template's MPAN is not the ESME's
    _refused(live.ask("8.6_", edit=mpan, by=RIVAL), "E4")
    _refused(live.ask("8.6_", edit=mpan, now=datetime(2015, 3, 1, tzinfo=UTC)), "E080604")
    no_acb = _world(schema, installed=True, acb=False)
    _refused(no_acb.ask("8.6_", edit=mpan), "E080607")


def test_every_non_device_variant_has_a_handler(live: World) -> None:
    from smetsnet.duis.catalogue import catalogue

    non_device = {srv for srv, info in catalogue().items() if info.non_device}
    assert live.services.variants == non_device and len(non_device) == 16


def _leaves(node: Node) -> dict[str, str]:
    return {c.name: c.text for c in node.children if not c.children}
