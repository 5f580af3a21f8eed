"""``smetsnet duis send``: sign a DUIS request with the user's key and send it to a hub."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from smetsnet.client.credentials import UserCredentials
from smetsnet.client.session import ClientError, DuisClient, endpoint_for
from smetsnet.duis import Request, from_xml, to_xml
from smetsnet.errors import SmetsnetError
from smetsnet.smki.imports import import_keystore_json

duis_app = typer.Typer(help="DUIS service requests: sign and send to a hub.")
DSP = bytes.fromhex("90B3D51F30000002")


@duis_app.command("send")
def send(
    file: Annotated[Path, typer.Argument(help="A DUIS request (XML); any signature is replaced.")],
    keystore: Annotated[
        Path, typer.Option(help="DCC Boxed keystore.json holding the originator's keys.")
    ],
    url: Annotated[str, typer.Option(help="The hub's base URL.")] = "http://127.0.0.1:8079",
    keep_counter: Annotated[
        bool, typer.Option(help="Keep the file's RequestID counter (else epoch milliseconds).")
    ] = False,
    critical: Annotated[
        bool, typer.Option(help="For a CV 4 request: also sign the pre-command and send CV 5.")
    ] = False,
) -> None:
    """Sign FILE as its RequestID's originator and POST it to the endpoint of its command
    variant; print the hub's verified answer."""
    try:
        request = from_xml(file.read_bytes())
        if not isinstance(request, Request):
            raise ClientError(f"{file} is a DUIS response, not a request")
        user = request.header.request_id.originator
        credentials = UserCredentials.from_keystore_json(keystore, user)
        bundle, _ = import_keystore_json(keystore.read_bytes(), at=datetime.now(UTC))
        dsp = bundle.xml_signing(DSP)
        hub_certs = [dsp.certificate] if dsp is not None and dsp.certificate is not None else []
        client = DuisClient(url, credentials, hub_certificates=hub_certs)
        if not keep_counter:
            header = request.header
            request = client.request(
                header.service_reference_variant,
                request.body,
                target=header.request_id.target,
                command_variant=header.command_variant,
            )
        if critical:
            transformed, sent = client.send_critical(request)
            typer.echo(to_xml(transformed.response).decode())
            typer.echo(to_xml(sent.response).decode())
        else:
            endpoint = endpoint_for(request.header.command_variant)
            answer = client.send(request)
            typer.echo(f"<!-- {endpoint}: {answer.code} -->")
            typer.echo(to_xml(answer.response).decode())
    except OSError as exc:
        raise typer.BadParameter(f"{exc.filename}: {exc.strerror}") from None
    except SmetsnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
