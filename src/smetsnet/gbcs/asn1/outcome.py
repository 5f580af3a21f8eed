"""CS02b/CS02g Update Security Credentials: the response and the future-dated alerts.

Response SEQUENCE {commandAccepted NULL, ExecutionOutcome OPTIONAL}; alerts ``0x00CB`` (CS02b) and
``0x0124`` (CS02g) carry the outcome of a future-dated update. Layout: GBCS-PAYLOADS §3 (worked
example: the 6.15.1 NO-by-NO SUCCESS response); names after [P] ``src/asn1.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from smetsnet.gbcs.asn1 import der
from smetsnet.gbcs.asn1.types import (
    STATUS_NAMES,
    Asn1Payload,
    GeneralizedTime,
    TrustAnchorCellId,
    alert_json,
    named,
)
from smetsnet.gbcs.asn1.update import REPLACEMENT_MODE_NAMES, RemotePartySeqNumberChange
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.reader import Reader


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplacementOutcome:
    """SEQUENCE {affected TA cell, status, existing subject unique id (8), existing subject key id
    (8), replacing subject unique id (8), replacing subject key id (8)}."""

    affected_cell: TrustAnchorCellId
    status: int
    existing_subject_unique_id: bytes
    existing_subject_key_id: bytes
    replacing_subject_unique_id: bytes
    replacing_subject_key_id: bytes
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                self.affected_cell.to_bytes(),
                der.encode_int(self.status, "status", der.TAG_ENUMERATED),
                der.encode_octets(self.existing_subject_unique_id, "existing_subject_unique_id"),
                der.encode_octets(self.existing_subject_key_id, "existing_subject_key_id"),
                der.encode_octets(self.replacing_subject_unique_id, "replacing_subject_unique_id"),
                der.encode_octets(self.replacing_subject_key_id, "replacing_subject_key_id"),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "affected_cell": self.affected_cell.to_json(),
            "status": named(STATUS_NAMES, self.status),
            "existing_subject_unique_id": self.existing_subject_unique_id.hex(),
            "existing_subject_key_id": self.existing_subject_key_id.hex(),
            "replacing_subject_unique_id": self.replacing_subject_unique_id.hex(),
            "replacing_subject_key_id": self.replacing_subject_key_id.hex(),
        }

    @classmethod
    def read(cls, r: Reader, field: str = "") -> ReplacementOutcome:
        try:
            s, w = der.seq(r, "")
            cell = TrustAnchorCellId.read(s, "affected_cell")
            status = der.read_int(s, "status", der.TAG_ENUMERATED)
            ids = der.read_octet_run(s, 4, "ids")
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(
            affected_cell=cell,
            status=status,
            existing_subject_unique_id=ids[0],
            existing_subject_key_id=ids[1],
            replacing_subject_unique_id=ids[2],
            replacing_subject_key_id=ids[3],
            lw=(("", w),) if w else (),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionOutcome:
    """SEQUENCE {authorising seq number, mode, SEQUENCE OF seq number change, SEQUENCE OF
    ReplacementOutcome}. ``lw`` names: "", "seq_number_changes", "outcomes"."""

    authorising_seq_number: int
    replacement_mode: int
    seq_number_changes: tuple[RemotePartySeqNumberChange, ...]
    outcomes: tuple[ReplacementOutcome, ...]
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        lw = self.lw
        return der.constructed(
            (
                der.encode_int(self.authorising_seq_number, "authorising_seq_number"),
                der.encode_int(self.replacement_mode, "replacement_mode"),
                der.constructed(
                    (c.to_bytes() for c in self.seq_number_changes), lw, "seq_number_changes"
                ),
                der.constructed((o.to_bytes() for o in self.outcomes), lw, "outcomes"),
            ),
            lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "authorising_seq_number": self.authorising_seq_number,
            "replacement_mode": named(REPLACEMENT_MODE_NAMES, self.replacement_mode),
            "seq_number_changes": [c.to_json() for c in self.seq_number_changes],
            "outcomes": [o.to_json() for o in self.outcomes],
        }

    @classmethod
    def read(cls, r: Reader, field: str = "") -> ExecutionOutcome:
        try:
            s, w = der.seq(r, "")
            number = der.read_int(s, "authorising_seq_number")
            mode = der.read_int(s, "replacement_mode")
            changes, cw = der.read_seq_of(s, "seq_number_changes", RemotePartySeqNumberChange.read)
            outcomes, ow = der.read_seq_of(s, "outcomes", ReplacementOutcome.read)
            der.done(s, "")
        except der.FAILURES as exc:
            raise der.nest(exc, field) from None
        return cls(
            authorising_seq_number=number,
            replacement_mode=mode,
            seq_number_changes=changes,
            outcomes=outcomes,
            lw=der.pack_widths(("", w), ("seq_number_changes", cw), ("outcomes", ow))
            if w or cw or ow
            else (),
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
class UpdateSecurityCredentialsAlert(Asn1Payload):
    """Future-dated outcome (0x00CB CS02b, 0x0124 CS02g): SEQUENCE {alert code (0x8F66 success /
    0x8F67 failure), execution date-time, ExecutionOutcome}."""

    alert_code: int
    execution_time: GeneralizedTime
    outcome: ExecutionOutcome
    lw: der.Widths = ()

    def to_bytes(self) -> bytes:
        return der.constructed(
            (
                der.encode_int(self.alert_code, "alert_code"),
                self.execution_time.to_bytes(),
                self.outcome.to_bytes(),
            ),
            self.lw,
        )

    def to_json(self) -> JsonValue:
        return {
            "schema": type(self).__name__,
            "alert": alert_json(self.alert_code),
            "execution_time": self.execution_time.to_json(),
            "outcome": self.outcome.to_json(),
        }

    @classmethod
    def read(cls, r: Reader) -> UpdateSecurityCredentialsAlert:
        s, w = der.seq(r, "")
        code = der.read_int(s, "alert_code")
        when = GeneralizedTime.read(s, "execution_time")
        outcome = ExecutionOutcome.read(s, "outcome")
        der.done(s, "")
        return cls(
            alert_code=code, execution_time=when, outcome=outcome, lw=(("", w),) if w else ()
        )


__all__ = [
    "ExecutionOutcome",
    "ReplacementOutcome",
    "UpdateSecurityCredentialsAlert",
    "UpdateSecurityCredentialsResponse",
]
