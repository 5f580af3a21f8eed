"""The routes of the HTTP edge, against a fake hub, through httpx's in-process ASGI transport."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from typer.testing import CliRunner

from smetsnet.api import CallMode, create_app
from smetsnet.api.app import PEM
from smetsnet.api.commands import (
    ServeOptions,
    load_serve_options,
    parse_response_url,
    run_server,
    serve_command,
)
from smetsnet.errors import ConfigurationError
from smetsnet.hub.interface import XML
from tests.api import TEXT_ANSWER, FakeHub

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SUPPLIER = bytes.fromhex("90B3D51F30010000")


def _cert(eui: bytes, serial: int) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, eui.hex().upper())])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub(
        certs=[
            _cert(SUPPLIER, 101),
            _cert(SUPPLIER, 102),
            _cert(bytes.fromhex("90B3D51F30020000"), 2**158 + 7),
        ]
    )


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


@pytest.fixture
async def client(hub: FakeHub) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(create_app(hub, clock=lambda: NOW, deliver=False)) as client:
        yield client


XML_HEADERS = {"Content-Type": XML}


# DUIS endpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["serviceS", "serviceT", "serviceD"])
@pytest.mark.anyio
async def test_duis_body_reaches_the_hub_and_its_answer_comes_back_as_is(
    client: httpx.AsyncClient, hub: FakeHub, endpoint: str
) -> None:
    response = await client.post(f"/api/v1/{endpoint}", content=b"<req/>", headers=XML_HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"] == XML
    assert response.content == b"<ok/>"
    assert hub.requests == [(b"<req/>", endpoint, NOW)]


@pytest.mark.anyio
async def test_a_non_200_answer_of_the_hub_is_returned_unchanged(
    client: httpx.AsyncClient, hub: FakeHub
) -> None:
    hub.answer = TEXT_ANSWER
    response = await client.post("/api/v1/serviceS", content=b"<x", headers=XML_HEADERS)
    assert (response.status_code, response.headers["content-type"], response.content) == (
        400,
        TEXT_ANSWER.content_type,
        TEXT_ANSWER.body,
    )


@pytest.mark.parametrize(
    "content_type", ["application/xml; charset=UTF-8", "text/xml", "Application/XML"]
)
@pytest.mark.anyio
async def test_xml_media_types_are_accepted(
    client: httpx.AsyncClient, hub: FakeHub, content_type: str
) -> None:
    response = await client.post(
        "/api/v1/serviceS", content=b"<r/>", headers={"Content-Type": content_type}
    )
    assert response.status_code == 200
    assert len(hub.requests) == 1


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json", "xml"])
@pytest.mark.anyio
async def test_a_body_that_is_not_xml_is_refused_with_415(
    client: httpx.AsyncClient, hub: FakeHub, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await client.post("/api/v1/serviceS", content=b"<r/>", headers=headers)
    assert response.status_code == 415
    assert "application/xml" in response.text
    assert hub.requests == []


@pytest.mark.anyio
async def test_a_body_at_the_limit_is_accepted_and_one_byte_more_is_413(hub: FakeHub) -> None:
    app = create_app(hub, clock=lambda: NOW, deliver=False, max_body=100)
    async with _client(app) as client:
        ok = await client.post("/api/v1/serviceS", content=b"x" * 100, headers=XML_HEADERS)
        big = await client.post("/api/v1/serviceS", content=b"x" * 101, headers=XML_HEADERS)
    assert ok.status_code == 200
    assert big.status_code == 413
    assert "100 bytes" in big.text
    assert [len(r[0]) for r in hub.requests] == [100]


@pytest.mark.anyio
async def test_a_chunked_body_over_the_limit_is_refused_before_it_is_all_read(
    client: httpx.AsyncClient, hub: FakeHub
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):  # 6.4 MiB in all, against the default 1 MiB limit
            sent += 1
            yield b"x" * 65536

    response = await client.post("/api/v1/serviceS", content=chunks(), headers=XML_HEADERS)
    assert response.status_code == 413
    assert sent <= 18  # 16 chunks make the limit; the 17th crosses it
    assert hub.requests == []


@pytest.mark.anyio
async def test_a_bad_content_length_is_400(client: httpx.AsyncClient, hub: FakeHub) -> None:
    request = client.build_request("POST", "/api/v1/serviceS", content=b"<r/>", headers=XML_HEADERS)
    request.headers["Content-Length"] = "-4"
    response = await client.send(request)
    assert response.status_code == 400
    assert hub.requests == []


@pytest.mark.anyio
async def test_wrong_method_and_unknown_path(client: httpx.AsyncClient) -> None:
    wrong = await client.get("/api/v1/serviceS")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert (await client.post("/api/v1/serviceX", headers=XML_HEADERS)).status_code == 404


@pytest.mark.anyio
async def test_a_failing_hub_gives_500(hub: FakeHub) -> None:
    app = create_app(hub, clock=lambda: NOW, deliver=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        response = await client.post("/api/v1/serviceS", content=b"<boom/>", headers=XML_HEADERS)
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 500
    assert 'smetsnet_http_requests_total{endpoint="serviceS",status="500"} 1' in metrics


@pytest.mark.parametrize("mode", list(CallMode))
@pytest.mark.anyio
async def test_concurrent_requests_reach_the_hub_one_at_a_time(mode: CallMode) -> None:
    hub = FakeHub(handle_seconds=0.002)
    async with _client(create_app(hub, clock=lambda: NOW, deliver=False, call_mode=mode)) as c:
        responses = await asyncio.gather(
            *(
                c.post("/api/v1/serviceS", content=b"<r%d/>" % i, headers=XML_HEADERS)
                for i in range(30)
            )
        )
    assert {r.status_code for r in responses} == {200}
    assert len(hub.requests) == 30
    assert hub.violations == []


# SMKI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "eui", ["90-B3-D5-1F-30-01-00-00", "90b3d51f30010000", "90:B3:D5:1F:30:01:00:00"]
)
@pytest.mark.anyio
async def test_certificates_by_eui_come_as_one_pem_bundle(
    client: httpx.AsyncClient, hub: FakeHub, eui: str
) -> None:
    response = await client.get("/api/v1/smki/certificates", params={"eui": eui})
    assert response.status_code == 200
    assert response.headers["content-type"] == PEM
    certs = x509.load_pem_x509_certificates(response.content)
    assert [c.serial_number for c in certs] == [101, 102]


@pytest.mark.anyio
async def test_a_certificate_by_decimal_serial(client: httpx.AsyncClient) -> None:
    serial = 2**158 + 7
    response = await client.get(f"/api/v1/smki/certificates?serial={serial}")
    assert response.status_code == 200
    [cert] = x509.load_pem_x509_certificates(response.content)
    assert cert.serial_number == serial


@pytest.mark.parametrize(
    "query", ["eui=90-B3-D5-1F-30-09-00-00", "serial=999"], ids=["eui", "serial"]
)
@pytest.mark.anyio
async def test_no_certificate_is_404(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/v1/smki/certificates?{query}")
    assert response.status_code == 404
    assert "no certificate" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "",
        "eui=90-B3-D5-1F-30-01-00",
        "eui=zz-B3-D5-1F-30-01-00-00",
        "serial=12ab",
        "serial=-1",
        "serial=0x10",
        f"serial={2**160}",
        "eui=90-B3-D5-1F-30-01-00-00&serial=101",
        "eui=90-B3-D5-1F-30-01-00-00&eui=90-B3-D5-1F-30-01-00-00",
        "subject=x",
    ],
)
@pytest.mark.anyio
async def test_a_malformed_smki_query_is_400(
    client: httpx.AsyncClient, hub: FakeHub, query: str
) -> None:
    response = await client.get(f"/api/v1/smki/certificates?{query}")
    assert response.status_code == 400
    assert response.text


# Health and metrics ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["time"] == NOW.isoformat()
    assert body["delivery"] == {"enabled": False}


_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*",?)*)\})?'
    r" (-?[0-9.e+-]+|NaN|[+-]Inf)$"
)


def parse_prometheus(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A strict reader of the text exposition format: every line a comment or a sample."""
    samples = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# "):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S", line), line
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        pairs = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"', labels or ""))
        key = (name, pairs)
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(value)
    return samples


@pytest.mark.anyio
async def test_metrics_are_prometheus_text_with_the_hubs_and_the_edges_counters(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(2):
        await client.post("/api/v1/serviceS", content=b"<r/>", headers=XML_HEADERS)
    await client.post("/api/v1/serviceD", content=b"<r/>", headers={"Content-Type": "text/plain"})
    await client.get("/nowhere")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse_prometheus(response.text)

    def sample(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    assert sample("smetsnet_hub_requests_total") == 2
    assert sample("smetsnet_hub_duis_responses_total", code="I0") == 3
    assert sample("smetsnet_hub_outbox_depth") == 0
    requests = "smetsnet_http_requests_total"
    assert sample(requests, endpoint="serviceS", status="200") == 2
    assert sample(requests, endpoint="serviceD", status="415") == 1
    assert sample(requests, endpoint="other", status="404") == 1
    assert sample("smetsnet_deliveries_total", outcome="ok", reason="") == 0
    assert sample("smetsnet_delivery_latency_seconds_bucket", le="+Inf") == 0
    assert sample("smetsnet_deliveries_in_flight") == 0


# The serve command ---------------------------------------------------------------------------


def test_response_url_option() -> None:
    assert parse_response_url("90-B3-D5-1F-30-01-00-00=http://127.0.0.1:9/r") == (
        SUPPLIER,
        "http://127.0.0.1:9/r",
    )
    for bad in ["http://x", "90-B3=http://x", "90-B3-D5-1F-30-01-00-00=ftp://x"]:
        with pytest.raises(ConfigurationError, match="response"):
            parse_response_url(bad)


def test_config_file_and_command_line_merge(tmp_path: Path) -> None:
    config = tmp_path / "hub.json"
    config.write_text(
        '{"keystore": "keystore.json", "state": "/var/hub", "wan": {"latency_ms": 5},'
        ' "response_urls": {"90-B3-D5-1F-30-01-00-00": "http://a/",'
        ' "90-B3-D5-1F-30-02-00-00": "http://b/"}}'
    )
    options = load_serve_options(
        config_file=config,
        response_urls=["90b3d51f30010000=http://override/"],
        registration=Path("reg.json"),
    )
    assert options.keystore == tmp_path / "keystore.json"
    assert options.state == Path("/var/hub")
    assert options.registration == Path("reg.json")
    assert options.response_urls == {
        SUPPLIER: "http://override/",
        bytes.fromhex("90B3D51F30020000"): "http://b/",
    }
    assert options.config == {"wan": {"latency_ms": 5}}


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"response_urls": []}', '{"keystore": 4}'], ids=str
)
def test_a_bad_config_file_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    config = tmp_path / "hub.json"
    config.write_text(text)
    with pytest.raises(ConfigurationError, match="config"):
        load_serve_options(config_file=config)


def test_run_server_builds_the_hub_and_serves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    built: dict[str, Any] = {}
    served: dict[str, Any] = {}

    def builder(**kwargs: Any) -> FakeHub:
        built.update(kwargs)
        return FakeHub()

    def fake_run(app: Starlette, **kwargs: Any) -> None:
        served.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    options = ServeOptions(port=18079, response_urls={SUPPLIER: "http://a/"}, config={"x": 1})
    run_server(options, builder=builder)
    assert built == {
        "keystore": None,
        "registration": None,
        "state": None,
        "response_urls": {SUPPLIER: "http://a/"},
        "config": {"x": 1},
    }
    assert (served["host"], served["port"]) == ("127.0.0.1", 18079)
    assert isinstance(served["app"], Starlette)


def test_serve_command_refuses_a_bad_response_url() -> None:
    import typer

    app = typer.Typer()
    app.command("serve")(serve_command)
    app.command("other")(lambda: None)  # two commands: typer keeps "serve" as a sub-command
    result = CliRunner().invoke(app, ["serve", "--response-url", "nonsense"])
    assert result.exit_code == 2
    assert "USER_EUI=URL" in result.output
