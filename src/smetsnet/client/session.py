"""A Python client for DCC Boxed-style DUIS endpoints (ours or DCC's).

:class:`DuisClient` builds requests from typed models, signs them with the user's XML-signing
key, POSTs them to ``/api/v1/serviceS|T|D`` by command variant, checks the hub's signature on
what comes back, runs the critical flow (CV 4 transform → sign the pre-command with the user's
GBCS key → CV 5), and decodes GBCS payloads with the user's keys (MAC checked, sensitive data
decrypted). Asynchronous responses arrive at a :class:`~smetsnet.client.receiver.Receiver`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.client.credentials import UserCredentials
from smetsnet.duis import (
    MessageId,
    Request,
    RequestBody,
    RequestHeader,
    Response,
    ResponseMessage,
    from_element,
    sr_info,
    to_element,
)
from smetsnet.duis.bodies import SignedPreCommand
from smetsnet.duis.errors import DuisError, DuisSchemaError
from smetsnet.duis.responses import PreCommand
from smetsnet.duis.xml import parse_xml
from smetsnet.duis.xmldsig import (
    IssuerSerial,
    certificate_index,
    signed_document,
    verify_element,
)
from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.builders import sign_precommand
from smetsnet.gbcs.codec import GbcsMessage, decode_and_verify
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.protection import Protection, Verification

ENDPOINTS = {4: "serviceT", 8: "serviceD"}
DEFAULT_ENDPOINT = "serviceS"
#: The DCC's EUI: the target of non-device requests (templates 8.4, 11.1, 12.2, 5.1).
DCC = bytes.fromhex("90B3D51F30000002")


class ClientError(SmetsnetError):
    """The hub answered something other than a DUIS response, or an unexpected one."""


def endpoint_for(command_variant: int) -> str:
    return ENDPOINTS.get(command_variant, DEFAULT_ENDPOINT)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A synchronous answer: the verified response and who signed it."""

    response: Response
    signer: IssuerSerial

    @property
    def code(self) -> str:
        return self.response.header.response_code


class DuisClient:
    """One service user talking to one hub (``base_url`` like ``http://127.0.0.1:8079``).

    ``hub_certificates`` are the certificates the hub may sign responses with (the DSP's
    XML-signing certificate); responses signed by anything else are refused.
    """

    def __init__(
        self,
        base_url: str,
        credentials: UserCredentials,
        *,
        hub_certificates: Mapping[IssuerSerial, x509.Certificate] | list[x509.Certificate],
        http: httpx.Client | None = None,
        first_counter: int | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.hub_certificates = (
            hub_certificates
            if isinstance(hub_certificates, Mapping)
            else certificate_index(hub_certificates)
        )
        self.http = http or httpx.Client(timeout=timeout_s)
        # DCC Boxed's signing tool counts in epoch milliseconds; we do the same and never repeat.
        start = first_counter if first_counter is not None else time.time_ns() // 1_000_000
        self._last = start - 1
        self.protection = Protection(credentials.keys)

    def close(self) -> None:
        self.http.close()

    def next_counter(self) -> int:
        """Above every counter this client has used (the hub refuses a counter not above the
        user's last), and not below the epoch-millisecond clock."""
        self._last = max(self._last + 1, time.time_ns() // 1_000_000)
        return self._last

    def _use(self, counter: int) -> int:
        self._last = max(self._last, counter)
        return counter

    # --- building and signing ---------------------------------------------------------------

    def request(
        self,
        srv: str,
        body: RequestBody,
        *,
        target: bytes,
        command_variant: int | None = None,
        counter: int | None = None,
    ) -> Request:
        """A request of SR variant ``srv`` to ``target`` (a device, or :data:`DCC`)."""
        counter = self.next_counter() if counter is None else self._use(counter)
        return build_request(self.credentials.eui, srv, body, target, counter, command_variant)

    def sign(self, request: Request) -> bytes:
        return signed_xml(request, self.credentials.xml_key, self.credentials.xml_certificate)

    # --- sending ----------------------------------------------------------------------------

    def post(self, xml: bytes, endpoint: str) -> Answer:
        """POST signed XML to ``/api/v1/<endpoint>``; the hub's signed answer, verified."""
        url = f"{self.base_url}/api/v1/{endpoint}"
        reply = self.http.post(url, content=xml, headers={"Content-Type": "application/xml"})
        if reply.status_code != 200 or "xml" not in reply.headers.get("content-type", ""):
            raise ClientError(f"{url} answered HTTP {reply.status_code}: {reply.text[:300]}")
        return self.verify(reply.content)

    def verify(self, xml: bytes) -> Answer:
        """Check the hub's signature on a response or alert and parse it."""
        return verify_response(xml, self.hub_certificates)

    def send(self, request: Request) -> Answer:
        """Sign and send to the endpoint its command variant belongs to."""
        return self.post(self.sign(request), endpoint_for(request.header.command_variant))

    def send_critical(self, request: Request) -> tuple[Answer, Answer]:
        """The critical flow: transform (CV 4), sign the pre-command, send it (CV 5).

        Returns the transform answer and the send answer (I99 when accepted)."""
        if request.header.command_variant != 4:
            raise ClientError("the critical flow starts with a command variant 4 request")
        transformed = self.send(request)
        pre = _precommand(transformed)
        signed = sign_precommand(pre.gbcs_payload, self.protection)
        header = request.header
        follow_up = self.request(
            header.service_reference_variant,
            SignedPreCommand(gbcs_payload=signed),
            target=header.request_id.target,
            command_variant=5,
        )
        return transformed, self.send(follow_up)

    # --- reading GBCS -----------------------------------------------------------------------

    def decode(self, response: Response) -> tuple[GbcsMessage, Verification]:
        """The GBCS payload of a device's response or alert, checked and decrypted with the
        user's keys (device keys must be known: see :meth:`learn_device`)."""
        body = response.body
        payload = getattr(body, "gbcs_payload", None)
        if isinstance(body, ResponseMessage) and isinstance(body.content, bytes):
            payload = body.content
        if not isinstance(payload, bytes):
            raise ClientError("the response carries no GBCS payload")
        return decode_and_verify(payload, self.protection)

    def learn_device(self, eui: bytes) -> int:
        """Fetch a device's certificates from the hub's SMKI look-up; returns how many."""
        url = f"{self.base_url}/api/v1/smki/certificates"
        reply = self.http.get(url, params={"eui": format_eui(eui)})
        if reply.status_code == 404:
            return 0
        if reply.status_code != 200:
            raise ClientError(f"{url} answered HTTP {reply.status_code}: {reply.text[:300]}")
        certificates = x509.load_pem_x509_certificates(reply.content)
        for certificate in certificates:
            self.credentials.learn_certificate(eui, certificate)
        self.protection = Protection(self.credentials.keys)
        return len(certificates)


def build_request(
    originator: bytes,
    srv: str,
    body: RequestBody,
    target: bytes,
    counter: int,
    command_variant: int | None = None,
) -> Request:
    """A request of SR variant ``srv``; without ``command_variant``, the SR's first of 1, 4
    and 8 (non-critical, transform, non-device) that the catalogue allows."""
    info = sr_info(srv)
    if command_variant is None:
        command_variant = min(info.command_variants & {1, 4, 8} or info.command_variants)
    header = RequestHeader(
        request_id=MessageId(originator=originator, target=target, counter=counter),
        command_variant=command_variant,
        service_reference=info.service_reference,
        service_reference_variant=srv,
    )
    return Request(header=header, body=body)


def signed_xml(
    request: Request, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> bytes:
    """The request as XML, signed as DUIS asks (enveloped XMLDSig, ECDSA-SHA256)."""
    return signed_document(to_element(request), key, certificate)


def verify_response(
    xml: bytes, hub_certificates: Mapping[IssuerSerial, x509.Certificate]
) -> Answer:
    """A DUIS response or alert whose signature is by one of ``hub_certificates``, parsed."""
    try:
        root = parse_xml(xml)
        verified = verify_element(root, hub_certificates)
        message = from_element(verified.root)
    except DuisError as exc:
        raise ClientError(f"not a valid signed DUIS response: {exc}") from None
    if not isinstance(message, Response):
        raise ClientError("the hub answered with a Request")
    return Answer(response=message, signer=verified.signer)


def _precommand(answer: Answer) -> PreCommand:
    body = answer.response.body
    if answer.code != "I0" or not isinstance(body, ResponseMessage):
        raise ClientError(f"the transform was refused: {answer.code}")
    if not isinstance(body.content, PreCommand):
        raise DuisSchemaError("the transform answer carries no PreCommand")
    return body.content
