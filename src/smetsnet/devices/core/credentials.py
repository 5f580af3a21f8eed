"""The CS02 family on a device: trust-anchor replacement (CS02b/CS02g), credential details
(CS02a/CS02f) and the device's own certificates (CS02d/CS02e).

Layouts: GBCS-PAYLOADS §3 and :mod:`smetsnet.gbcs.asn1`. What a replacement does (DOMAIN.md §2.3,
§4): each certificate in the command replaces the trust anchor cell it targets (subject EUI and
public point taken from the X.509), the floor sequence numbers of the affected parties are set,
and the response carries the ExecutionOutcome with, per cell, the existing and replacing subject
ids. After a supplierByTransCoS (6.23, change of supplier) the old supplier's EUI is in no cell,
so the device itself rejects its commands (0x8F30) and addresses alerts to the new supplier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.devices.core.keys import ANCHOR_ROLES, AnchorCell, Role, TrustAnchor, point_of
from smetsnet.gbcs import crypto
from smetsnet.gbcs.asn1 import (
    Certificate,
    ExecutionOutcome,
    ProvideDeviceCertificateCommand,
    ProvideDeviceCertificateError,
    ProvideDeviceCertificateResponse,
    ProvideSecurityCredentialDetailsCommand,
    ProvideSecurityCredentialDetailsResponse,
    RemotePartyDetails,
    RemotePartySeqNumberChange,
    ReplacementOutcome,
    StatusCode,
    TrustAnchorCellContents,
    TrustAnchorCellId,
    UpdateDeviceCertificateCommand,
    UpdateDeviceCertificateResponse,
    UpdateSecurityCredentialsCommand,
)
from smetsnet.gbcs.asn1 import KeyUsage as Bits
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.profile import eui_of, key_identifier

if TYPE_CHECKING:
    from smetsnet.devices.core.device import SimulatedDevice

#: executionDateTime meaning "cancel the held command" (6.23 / 6.15.1 CANCELLATION vectors).
CANCEL_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)

#: replacement mode -> (role that authorises it, roles whose cells it may replace); modes as in
#: :class:`smetsnet.gbcs.asn1.ReplacementMode` (GBCS-PAYLOADS §3, DOMAIN.md §2.3).
_ANY = ANCHOR_ROLES
MODES: dict[int, tuple[Role, frozenset[Role]]] = {
    2: (Role.SUPPLIER, frozenset({Role.SUPPLIER})),
    3: (Role.NETWORK_OPERATOR, frozenset({Role.NETWORK_OPERATOR})),
    4: (Role.ACCESS_CONTROL_BROKER, frozenset({Role.ACCESS_CONTROL_BROKER})),
    5: (Role.WAN_PROVIDER, frozenset({Role.WAN_PROVIDER})),
    6: (Role.TRANSITIONAL_COS, frozenset({Role.TRANSITIONAL_COS})),
    7: (Role.TRANSITIONAL_COS, frozenset({Role.SUPPLIER})),
    8: (Role.RECOVERY, _ANY - {Role.ROOT}),
    9: (Role.ROOT, _ANY),  # contingency: authorised by the root's contingency key [inferred]
    10: (Role.LOAD_CONTROLLER, frozenset({Role.LOAD_CONTROLLER})),
    11: (Role.SUPPLIER, frozenset({Role.LOAD_CONTROLLER})),
}
_USAGES = {int(Bits.DIGITAL_SIGNATURE): KeyUsage.DIGITAL_SIGNATURE}
_USAGES[int(Bits.KEY_AGREEMENT)] = KeyUsage.KEY_AGREEMENT
_BITS = {v: k for k, v in _USAGES.items()}


def cell_of(cell_id: TrustAnchorCellId) -> AnchorCell | None:
    usage = _USAGES.get(cell_id.key_usage)
    if usage is None or cell_id.role not in ANCHOR_ROLES:
        return None
    return (Role(cell_id.role), usage, cell_id.cell_usage == 1)


def cell_id_of(cell: AnchorCell) -> TrustAnchorCellId:
    role, usage, prepayment = cell
    return TrustAnchorCellId(
        role=int(role), key_usage=_BITS[usage], cell_usage=1 if prepayment else None
    )


def key_id(anchor: TrustAnchor) -> bytes:
    """The subject key identifier of an anchor (RFC 5280 method 2, as DCC certificates)."""
    return anchor.key_id or key_identifier(crypto.public_key_from_point(anchor.point))


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedCertificate:
    eui: bytes
    point: bytes
    key_id: bytes
    usage: KeyUsage | None


def parse_certificate(cert: Certificate) -> ParsedCertificate | None:
    """Subject EUI, public point, key id and key usage of an X.509 certificate (None: unusable)."""
    try:
        parsed = cert.parse()
        public = parsed.public_key()
        eui = eui_of(parsed)
        usage_ext = parsed.extensions.get_extension_for_class(x509.KeyUsage).value
        ski = parsed.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (ValueError, x509.ExtensionNotFound):
        return None
    if eui is None or not isinstance(public, ec.EllipticCurvePublicKey):
        return None
    usage = None
    if usage_ext.digital_signature and not usage_ext.key_agreement:
        usage = KeyUsage.DIGITAL_SIGNATURE
    elif usage_ext.key_agreement and not usage_ext.digital_signature:
        usage = KeyUsage.KEY_AGREEMENT
    return ParsedCertificate(eui=eui, point=point_of(public), key_id=ski, usage=usage)


# -- CS02b / CS02g ------------------------------------------------------------------------------
def authorising_role(command: UpdateSecurityCredentialsCommand) -> Role | None:
    mode = MODES.get(command.replacement_mode)
    return None if mode is None else mode[0]


def apply_update(
    device: SimulatedDevice, command: UpdateSecurityCredentialsCommand
) -> ExecutionOutcome:
    """Replace the targeted cells and set the floors; the outcome for the response/alert."""
    _, targets = MODES.get(command.replacement_mode, (Role.ROOT, frozenset()))
    anchors = device.anchors
    outcomes: list[ReplacementOutcome] = []
    for replacement in command.replacements:
        cell = cell_of(replacement.target)
        existing = anchors.get(cell) if cell is not None else None
        new = parse_certificate(replacement.certificate)
        status = StatusCode.SUCCESS
        if cell is None or cell[0] not in targets:
            status = StatusCode.OTHER
        elif existing is None:
            status = StatusCode.TRUST_ANCHOR_NOT_FOUND
        elif new is None or new.usage != cell[1]:
            status = StatusCode.BAD_CERTIFICATE
        if status == StatusCode.SUCCESS and cell is not None and new is not None:
            anchors = anchors.replaced(
                cell, TrustAnchor(eui=new.eui, point=new.point, key_id=new.key_id)
            )
        outcomes.append(_outcome(replacement.target, status, existing, new))
    changes = list(command.other_changes or ())
    role = authorising_role(command)
    if command.new_floor_seq_number is not None and role is not None:
        own = RemotePartySeqNumberChange(
            role=int(role),
            floor_seq_number=command.new_floor_seq_number,
            specialist_floors=command.new_specialist_floors,
        )
        changes.insert(0, own)
    device.anchors = anchors
    for change in changes:
        _set_floor(device, change)
    return ExecutionOutcome(
        authorising_seq_number=command.authorising_seq_number,
        replacement_mode=command.replacement_mode,
        seq_number_changes=tuple(changes),
        outcomes=tuple(outcomes),
    )


def _outcome(
    target: TrustAnchorCellId,
    status: int,
    existing: TrustAnchor | None,
    new: ParsedCertificate | None,
) -> ReplacementOutcome:
    blank = bytes(8)
    return ReplacementOutcome(
        affected_cell=target,
        status=status,
        existing_subject_unique_id=existing.eui if existing else blank,
        existing_subject_key_id=key_id(existing) if existing else blank,
        replacing_subject_unique_id=new.eui if new else blank,
        replacing_subject_key_id=new.key_id if new else blank,
    )


def _set_floor(device: SimulatedDevice, change: RemotePartySeqNumberChange) -> None:
    """Floors apply to every EUI now holding the role: its counter restarts above the floor."""
    if change.role not in ANCHOR_ROLES:
        return
    role = Role(change.role)
    for (r, _, _), anchor in device.anchors.items():
        if r == role:
            device.floors[anchor.eui] = change.floor_seq_number
            device.last_counters.pop(anchor.eui, None)


# -- CS02a / CS02f ------------------------------------------------------------------------------
def credential_details(
    device: SimulatedDevice, command: ProvideSecurityCredentialDetailsCommand
) -> ProvideSecurityCredentialDetailsResponse:
    details = []
    for role_value in command.roles:
        cells = sorted(
            ((cell, a) for cell, a in device.anchors.items() if int(cell[0]) == role_value),
            key=lambda item: (item[0][2], item[0][1] != KeyUsage.DIGITAL_SIGNATURE),
        )
        if not cells:
            details.append(
                RemotePartyDetails(role=role_value, status=StatusCode.TRUST_ANCHOR_NOT_FOUND)
            )
            continue
        eui = cells[0][1].eui
        seq = device.last_counters.get(eui, device.floors.get(eui, 0))
        contents = tuple(
            TrustAnchorCellContents(
                key_usage=_BITS[cell[1]],
                cell_usage=1 if cell[2] else None,
                subject_unique_id=a.eui,
                subject_key_id=key_id(a),
            )
            for cell, a in cells
        )
        details.append(
            RemotePartyDetails(
                role=role_value, status=StatusCode.SUCCESS, seq_number=seq, cells=contents
            )
        )
    return ProvideSecurityCredentialDetailsResponse(details=tuple(details))


# -- CS02d / CS02e ------------------------------------------------------------------------------
def update_device_certificate(
    device: SimulatedDevice, command: UpdateDeviceCertificateCommand
) -> UpdateDeviceCertificateResponse:
    """Codes: 1 invalid certificate, 2 wrong identity, 3 key usage, 5 wrong public key."""
    new = parse_certificate(command.certificate)
    if new is None:
        return UpdateDeviceCertificateResponse(code=1)
    if new.eui != device.eui:
        return UpdateDeviceCertificateResponse(code=2)
    if new.usage is None:
        return UpdateDeviceCertificateResponse(code=3)
    if new.point != device.keys.public_point(new.usage):
        return UpdateDeviceCertificateResponse(code=5)
    device.device_certificates[new.usage.value] = command.certificate.der
    return UpdateDeviceCertificateResponse(code=0)


def provide_device_certificate(
    device: SimulatedDevice, command: ProvideDeviceCertificateCommand
) -> ProvideDeviceCertificateResponse | ProvideDeviceCertificateError:
    usage = _USAGES.get(command.key_usage)
    if usage is None:
        return ProvideDeviceCertificateError(code=1)
    der = device.device_certificates.get(usage.value)
    if der is None:
        return ProvideDeviceCertificateError(code=2)  # noCertificateHeld
    return ProvideDeviceCertificateResponse(certificate=Certificate(der=der))
