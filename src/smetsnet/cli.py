"""The ``smetsnet`` command line: one entry point over all of smetsnet."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.tree import Tree

from smetsnet.api.commands import serve_command
from smetsnet.client.commands import duis_app
from smetsnet.devices.commands import device_app
from smetsnet.errors import GbcsDecodeError, SmetsnetError
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.payload import JsonValue
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.report import message_summary
from smetsnet.hub.audit_commands import audit_app
from smetsnet.sim.commands import simulate_command
from smetsnet.smki.commands import pki_app

app = typer.Typer(help="smetsnet: a GB-style smart-metering network (DCC, DUIS, GBCS, SMKI).")
gbcs_app = typer.Typer(help="GBCS messages: decode, verify, build.")
app.add_typer(gbcs_app, name="gbcs")
app.add_typer(pki_app, name="pki")
app.add_typer(device_app, name="device")
app.command("serve")(serve_command)
app.add_typer(duis_app, name="duis")
app.command("simulate")(simulate_command)
app.add_typer(audit_app, name="audit")


@app.callback()
def _root() -> None:
    """smetsnet command line."""


def _hex_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.upper() == ".HEX"
            )
        else:
            yield path


def read_hex_file(path: Path) -> bytes:
    """A file of hex text, whitespace ignored."""
    text = "".join(path.read_text(encoding="ascii", errors="replace").split())
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise GbcsDecodeError(0, "hex text", f"not hex text: {exc}") from exc


def _open_keystore(folder: Path | None) -> Protection | None:
    if folder is None:
        return None
    from smetsnet.smki.folder_keystore import FolderKeyStore

    return Protection(FolderKeyStore(folder))


@gbcs_app.command("decode")
def decode_command(
    paths: Annotated[list[Path], typer.Argument(help="Hex files, or folders searched for *.HEX.")],
    keystore: Annotated[
        Path | None,
        typer.Option(help="Key-store folder (<eui>[-pp]-<ds|ka>.<pem|key>) to verify and decrypt."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per message per line.")
    ] = False,
) -> None:
    """Decode GBCS messages, check their MAC and signature, decrypt sensitive data."""
    try:
        protection = _open_keystore(keystore)
    except SmetsnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    console = Console()
    failed = 0
    for path in _hex_files(paths):
        try:
            data = read_hex_file(path)
            message = decode_message(data, protection=protection)
            verification = protection.verify(message.frame) if protection else None
            summary = message_summary(message, verification)
        except (SmetsnetError, OSError) as exc:
            failed += 1
            typer.echo(f"{path}: {exc}", err=True)
            continue
        if as_json:
            sys.stdout.write(json.dumps({"path": str(path), **summary}) + "\n")
        else:
            console.print(_tree(str(path), summary))
    if failed:
        raise typer.Exit(1)


def _tree(label: str, value: JsonValue) -> Tree:
    tree = Tree(f"[bold]{label}[/bold]")
    _grow(tree, value)
    return tree


def _grow(node: Tree, value: JsonValue) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                _grow(node.add(f"[cyan]{key}[/cyan]"), item)
            else:
                node.add(f"[cyan]{key}[/cyan]: {json.dumps(item)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list) and item:
                _grow(node.add(f"[{index}]"), item)
            else:
                node.add(f"[{index}] {json.dumps(item)}")
    else:
        node.add(json.dumps(value))


@app.command("demo")
def demo_command() -> None:
    """Build protected GBCS messages with fresh keys, then decode and verify them."""
    from smetsnet.demo import run_demo

    run_demo(Console())


def main() -> None:
    app()
