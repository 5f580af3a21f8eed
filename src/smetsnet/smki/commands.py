"""``smetsnet pki``: create a PKI folder, show what a PKI or key store holds, export it.

Party specs are ``ROLE:EUI[:CN]`` (e.g. ``supplier:90-B3-D5-1F-30-01-00-00:GITTESTSUPPLIER``),
ROLE one of recovery, supplier, network-operator, acb, transitional-cos, wan-provider,
load-controller, other-user, or two hex digits. Without ``--users`` the DCC test parties are
used (DOMAIN.md §0).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.console import Console
from rich.table import Table

from smetsnet.errors import SmetsnetError
from smetsnet.smki.bundle import CertificateBundle, CertificateEntry, EntryStatus
from smetsnet.smki.errors import CertificateProfileError
from smetsnet.smki.export import export_folder_files
from smetsnet.smki.imports import FindingLevel, ImportReport
from smetsnet.smki.pki import DCC_TEST_PARTIES, ROLE_NAMES, Pki, device_euis, parse_party
from smetsnet.smki.storage import (
    import_keystore_folder,
    import_keystore_json_file,
    is_pki_folder,
    load_pki,
    save_pki,
    write_files,
)

pki_app = typer.Typer(help="SMKI: create a PKI, show certificates, export a key-store folder.")

_STATUS_STYLE = {
    EntryStatus.VALID: "green",
    EntryStatus.EXPIRED: "red",
    EntryStatus.NOT_YET_VALID: "yellow",
    EntryStatus.REVOKED: "bold red",
    EntryStatus.NO_CERTIFICATE: "yellow",
}


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _parse_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--at {text!r} is not an ISO 8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hex_bytes(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text.replace("-", "").replace(":", ""))
    except ValueError:
        raise _fail(f"{what} {text!r} is not hex") from None


def _hex_int(text: str, what: str) -> int:
    try:
        return int(text.replace("-", ""), 16)
    except ValueError:
        raise _fail(f"{what} {text!r} is not hex") from None


@pki_app.command("init")
def init_command(
    folder: Annotated[Path, typer.Argument(help="Folder to create the PKI in.")],
    users: Annotated[
        list[str] | None,
        typer.Option(
            "--users",
            "-u",
            metavar="SPEC",
            help="Party ROLE:EUI[:CN], repeatable or comma-separated "
            f"(roles: {', '.join(ROLE_NAMES)}, or two hex digits). Default: the DCC test parties.",
        ),
    ] = None,
    devices: Annotated[int, typer.Option(min=0, help="How many devices to certify.")] = 0,
    device_prefix: Annotated[
        str, typer.Option(help="Leading bytes of device EUIs.")
    ] = "00-DB-12-34-56-78",
    device_start: Annotated[
        str, typer.Option(help="First device counter (hex), after the prefix.")
    ] = "9001",
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
) -> None:
    """Create a fresh PKI: root, organisation and device CAs, parties' and devices' keys."""
    if folder.exists() and any(folder.iterdir()) and not force:
        raise _fail(f"{folder} is not empty (use --force to write into it)")
    started = time.perf_counter()
    try:
        specs = [s for item in users or () for s in item.split(",") if s.strip()]
        parties = [parse_party(s) for s in specs] if specs else list(DCC_TEST_PARTIES)
        euis = device_euis(
            devices,
            prefix=_hex_bytes(device_prefix, "--device-prefix"),
            start=_hex_int(device_start, "--device-start"),
        )
        pki = Pki.create()
        for party in parties:
            pki.add_party(party)
        pki.add_devices(euis)
        save_pki(pki, folder)
    except (SmetsnetError, OSError) as exc:
        raise _fail(str(exc)) from exc
    elapsed = time.perf_counter() - started
    typer.echo(
        f"PKI written to {folder}: 3 CAs, {len(parties)} parties, {len(euis)} devices, "
        f"{len(pki.bundle)} certificates in {elapsed:.2f} s"
    )


@pki_app.command("show")
def show_command(
    path: Annotated[
        Path,
        typer.Argument(help="A PKI folder, a key-store folder, a keystore.json or a PEM file."),
    ],
    at: Annotated[str | None, typer.Option(help="Judge validity at this ISO time.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many rows.")] = None,
    findings: Annotated[bool, typer.Option(help="List the import findings.")] = True,
) -> None:
    """Print what is there: EUI, role, usage, cell, serial, not-after, status."""
    when = _parse_time(at)
    console = Console(width=160)
    try:
        if path.is_file() and path.suffix.lower() in {".pem", ".crt", ".cer"}:
            _show_pem(console, path, when)
            return
        bundle, report = _open(path, when)
    except (SmetsnetError, OSError) as exc:
        raise _fail(str(exc)) from exc
    if bundle.roots:
        console.print(_ca_table([*bundle.roots, *bundle.intermediates]))
    console.print(_entry_table(bundle, when, limit))
    if report is not None:
        _print_report(console, report, findings)


def _open(path: Path, at: datetime) -> tuple[CertificateBundle, ImportReport | None]:
    if path.is_dir() and is_pki_folder(path):
        return load_pki(path).bundle, None
    if path.is_dir():
        return import_keystore_folder(path, at=at)
    return import_keystore_json_file(path, at=at)


def _show_pem(console: Console, path: Path, at: datetime) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except ValueError as exc:
            raise _fail(f"{path}: not a PEM certificate: {exc}") from None
    for warning in caught:
        console.print(f"[yellow]warning[/yellow]: {warning.message}")
    try:
        entry = CertificateEntry.from_certificate(certificate, name=path.name)
    except CertificateProfileError as exc:
        raise _fail(f"{path}: {exc}") from None
    except SmetsnetError:
        console.print(_ca_table([certificate]))
        return
    console.print(_entry_table(CertificateBundle([entry], pinned=True, at=at), at, None))


def _ca_table(certificates: Iterable[x509.Certificate]) -> Table:
    table = Table(title="Certificate authorities")
    for column in ("subject", "issuer", "serial", "not-after"):
        table.add_column(column)
    for cert in certificates:
        table.add_row(
            cert.subject.rfc4514_string(),
            cert.issuer.rfc4514_string(),
            f"{cert.serial_number:x}",
            cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S"),
        )
    return table


def _entry_table(bundle: CertificateBundle, at: datetime, limit: int | None) -> Table:
    entries = sorted(bundle, key=lambda e: (e.eui, e.usage.value, e.prepayment, e.serial or 0))
    source = bundle.source or "certificates"
    table = Table(title=f"{source}: {len(entries)} entries, status at {at:%Y-%m-%d %H:%M} UTC")
    for column in ("EUI", "kind", "role", "usage", "cell", "serial", "not-after", "status"):
        table.add_column(column, no_wrap=column in ("EUI", "serial"))
    for entry in entries[:limit]:
        table.add_row(*_row(bundle, entry, at))
    if limit is not None and len(entries) > limit:
        table.caption = f"{len(entries) - limit} more not shown"
    return table


def _row(bundle: CertificateBundle, entry: CertificateEntry, at: datetime) -> list[str]:
    info = entry.info
    role = f"{info.role.name.lower()} ({info.role.ou})" if info and info.role is not None else ""
    status = bundle.status(entry, at)
    cert = entry.certificate
    return [
        entry.eui.hex("-").upper(),
        entry.kind.value if entry.kind else "key only",
        role,
        entry.usage.value,
        "prepayment" if entry.prepayment else "",
        f"{cert.serial_number:032x}" if cert else "",
        cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S") if cert else "",
        f"[{_STATUS_STYLE[status]}]{status.value}[/{_STATUS_STYLE[status]}]",
    ]


def _print_report(console: Console, report: ImportReport, findings: bool) -> None:
    console.print(
        f"{report.certificates_found} certificates found, {report.certificates_loaded} loaded, "
        f"{report.public_keys} bare public keys, {report.private_keys_matching} of "
        f"{report.private_keys_found} private keys match; {len(report.warnings)} warnings, "
        f"{len(report.errors)} errors"
    )
    if not findings:
        return
    style = {FindingLevel.INFO: "blue", FindingLevel.WARNING: "yellow", FindingLevel.ERROR: "red"}
    for finding in report.findings:
        level = finding.level
        console.print(
            f"[{style[level]}]{level.value}[/{style[level]}] {finding.item}: {finding.message}",
            markup=True,
            highlight=False,
        )


@pki_app.command("export")
def export_command(
    source: Annotated[
        Path, typer.Argument(help="A PKI folder, key-store folder or keystore.json.")
    ],
    destination: Annotated[Path, typer.Argument(help="Folder to write <eui>[-pp]-<ds|ka> files.")],
    at: Annotated[str | None, typer.Option(help="Choose certificates valid at this time.")] = None,
    private_keys: Annotated[bool, typer.Option(help="Write private keys where held.")] = True,
) -> None:
    """Write the folder-format key store (one certificate per EUI, usage and cell)."""
    when = _parse_time(at)
    try:
        bundle, report = _open(source, when)
        files = export_folder_files(bundle, at=when, private_keys=private_keys)
        write_files(destination, files)
    except (SmetsnetError, OSError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{len(files)} files written to {destination}")
    if report is not None:
        for finding in report.findings:
            if finding.level is not FindingLevel.INFO:
                typer.echo(str(finding), err=True)


__all__ = ["pki_app"]
