"""The audit log on disk: one hash-chained JSON record a line, its writer and its verifier.

Each record is the compact JSON, keys sorted, of ``seq`` (1, 2, ...), ``time`` (ISO 8601, UTC),
``request_id``, ``user`` (the EUI as ``00-DB-...`` or null), ``check``, ``outcome``, ``reason``,
``response_code``, ``detail`` and ``prev`` (the previous record's hash, hex; 32 zero bytes before
the first). Its hash is ``SHA-256(prev ‖ record)``. A line is the record with ``"hash"`` added
last, then ``\\n``; :func:`record_bytes` and :func:`chain_line` are the one encoding that both the
writer and :func:`verify_chain` use, and a line must be byte-for-byte what they produce.

What a chain proves: an edit, a removed or a reordered line is found unless whoever made it also
rewrote every hash after it. Neither that nor a truncated tail can be seen from the file alone;
keep the head hash (:attr:`ChainReport.head_hash`, ``AuditLog.head``) somewhere else and compare.

This module depends on nothing else of the hub, so ``audit`` can build on it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _esc
from pathlib import Path
from typing import Protocol

from smetsnet.errors import SmetsnetError

GENESIS = bytes(32)  # the ``prev`` of the first record
HASH_SIZE = 32
_RECORD_KEYS = frozenset(
    (
        "seq",
        "time",
        "request_id",
        "user",
        "check",
        "outcome",
        "reason",
        "response_code",
        "detail",
        "prev",
    )
)
_LINE_KEYS = _RECORD_KEYS | {"hash"}
_STR_KEYS = ("time", "check", "outcome", "reason", "detail", "prev")
_OPTIONAL_STR_KEYS = ("request_id", "user", "response_code")
_TAIL_CHUNK = 64 * 1024  # the longest last line AuditFile looks for when reopening
_WRITE_BUFFER = 256 * 1024


class AuditFileError(SmetsnetError):
    """An audit file that cannot be read, continued or written (names the file and why)."""


class AuditSink(Protocol):
    """Where ``AuditLog`` writes each chained line (see :class:`AuditFile`)."""

    @property
    def head(self) -> tuple[int, bytes]:
        """The seq and hash of the last record already held (``(0, GENESIS)`` when none)."""
        ...

    def write(self, line: bytes) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def record_bytes(
    *,
    seq: int,
    time: str,
    request_id: str | None,
    user: str | None,
    check: str,
    outcome: str,
    reason: str,
    response_code: str | None,
    detail: str,
    prev: str,
) -> bytes:
    """The canonical bytes of one record: what its hash covers.

    Exactly ``json.dumps(record, sort_keys=True, separators=(",", ":"))`` (ASCII, compact, keys
    sorted), written out by hand with json's own string escaper: it is about seven times faster,
    and the hub appends tens of thousands of entries a second.
    """
    return encoded_record(
        seq,
        _esc(time),
        _opt(request_id),
        _opt(user),
        _esc(check),
        _esc(outcome),
        _esc(reason),
        _opt(response_code),
        _esc(detail),
        _esc(prev),
    )


def encoded_record(
    seq: int,
    time: str,
    request_id: str,
    user: str,
    check: str,
    outcome: str,
    reason: str,
    response_code: str,
    detail: str,
    prev: str,
) -> bytes:
    """:func:`record_bytes` from its values already JSON-encoded (:func:`json_string`,
    :func:`json_optional`): the writer keeps the encoding of what repeats (the request's id and
    time, the user, the check) instead of escaping it for every entry."""
    return (
        f'{{"check":{check},"detail":{detail},"outcome":{outcome},"prev":{prev},'
        f'"reason":{reason},"request_id":{request_id},"response_code":{response_code},'
        f'"seq":{seq:d},"time":{time},"user":{user}}}'
    ).encode("ascii")


def json_string(text: str) -> str:
    """``text`` as a JSON string, as :func:`record_bytes` writes it (ASCII, quoted)."""
    return _esc(text)


def json_optional(text: str | None) -> str:
    """``text`` as :func:`json_string` writes it, or ``null``."""
    return _opt(text)


def _opt(text: str | None) -> str:
    return "null" if text is None else _esc(text)


def chain_hash(prev: bytes, record: bytes) -> bytes:
    return hashlib.sha256(prev + record).digest()


def chain_line(record: bytes, digest: bytes, hexed: str | None = None) -> bytes:
    """The record with its hash added as the last key; splicing spares a second encode.
    ``hexed`` is ``digest.hex()`` when the caller has it already."""
    text = digest.hex() if hexed is None else hexed
    return b'%s,"hash":"%s"}\n' % (record[:-1], text.encode("ascii"))


# --- reading one line --------------------------------------------------------------------------


class _BadLine(Exception):
    """A line that is not a record (internal: the verifier turns it into a report)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Parsed:
    seq: int
    prev: bytes
    digest: bytes  # the hash the line claims
    expected: bytes  # the hash its content gives
    canonical: bool  # the line is byte-for-byte what the writer makes of its fields


def _parse_line(raw: bytes) -> _Parsed:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadLine(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _BadLine("not a JSON object")
    if value.keys() != _LINE_KEYS:
        missing = sorted(_LINE_KEYS - value.keys())
        extra = sorted(value.keys() - _LINE_KEYS)
        raise _BadLine(f"wrong fields (missing {missing}, unexpected {extra})")
    seq = value["seq"]
    if type(seq) is not int or seq < 1:
        raise _BadLine(f"seq {seq!r} is not a positive integer")
    for key in _STR_KEYS:
        if not isinstance(value[key], str):
            raise _BadLine(f"{key} is not a string")
    for key in _OPTIONAL_STR_KEYS:
        if value[key] is not None and not isinstance(value[key], str):
            raise _BadLine(f"{key} is neither a string nor null")
    prev = _hash_field(value, "prev")
    digest = _hash_field(value, "hash")
    fields = {key: value[key] for key in _RECORD_KEYS}
    record = record_bytes(**fields)
    return _Parsed(
        seq=seq,
        prev=prev,
        digest=digest,
        expected=chain_hash(prev, record),
        canonical=chain_line(record, digest) == raw + b"\n",
    )


def _hash_field(value: dict[str, object], key: str) -> bytes:
    text = value[key]
    try:
        digest = bytes.fromhex(text) if isinstance(text, str) else b""
    except ValueError:
        digest = b""
    # Only the writer's own spelling (lower case, no spaces): one record, one encoding.
    if len(digest) != HASH_SIZE or digest.hex() != text:
        raise _BadLine(f"{key} is not {HASH_SIZE} bytes of lower-case hex")
    return digest


# --- verifying a file --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """What :func:`verify_chain` found.

    ``entries`` counts the records that check out (all of them when ``ok``, those before the
    first broken one otherwise); ``first_broken`` is the seq of the first bad record (the seq it
    should have had when its line does not parse or its hash does not match), ``line`` its
    1-based line (None for a head that is missing from the file). ``head_hash`` is the hash of
    the last record that checks out (``GENESIS`` for none): a chain cannot show that its tail
    was cut off, so compare it with a head hash kept elsewhere (or pass it as ``head``).
    """

    entries: int
    ok: bool
    first_broken: int | None
    line: int | None
    reason: str
    head_hash: bytes


def verify_chain(path: Path, *, head: bytes | None = None) -> ChainReport:
    """Check every line of an audit file: parses, hash matches, seq and prev follow on.

    With ``head`` (a hash kept from an earlier ``AuditLog.head``), the chain must also hold a
    record with that hash; if none has it, the tail was truncated or the file replaced. Records
    appended after it are fine: the log goes on growing. Raises :class:`AuditFileError` when the
    file cannot be read.
    """
    seq, digest, found = 0, GENESIS, head is None or head == GENESIS
    try:
        with path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                problem = _check_line(raw, seq, digest)
                if isinstance(problem, tuple):
                    bad_seq, reason = problem
                    return _broken(seq, digest, bad_seq, number, reason)
                seq, digest = problem.seq, problem.digest
                found = found or digest == head
    except OSError as exc:
        raise AuditFileError(f"cannot read audit file {path}: {exc.strerror or exc}") from exc
    if head is not None and not found:
        reason = (
            f"no entry has the head hash {head.hex()}: the tail was truncated or the file replaced"
        )
        return _broken(seq, digest, seq + 1, None, reason)
    return ChainReport(
        entries=seq, ok=True, first_broken=None, line=None, reason="", head_hash=digest
    )


def _check_line(raw: bytes, seq: int, digest: bytes) -> _Parsed | tuple[int, str]:
    """The parsed line if it follows on from (seq, digest), else (the bad seq, why).

    ``raw`` is the line as read, newline included.
    """
    expected_seq = seq + 1
    if not raw.endswith(b"\n"):
        return expected_seq, "the last line does not end with a newline (a write cut short?)"
    try:
        parsed = _parse_line(raw[:-1])
    except _BadLine as exc:
        return expected_seq, f"the line does not parse as an audit record: {exc}"
    if parsed.digest != parsed.expected:
        return expected_seq, "its hash does not match its content (the entry was altered)"
    if not parsed.canonical:
        return expected_seq, "the line is not in canonical form (the entry was altered)"
    if parsed.seq != expected_seq:
        return parsed.seq, (
            f"seq {parsed.seq} follows seq {seq} (expected {expected_seq}): "
            "an entry was removed or entries reordered"
        )
    if parsed.prev != digest:
        return parsed.seq, (
            f"its prev is not the hash of entry {seq}: an entry was removed, reordered or replaced"
        )
    return parsed


def _broken(seq: int, digest: bytes, bad: int, line: int | None, reason: str) -> ChainReport:
    return ChainReport(
        entries=seq, ok=False, first_broken=bad, line=line, reason=reason, head_hash=digest
    )


# --- writing a file ----------------------------------------------------------------------------


class AuditFile:
    """An :class:`AuditSink` that appends lines to a file, buffered (flush or close to persist).

    Reopening a file continues its chain from its last line, which must parse and match its
    hash (a line cut short by a crash is refused: verify and repair the file first). Nothing is
    fsynced per line: ``flush`` hands the buffer to the OS, ``sync`` also asks it to persist.
    """

    __slots__ = ("_file", "_head", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._head = _last_head(path)
        try:
            self._file = path.open("ab", buffering=_WRITE_BUFFER)
        except OSError as exc:
            raise AuditFileError(f"cannot open audit file {path}: {exc.strerror or exc}") from exc

    @property
    def head(self) -> tuple[int, bytes]:
        """The seq and hash of the last line in the file when it was opened."""
        return self._head

    def write(self, line: bytes) -> None:
        try:
            self._file.write(line)
        except (OSError, ValueError) as exc:  # ValueError: written after close
            raise AuditFileError(f"cannot write audit file {self.path}: {exc}") from exc

    def flush(self) -> None:
        try:
            self._file.flush()
        except (OSError, ValueError) as exc:
            raise AuditFileError(f"cannot flush audit file {self.path}: {exc}") from exc

    def sync(self) -> None:
        """Flush and ask the OS to put the file on disk (slow: call at checkpoints only)."""
        self.flush()
        try:
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise AuditFileError(f"cannot sync audit file {self.path}: {exc}") from exc

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            raise AuditFileError(f"cannot close audit file {self.path}: {exc}") from exc

    def __enter__(self) -> AuditFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _last_head(path: Path) -> tuple[int, bytes]:
    """(seq, hash) of the file's last line; (0, GENESIS) for an absent or empty file."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            if size == 0:
                return 0, GENESIS
            file.seek(max(0, size - _TAIL_CHUNK))
            tail = file.read()
    except FileNotFoundError:
        return 0, GENESIS
    except OSError as exc:
        raise AuditFileError(f"cannot read audit file {path}: {exc.strerror or exc}") from exc
    if not tail.endswith(b"\n"):
        raise AuditFileError(
            f"audit file {path} does not end with a whole line (a write cut short?); "
            "run `smetsnet audit verify` on it"
        )
    body = tail[:-1]
    if b"\n" not in body and len(tail) < size:
        raise AuditFileError(f"the last line of audit file {path} is over {_TAIL_CHUNK} bytes")
    last = body.rsplit(b"\n", 1)[-1]
    try:
        parsed = _parse_line(last)
    except _BadLine as exc:
        raise AuditFileError(f"the last line of audit file {path} does not parse: {exc}") from None
    if parsed.digest != parsed.expected or not parsed.canonical:
        raise AuditFileError(f"the last line of audit file {path} does not match its hash")
    return parsed.seq, parsed.digest
