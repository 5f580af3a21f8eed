"""``smetsnet device …``: let a simulated device answer a GBCS message (the lead registers
``device_app`` in the main CLI).

``respond --pki DIR --device EUI [--type T] [--state FILE] [--json] HEXFILE`` delivers the hex
message to a simulated device (ESME, GSME, GPF, CHF or PPMID) whose keys come from the PKI folder
(``smetsnet pki`` format, or an RTDS-style key folder) and whose trust anchors are the DCC test
parties found there. The device type is ``--type``, else the ``type`` saved in the state file,
else ESME: SMKI device certificates name the device (its EUI) but not its type, so the PKI alone
cannot tell a GSME from an ESME. The state file, when given, is read first (if it exists) and
written back afterwards, so counters, credit, tariffs and held commands persist. A GSME answers
at once (the command stands for its next wake, when the GPF hands it over). Work that fell due
(future-dated commands) runs first. Prints the response and the alerts as hex, one per line, or
decoded with ``--json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from smetsnet.devices.core.device import Outcome
from smetsnet.devices.core.keys import Role
from smetsnet.devices.esme import Esme
from smetsnet.devices.gas import Gpf, Gsme
from smetsnet.devices.han import CommsHub, Ppmid
from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.keystore import KeyStore
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.report import message_summary
from smetsnet.smki.folder_keystore import FolderKeyStore
from smetsnet.smki.storage import is_pki_folder, load_pki

device_app = typer.Typer(help="Simulated devices: answer GBCS messages.")

#: The DCC test parties a device trusts by default (DOMAIN.md §0).
DEFAULT_PARTIES = {
    Role.SUPPLIER: bytes.fromhex("90B3D51F30010000"),
    Role.NETWORK_OPERATOR: bytes.fromhex("90B3D51F30020000"),
    Role.ACCESS_CONTROL_BROKER: bytes.fromhex("90B3D51F30000002"),
    Role.TRANSITIONAL_COS: bytes.fromhex("90B3D51F30000004"),
    Role.RECOVERY: bytes.fromhex("90B3D51F30000001"),
}


def _keystore(folder: Path) -> KeyStore:
    return load_pki(folder) if is_pki_folder(folder) else FolderKeyStore(folder)


class _Device(Protocol):
    def receive(self, wire: bytes, now: datetime) -> Outcome: ...

    def tick(self, now: datetime) -> list[bytes]: ...

    def to_json(self) -> dict[str, Any]: ...


class _Kind(Protocol):
    def from_keystore(
        self, eui: bytes, keystore: KeyStore, parties: dict[Role, bytes]
    ) -> _Device: ...

    def from_json(self, data: dict[str, Any]) -> _Device: ...


#: Device type -> its class (every one loads from a key store and from its own state JSON).
KINDS: dict[str, _Kind] = {
    "ESME": Esme,
    "GSME": Gsme,
    "GPF": Gpf,
    "CHF": CommsHub,
    "PPMID": Ppmid,
}


def _device(keystore: KeyStore, eui: bytes, state: Path | None, kind: str | None) -> _Device:
    saved = json.loads(state.read_text()) if state is not None and state.is_file() else None
    name = (kind or (saved or {}).get("type") or "ESME").upper()
    if name not in KINDS:
        raise ValueError(f"unknown device type {name!r} (one of {', '.join(KINDS)})")
    if saved is not None:
        if saved.get("type", name) != name:
            raise ValueError(f"the state file holds a {saved.get('type')}, not a {name}")
        return KINDS[name].from_json(saved)
    return KINDS[name].from_keystore(eui, keystore, DEFAULT_PARTIES)


@device_app.command("respond")
def respond(
    hexfile: Annotated[Path, typer.Argument(help="file with the GBCS message as hex")],
    pki: Annotated[Path, typer.Option("--pki", help="PKI or key-store folder")],
    device: Annotated[str, typer.Option("--device", help="the device's EUI-64")],
    state: Annotated[Path | None, typer.Option("--state", help="device state JSON file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print decoded JSON")] = False,
    kind: Annotated[
        str | None, typer.Option("--type", help="ESME, GSME, GPF, CHF or PPMID (default ESME)")
    ] = None,
) -> None:
    """Deliver one message to a simulated device and print its response and alerts."""
    try:
        keystore = _keystore(pki)
        eui = bytes.fromhex(device.replace("-", ""))
        meter = _device(keystore, eui, state, kind)
        wire = bytes.fromhex("".join(hexfile.read_text().split()))
        now = datetime.now(UTC)
        due = meter.tick(now)
        outcome = meter.receive(wire, now)
    except (SmetsnetError, ValueError, KeyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if state is not None:
        state.write_text(json.dumps(meter.to_json()))
    messages = due + ([outcome.response] if outcome.response is not None else []) + outcome.alerts
    protection = Protection(keystore)
    for message in messages:
        if as_json:
            decoded = decode_message(message, protection=protection)
            typer.echo(json.dumps(message_summary(decoded, protection.verify(decoded.frame))))
        else:
            typer.echo(message.hex().upper())
