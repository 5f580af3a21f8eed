"""The audit log's hash chain (issue 6): written, reopened, verified, tampered with, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.audit import AuditEntry, AuditLog, Check, Outcome
from smetsnet.hub.audit_chain import (
    GENESIS,
    AuditFile,
    AuditFileError,
    chain_hash,
    record_bytes,
    verify_chain,
)
from smetsnet.hub.audit_commands import audit_app

T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
USER = bytes.fromhex("90b3d51f30010000")
DEVICE = "00-DB-12-34-56-78-90-A0"
CHECKS = list(Check)


def _entry(k: int) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(seconds=k),
        request_id=f"90-B3-D5-1F-30-01-00-00:{DEVICE}:{k}",
        user=USER if k % 3 else None,
        check=CHECKS[k % len(CHECKS)],
        outcome=Outcome.FAIL if k % 5 == 0 else Outcome.PASS,
        reason="counter 3 is not above the last accepted 7" if k % 5 == 0 else "",
        response_code="E1" if k % 5 == 0 else None,
        detail=f"device {DEVICE} code 0x0037 n={k}",
    )


def _write(path: Path, count: int, start: int = 1) -> AuditLog:
    with AuditFile(path) as sink:
        log = AuditLog(sink)
        for k in range(start, start + count):
            log.append(_entry(k))
    return log


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _put(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    _write(path, 10)
    return path


# --- the log in memory ----------------------------------------------------------------------------


def test_memory_log_keeps_entries_and_chains_them() -> None:
    log = AuditLog()
    assert log.head == (0, GENESIS)
    entries = [_entry(k) for k in range(1, 4)]
    for entry in entries:
        log.append(entry)
    assert log.entries() == tuple(entries) and list(log) == entries and len(log) == 3
    assert log.for_request(entries[1].request_id or "") == (entries[1],)
    seq, head = log.head
    assert seq == 3 and len(head) == 32 and head != GENESIS


def test_a_group_recorded_at_once_chains_as_appended_one_by_one(tmp_path: Path) -> None:
    # One request's checks are recorded together (access control): same lines, same entries.
    steps = [
        (CHECKS[k % len(CHECKS)], Outcome.PASS if k % 4 else Outcome.FAIL, "r" * (k % 2), None, "")
        for k in range(9)
    ]
    rid = f"90-B3-D5-1F-30-01-00-00:{DEVICE}:7"
    one_by_one, grouped = tmp_path / "one.jsonl", tmp_path / "grouped.jsonl"
    with AuditFile(one_by_one) as sink:
        first = AuditLog(sink)
        for check, outcome, reason, code, detail in steps:
            first.append(
                AuditEntry(
                    time=T0,
                    request_id=rid,
                    user=USER,
                    check=check,
                    outcome=outcome,
                    reason=reason,
                    response_code=code,
                    detail=detail,
                )
            )
    with AuditFile(grouped) as sink:
        second = AuditLog(sink)
        second.record(T0, rid, USER, steps)
    assert grouped.read_bytes() == one_by_one.read_bytes()
    assert second.head == first.head and len(second) == len(first) == 9
    assert second.entries() == first.entries() and list(second) == list(first)
    assert verify_chain(grouped).ok


def test_keep_false_counts_but_keeps_nothing() -> None:
    log = AuditLog(keep=False)
    log.append(_entry(1))
    log.append(_entry(2))
    assert len(log) == 2 and log.entries() == () and log.head[0] == 2


def test_record_encoding_is_compact_sorted_json_and_hash_covers_prev() -> None:
    log = AuditLog()
    log.append(_entry(1))
    record = record_bytes(
        seq=1,
        time="2024-06-01T12:00:01+00:00",
        request_id=f"90-B3-D5-1F-30-01-00-00:{DEVICE}:1",
        user="90-B3-D5-1F-30-01-00-00",
        check=CHECKS[1].value,
        outcome="pass",
        reason="",
        response_code=None,
        detail=f"device {DEVICE} code 0x0037 n=1",
        prev=GENESIS.hex(),
    )
    compact = json.dumps(json.loads(record), sort_keys=True, separators=(",", ":"))
    assert record == compact.encode()
    assert log.head == (1, chain_hash(GENESIS, record))


@pytest.mark.parametrize(
    "text", ["", 'quote " and \\ backslash', "tab\tnew\nline\x00\x1f", "Zoë ☃ 𝄞", "\ud800"]
)
def test_record_bytes_is_json_dumps_for_any_text(text: str) -> None:
    fields = {
        "seq": 12345678901234,
        "time": text,
        "request_id": text,
        "user": None,
        "check": text,
        "outcome": "pass",
        "reason": text,
        "response_code": None,
        "detail": text,
        "prev": GENESIS.hex(),
    }
    expected = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    assert record_bytes(**fields) == expected  # type: ignore[arg-type]


def test_the_logs_cached_encodings_match_record_bytes(tmp_path: Path) -> None:
    """The log keeps the encoded time, request id and user between entries: every line must
    still be what ``record_bytes`` makes of that entry's own fields, as the values change."""
    texts = ["", 'quote " and \\ backslash', "tab\tnew\nline\x00", "Zoë ☃ 𝄞"]
    users = [USER, None, bytes.fromhex("00db123456789aa0"), USER]
    entries = [
        AuditEntry(
            time=T0 + timedelta(seconds=k // 3),
            request_id=None if k % 4 == 1 else f"{texts[k % 4]}:{k // 2}",
            user=users[k % 4],
            check=CHECKS[k % len(CHECKS)],
            outcome=list(Outcome)[k % 3],
            reason=texts[(k + 1) % 4],
            response_code=None if k % 2 else "E1",
            detail=texts[(k + 2) % 4],
        )
        for k in range(24)
    ]
    path = tmp_path / "audit.jsonl"
    with AuditFile(path) as sink:
        log = AuditLog(sink)
        for entry in entries:
            log.append(entry)
    prev = GENESIS
    for seq, (entry, line) in enumerate(zip(entries, _lines(path), strict=True), start=1):
        record = record_bytes(
            seq=seq,
            time=entry.time.isoformat(),
            request_id=entry.request_id,
            user=None if entry.user is None else format_eui(entry.user),
            check=entry.check.value,
            outcome=entry.outcome.value,
            reason=entry.reason,
            response_code=entry.response_code,
            detail=entry.detail,
            prev=prev.hex(),
        )
        prev = chain_hash(prev, record)
        assert line == record[:-1] + b',"hash":"' + prev.hex().encode() + b'"}\n', seq
    assert verify_chain(path).ok


def test_times_are_written_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditFile(path) as sink:
        log = AuditLog(sink)
        plus_two = timezone(timedelta(hours=2))
        log.append(
            AuditEntry(
                time=datetime(2024, 6, 1, 14, tzinfo=plus_two),
                request_id=None,
                user=None,
                check=Check.ALERT,
                outcome=Outcome.PASS,
            )
        )
        log.append(
            AuditEntry(
                time=datetime(2024, 6, 1, 12),
                request_id=None,
                user=None,
                check=Check.TIMEOUT,
                outcome=Outcome.FAIL,
            )
        )
    times = [json.loads(line)["time"] for line in _lines(path)]
    assert times == ["2024-06-01T12:00:00+00:00"] * 2
    assert [json.loads(line)["check"] for line in _lines(path)] == ["alert", "timeout"]


# --- written and verified ----------------------------------------------------------------------


def test_written_chain_verifies(chain: Path) -> None:
    report = verify_chain(chain)
    assert report.ok and report.entries == 10 and report.first_broken is None
    assert len(_lines(chain)) == 10


def test_head_of_log_is_head_of_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _write(path, 7)
    assert verify_chain(path).head_hash == log.head[1] and log.head[0] == 7


def test_empty_and_absent_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"")
    report = verify_chain(path)
    assert report.ok and report.entries == 0 and report.head_hash == GENESIS
    with pytest.raises(AuditFileError, match="cannot read"):
        verify_chain(tmp_path / "absent.jsonl")


def test_reopen_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = _write(path, 4)
    with AuditFile(path) as sink:
        assert sink.head == first.head
        second = AuditLog(sink)
        assert second.head == first.head
        for k in range(5, 9):
            second.append(_entry(k))
    assert len(second) == 4 and second.head[0] == 8
    report = verify_chain(path)
    assert report.ok and report.entries == 8 and report.head_hash == second.head[1]


def test_reopen_refuses_a_cut_short_or_garbled_last_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _write(path, 3)
    whole = path.read_bytes()
    path.write_bytes(whole[:-20])
    with pytest.raises(AuditFileError, match="whole line"):
        AuditFile(path)
    path.write_bytes(whole[:-1] + b"x\n")
    with pytest.raises(AuditFileError, match=r"last line .* does not parse"):
        AuditFile(path)


def test_a_failed_write_does_not_move_the_head(tmp_path: Path) -> None:
    sink = AuditFile(tmp_path / "audit.jsonl")
    log = AuditLog(sink)
    log.append(_entry(1))
    head = log.head
    sink.close()
    with pytest.raises(AuditFileError, match="cannot write"):
        log.append(_entry(2))
    assert log.head == head and len(log) == 1


# --- tampering ---------------------------------------------------------------------------------


def test_one_altered_field_is_found_at_its_entry(chain: Path) -> None:
    lines = _lines(chain)
    lines[5] = lines[5].replace(b'"outcome":"pass"', b'"outcome":"fail"')
    assert lines[5] != _lines(chain)[5]
    _put(chain, lines)
    report = verify_chain(chain)
    assert not report.ok and report.first_broken == 6 and report.line == 6
    assert "altered" in report.reason and report.entries == 5


def test_altered_entry_with_its_hash_recomputed_breaks_the_next_link(chain: Path) -> None:
    lines = _lines(chain)
    value = json.loads(lines[3])
    value["reason"] = "nothing to see"
    value.pop("hash")
    record = record_bytes(**value)
    digest = chain_hash(bytes.fromhex(value["prev"]), record)
    lines[3] = record[:-1] + b',"hash":"' + digest.hex().encode() + b'"}\n'
    _put(chain, lines)
    report = verify_chain(chain)
    assert (report.first_broken, report.line) == (5, 5) and "prev" in report.reason


def test_a_non_canonical_line_is_refused(chain: Path) -> None:
    lines = _lines(chain)
    value = json.loads(lines[2])
    lines[2] = json.dumps(value).encode() + b"\n"  # same fields, spaces after separators
    _put(chain, lines)
    report = verify_chain(chain)
    assert (report.first_broken, report.line) == (3, 3) and "canonical" in report.reason


def test_a_deleted_line_is_found_where_the_gap_is(chain: Path) -> None:
    lines = _lines(chain)
    del lines[4]  # entry 5
    _put(chain, lines)
    report = verify_chain(chain)
    assert not report.ok and report.first_broken == 6 and report.line == 5
    assert "removed" in report.reason and report.entries == 4


def test_a_deleted_first_line_is_found(chain: Path) -> None:
    _put(chain, _lines(chain)[1:])
    report = verify_chain(chain)
    assert (report.first_broken, report.line, report.entries) == (2, 1, 0)


def test_two_swapped_lines_are_found_at_the_first(chain: Path) -> None:
    lines = _lines(chain)
    lines[6], lines[7] = lines[7], lines[6]  # entries 7 and 8
    _put(chain, lines)
    report = verify_chain(chain)
    assert not report.ok and report.first_broken == 8 and report.line == 7
    assert "reordered" in report.reason


def test_a_garbled_line_is_named(chain: Path) -> None:
    lines = _lines(chain)
    lines[2] = b'{"seq":3,"time":\n'
    _put(chain, lines)
    report = verify_chain(chain)
    assert (report.first_broken, report.line) == (3, 3) and "does not parse" in report.reason


@pytest.mark.parametrize(
    "line",
    [b"[1,2]\n", b"\xff\xfe\n", b'{"seq":3}\n', b"\n"],
    ids=["array", "not-utf8", "fields", "blank"],
)
def test_lines_that_are_not_records(chain: Path, line: bytes) -> None:
    lines = _lines(chain)
    lines[2] = line
    _put(chain, lines)
    report = verify_chain(chain)
    assert (report.first_broken, report.line) == (3, 3) and "does not parse" in report.reason


def test_a_last_line_without_newline_is_found(chain: Path) -> None:
    chain.write_bytes(chain.read_bytes()[:-1])
    report = verify_chain(chain)
    assert (report.first_broken, report.line) == (10, 10) and "newline" in report.reason


def test_a_truncated_tail_is_found_only_with_the_head(chain: Path) -> None:
    head = verify_chain(chain).head_hash
    _put(chain, _lines(chain)[:-2])
    assert verify_chain(chain).ok  # the chain alone cannot tell
    report = verify_chain(chain, head=head)
    assert not report.ok and report.first_broken == 9 and report.line is None
    assert "truncated" in report.reason


def test_a_head_from_earlier_still_holds_as_the_log_grows(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    earlier = _write(path, 3).head[1]
    _write(path, 3, start=4)
    report = verify_chain(path, head=earlier)
    assert report.ok and report.entries == 6


# --- the command line ----------------------------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    return app


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_cli(), ["audit", "verify", *args])
    return result.exit_code, result.output


def test_cli_ok(chain: Path) -> None:
    head = verify_chain(chain).head_hash.hex()
    code, out = _run(str(chain))
    assert code == 0 and out.strip() == f"audit chain OK: 10 entries, head {head}"
    assert _run(str(chain), "--head", head)[0] == 0


def test_cli_broken(chain: Path) -> None:
    lines = _lines(chain)
    del lines[4]
    _put(chain, lines)
    code, out = _run(str(chain))
    assert code == 1 and out.startswith("audit chain BROKEN at entry 6 (line 5): ")


def test_cli_head_mismatch(chain: Path) -> None:
    head = verify_chain(chain).head_hash.hex()
    _put(chain, _lines(chain)[:-1])
    code, out = _run(str(chain), "--head", head)
    assert code == 1 and "BROKEN at entry 10 (end of file)" in out and "truncated" in out


def test_cli_unreadable_file_and_bad_head(tmp_path: Path, chain: Path) -> None:
    code, out = _run(str(tmp_path / "absent.jsonl"))
    assert code == 2 and "cannot read audit file" in out
    assert _run(str(tmp_path))[0] == 2  # a folder
    code, out = _run(str(chain), "--head", "zz")
    assert code == 2 and "not hex" in out
    assert _run(str(chain), "--head", "ab12")[0] == 2


# --- speed -------------------------------------------------------------------------------------
