"""Translators for the security, join and firmware SRs (ASN.1 payloads) and the CS01a top-up.

GBCS use cases: CS01a (2.2 top-up to an ESME: a DLMS action, kept here with the other "CS"
use cases), CS02a-g (6.15.1, 6.15.2, 6.17, 6.21, 6.23, 6.24.1, 6.24.2, 8.5: security
credentials), CS03A1/A2/B/C and CS04AC/B (8.7.1-8.8.2: join and unjoin), CS06 (11.3: activate
firmware), CS07 (8.9: read device join details on a GSME) and CS08 (11.2: PPMID/HCALCS firmware
version). Layouts: GBCS-PAYLOADS §3, checked against the RTDS 4.5.0 vectors named per function.

Three kinds of value do not come from the request body, and the hub supplies them through
:class:`HubContext` (a :class:`~smetsnet.hub.translate.Context` with more fields):

- the **other device** of a join: its type (which join method GBCS prescribes, and the
  DeviceType written in the command) and, for method C, its key-agreement certificate (from the
  SMKI repository); DCC takes both from its inventory;
- the **counter of a DCC-held remote party** (the access control broker, the transitional CoS
  party) for the commands the DCC originates itself (handover 6.21, opt-out 8.5, CoS 6.23): the
  CS02b authorising seq number must equal the originator counter of the command;
- nothing else: every other field comes from the body, or is a GBCS constant.

Commands the DCC originates as ACB to PPMID/HCALCS (8.7.2, 8.8.2, 11.2) name the user as
supplementary remote party with the DUIS counter (RTDS 8.7.2 vectors).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol

from cryptography import x509

from smetsnet.duis import RequestBody
from smetsnet.duis.bodies import ActivateFirmware, Node, TopUpDevice
from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.execution import DUIS_CANCEL
from smetsnet.duis.header import parse_base64, parse_eui
from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.asn1 import (
    ActivateFirmwareCommand,
    Certificate,
    GeneralizedTime,
    IssueSecurityCredentialsCommand,
    JoinCommand,
    JoinMethod,
    KeyUsage,
    ProvideDeviceCertificateCommand,
    ProvideSecurityCredentialDetailsCommand,
    ReadDeviceJoinDetailsCommand,
    ReadFirmwareVersionCommand,
    RemotePartySeqNumberChange,
    ReplacementMode,
    Role,
    SpecialistSeqNumber,
    TrustAnchorCellId,
    TrustAnchorReplacement,
    UnjoinCommand,
    UpdateDeviceCertificateCommand,
    UpdateSecurityCredentialsCommand,
)
from smetsnet.gbcs.asn1 import DeviceType as Asn1DeviceType
from smetsnet.gbcs.asn1.types import CellUsage
from smetsnet.gbcs.dlms import AccessRequest, OctetString
from smetsnet.hub.translate import Command, Context, translator
from smetsnet.hub.translate.body import body_node as _node
from smetsnet.hub.translate.body import child as _child
from smetsnet.inventory.model import DeviceType

# -- what the hub knows besides the request ---------------------------------------------------


class HubState(Protocol):
    """The inventory and counters a translator of this module may consult (read-only)."""

    def device_type(self, device_id: bytes) -> DeviceType | None:
        """The type of a device in the inventory, None when it is not there."""
        ...

    def key_agreement_certificate(self, device_id: bytes) -> bytes | None:
        """The device's key-agreement certificate (DER) from SMKI, None when unknown."""
        ...

    def originator_counter(self, party: Role) -> int:
        """The counter the DCC-held ``party`` (ACB, transitional CoS) originates this command
        with (reserved by the hub for it)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class HubContext(Context):
    """A :class:`Context` with the hub's inventory and counters (see the module docstring)."""

    state: HubState


class HubStateMissing(SmetsnetError):
    """A translation needs what only the hub's inventory knows, and it does not know it."""


def _state(ctx: Context, what: str) -> HubState:
    if not isinstance(ctx, HubContext):
        raise HubStateMissing(
            f"SR {ctx.srv}: {what} comes from the hub's inventory (no HubContext)"
        )
    return ctx.state


# -- reading the body ---------------------------------------------------------------------------


def _children(node: Node, name: str) -> list[Node]:
    return [c for c in node.children if c.name == name]


def _seq_number(node: Node, name: str) -> int:
    """An xs:nonNegativeInteger up to 2^63-1 (DUIS ``floorSequenceNumber``)."""
    value = _child(node, name).value
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 63:
        raise DuisSchemaError(f"{name}: {value!r} is not a sequence number (0..2^63-1)")
    return value


def _optional_seq_number(node: Node, name: str) -> int | None:
    return None if node.child(name) is None else _seq_number(node, name)


def _bool(node: Node, name: str) -> bool:
    value = _child(node, name).value
    if not isinstance(value, bool):
        raise DuisSchemaError(f"{name}: {value!r} is not a boolean")
    return value


def _certificate(node: Node, name: str) -> Certificate:
    return _certificate_leaf(_child(node, name))


def _certificate_leaf(leaf: Node) -> Certificate:
    """A DUIS ``Certificate`` (base64 DER) that must be an X.509 certificate."""
    name = leaf.name
    der = parse_base64(leaf.text, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # some SMKI test certificates trip deprecations
            x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise DuisSchemaError(f"{name}: not an X.509 certificate ({exc})") from None
    return Certificate(der=der)


def _execution_node(node: Node) -> GeneralizedTime | None:
    leaf = node.child("ExecutionDateTime")
    if leaf is None:
        return None
    when = leaf.value
    if not isinstance(when, datetime):
        raise DuisSchemaError(f"ExecutionDateTime: {when!r} is not a date-time")
    return _execution_time(when)


def _execution_time(when: datetime, name: str = "ExecutionDateTime") -> GeneralizedTime:
    """ExecutionDateTime as GBCS carries it in an ASN.1 payload; DUIS 3000-12-31T00:00:00Z
    (cancel the pending command) is GBCS 9999-12-31 23:59:59 (RTDS CANCELLATION vectors)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when == DUIS_CANCEL:
        return GBCS_CANCEL
    if not _EARLIEST <= when <= _LATEST:
        raise DuisSchemaError(f"{name}: {when.isoformat()} is outside GeneralizedTime's years")
    return GeneralizedTime.from_datetime(when)


_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: The execution date-time that cancels a device-held future-dated command.
GBCS_CANCEL = GeneralizedTime(text="99991231235959Z")

# -- CS01a: 2.2 top-up to an ESME (DLMS) --------------------------------------------------------
#: Token gateway (class 115) 0-0:19.40.0.255, method 1 "enter" (GBCS-PAYLOADS §4 worked example).
TOKEN_GATEWAY = (115, "0-0:19.40.0.255", 1)


@translator("2.2", DeviceType.ESME)
def top_up(body: RequestBody, ctx: Context) -> Command:
    """CS01a (0x0007): the UTRN, as its 20 ASCII digits, entered into the token gateway. The
    invoke id is the counter's low 24 bits (RTDS 2.2_CS01a: counter 0000000300000000, id 0)."""
    if not isinstance(body, TopUpDevice):
        raise DuisSchemaError(f"TopUpDevice expected, got {type(body).__name__}")
    class_id, instance, method = TOKEN_GATEWAY
    payload = AccessRequest.action(
        class_id,
        instance,
        method,
        OctetString(value=body.utrn.encode("ascii")),
        invoke_id=ctx.counter & 0xFFFFFF,
    )
    return Command(use_case="CS01a", message_code=0x0007, payload=payload)


# -- CS02a/f, CS02c, CS02d, CS02e ---------------------------------------------------------------
#: DUIS RemotePartyRole -> GBCS RemotePartyRole.
ROLES = {
    "Root": Role.ROOT,
    "Recovery": Role.RECOVERY,
    "Supplier": Role.SUPPLIER,
    "NetworkOperator": Role.NETWORK_OPERATOR,
    "ACB": Role.ACCESS_CONTROL_BROKER,
    "TransCoS": Role.TRANSITIONAL_COS,
    "LoadController": Role.LOAD_CONTROLLER,
}
#: DUIS CredentialType -> the KeyUsage bit of the device's own credentials.
CREDENTIAL_TYPES = {
    "Digital Signature": KeyUsage.DIGITAL_SIGNATURE,
    "Key Agreement": KeyUsage.KEY_AGREEMENT,
}
_ACB_KA = TrustAnchorCellId(role=Role.ACCESS_CONTROL_BROKER, key_usage=KeyUsage.KEY_AGREEMENT)


def _role(node: Node) -> Role:
    role = ROLES.get(node.text.strip())
    if role is None:
        raise DuisSchemaError(f"RemotePartyRole: {node.text!r} is not a DUIS remote party role")
    return role


def _credential_type(node: Node) -> KeyUsage:
    text = _child(node, "CredentialType").text.strip()
    kind = CREDENTIAL_TYPES.get(text)
    if kind is None:
        raise DuisSchemaError(f"CredentialType: {text!r} is not a DUIS credential type")
    return kind


@translator("6.24.1", DeviceType.ESME)
def provide_credential_details(body: RequestBody, ctx: Context) -> Command:
    """CS02a (0x0008): which credentials the ESME holds for the roles asked; MAC'd by the ACB,
    so the authorising cell is the ACB's key agreement (RTDS 6.24.1_CS02aMAC). Asking for the
    load controller (role 8, which CS02a predates) needs CS02f (0x011B), same layout."""
    node = _node(body, "RetrieveDeviceSecurityCredentialsKRP")
    roles = tuple(_role(n) for n in _children(node, "RemotePartyRole"))
    if not 1 <= len(roles) <= 7:
        raise DuisSchemaError(f"RemotePartyRole: {len(roles)} given, expected 1 to 7")
    payload = ProvideSecurityCredentialDetailsCommand(authorising_cell=_ACB_KA, roles=roles)
    if Role.LOAD_CONTROLLER in roles:
        return Command(use_case="CS02f", message_code=0x011B, payload=payload)
    return Command(use_case="CS02a", message_code=0x0008, payload=payload)


@translator("6.17", DeviceType.ESME)
def issue_credentials(body: RequestBody, ctx: Context) -> Command:
    """CS02c (0x000A): the ESME makes a key pair of that usage and returns a request."""
    usage = _credential_type(_node(body, "IssueSecurityCredentials"))
    payload = IssueSecurityCredentialsCommand(key_usage=usage)
    return Command(use_case="CS02c", message_code=0x000A, payload=payload)


@translator("6.15.2", DeviceType.ESME)
def update_device_certificate(body: RequestBody, ctx: Context) -> Command:
    """CS02d (0x000B): the device's new certificate, as given (RTDS 6.15.2_CS02d)."""
    node = _node(body, "UpdateSecurityCredentialsDevice")
    payload = UpdateDeviceCertificateCommand(certificate=_certificate(node, "DeviceCertificate"))
    return Command(use_case="CS02d", message_code=0x000B, payload=payload)


@translator("6.24.2", DeviceType.ESME)
def provide_device_certificate(body: RequestBody, ctx: Context) -> Command:
    """CS02e (0x000C): return the device's own certificate of that usage (RTDS 6.24.2)."""
    usage = _credential_type(_node(body, "RetrieveDeviceSecurityCredentialsDevice"))
    payload = ProvideDeviceCertificateCommand(key_usage=usage)
    return Command(use_case="CS02e", message_code=0x000C, payload=payload)


# -- CS02b / CS02g update security credentials --------------------------------------------------
_DS, _KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT
#: Replacement certificate elements -> (key usage, cell usage) of the cell they replace.
_CERTIFICATE_CELLS = (
    ("DigitalSigningCertificate", _DS, None),
    ("KeyAgreementCertificate", _KA, None),
    ("KeyAgreementTopUpCertificate", _KA, CellUsage.PREPAYMENT_TOP_UP),
)


def _replacements(node: Node, role: Role) -> tuple[TrustAnchorReplacement, ...]:
    """The certificates given, in GBCS order, each replacing the ``role`` cell of its usage."""
    out = []
    for name, usage, cell_usage in _CERTIFICATE_CELLS:
        if node.child(name) is not None:
            target = TrustAnchorCellId(role=role, key_usage=usage, cell_usage=cell_usage)
            out.append(TrustAnchorReplacement(certificate=_certificate(node, name), target=target))
    if not out:
        raise DuisSchemaError(f"{node.name}: no replacement certificate given")
    return tuple(out)


def _path(node: Node) -> tuple[Certificate, ...]:
    path = _child(node, "CertificationPathCertificates")
    certs = _children(path, "Certificate")
    if not 1 <= len(certs) <= 3:
        raise DuisSchemaError(f"CertificationPathCertificates: {len(certs)} given, expected 1-3")
    return tuple(_certificate_leaf(c) for c in certs)


def _cpv_checks(node: Node) -> int | None:
    """ApplyTimeBasedCPVChecks: true is GBCS's default (the field is left out, as in every RTDS
    vector); false is written as 1 (disapply)."""
    if node.child("ApplyTimeBasedCPVChecks") is None:
        return None
    return None if _bool(node, "ApplyTimeBasedCPVChecks") else 1


def _prepayment_floor(node: Node, name: str) -> tuple[SpecialistSeqNumber, ...] | None:
    floor = _optional_seq_number(node, name)
    if floor is None:
        return None
    return (SpecialistSeqNumber(usage=0, seq_number=floor),)  # usage 0: prePaymentTopUp


def _update_command(
    mode: ReplacementMode,
    payload: UpdateSecurityCredentialsCommand,
) -> Command:
    if mode is ReplacementMode.LOAD_CONTROLLER_BY_SUPPLIER:
        return Command(use_case="CS02g", message_code=0x0126, payload=payload)
    return Command(use_case="CS02b", message_code=0x0100 + mode, payload=payload)


#: 6.15.1 / 6.21: the role whose certificates are replaced -> (mode, authorising cell role).
_SELF_REPLACEMENT = {
    Role.SUPPLIER: ReplacementMode.SUPPLIER_BY_SUPPLIER,
    Role.NETWORK_OPERATOR: ReplacementMode.NETWORK_OPERATOR_BY_NETWORK_OPERATOR,
}


def _self_replacement(node: Node, counter: int, execution: GeneralizedTime | None) -> Command:
    """A supplier or network operator replacing its own certificates (CS02b mode 2 or 3): the
    authorising cell is its digital signature; its new floors are [4] and [5] (RTDS
    6.15.1_CS02bNOByNO, 6.21_CS02bSupplierBySupplierHandover)."""
    role = _role(_child(node, "RemotePartyRole"))
    mode = _SELF_REPLACEMENT.get(role)
    if mode is None:
        raise DuisSchemaError(f"RemotePartyRole: {role.name} credentials cannot be replaced here")
    payload = UpdateSecurityCredentialsCommand(
        replacement_mode=mode,
        authorising_cell=TrustAnchorCellId(role=role, key_usage=_DS),
        authorising_seq_number=counter,
        new_floor_seq_number=_optional_seq_number(node, "RemotePartyFloorSeqNumber"),
        new_specialist_floors=_prepayment_floor(node, "RemotePartyPrepaymentTopUpFloorSeqNumber"),
        replacements=_replacements(_certificates_of(node), role),
        certification_path=_path(node),
        apply_time_based_cpv_checks=_cpv_checks(node),
        execution_time=execution,
    )
    return _update_command(mode, payload)


def _certificates_of(node: Node) -> Node:
    """The node holding the replacement certificates (KRP bodies nest them one level more)."""
    certs = _child(node, "ReplacementCertificates")
    inner = certs.child("SupplierOrNetworkOperatorCertificates")
    return certs if inner is None else inner


@translator("6.15.1", DeviceType.ESME)
def update_credentials_krp(body: RequestBody, ctx: Context) -> Command:
    """6.15.1 by the role replacing its own certificates: CS02b supplierBySupplier (0x0102) or
    networkOperatorByNetworkOperator (0x0103); for the load controller's, CS02g (0x0126): the
    supplier authorises, the load controller's floor is an "other remote party" change [6]
    (RTDS 6.15.1_CS02gLoadControllerBySupplier). Device-held future dating: the execution time
    is the payload's last field."""
    node = _node(body, "UpdateSecurityCredentialsKRP")
    execution = _execution_node(node)
    if _role(_child(node, "RemotePartyRole")) is not Role.LOAD_CONTROLLER:
        return _self_replacement(node, ctx.counter, execution)
    floor = _optional_seq_number(node, "RemotePartyFloorSeqNumber")
    change = RemotePartySeqNumberChange(role=Role.LOAD_CONTROLLER, floor_seq_number=floor or 0)
    payload = UpdateSecurityCredentialsCommand(
        replacement_mode=ReplacementMode.LOAD_CONTROLLER_BY_SUPPLIER,
        authorising_cell=TrustAnchorCellId(role=Role.SUPPLIER, key_usage=_DS),
        authorising_seq_number=ctx.counter,
        other_changes=None if floor is None else (change,),
        replacements=_replacements(_certificates_of(node), Role.LOAD_CONTROLLER),
        certification_path=_path(node),
        apply_time_based_cpv_checks=_cpv_checks(node),
        execution_time=execution,
    )
    return _update_command(ReplacementMode.LOAD_CONTROLLER_BY_SUPPLIER, payload)


@translator("6.21", DeviceType.GPF)
def handover(body: RequestBody, ctx: Context) -> Command:
    """6.21 handover of a DCC-controlled device: the DCC, which holds the supplier or network
    operator cells until then, replaces them with the user's certificates (CS02b mode 2 or 3);
    the DCC originates it, so the authorising seq number is its counter. The DSP holds a
    future-dated request: no execution time (RTDS 6.21 vectors)."""
    node = _node(body, "RequestHandoverOfDCCControlledDevice")
    counter = _state(ctx, "the DCC's counter").originator_counter(Role.ACCESS_CONTROL_BROKER)
    return _self_replacement(node, counter, None)


@translator("8.5", DeviceType.ESME)
def service_opt_out(body: RequestBody, ctx: Context) -> Command:
    """8.5 opt-out: the ACB cell(s) replaced, authorised by the ACB itself (CS02b mode 4, no
    authorising cell; RTDS 8.5_CS02bACBByACB). DSP-held: no execution time."""
    node = _node(body, "ServiceOptOut")
    counter = _state(ctx, "the ACB's counter").originator_counter(Role.ACCESS_CONTROL_BROKER)
    mode = ReplacementMode.ACB_BY_ACB
    payload = UpdateSecurityCredentialsCommand(
        replacement_mode=mode,
        authorising_seq_number=counter,
        new_floor_seq_number=_seq_number(node, "ACBFloorSeqNumber"),
        replacements=_replacements(
            _child(node, "ReplacementCertificates"), Role.ACCESS_CONTROL_BROKER
        ),
        certification_path=_path(node),
        apply_time_based_cpv_checks=_cpv_checks(node),
    )
    return _update_command(mode, payload)


@translator("6.23", DeviceType.ESME, DeviceType.GSME)
def update_credentials_cos(body: RequestBody, ctx: Context) -> Command:
    """6.23 change of supplier: the transitional CoS party replaces the supplier cells (CS02b
    mode 7, 0x0107), authorised by its digital signature and counter; the new supplier's floors
    are an "other remote party" change [6], left out when cancelling (RTDS 6.23 vectors)."""
    node = _node(body, "UpdateSecurityCredentialsCoS")
    counter = _state(ctx, "the transitional CoS counter").originator_counter(Role.TRANSITIONAL_COS)
    execution = _execution_node(node)
    change = RemotePartySeqNumberChange(
        role=Role.SUPPLIER,
        floor_seq_number=_seq_number(node, "SupplierFloorSeqNumber"),
        specialist_floors=_prepayment_floor(node, "SupplierPrepaymentTopUpFloorSeqNumber"),
    )
    mode = ReplacementMode.SUPPLIER_BY_TRANS_COS
    payload = UpdateSecurityCredentialsCommand(
        replacement_mode=mode,
        authorising_cell=TrustAnchorCellId(role=Role.TRANSITIONAL_COS, key_usage=_DS),
        authorising_seq_number=counter,
        other_changes=None if execution == GBCS_CANCEL else (change,),
        replacements=_replacements(_child(node, "SupplierReplacementCertificates"), Role.SUPPLIER),
        certification_path=_path(node),
        apply_time_based_cpv_checks=_cpv_checks(node),
        execution_time=execution,
    )
    return _update_command(mode, payload)


# -- CS03 join, CS04 unjoin ---------------------------------------------------------------------
#: Inventory device type -> GBCS ASN.1 DeviceType (IHD and CAD are "type 2" devices).
ASN1_DEVICE_TYPES = {
    DeviceType.GSME: Asn1DeviceType.GSME,
    DeviceType.ESME: Asn1DeviceType.ESME,
    DeviceType.CHF: Asn1DeviceType.CHF,
    DeviceType.GPF: Asn1DeviceType.GPF,
    DeviceType.HCALCS: Asn1DeviceType.HCALCS,
    DeviceType.PPMID: Asn1DeviceType.PPMID,
    DeviceType.IHD: Asn1DeviceType.TYPE2,
    DeviceType.CAD: Asn1DeviceType.TYPE2,
}
_TYPE1 = frozenset((DeviceType.PPMID, DeviceType.HCALCS))


class JoinKind(Enum):
    """(use case, message code, join method) of each CS03 variant."""

    A1 = ("CS03A1", 0x000D, JoinMethod.METHOD_A_INITIATOR)
    A2 = ("CS03A2", 0x00AB, JoinMethod.METHOD_A_RESPONDER)
    B = ("CS03B", 0x000E, JoinMethod.METHOD_B)
    C = ("CS03C", 0x00AF, JoinMethod.METHOD_C)


def _join_kind(target: DeviceType, partner: DeviceType) -> JoinKind | None:
    """GBCS 13.7: an ESME joins a PPMID/HCALCS by method A (initiator; they respond with A2),
    a GSME and a PPMID join by method C, a GSME and a type 2 device by method B."""
    if target is DeviceType.ESME and partner in _TYPE1:
        return JoinKind.A1
    if target in _TYPE1 and partner is DeviceType.ESME:
        return JoinKind.A2
    if {target, partner} == {DeviceType.GSME, DeviceType.PPMID}:
        return JoinKind.C
    if target is DeviceType.GSME and partner in (DeviceType.IHD, DeviceType.CAD):
        return JoinKind.B
    return None


def _other_device(body: RequestBody, element: str) -> bytes:
    node = _node(body, element)
    return parse_eui(_child(node, "OtherDeviceID").text.strip(), "OtherDeviceID")


def _via_acb(ctx: Context, command: Command) -> Command:
    """A non-critical command to a PPMID/HCALCS is originated by the ACB, naming the user and
    the DUIS counter as supplementary remote party (RTDS 8.7.2_CS03A2NonCritical)."""
    if ctx.device_type not in _TYPE1:
        return command
    return Command(
        use_case=command.use_case,
        message_code=command.message_code,
        payload=command.payload,
        supplementary_remote_party=ctx.originator,
        supplementary_remote_party_counter=ctx.counter,
    )


def _join(body: RequestBody, ctx: Context, element: str) -> Command:
    partner_id = _other_device(body, element)
    if ctx.device_type is DeviceType.GSME and element == "JoinServiceNonCritical":
        kind, partner_type = JoinKind.B, DeviceType.IHD  # method B: a type 2 device, always
    else:
        state = _state(ctx, "the other device's type")
        found = state.device_type(partner_id)
        if found is None:
            raise HubStateMissing(f"OtherDeviceID: {partner_id.hex('-').upper()} not in inventory")
        partner_type = found
        join_kind = _join_kind(ctx.device_type, partner_type)
        if join_kind is None or join_kind is JoinKind.B:
            raise DuisSchemaError(
                f"OtherDeviceID: a {ctx.device_type.name} cannot join a "
                f"{partner_type.name} by SR {ctx.srv}"
            )
        kind = join_kind
    certificate = None
    if kind is JoinKind.C:
        der = _state(ctx, "the partner's certificate").key_agreement_certificate(partner_id)
        if der is None:
            raise HubStateMissing(
                f"OtherDeviceID: no key agreement certificate for {partner_id.hex()}"
            )
        certificate = Certificate(der=der)
    use_case, code, method = kind.value
    payload = JoinCommand(
        method=method,
        partner_id=partner_id,
        partner_type=ASN1_DEVICE_TYPES[partner_type],
        partner_certificate=certificate,
    )
    return Command(use_case=use_case, message_code=code, payload=payload)


@translator("8.7.1", DeviceType.ESME, DeviceType.GSME, DeviceType.PPMID, DeviceType.HCALCS)
def join_critical(body: RequestBody, ctx: Context) -> Command:
    """8.7.1: CS03A1 on an ESME, CS03A2 on a PPMID/HCALCS, CS03C on a GSME or a PPMID (RTDS
    8.7.1_CS03A1, 8.7.1_CS03CCritical)."""
    return _join(body, ctx, "JoinServiceCritical")


@translator("8.7.2", DeviceType.GSME, DeviceType.PPMID, DeviceType.HCALCS)
def join_non_critical(body: RequestBody, ctx: Context) -> Command:
    """8.7.2: CS03B on a GSME, CS03A2 / CS03C on a PPMID/HCALCS via the ACB (RTDS 8.7.2)."""
    return _via_acb(ctx, _join(body, ctx, "JoinServiceNonCritical"))


@translator("8.8.1", DeviceType.ESME)
def unjoin_critical(body: RequestBody, ctx: Context) -> Command:
    """8.8.1: CS04AC (0x000F) on an ESME (RTDS 8.8.1_CS04ACCritical)."""
    payload = UnjoinCommand(partner_id=_other_device(body, "UnjoinServiceCritical"))
    return Command(use_case="CS04AC", message_code=0x000F, payload=payload)


@translator("8.8.2", DeviceType.GSME, DeviceType.PPMID, DeviceType.HCALCS)
def unjoin_non_critical(body: RequestBody, ctx: Context) -> Command:
    """8.8.2: CS04B (0x0010) on a GSME (RTDS 8.8.2_CS04B); CS04AC (0x000F) on a PPMID/HCALCS,
    via the ACB."""
    payload = UnjoinCommand(partner_id=_other_device(body, "UnjoinServiceNonCritical"))
    if ctx.device_type is DeviceType.GSME:
        return Command(use_case="CS04B", message_code=0x0010, payload=payload)
    return _via_acb(ctx, Command(use_case="CS04AC", message_code=0x000F, payload=payload))


# -- CS06, CS07, CS08 ---------------------------------------------------------------------------
@translator("11.3", DeviceType.ESME)
def activate_firmware(body: RequestBody, ctx: Context) -> Command:
    """CS06 (0x0012): the image hash, the command's originator counter (which the future-dated
    outcome alert 0x00CA quotes) and, when device-held future-dated, the execution time."""
    if not isinstance(body, ActivateFirmware):
        raise DuisSchemaError(f"ActivateFirmware expected, got {type(body).__name__}")
    if len(body.firmware_hash) != 32:
        raise DuisSchemaError(f"FirmwareHash: {len(body.firmware_hash)} octets, expected 32")
    when = body.execution_datetime
    execution = None if when is None else _execution_time(when)
    payload = ActivateFirmwareCommand(
        image_hash=body.firmware_hash, originator_counter=ctx.counter, execution_time=execution
    )
    return Command(use_case="CS06", message_code=0x0012, payload=payload)


@translator("8.9", DeviceType.GSME)
def read_device_join_details(body: RequestBody, ctx: Context) -> Command:
    """CS07 (0x0013) on a GSME: NULL (RTDS 8.9_CS07). DSP-held future dating: nothing to carry;
    ReadSecurityDetails is for the CHF (CCS07), not the GSME."""
    node = _node(body, "ReadDeviceLog")
    if node.child("ReadSecurityDetails") is not None:
        raise DuisSchemaError("ReadSecurityDetails: only for a CHF, not a GSME")
    return Command(use_case="CS07", message_code=0x0013, payload=ReadDeviceJoinDetailsCommand())


@translator("11.2", DeviceType.PPMID, DeviceType.HCALCS)
def read_firmware_version(body: RequestBody, ctx: Context) -> Command:
    """CS08 (0x0129) on a PPMID/HCALCS: NULL, via the ACB (ESME/GSME have their own use cases)."""
    _node(body, "ReadFirmwareVersion")
    command = Command(use_case="CS08", message_code=0x0129, payload=ReadFirmwareVersionCommand())
    return _via_acb(ctx, command)


__all__ = [
    "ASN1_DEVICE_TYPES",
    "CREDENTIAL_TYPES",
    "GBCS_CANCEL",
    "ROLES",
    "TOKEN_GATEWAY",
    "HubContext",
    "HubState",
    "HubStateMissing",
    "JoinKind",
]
