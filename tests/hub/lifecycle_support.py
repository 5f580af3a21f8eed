"""A DCC Boxed network in one process for the hub's lifecycle tests: the hub over load_boxed, the
templates signed by their users' ZAZ1 XML-signing keys with our signer, and the users' view
(their GBCS keys, the DSP certificate that signs every answer)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from smetsnet.duis import MessageId, Request, Response, from_element, from_xml, to_element
from smetsnet.duis.xml import parse_xml
from smetsnet.duis.xmldsig import certificate_index, sign_element, verify_element
from smetsnet.hub.boxed import load_boxed
from smetsnet.hub.build import build_hub
from smetsnet.hub.service import Hub, HubConfig
from smetsnet.hub.setup import NetworkSetup
from smetsnet.smki.imports import import_keystore_json
from smetsnet.wan.link import LinkProfile, Technology
from smetsnet.wan.memory import InMemoryWan
from tests.support.vectors import REFERENCE, require_reference

KEYSTORE = REFERENCE / "duis" / "keystore" / "keystore.json"
TEMPLATES = REFERENCE / "duis" / "templates"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAST = {t: LinkProfile(median_s=0.2, p99_s=0.2) for t in Technology}


@dataclass
class Network:
    setup: NetworkSetup
    hub: Hub
    wan: InMemoryWan
    now: datetime

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.hub.advance(self.now)

    def post(self, xml: bytes, endpoint: str) -> tuple[int, Response | bytes]:
        answer = self.hub.handle(xml, endpoint=endpoint, now=self.now)
        if answer.content_type != "application/xml":
            return answer.http_status, answer.body
        return answer.http_status, verified(self.setup, answer.body)

    def outbox(self) -> list[Response]:
        """What waits for users now (leased: a second call returns only newer messages)."""
        return [verified(self.setup, o.body) for o in self.hub.outbox.due(self.now, 10_000)]


def network(
    *,
    profiles: dict[Technology, LinkProfile] | None = None,
    config: HubConfig | None = None,
    state_dir: Path | None = None,
) -> Network:
    require_reference(KEYSTORE.parent)
    setup = load_boxed(KEYSTORE, now=START)
    for eui in USERS:
        setup.response_urls[eui] = f"http://users.invalid/{eui.hex()}"
    hub, wan = build_hub(
        setup, profiles=profiles or FAST, config=config, state_dir=state_dir, seed=7
    )
    return Network(setup=setup, hub=hub, wan=wan, now=START)


USERS = [bytes.fromhex(h) for h in ("90B3D51F30010000", "90B3D51F30030000", "90B3D51F30020000")]


def verified(setup: NetworkSetup, xml: bytes) -> Response:
    """A hub answer, its signature checked against the DSP certificate only."""
    check = verify_element(parse_xml(xml), certificate_index([setup.dsp_certificate]))
    message = from_element(check.root)
    assert isinstance(message, Response)
    return message


_XML_KEYS: dict[bytes, tuple[object, object]] = {}


def sign_as_user(request: Request) -> bytes:
    """Sign with the originator's ZAZ1 XML-signing key (as DCC's tool would)."""
    user = request.header.request_id.originator
    if user not in _XML_KEYS:
        bundle, _ = import_keystore_json(KEYSTORE.read_bytes(), at=START)
        entry = bundle.xml_signing(user)
        assert entry is not None and entry.private_key is not None
        _XML_KEYS[user] = (entry.private_key, entry.certificate)
    key, cert = _XML_KEYS[user]
    root = to_element(request)
    sign_element(root, key, cert)  # type: ignore[arg-type]
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def template(name: str, *, counter: int | None = None) -> Request:
    """A template as a typed request, with another counter if asked."""
    request = from_xml((TEMPLATES / name).read_bytes())
    assert isinstance(request, Request)
    if counter is not None:
        rid = request.header.request_id
        header = replace(
            request.header,
            request_id=MessageId(originator=rid.originator, target=rid.target, counter=counter),
        )
        request = replace(request, header=header)
    return request
