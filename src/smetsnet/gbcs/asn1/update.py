"""CS02b/CS02g Update Security Credentials: the command (response and alerts: :mod:`.outcome`).

Message code ``0x0100 + credentialsReplacementMode`` for CS02b (``0102``-``0109`` in the RTDS
vectors), ``0x0126`` for CS02g (mode 11); alerts ``0x00CB`` (CS02b) and ``0x0124`` (CS02g) report
the outcome of a future-dated update. Layout: GBCS-PAYLOADS §3, DOMAIN §2.3; names after [P]
``src/asn1.ts``. The authorisingRemotePartyControl fields are flattened into the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.certificate import Certificate
from smetsnet.gbcs.asn1.types import (
    ROLE_NAMES,
    Asn1Payload,
    GeneralizedTime,
    TrustAnchorCellId,
    named,
)
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


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
    11: "loadControllerBySupplier",
}
SEQ_NUMBER_USAGE_NAMES = {0: "prePaymentTopUp"}
CPV_CHECK_NAMES = {0: "apply", 1: "disapply"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecialistSeqNumber:
    """SEQUENCE {usage INTEGER (0 prePaymentTopUp), seq number}."""

    usage: int
    seq_number: int
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (der.encode_int(self.usage, "usage"), der.encode_int(self.seq_number, "seq_number")),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {"usage": named(SEQ_NUMBER_USAGE_NAMES, self.usage), "seq_number": self.seq_number}

    @classmethod
    def read(cls, r: Reader, field: str = "") -> SpecialistSeqNumber:
        try:
            s, w = der.seq(r, "")
            usage = der.read_int(s, "usage")
            number = der.read_int(s, "seq_number")
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(usage=usage, seq_number=number, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePartySeqNumberChange:
    """SEQUENCE {role, floor seq number, SEQUENCE OF SpecialistSeqNumber OPTIONAL}."""

    role: int
    floor_seq_number: int
    specialist_floors: tuple[SpecialistSeqNumber, ...] | None = None
    lw: der.Widths = ()  # "" and "specialist_floors"

    def to_bytes(self) -> bytes:
        parts = [
            der.encode_int(self.role, "role"),
            der.encode_int(self.floor_seq_number, "floor_seq_number"),
        ]
        if self.specialist_floors is not None:
            parts.append(
                der.constructed(
                    (f.to_bytes() for f in self.specialist_floors), self.lw, "specialist_floors"
                )
            )
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {
            "role": named(ROLE_NAMES, self.role),
            "floor_seq_number": self.floor_seq_number,
        }
        if self.specialist_floors is not None:
            out["specialist_floors"] = [f.to_json() for f in self.specialist_floors]
        return out

    @classmethod
    def read(cls, r: Reader, field: str = "") -> RemotePartySeqNumberChange:
        try:
            return cls._read(r, der.TAG_SEQUENCE)
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None

    @classmethod
    def _read(cls, r: Reader, tag: int) -> RemotePartySeqNumberChange:
        s, w = der.seq(r, "", tag)
        role = der.read_int(s, "role")
        floor = der.read_int(s, "floor_seq_number")
        floors = None
        fw = 0
        if s.pos < s.end:
            floors, fw = der.read_seq_of(s, "specialist_floors", SpecialistSeqNumber.read)
        der.done(s, "")
        return cls(
            role=role,
            floor_seq_number=floor,
            specialist_floors=floors,
            lw=der.pack_widths(("", w), ("specialist_floors", fw)) if w or fw else (),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchorReplacement:
    """SEQUENCE {replacing certificate, target TA cell id}."""

    certificate: Certificate
    target: TrustAnchorCellId
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed((self.certificate.to_bytes(), self.target.to_bytes()), self.lw)

    def to_json(self) -> JsonValue:
        return {"certificate": self.certificate.to_json(), "target": self.target.to_json()}

    @classmethod
    def read(cls, r: Reader, field: str = "") -> TrustAnchorReplacement:
        try:
            s, w = der.seq(r, "")
            cert = Certificate.read(s, "certificate")
            target = TrustAnchorCellId.read(s, "target")
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(certificate=cert, target=target, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSecurityCredentialsCommand(Asn1Payload):
    """SEQUENCE {authorisingRemotePartyControl, replacements, certification path, execution time?}.

    authorisingRemotePartyControl ::= SEQUENCE {mode, [0] plaintext symmetric key?, [1] apply
    time-based CPV checks?, [2] authorising TA cell id?, [3] authorising seq number, [4] new floor
    seq number?, [5] new specialist floors?, [6] other remote party seq number changes?}.
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

    def __post_init__(self) -> None:
        if not 0 <= self.authorising_seq_number < 1 << 64:
            raise GbcsEncodeError("authorising_seq_number", "must be a 64-bit unsigned number")

    def _control(self) -> bytes:
        lw = self.lw
        parts = [der.encode_int(self.replacement_mode, "replacement_mode")]
        if self.plaintext_symmetric_key is not None:
            parts.append(der.encode_octets(self.plaintext_symmetric_key, "plaintext_key", tag=0x80))
        if self.apply_time_based_cpv_checks is not None:
            parts.append(der.encode_int(self.apply_time_based_cpv_checks, "cpv_checks", 0x81))
        if self.authorising_cell is not None:
            parts.append(self.authorising_cell.to_bytes(tag=0xA2))
        parts.append(der.encode_int(self.authorising_seq_number, "authorising_seq_number", 0x83))
        if self.new_floor_seq_number is not None:
            parts.append(der.encode_int(self.new_floor_seq_number, "new_floor_seq_number", 0x84))
        if self.new_specialist_floors is not None:
            items = (f.to_bytes() for f in self.new_specialist_floors)
            parts.append(der.constructed(items, lw, "new_specialist_floors", 0xA5))
        if self.other_changes is not None:
            items = (c.to_bytes() for c in self.other_changes)
            parts.append(der.constructed(items, lw, "other_changes", 0xA6))
        return der.constructed(parts, lw, "control")

    def to_bytes(self) -> bytes:
        lw = self.lw
        parts = [
            self._control(),
            der.constructed((x.to_bytes() for x in self.replacements), lw, "replacements"),
            der.constructed(
                (c.to_bytes() for c in self.certification_path), lw, "certification_path"
            ),
        ]
        if self.execution_time is not None:
            parts.append(self.execution_time.to_bytes())
        return der.constructed(parts, lw)

    def to_json(self) -> JsonValue:
        out: dict[str, JsonValue] = {
            "schema": type(self).__name__,
            "replacement_mode": named(REPLACEMENT_MODE_NAMES, self.replacement_mode),
        }
        if self.plaintext_symmetric_key is not None:
            out["plaintext_symmetric_key"] = self.plaintext_symmetric_key.hex()
        if self.apply_time_based_cpv_checks is not None:
            out["apply_time_based_cpv_checks"] = named(
                CPV_CHECK_NAMES, self.apply_time_based_cpv_checks
            )
        if self.authorising_cell is not None:
            out["authorising_cell"] = self.authorising_cell.to_json()
        out["authorising_seq_number"] = self.authorising_seq_number
        if self.new_floor_seq_number is not None:
            out["new_floor_seq_number"] = self.new_floor_seq_number
        if self.new_specialist_floors is not None:
            out["new_specialist_floors"] = [f.to_json() for f in self.new_specialist_floors]
        if self.other_changes is not None:
            out["other_changes"] = [c.to_json() for c in self.other_changes]
        out["replacements"] = [x.to_json() for x in self.replacements]
        out["certification_path"] = [c.to_json() for c in self.certification_path]
        if self.execution_time is not None:
            out["execution_time"] = self.execution_time.to_json()
        return out

    @classmethod
    def read(cls, r: Reader) -> UpdateSecurityCredentialsCommand:
        s, w = der.seq(r, "")
        try:
            c = _read_control(s)
        except der.FAILURES as exc:
            raise der.nest(exc, "control") from None
        replacements, xw = der.read_seq_of(s, "replacements", TrustAnchorReplacement.read)
        path, pw = der.read_seq_of(s, "certification_path", Certificate.read)
        when = GeneralizedTime.read(s, "execution_time") if s.pos < s.end else None
        der.done(s, "")
        lw = c.lw
        if w or xw or pw:
            lw += der.pack_widths(("", w), ("replacements", xw), ("certification_path", pw))
        return cls(
            replacement_mode=c.replacement_mode,
            authorising_seq_number=c.authorising_seq_number,
            authorising_cell=c.authorising_cell,
            new_floor_seq_number=c.new_floor_seq_number,
            new_specialist_floors=c.new_specialist_floors,
            other_changes=c.other_changes,
            plaintext_symmetric_key=c.plaintext_symmetric_key,
            apply_time_based_cpv_checks=c.apply_time_based_cpv_checks,
            replacements=replacements,
            certification_path=path,
            execution_time=when,
            lw=lw,
        )


class _Control(NamedTuple):
    replacement_mode: int
    authorising_seq_number: int
    authorising_cell: TrustAnchorCellId | None
    new_floor_seq_number: int | None
    new_specialist_floors: tuple[SpecialistSeqNumber, ...] | None
    other_changes: tuple[RemotePartySeqNumberChange, ...] | None
    plaintext_symmetric_key: bytes | None
    apply_time_based_cpv_checks: int | None
    lw: der.Widths


def _read_control(r: Reader) -> _Control:
    """The authorisingRemotePartyControl fields (flattened into the command)."""
    s, w = der.seq(r, "")
    mode = der.read_int(s, "replacement_mode")
    key = der.read_octets(s, "plaintext_symmetric_key", tag=0x80) if der.has(s, 0x80) else None
    cpv = der.read_int(s, "apply_time_based_cpv_checks", 0x81) if der.has(s, 0x81) else None
    cell = TrustAnchorCellId.read(s, "authorising_cell", 0xA2) if der.has(s, 0xA2) else None
    seq_number = der.read_int(s, "authorising_seq_number", 0x83)
    if not 0 <= seq_number < 1 << 64:  # what __post_init__ insists on
        raise der.mismatch(s, "authorising_seq_number", "not a 64-bit unsigned number")
    floor = der.read_int(s, "new_floor_seq_number", 0x84) if der.has(s, 0x84) else None
    floors = changes = None
    fw = cw = 0
    if der.has(s, 0xA5):
        floors, fw = der.read_seq_of(s, "new_specialist_floors", SpecialistSeqNumber.read, 0xA5)
    if der.has(s, 0xA6):
        changes, cw = der.read_seq_of(s, "other_changes", RemotePartySeqNumberChange.read, 0xA6)
    der.done(s, "")
    lw = (
        der.pack_widths(("control", w), ("new_specialist_floors", fw), ("other_changes", cw))
        if w or fw or cw
        else ()
    )
    return _Control(mode, seq_number, cell, floor, floors, changes, key, cpv, lw)


__all__ = [
    "REPLACEMENT_MODE_NAMES",
    "RemotePartySeqNumberChange",
    "ReplacementMode",
    "SpecialistSeqNumber",
    "TrustAnchorReplacement",
    "UpdateSecurityCredentialsCommand",
]
