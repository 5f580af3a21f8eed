"""CS02b/CS02g Update Security Credentials: the response and the future-dated alerts.

Response SEQUENCE {commandAccepted NULL, ExecutionOutcome OPTIONAL}; alerts ``0x00CB`` (CS02b) and
``0x0124`` (CS02g) carry the outcome of a future-dated update. Layout: GBCS-PAYLOADS §3 (worked
example: the 6.15.1 NO-by-NO SUCCESS response); names after [P] ``src/asn1.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.schema import Sequence, enumerated, integer, node, octets, seq_of
from smetsnet.gbcs.asn1.types import (
    ALERT_CODE,
    STATUS_NAMES,
    Asn1Payload,
    GeneralizedTime,
    SequencePayload,
    TrustAnchorCellId,
    date_time,
)
from smetsnet.gbcs.asn1.update import REPLACEMENT_MODE_NAMES, RemotePartySeqNumberChange
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplacementOutcome(Sequence):
    """SEQUENCE {affected TA cell, status, existing subject unique id (8), existing subject key id
    (8), replacing subject unique id (8), replacing subject key id (8)}."""

    affected_cell: TrustAnchorCellId
    status: int
    existing_subject_unique_id: bytes
    existing_subject_key_id: bytes
    replacing_subject_unique_id: bytes
    replacing_subject_key_id: bytes
    lw: der.Widths = ()

    PARTS = (
        node("affected_cell", TrustAnchorCellId),
        enumerated("status", STATUS_NAMES),
        octets("existing_subject_unique_id"),
        octets("existing_subject_key_id"),
        octets("replacing_subject_unique_id"),
        octets("replacing_subject_key_id"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionOutcome(Sequence):
    """SEQUENCE {authorising seq number, mode, SEQUENCE OF seq number change, SEQUENCE OF
    ReplacementOutcome}. ``lw`` names: "", "seq_number_changes", "outcomes"."""

    authorising_seq_number: int
    replacement_mode: int
    seq_number_changes: tuple[RemotePartySeqNumberChange, ...]
    outcomes: tuple[ReplacementOutcome, ...]
    lw: der.Widths = ()

    PARTS = (
        integer("authorising_seq_number"),
        integer("replacement_mode", REPLACEMENT_MODE_NAMES),
        seq_of(node("seq_number_changes", RemotePartySeqNumberChange)),
        seq_of(node("outcomes", ReplacementOutcome)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSecurityCredentialsResponse(Asn1Payload):
    """SEQUENCE {commandAccepted NULL, ExecutionOutcome OPTIONAL}; the outcome is absent when the
    command is future-dated or a cancellation (``30 02 05 00``)."""

    outcome: ExecutionOutcome | None = None
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        parts = [der.NULL_BYTES]
        if self.outcome is not None:
            parts.append(self.outcome.to_bytes())
        return der.constructed(parts, self.lw)

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "command_accepted": True,
            "outcome": None if self.outcome is None else self.outcome.to_json(),
        }

    @classmethod
    def read(cls, r: Reader) -> UpdateSecurityCredentialsResponse:
        s, w = der.seq(r, "")
        der.read_null(s, "command_accepted")
        outcome = ExecutionOutcome.read(s, "outcome") if s.pos < s.end else None
        der.done(s, "")
        return cls(outcome=outcome, lw=(("", w),) if w else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSecurityCredentialsAlert(SequencePayload):
    """Future-dated outcome (0x00CB CS02b, 0x0124 CS02g): SEQUENCE {alert code (0x8F66 success /
    0x8F67 failure), execution date-time, ExecutionOutcome}."""

    alert_code: int
    execution_time: GeneralizedTime
    outcome: ExecutionOutcome
    lw: der.Widths = ()

    PARTS = (ALERT_CODE, date_time("execution_time"), node("outcome", ExecutionOutcome))


__all__ = [
    "ExecutionOutcome",
    "ReplacementOutcome",
    "UpdateSecurityCredentialsAlert",
    "UpdateSecurityCredentialsResponse",
]
