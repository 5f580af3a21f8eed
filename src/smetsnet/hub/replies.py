"""DUIS responses and alerts as the hub sends them: built from typed models, signed with the
DSP's XML-signing key (as DCC Boxed signs every response, synchronous or not).

A response is written straight in canonical form (:func:`canonical_response`), which is what the
signature digests and what goes out: the same bytes as building the tree (``to_element``) and
``xmldsig.signed_document``, at a fraction of the cost. A body the direct writer does not cover
(a name in another namespace, say) takes that tree path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.duis import (
    DCCAlertMessage,
    DeviceAlertMessage,
    MessageId,
    Node,
    Response,
    ResponseHeader,
    ResponseMessage,
    to_element,
)
from smetsnet.duis.header import format_datetime
from smetsnet.duis.responses import NOT_XML_CHAR, PreCommand, canonical_body
from smetsnet.duis.xml import DS_NS, SR_NS, XSI_NS
from smetsnet.duis.xmldsig import C14N_ATTRIBUTE, C14N_TEXT, sign_canonical, signed_document
from smetsnet.gbcs.eui import format_eui

Content = bytes | PreCommand | int | Node | None


class Replies:
    """Signs what the hub says to users (one DSP key and certificate)."""

    def __init__(self, dsp_key: ec.EllipticCurvePrivateKey, dsp_certificate: x509.Certificate):
        self._key = dsp_key
        self._certificate = dsp_certificate

    def signed(self, response: Response) -> bytes:
        canonical = canonical_response(response)
        if canonical is None:
            return signed_document(to_element(response), self._key, self._certificate)
        return sign_canonical(canonical, self._key, self._certificate, ds_declared=True)

    def answer(
        self,
        *,
        code: str,
        now: datetime,
        request_id: MessageId | None,
        srv: str,
        content: Content = None,
        response_id: MessageId | None = None,
    ) -> bytes:
        """A ResponseMessage answering ``request_id`` (``response_id`` for a device's answer)."""
        header = ResponseHeader(
            request_id=request_id,
            response_id=response_id,
            response_code=code,
            response_datetime=now,
        )
        body = ResponseMessage(
            service_reference=_service_reference(srv),
            service_reference_variant=srv,
            content=content,
        )
        return self.signed(Response(header=header, body=body))

    def device_alert(
        self,
        *,
        device: bytes,
        user: bytes,
        counter: int,
        alert_code: int,
        wire: bytes,
        now: datetime,
        throttled_sequence_id: int | None = None,
        throttled_count: int | None = None,
    ) -> bytes:
        header = ResponseHeader(
            response_id=MessageId(originator=device, target=user, counter=counter),
            response_code="I0",
            response_datetime=now,
        )
        body = DeviceAlertMessage(
            alert_code=alert_code,
            gbcs_payload=wire,
            throttled_sequence_id=throttled_sequence_id,
            throttled_count=throttled_count,
        )
        return self.signed(Response(header=header, body=body))

    def dcc_alert(self, *, code: str, alert: Node, now: datetime) -> bytes:
        header = ResponseHeader(response_code="I0", response_datetime=now)
        return self.signed(Response(header=header, body=DCCAlertMessage(code=code, alert=alert)))


# The root as models.to_element writes it (prefixes ds, sr, xsi), in canonical form: the
# namespace declarations sorted by prefix, then the attribute.
_ROOT_START = f'<sr:Response xmlns:ds="{DS_NS}" xmlns:sr="{SR_NS}" xmlns:xsi="{XSI_NS}"'


def canonical_response(response: Response) -> bytes | None:
    """``response`` as ``to_element`` writes it, in inclusive C14N 1.0 form (UTF-8): what
    ``xmldsig.sign_canonical`` signs. ``None`` for what only the tree path writes (see
    ``responses.canonical_body``)."""
    body = canonical_body(response.body)
    if body is None:
        return None
    h = response.header
    code, version = h.response_code, response.schema_version
    if NOT_XML_CHAR.search(code) or NOT_XML_CHAR.search(version):
        return None
    request_id = "" if h.request_id is None else f"<sr:RequestID>{h.request_id}</sr:RequestID>"
    response_id = "" if h.response_id is None else f"<sr:ResponseID>{h.response_id}</sr:ResponseID>"
    return (
        f'{_ROOT_START} schemaVersion="{version.translate(C14N_ATTRIBUTE)}"><sr:Header>'
        f"{request_id}{response_id}"
        f"<sr:ResponseCode>{code.translate(C14N_TEXT)}</sr:ResponseCode>"
        f"<sr:ResponseDateTime>{format_datetime(h.response_datetime)}</sr:ResponseDateTime>"
        f"</sr:Header>{body}</sr:Response>"
    ).encode()


def _service_reference(srv: str) -> str:
    """The ServiceReference is the SRV's first two parts (SR-CATALOGUE.md §0: all templates)."""
    return ".".join(srv.split(".")[:2])


def dcc_alert(kind: str, *fields: tuple[str, str] | Node) -> Node:
    """DCCAlert/``kind`` with its fields in XSD order: ``(element, text)`` leaves or nodes."""
    children = tuple(f if isinstance(f, Node) else Node(name=f[0], text=f[1]) for f in fields)
    return Node(name="DCCAlert", children=(Node(name=kind, children=children),))


def command_failure(request_id: MessageId, device: bytes) -> Node:
    """DCCAlert/CommandFailure: the request the DCC could not complete and its device."""
    return dcc_alert(
        "CommandFailure",
        ("CommandRequestID", str(request_id)),
        ("DeviceID", format_eui(device)),
    )


def power_outage_event(chub: bytes, since: datetime, mpxn: str) -> Node:
    """DCCAlert/PowerOutageEvent (AD1): a comms hub lost mains power (its last gasp)."""
    return dcc_alert(
        "PowerOutageEvent",
        ("CommsHubDeviceID", format_eui(chub)),
        ("StartDateTime", format_datetime(since)),
        ("MPxN", mpxn),
    )


def change_of_supplier(device: bytes, device_type: str, mpxns: Sequence[tuple[str, str]]) -> Node:
    """DCCAlert/ChangeOfSupplier/DeviceChangeOfSupplier: a device whose supplier changed, its
    DUIS DeviceType and its MeterMPxNs (``(element, MPxN)`` pairs in XSD order: ImportMPxN,
    then SecondaryImportMPAN and ExportMPAN if any)."""
    if not mpxns or mpxns[0][0] != "ImportMPxN":
        raise ValueError(f"ChangeOfSupplier of {format_eui(device)}: ImportMPxN first, got {mpxns}")
    device_node = Node(
        name="DeviceChangeOfSupplier",
        children=(
            Node(name="DeviceID", text=format_eui(device)),
            Node(name="DeviceType", text=device_type),
            Node(name="MPxNs", children=tuple(Node(name=n, text=v) for n, v in mpxns)),
        ),
    )
    return dcc_alert("ChangeOfSupplier", device_node)
