"""Build protected GBCS messages from typed fields.

Every use case is built the same way: a typed payload (``smetsnet.gbcs.dlms``, ``.gbz`` or
``.asn1`` objects, never bytes) plus the grouping-header fields, protected as GBCS asks:

- a **critical** command is signed by its originator (the supplier or other known remote party)
  and then MAC'd by the access control broker;
- a **non-critical** command carries a zero signature length and the ACB's MAC;
- a **pre-command** (what the Transform service returns for a critical request) has neither: the
  user signs it (:func:`sign_precommand`) and the hub MACs it (:func:`apply_mac`);
- responses and alerts are built by devices: signed when critical, MAC'd when not.

:func:`builder_for` gives the builder of one use case by name (every code in the registry has
one); it fixes the message code and the protection its kind requires.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.codec import GbcsMessage, Payload, payload_family
from smetsnet.gbcs.frame import (
    MAC_LENGTH,
    SIGNATURE_LENGTH,
    Cra,
    Frame,
    FrameLayout,
    GroupingHeader,
    MacHeader,
    decode_frame,
    mac_header_bytes,
)
from smetsnet.gbcs.protection import Protection
from smetsnet.gbcs.registry import all_message_codes, is_critical, message_code_for


def build_message(
    *,
    payload: Payload,
    originator: bytes,
    recipient: bytes,
    counter: int,
    message_code: int | None = None,
    use_case: str | None = None,
    cra: Cra = Cra.COMMAND,
    date_time: bytes = b"",
    supplementary_remote_party: bytes | None = None,
    supplementary_remote_party_counter: int | None = None,
    supplementary_originator_counter: int | None = None,
    certificate: bytes | None = None,
    protection: Protection | None = None,
    sign: bool | None = None,
    mac: bool = True,
    precommand: bool = False,
) -> GbcsMessage:
    """A whole message; ``sign`` defaults to whether the use case is critical."""
    code = _resolve_code(message_code, use_case)
    header = GroupingHeader(
        cra=cra,
        counter=counter,
        originator=originator,
        recipient=recipient,
        message_code=code,
        date_time=date_time,
        supplementary_remote_party=supplementary_remote_party,
        supplementary_remote_party_counter=supplementary_remote_party_counter,
        supplementary_originator_counter=supplementary_originator_counter,
        certificate=certificate,
    )
    body = payload.to_bytes()
    _check_family(code, body)
    head = header.encode(len(body))
    if precommand:
        return _message(header, head, body, None, None, payload)
    should_sign = is_critical(code) if sign is None else sign
    signature = b""
    if should_sign:
        signature = _need(protection, "signature").sign(originator, head[1:] + body)
    tag = None
    if mac:
        tag = _need(protection, "MAC").make_mac(header, head + body + _signature_part(signature))
    return _message(header, head, body, signature, tag, payload)


#: Every built message has the default MAC header (frozen: one instance serves all).
_PLAIN_MAC_HEADER = MacHeader()


def _message(
    header: GroupingHeader,
    head: bytes,
    body: bytes,
    signature: bytes | None,
    mac: bytes | None,
    payload: Payload,
) -> GbcsMessage:
    """The built message with its wire image and layout, written once from the parts (the
    header is encoded once; nothing is parsed again)."""
    inner = head + body + _signature_part(signature)
    prefix = b""
    mac_header = None
    if mac is not None:
        if len(mac) != MAC_LENGTH:
            raise GbcsEncodeError("mac", f"a MAC'd message needs a {MAC_LENGTH}-byte MAC")
        mac_header = _PLAIN_MAC_HEADER
        prefix = mac_header_bytes(mac_header, len(inner) + MAC_LENGTH)
    start = len(prefix)
    payload_start = start + len(head)
    payload_end = payload_start + len(body)
    frame = Frame(
        mac_header=mac_header,
        header=header,
        payload=body,
        signature=signature,
        mac=mac,
        wire=prefix + inner + (mac or b""),
        layout=FrameLayout(start, payload_start, payload_end, start + len(inner)),
    )
    return GbcsMessage(frame=frame, payload=payload)


def _signature_part(signature: bytes | None) -> bytes:
    """Signature length and r ‖ s; nothing for a pre-command (None)."""
    if signature is None:
        return b""
    if len(signature) not in (0, SIGNATURE_LENGTH):
        raise GbcsEncodeError("signature", "must be empty or 64 bytes (r ‖ s)")
    return bytes((len(signature),)) + signature


def sign_precommand(precommand: bytes, protection: Protection) -> bytes:
    """What the user does with a pre-command: append 0x40 ‖ its ECDSA signature."""
    frame = decode_frame(precommand)
    if frame.signature is not None or frame.mac is not None:
        raise GbcsEncodeError("precommand", "already carries a signature length or a MAC")
    return precommand + b"\x40" + protection.sign(frame.header.originator, frame.signed_bytes())


def apply_mac(message: bytes, protection: Protection) -> bytes:
    """What the access control broker does last: add the MAC header and the MAC."""
    frame = decode_frame(message)
    if frame.mac is not None:
        raise GbcsEncodeError("mac", "the message is already MAC'd")
    if frame.signature is None:
        frame = Frame(
            mac_header=None,
            header=frame.header,
            payload=frame.payload,
            signature=b"",
            mac=None,
        )
    return _mac_frame(frame, protection).to_bytes()


def builder_for(use_case: str) -> Callable[..., GbcsMessage]:
    """The builder of one use case (e.g. ``builder_for("ECS17b")(payload=…, …)``)."""
    return partial(build_message, message_code=message_code_for(use_case))


def all_builders() -> dict[str, Callable[..., GbcsMessage]]:
    """A builder for every use case the registry knows."""
    return {
        info.use_case: partial(build_message, message_code=info.code)
        for info in all_message_codes()
    }


def _mac_frame(frame: Frame, protection: Protection) -> Frame:
    authenticated = frame.to_bytes()  # no MAC header yet: header ‖ payload ‖ signature
    tag = protection.make_mac(frame.header, authenticated)
    return Frame(
        mac_header=MacHeader(),
        header=frame.header,
        payload=frame.payload,
        signature=frame.signature,
        mac=tag,
    )


def _resolve_code(message_code: int | None, use_case: str | None) -> int:
    if message_code is not None and use_case is not None:
        if message_code_for(use_case) != message_code:
            raise GbcsEncodeError("message_code", f"0x{message_code:04X} is not {use_case}")
        return message_code
    if message_code is not None:
        return message_code
    if use_case is not None:
        return message_code_for(use_case)
    raise GbcsEncodeError("message_code", "give a message code or a use case")


def _check_family(code: int, body: bytes) -> None:
    if not body:
        raise GbcsEncodeError("payload", "empty payload")
    family = payload_family(code, body)
    first = body[0]
    expected = {"dlms": (0xD9, 0xDA, 0x0F), "gbz": (0x01,), "asn1": (0x30, 0x02, 0x04, 0x05)}
    if first not in expected[family]:
        raise GbcsEncodeError(
            "payload", f"message code 0x{code:04X} takes a {family} payload, got 0x{first:02X}…"
        )


def _need(protection: Protection | None, what: str) -> Protection:
    if protection is None:
        raise GbcsEncodeError("protection", f"a {what} needs keys: pass protection=")
    return protection
