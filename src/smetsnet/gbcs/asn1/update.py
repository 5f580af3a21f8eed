"""CS02b/CS02g Update Security Credentials: the command (response and alerts: :mod:`.outcome`).

Message code ``0x0100 + credentialsReplacementMode`` for CS02b (``0102``-``0109`` in the RTDS
vectors), ``0x0125``/``0x0126`` for CS02g (modes 10/11); alerts ``0x00CB`` (CS02b) and
``0x0124`` (CS02g) report the outcome of a future-dated update. Layout: GBCS-PAYLOADS §3,
DOMAIN §2.3; names after [P] ``src/asn1.ts``. The authorisingRemotePartyControl fields are
flattened into the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.certificate import Certificate
from smetsnet.gbcs.asn1.schema import (
    Sequence,
    inline,
    integer,
    node,
    octets,
    optional,
    seq_of,
    u64,
)
from smetsnet.gbcs.asn1.types import (
    ROLE_NAMES,
    GeneralizedTime,
    SequencePayload,
    TrustAnchorCellId,
    date_time,
)


class ReplacementMode(IntEnum):
    ROOT_BY_SUPPLIER = 0  # message code 0x0100 [W]
    ROOT_BY_WAN_PROVIDER = 1  # 0x0101 [W]
    SUPPLIER_BY_SUPPLIER = 2
    NETWORK_OPERATOR_BY_NETWORK_OPERATOR = 3
    ACB_BY_ACB = 4
    WAN_PROVIDER_BY_WAN_PROVIDER = 5
    TRANS_COS_BY_TRANS_COS = 6
    SUPPLIER_BY_TRANS_COS = 7
    ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY = 8
    ANY_BY_CONTINGENCY = 9
    # CS02g modes, from the RTDS folders 6.15.1_CS02gLoadControllerBySupplier (0x0126, mode 11)
    # and NA_CS02gLoadControllerByLoadController (0x0125, mode 10; in gbcs-parser's full RTDS
    # 4.5.0 test set, not in ../shared).
    LOAD_CONTROLLER_BY_LOAD_CONTROLLER = 10  # CS02g (0x0125)
    LOAD_CONTROLLER_BY_SUPPLIER = 11  # CS02g (0x0126)


REPLACEMENT_MODE_NAMES = {
    0: "rootBySupplier",
    1: "rootByWanProvider",
    2: "supplierBySupplier",
    3: "networkOperatorByNetworkOperator",
    4: "accessControlBrokerByACB",
    5: "wanProviderByWanProvider",
    6: "transCoSByTransCoS",
    7: "supplierByTransCoS",
    8: "anyExceptAbnormalRootByRecovery",
    9: "anyByContingency",
    10: "loadControllerByLoadController",
    11: "loadControllerBySupplier",
}
SEQ_NUMBER_USAGE_NAMES = {0: "prePaymentTopUp"}
CPV_CHECK_NAMES = {0: "apply", 1: "disapply"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecialistSeqNumber(Sequence):
    """SEQUENCE {usage INTEGER (0 prePaymentTopUp), seq number}."""

    usage: int
    seq_number: int
    lw: der.Widths = ()

    PARTS = (integer("usage", SEQ_NUMBER_USAGE_NAMES), integer("seq_number"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePartySeqNumberChange(Sequence):
    """SEQUENCE {role, floor seq number, SEQUENCE OF SpecialistSeqNumber OPTIONAL}."""

    role: int
    floor_seq_number: int
    specialist_floors: tuple[SpecialistSeqNumber, ...] | None = None
    lw: der.Widths = ()  # "" and "specialist_floors"

    PARTS = (
        integer("role", ROLE_NAMES),
        integer("floor_seq_number"),
        optional(seq_of(node("specialist_floors", SpecialistSeqNumber))),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchorReplacement(Sequence):
    """SEQUENCE {replacing certificate, target TA cell id}."""

    certificate: Certificate
    target: TrustAnchorCellId
    lw: der.Widths = ()

    PARTS = (node("certificate", Certificate), node("target", TrustAnchorCellId))


#: authorisingRemotePartyControl ::= SEQUENCE {mode, [0] plaintext symmetric key?, [1] apply
#: time-based CPV checks?, [2] authorising TA cell id?, [3] authorising seq number, [4] new floor
#: seq number?, [5] new specialist floors?, [6] other remote party seq number changes?}.
_CONTROL = (
    integer("replacement_mode", REPLACEMENT_MODE_NAMES),
    optional(octets("plaintext_symmetric_key", tag=0x80), when=0x80),
    optional(integer("apply_time_based_cpv_checks", CPV_CHECK_NAMES, tag=0x81), when=0x81),
    optional(node("authorising_cell", TrustAnchorCellId, tag=0xA2), when=0xA2),
    u64("authorising_seq_number", tag=0x83),  # what __post_init__ insists on
    optional(integer("new_floor_seq_number", tag=0x84), when=0x84),
    optional(seq_of(node("new_specialist_floors", SpecialistSeqNumber), tag=0xA5), when=0xA5),
    optional(seq_of(node("other_changes", RemotePartySeqNumberChange), tag=0xA6), when=0xA6),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSecurityCredentialsCommand(SequencePayload):
    """SEQUENCE {authorisingRemotePartyControl, replacements, certification path, execution time?}.

    The authorisingRemotePartyControl fields (:data:`_CONTROL`) are flattened into the command.
    ``lw`` names: "", "control", "new_specialist_floors", "other_changes", "replacements",
    "certification_path".
    """

    replacement_mode: int
    authorising_seq_number: int
    replacements: tuple[TrustAnchorReplacement, ...]
    certification_path: tuple[Certificate, ...] = ()
    authorising_cell: TrustAnchorCellId | None = None
    new_floor_seq_number: int | None = None
    new_specialist_floors: tuple[SpecialistSeqNumber, ...] | None = None
    other_changes: tuple[RemotePartySeqNumberChange, ...] | None = None
    plaintext_symmetric_key: bytes | None = None
    apply_time_based_cpv_checks: int | None = None
    execution_time: GeneralizedTime | None = None
    lw: der.Widths = ()

    PARTS = (
        inline("control", _CONTROL),
        seq_of(node("replacements", TrustAnchorReplacement)),
        seq_of(node("certification_path", Certificate)),
        optional(date_time("execution_time")),
    )

    def __post_init__(self) -> None:
        if not 0 <= self.authorising_seq_number < 1 << 64:
            raise GbcsEncodeError("authorising_seq_number", "must be a 64-bit unsigned number")


__all__ = [
    "REPLACEMENT_MODE_NAMES",
    "RemotePartySeqNumberChange",
    "ReplacementMode",
    "SpecialistSeqNumber",
    "TrustAnchorReplacement",
    "UpdateSecurityCredentialsCommand",
]
