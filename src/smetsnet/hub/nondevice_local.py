"""8.6 Service Opt In and 8.13 Return Local Command Response.

* 8.6: a (non-domestic) ESME that opted out of DCC service (8.5) comes back from its opt-in
  date. The DCC records it and answers ``DSPOptIn``: the Access Control Broker's certificates
  the supplier then places on the meter (key agreement, and digital signing when held).
* 8.13: a user that delivered a command locally (CV 2/3/6/7) hands the device's GBCS response
  back. It must be a GBCS response from the device to this user, answering the original request
  (same device and counter) when that is named.

Our reading of the SR-specific codes: E080601 the DeviceType given is not the device's, or not
an ESME; E080602 the ImportMPxN is not a meter point the device measures; E080604 the opt-in
date is in the past; E080607 the DCC holds no ACB certificates to answer with (configuration).
E081301 DeviceGBCSResponse is not a GBCS response; E081302 it does not answer this user's
original request (sender, recipient or counter differ); E081303 the OriginalRequestID is not
the user's own. Generic: E4 not registered, E19 unknown device.
"""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.duis import Node
from smetsnet.duis.header import MessageId, format_base64, parse_base64, parse_date
from smetsnet.errors import GbcsError
from smetsnet.gbcs.frame import Cra, decode_frame
from smetsnet.hub.nondevice_common import (
    DONE,
    SUCCESS,
    Call,
    Refused,
    eui_text,
    leaf,
    need,
    need_eui,
    optional,
    text,
    tree,
)
from smetsnet.hub.nondevice_records import LocalCommandResponse, OptIn
from smetsnet.inventory import DeviceType, UserRole

# 8.6 has no roles in the catalogue (SR-CATALOGUE.md §1, source [U]); the electricity
# suppliers registered for the ESME are the ones that may bring it back.
OPT_IN_ROLES = frozenset({UserRole.IS, UserRole.ES})


@dataclass(frozen=True, slots=True, kw_only=True)
class AcbCredentials:
    """The Access Control Broker's certificates (DER) that an 8.6 answer hands out."""

    key_agreement: bytes
    digital_signing: bytes | None = None


def service_opt_in(call: Call, acb: AcbCredentials | None) -> tuple[str, Node]:
    body = call.body()
    device = call.device(need_eui(body, "DeviceID"))
    named = need(body, "DeviceType").strip()
    if named != device.type.name or device.type is not DeviceType.ESME:
        raise Refused("E080601", f"{device.label} is given as {named}; opt-in is for an ESME")
    mpxns = body.child("MPxNs")
    if mpxns is None:
        raise Refused("E080602", "MPxNs missing")
    import_mpxn = need(mpxns, "ImportMPxN").strip()
    point = call.inventory.store.meter_point(import_mpxn)
    if point is None or point.device_eui != device.eui:
        raise Refused("E080602", f"{import_mpxn} is not measured by {device.label}")
    call.acting_role(device, OPT_IN_ROLES)
    opt_in_date = parse_date(need(body, "OptInDate"), "OptInDate")
    if opt_in_date < call.now.date():
        raise Refused("E080604", f"opt-in date {opt_in_date} is in the past")
    if acb is None:
        raise Refused("E080607", "the DCC holds no ACB certificates to answer an opt-in")
    call.records.opt_ins.append(
        OptIn(
            device=device.eui,
            import_mpxn=import_mpxn,
            secondary_import_mpan=text(mpxns, "SecondaryImportMPAN"),
            export_mpan=text(mpxns, "ExportMPAN"),
            opt_in_date=opt_in_date,
            by=call.user,
            at=call.now,
        )
    )
    signing = acb.digital_signing
    return SUCCESS, tree(
        "DSPOptIn",
        leaf("DeviceID", eui_text(device.eui)),
        optional(
            "DSPBrokerSecurityCredentialsDigitalSigning",
            None if signing is None else format_base64(signing),
        ),
        leaf("DSPBrokerSecurityCredentialsKeyAgreement", format_base64(acb.key_agreement)),
    )


def return_local_command_response(call: Call) -> tuple[str, None]:
    body = call.body()
    payload = parse_base64(need(body, "DeviceGBCSResponse"), "DeviceGBCSResponse")
    try:
        header = decode_frame(payload).header
    except GbcsError as exc:
        raise Refused("E081301", f"DeviceGBCSResponse: {exc}") from exc
    if header.cra is not Cra.RESPONSE:
        raise Refused("E081301", f"DeviceGBCSResponse is a {header.cra.name}, not a RESPONSE")
    if header.recipient != call.user:
        raise Refused("E081302", f"the response is for {eui_text(header.recipient)}")
    original_text = text(body, "OriginalRequestID")
    if original_text is not None:
        original = MessageId.parse(original_text, "OriginalRequestID")
        if original.originator != call.user:
            raise Refused("E081303", f"request {original} was not sent by this user")
        if (original.target, original.counter) != (header.originator, header.counter):
            raise Refused(
                "E081302",
                f"the response comes from {eui_text(header.originator)} with counter "
                f"{header.counter}, not from {eui_text(original.target)} with "
                f"{original.counter}",
            )
    device = call.device(header.originator)
    call.records.local_responses.append(
        LocalCommandResponse(
            original_request_id=original_text,
            device=device.eui,
            gbcs_response=payload,
            by=call.user,
            at=call.now,
        )
    )
    return DONE, None
