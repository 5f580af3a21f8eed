"""``smetsnet serve``: the hub behind its HTTP edge, a drop-in for DCC Boxed (DUIS on port 8079).

Settings come from ``--config FILE`` (JSON; the ``#`` notes below are not part of it) and the
command line, the command line winning::

    {
      "keystore": "keystore.json",            # DCC Boxed ZAZ1 key store
      "registration": "registration.json",    # optional override of the registrations
      "state": "var/hub",                     # where the hub keeps its durable outbox etc.
      "response_urls": {"90-B3-D5-1F-30-01-00-00": "http://127.0.0.1:8080/"},
      "wan": {...}, ...                       # anything else goes to the hub unread
    }

Relative paths in the file are taken from the file's folder. ``--response-url EUI=URL`` may be
repeated and overrides the file's URL for that user. The hub itself is built by
``smetsnet.hub.build_service`` (imported only when the command runs), with the keyword
arguments of :class:`ServiceBuilder`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Protocol, cast

import typer

from smetsnet.errors import ConfigurationError, SmetsnetError
from smetsnet.gbcs.eui import format_eui, parse_eui
from smetsnet.hub.boxed import read_json_object
from smetsnet.hub.interface import DuisService

#: Keys of the config file that the command reads itself; the rest goes to the hub as is.
_OWN_KEYS = ("keystore", "registration", "state", "response_urls")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class ServiceBuilder(Protocol):
    """What ``smetsnet.hub.build_service`` is assumed to be."""

    def __call__(
        self,
        *,
        keystore: Path | None,
        registration: Path | None,
        state: Path | None,
        response_urls: Mapping[bytes, str],
        config: Mapping[str, Any],
    ) -> DuisService: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    """Everything ``serve`` needs, merged from the config file and the command line."""

    host: str = "127.0.0.1"
    port: int = 8079
    keystore: Path | None = None
    registration: Path | None = None
    state: Path | None = None
    response_urls: Mapping[bytes, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)  # the hub's part of the file
    max_body: int = 1024 * 1024
    delivery_timeout: float = 10.0
    delivery_concurrency: int = 64  # DeliverySettings.concurrency
    log_level: str = "info"


def parse_response_url(text: str) -> tuple[bytes, str]:
    """``USER_EUI=URL`` (the EUI in any form :func:`parse_eui` reads; the URL http or https)."""
    eui_text, sep, url = text.partition("=")
    if not sep:
        raise ConfigurationError(f"--response-url {text!r}: expected USER_EUI=URL")
    try:
        eui = parse_eui(eui_text)
    except SmetsnetError as exc:
        raise ConfigurationError(f"--response-url {text!r}: {exc}") from exc
    return eui, _check_url(url.strip(), f"response URL of {format_eui(eui)}")


def _check_url(url: str, what: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise ConfigurationError(f"{what}: {url!r} is not an http(s) URL")
    return url


def _config_path(data: Mapping[str, Any], key: str, folder: Path) -> Path | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"config {key!r}: expected a path, got {value!r}")
    path = Path(value)
    return path if path.is_absolute() else folder / path


def load_serve_options(
    *,
    config_file: Path | None = None,
    response_urls: list[str] | None = None,
    keystore: Path | None = None,
    registration: Path | None = None,
    state: Path | None = None,
) -> ServeOptions:
    """Merge the config file and the command line (which wins); the edge's own settings (host,
    port, ...) are the defaults here, for the caller to ``dataclasses.replace``."""
    data = read_json_object(config_file) if config_file is not None else {}
    folder = config_file.parent if config_file is not None else Path()
    urls: dict[bytes, str] = {}
    file_urls = data.get("response_urls", {})
    if not isinstance(file_urls, dict):
        raise ConfigurationError("config 'response_urls': expected an object of EUI: URL")
    for eui_text, url in file_urls.items():
        try:
            eui = parse_eui(str(eui_text))
        except SmetsnetError as exc:
            raise ConfigurationError(f"config 'response_urls': {exc}") from exc
        urls[eui] = _check_url(str(url), f"config response URL of {format_eui(eui)}")
    for text in response_urls or []:
        eui, url = parse_response_url(text)
        urls[eui] = url
    return ServeOptions(
        keystore=keystore or _config_path(data, "keystore", folder),
        registration=registration or _config_path(data, "registration", folder),
        state=state or _config_path(data, "state", folder),
        response_urls=urls,
        config={k: v for k, v in data.items() if k not in _OWN_KEYS},
    )


def hub_builder() -> ServiceBuilder:
    """``smetsnet.hub.build_service``, imported when needed (the hub is heavy to import)."""
    module = importlib.import_module("smetsnet.hub")
    builder = getattr(module, "build_service", None)
    if builder is None:
        raise ConfigurationError("this smetsnet has no hub to serve (smetsnet.hub.build_service)")
    return cast(ServiceBuilder, builder)


def run_server(options: ServeOptions, *, builder: ServiceBuilder | None = None) -> None:
    """Build the hub, wrap it in the HTTP edge and serve until SIGINT/SIGTERM (uvicorn then
    runs the edge's clean shutdown: POSTs in flight finish or go back to the hub's outbox)."""
    import uvicorn

    from smetsnet.api.app import create_app
    from smetsnet.api.delivery import DeliverySettings

    build = builder or hub_builder()
    service = build(
        keystore=options.keystore,
        registration=options.registration,
        state=options.state,
        response_urls=options.response_urls,
        config=options.config,
    )
    app = create_app(
        service,
        max_body=options.max_body,
        delivery=DeliverySettings(
            timeout=options.delivery_timeout, concurrency=options.delivery_concurrency
        ),
    )
    logging.basicConfig(level=options.log_level.upper())
    uvicorn.run(app, host=options.host, port=options.port, log_level=options.log_level)


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (DCC Boxed's DUIS port is 8079).")] = 8079,
    keystore: Annotated[
        Path | None, typer.Option(help="DCC Boxed ZAZ1 key store (keystore.json).")
    ] = None,
    registration: Annotated[
        Path | None, typer.Option(help="Registrations (MPxN, users) overriding the defaults.")
    ] = None,
    response_url: Annotated[
        list[str] | None,
        typer.Option(
            "--response-url", help="USER_EUI=URL where that user's responses go (repeatable)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="JSON settings: response_urls, wan profiles, ...")
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="Folder where the hub keeps its durable outbox etc.")
    ] = None,
    max_body: Annotated[
        int, typer.Option(min=1, help="Largest DUIS request accepted, in bytes.")
    ] = 1024 * 1024,
    delivery_timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds one POST to a response URL may take.")
    ] = 10.0,
    delivery_concurrency: Annotated[
        int, typer.Option(min=1, help="POSTs to response URLs in flight at most.")
    ] = 64,  # DeliverySettings.concurrency
    log_level: Annotated[
        str, typer.Option(help="critical, error, warning, info, debug or trace.")
    ] = "info",
) -> None:
    """Serve the DUIS (serviceS/T/D) and SMKI web services and deliver responses to users."""
    if log_level.lower() not in LOG_LEVELS:
        typer.echo(
            f"error: --log-level {log_level!r} is not one of {', '.join(LOG_LEVELS)}", err=True
        )
        raise typer.Exit(2)
    try:
        options = replace(
            load_serve_options(
                config_file=config,
                response_urls=response_url,
                keystore=keystore,
                registration=registration,
                state=state,
            ),
            host=host,
            port=port,
            max_body=max_body,
            delivery_timeout=delivery_timeout,
            delivery_concurrency=delivery_concurrency,
            log_level=log_level.lower(),
        )
        run_server(options)
    except SmetsnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
