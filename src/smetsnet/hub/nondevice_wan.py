"""12.1 Request WAN Matrix: will the SM WAN reach a premises, and how?

The real answer comes from the Communications Service Providers' coverage databases; ours is a
deterministic simulation, so the same address always gets the same answer and tests can rely on
it. The CSP region follows the postcode area (North: Scotland and the north of England;
Central: the Midlands, East Anglia and Wales; South: London and the south [I]); coverage,
connectivity likelihood and the date coverage is expected come from a SHA-256 of the normalised
postcode and address identifier: about 95 % of addresses are covered, 70 % of them with High
likelihood. Each answer carries the region's main technology and its 4G network.

Our reading of the SR-specific codes: E120101 the postcode is not a GB postcode; E120102 the UPRN
is not known to the DCC; E120103 the postcode area is outside the DCC's area (Northern Ireland,
the Channel Islands, the Isle of Man).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from smetsnet.duis import Node
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.header import parse_int
from smetsnet.hub.nondevice_common import SUCCESS, Call, Refused, leaf, optional, tree

_POSTCODE = re.compile(r"([A-Z]{1,2})[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\Z")
_AREAS = {
    "North": "AB BB BD BL CA DD DG DH DL DN EH FK G HD HG HS HU HX IV KA KW KY LA LS M ML NE "
    "OL PA PH PR S SK SR TD TS WA WF WN YO ZE",
    "Central": "AL B CB CF CH CM CO CV CW DE DY HR IP LD LE LL LN LU L MK NG NN NP NR PE SA "
    "SG SS ST SY TF WR WS WV",
    "South": "BA BH BN BR BS CR CT DA DT E EC EN EX GL GU HA HP IG KT ME N NW OX PL PO RG RH RM "
    "SE SL SM SN SO SP SW TA TN TQ TR TW UB W WC WD",
}
AREA_REGION = {area: region for region, areas in _AREAS.items() for area in areas.split()}
TECHNOLOGY = {"North": "Long Range Radio", "Central": "Cellular", "South": "Cellular"}


def request_wan_matrix(call: Call) -> tuple[str, Node]:
    body = call.body()
    if len(body.children) != 1:
        raise DuisSchemaError("RequestWANMatrix: one of UPRN, PartialAddress expected")
    choice = body.children[0]
    if choice.name == "UPRN":
        uprn = parse_int(choice.text, "UPRN", 1, 10**12 - 1)
        premises = call.records.premises_with_uprn(uprn)
        if premises is None:
            raise Refused("E120102", f"UPRN {uprn} is not known to the DCC")
        address = call.records.addresses[premises]
        postcode, ident = address.postcode, address.address_identifier
    elif choice.name == "PartialAddress":
        postcode_node, ident_node = choice.child("PostCode"), choice.child("AddressIdentifier")
        if postcode_node is None or ident_node is None:
            raise DuisSchemaError("PartialAddress: PostCode and AddressIdentifier expected")
        postcode, ident = postcode_node.text, ident_node.text
    else:
        raise DuisSchemaError(f"RequestWANMatrix: unexpected {choice.name}")
    region = _region(postcode)
    seed = hashlib.sha256(f"{_normal(postcode)}|{ident.strip().casefold()}".encode()).digest()
    answers = (
        _answer(call, region, TECHNOLOGY[region], seed[0], seed[1]),
        _answer(call, f"4G {region}", "4G Cellular", seed[2], seed[3]),
    )
    return SUCCESS, tree("DSPWANMatrix", Node("Request", children=(choice,)), *answers)


def _normal(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def _region(postcode: str) -> str:
    code = _normal(postcode)
    m = _POSTCODE.match(code)
    if m is None:
        raise Refused("E120101", f"{postcode!r} is not a GB postcode")
    region = AREA_REGION.get(m[1])
    if region is None:
        raise Refused("E120103", f"postcode area {m[1]} is outside the DCC's area")
    return region


def _answer(call: Call, region: str, technology: str, score: int, delay: int) -> Node:
    covered = score < 243  # 243/256: about 95 %
    likelihood = "High" if score < 179 else "Medium" if score < 230 else "Low"
    expected = None if covered else (call.now.date() + timedelta(days=90 + delay)).isoformat()
    aerial = {"Medium": "External aerial", "Low": "High-gain external aerial"}.get(likelihood)
    return tree(
        "DSPWANMatrixResponse",
        leaf("CSPRegion", region),
        leaf("CSPRegionResponseCode", SUCCESS),
        leaf("CoverageAvailability", "true" if covered else "false"),
        optional("AnticipatedCoverageDate", expected),
        leaf("WANTechnology", technology),
        leaf("ConnectivityLikelihood", likelihood),
        optional("AuxiliaryEquipmentRequired", aerial),
    )
