"""``smetsnet audit``: check an audit file's hash chain (issue 6).

Exit codes of ``verify``: 0 the chain holds, 1 it is broken (the first broken entry is named),
2 the file cannot be read or an argument is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smetsnet.errors import SmetsnetError
from smetsnet.hub.audit_chain import HASH_SIZE, verify_chain

audit_app = typer.Typer(help="The hub's audit log: check its hash chain.")


@audit_app.callback()
def audit_callback() -> None:
    """The hub's audit log: append-only, hash-chained JSON lines."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _head(text: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise _fail(f"--head {text!r} is not hex") from None
    if len(value) != HASH_SIZE:
        raise _fail(f"--head is {len(value)} bytes, not the {HASH_SIZE} of a SHA-256 hash")
    return value


@audit_app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="The audit file (JSON lines) to check.")],
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="HEX",
            help="A head hash kept from earlier: fail if no entry has it (tail truncated).",
        ),
    ] = None,
) -> None:
    """Check every entry's hash, seq and link to the one before; name the first broken one."""
    expected = None if head is None else _head(head)
    try:
        report = verify_chain(file, head=expected)
    except SmetsnetError as exc:
        raise _fail(str(exc)) from exc
    if report.ok:
        typer.echo(f"audit chain OK: {report.entries} entries, head {report.head_hash.hex()}")
        return
    where = "end of file" if report.line is None else f"line {report.line}"
    typer.echo(f"audit chain BROKEN at entry {report.first_broken} ({where}): {report.reason}")
    raise typer.Exit(1)
