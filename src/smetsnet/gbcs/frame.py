"""The GBCS frame: MAC header, grouping header, payload, signature and MAC.

Layout (GBCS §4; DOMAIN.md §2.1, verified against the RTDS 4.5.0 vectors)::

    [MAC header]   DD 00 00 00 00 00 00 | length | 11 | invocation counter (4)
    [grouping]     DF | 09 | CRA | originator counter (8) | 08 | originator | 08 | recipient
                   | date-time (00, or 0C + 12 bytes) | other-information length | message code
                   [| supplementary remote party (8) [| its counter (8) [| supplementary
                   originator counter (8) | or a key-agreement certificate]]]
                   | content length | payload
    [signature]    length (00 or 40) | r ‖ s            -- absent in a pre-command
    [MAC]          12 bytes                             -- only with a MAC header

This module only splits and joins the frame; payloads are decoded by :mod:`smetsnet.gbcs.codec`
and protection is checked by :mod:`smetsnet.gbcs.protection`. No I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from smetsnet.errors import GbcsEncodeError
from smetsnet.gbcs.eui import check_eui
from smetsnet.gbcs.reader import Reader, encode_length

GENERAL_CIPHERING = 0xDD
GENERAL_SIGNING = 0xDF
#: The six zero bytes after DD: empty transaction id, titles, date-time, other info, key info.
_GENERAL_CIPHERING_FIXED = b"\x00" * 6
MAC_LENGTH = 12
SIGNATURE_LENGTH = 64
#: Security control of the MAC header: authentication only, GCM suite 0.
MAC_SECURITY_CONTROL = 0x11
DATE_TIME_LENGTH = 12


class Cra(IntEnum):
    """The CRA flag of the transaction id: what kind of message this is."""

    COMMAND = 1
    RESPONSE = 2
    ALERT = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class MacHeader:
    """The general-ciphering + security header in front of a MAC'd message."""

    security_control: int = MAC_SECURITY_CONTROL
    invocation_counter: int = 0
    #: Width of the length field when a sender used a non-minimal form (None = minimal).
    length_width: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupingHeader:
    """The general-signing grouping header (everything from DF up to the payload)."""

    cra: Cra
    counter: int
    originator: bytes
    recipient: bytes
    message_code: int
    date_time: bytes = b""
    supplementary_remote_party: bytes | None = None
    supplementary_remote_party_counter: int | None = None
    supplementary_originator_counter: int | None = None
    #: A key-agreement certificate carried in other-information (ECS21b to an unknown party).
    certificate: bytes | None = None
    other_information_width: int | None = None
    content_length_width: int | None = None

    def __post_init__(self) -> None:
        check_eui(self.originator, "grouping_header.originator")
        check_eui(self.recipient, "grouping_header.recipient")
        if not 0 <= self.counter < 1 << 64:
            raise GbcsEncodeError("grouping_header.counter", f"{self.counter} is not a u64")
        if not 0 <= self.message_code <= 0xFFFF:
            raise GbcsEncodeError("grouping_header.message_code", f"{self.message_code} > 0xFFFF")
        if len(self.date_time) not in (0, DATE_TIME_LENGTH):
            raise GbcsEncodeError("grouping_header.date_time", "must be empty or 12 bytes")
        if self.supplementary_originator_counter is not None and self.certificate is not None:
            raise GbcsEncodeError(
                "grouping_header.other_information",
                "carries a supplementary originator counter or a certificate, not both",
            )

    @property
    def transaction_id(self) -> bytes:
        """CRA flag ‖ originator counter: the 9 bytes GBCS calls the transaction id."""
        return bytes((self.cra,)) + self.counter.to_bytes(8, "big")

    def other_information(self) -> bytes:
        out = self.message_code.to_bytes(2, "big")
        if self.supplementary_remote_party is not None:
            out += check_eui(self.supplementary_remote_party, "supplementary_remote_party")
            if self.supplementary_remote_party_counter is not None:
                out += self.supplementary_remote_party_counter.to_bytes(8, "big")
                if self.supplementary_originator_counter is not None:
                    out += self.supplementary_originator_counter.to_bytes(8, "big")
                elif self.certificate is not None:
                    out += self.certificate
        return out

    def encode(self, payload_length: int) -> bytes:
        """The header bytes, from DF through the content length."""
        other = self.other_information()
        return b"".join(
            (
                b"\xdf\x09",
                self.transaction_id,
                b"\x08",
                self.originator,
                b"\x08",
                self.recipient,
                bytes((len(self.date_time),)),
                self.date_time,
                _length(len(other), self.other_information_width),
                other,
                _length(payload_length, self.content_length_width),
            )
        )


def _length(n: int, width: int | None) -> bytes:
    """:func:`encode_length`, with the one-byte form (nearly every header) inline."""
    return _SHORT_LENGTHS[n] if width is None and 0 <= n < 0x80 else encode_length(n, width)


_SHORT_LENGTHS = tuple(bytes((n,)) for n in range(0x80))


@dataclass(frozen=True, slots=True)
class FrameLayout:
    """Where the parts of a decoded frame lie in its wire bytes (for protection checks)."""

    header_start: int
    payload_start: int
    payload_end: int
    signature_end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """A GBCS message split into its parts; the payload is still bytes."""

    mac_header: MacHeader | None
    header: GroupingHeader
    payload: bytes
    #: None: no signature-length byte (a pre-command); b"": length byte 0; else the 64-byte r‖s.
    signature: bytes | None
    mac: bytes | None
    wire: bytes = field(default=b"", repr=False, compare=False)
    layout: FrameLayout | None = field(default=None, repr=False, compare=False)

    def signed_bytes(self) -> bytes:
        """What the ECDSA signature covers: the grouping header without DF, and the payload."""
        if self.layout is not None:
            return self.wire[self.layout.header_start + 1 : self.layout.payload_end]
        return self.header.encode(len(self.payload))[1:] + self.payload

    def authenticated_bytes(self) -> bytes:
        """What the MAC covers after its fixed prefix: header, payload and signature."""
        if self.layout is not None:
            return self.wire[self.layout.header_start : self.layout.signature_end]
        return self.header.encode(len(self.payload)) + self.payload + _signature_part(self)

    def wired(self) -> Frame:
        """This frame with its wire image and layout set (for a frame built, not decoded):
        the positions follow from the parts' lengths, so nothing is parsed again."""
        wire = self.to_bytes()
        head = len(self.header.encode(len(self.payload)))
        signature = len(_signature_part(self))
        header_start = len(wire) - head - len(self.payload) - signature
        header_start -= MAC_LENGTH if self.mac is not None else 0
        payload_start = header_start + head
        payload_end = payload_start + len(self.payload)
        layout = FrameLayout(header_start, payload_start, payload_end, payload_end + signature)
        return Frame(
            mac_header=self.mac_header,
            header=self.header,
            payload=self.payload,
            signature=self.signature,
            mac=self.mac,
            wire=wire,
            layout=layout,
        )

    def to_bytes(self, payload: bytes | None = None) -> bytes:
        """Encode the frame (with ``payload`` instead of the stored payload bytes, if given)."""
        body = self.payload if payload is None else payload
        inner = self.header.encode(len(body)) + body + _signature_part(self)
        if self.mac_header is None:
            if self.mac is not None:
                raise GbcsEncodeError("mac", "a MAC needs a MAC header")
            return inner
        if self.mac is None or len(self.mac) != MAC_LENGTH:
            raise GbcsEncodeError("mac", f"a MAC'd message needs a {MAC_LENGTH}-byte MAC")
        return mac_header_bytes(self.mac_header, len(inner) + MAC_LENGTH) + inner + self.mac


def _signature_part(frame: Frame) -> bytes:
    if frame.signature is None:
        return b""
    if len(frame.signature) not in (0, SIGNATURE_LENGTH):
        raise GbcsEncodeError("signature", "must be empty or 64 bytes (r ‖ s)")
    return bytes((len(frame.signature),)) + frame.signature


def mac_header_bytes(header: MacHeader, inner_with_mac_length: int) -> bytes:
    """DD … | length | security header, for ``inner_with_mac_length`` bytes after it."""
    security = bytes((header.security_control,)) + header.invocation_counter.to_bytes(4, "big")
    length = encode_length(inner_with_mac_length + len(security), header.length_width)
    return b"\xdd" + _GENERAL_CIPHERING_FIXED + length + security


def decode_frame(data: bytes) -> Frame:
    """Split a whole GBCS message into its parts (payload left as bytes).

    The common shapes are read by :func:`_quick_frame` in a few slices; anything it does not
    recognise (and every malformed input) goes through :func:`_careful_frame`, which reads field
    by field and names the offset and field of the first problem.
    """
    if type(data) is not bytes:
        data = bytes(data)
    return _quick_frame(data) or _careful_frame(data)


_new = object.__new__
_set = object.__setattr__
_DEFAULT_MAC_HEADER = MacHeader()


def _quick_frame(d: bytes) -> Frame | None:
    """The frame of a well-formed message with minimal lengths and a 2-byte other-information,
    or None (then the careful reader decides). Builds the frozen nodes without ``__init__``:
    every value was checked here, and dataclass ``__init__`` costs more than the parsing."""
    size = len(d)
    p = 0
    end = size
    mac_header: MacHeader | None = None
    if size < 32:
        return None
    if d[0] == GENERAL_CIPHERING:
        if d[1:7] != _GENERAL_CIPHERING_FIXED:
            return None
        first = d[7]
        if first < 0x80:
            length, p = first, 8
        elif first == 0x81 and d[8] >= 0x80:
            length, p = d[8], 9
        elif first == 0x82 and d[8]:
            length, p = (d[8] << 8) | d[9], 10
        else:
            return None
        if length != size - p or size - p < 5 + 29 + MAC_LENGTH or d[p] != MAC_SECURITY_CONTROL:
            return None
        invocation = int.from_bytes(d[p + 1 : p + 5], "big")
        mac_header = (
            _DEFAULT_MAC_HEADER if invocation == 0 else MacHeader(invocation_counter=invocation)
        )
        p += 5
        end = size - MAC_LENGTH
    header_start = p
    fixed = _unpack_fixed(d, p, end)
    if fixed is None:
        return None
    cra, counter, originator, recipient = fixed
    p += _FIXED_HEADER.size
    dt_length = d[p]
    # date-time, other-information length (2), message code and a content length must fit
    if dt_length not in (0, DATE_TIME_LENGTH) or p + dt_length + 5 > end:
        return None
    if d[p + 1 + dt_length] != 2:
        return None
    date_time = d[p + 1 : p + 1 + dt_length]
    p += 2 + dt_length
    code = (d[p] << 8) | d[p + 1]
    first = d[p + 2]
    if first < 0x80:
        payload_length, p = first, p + 3
    elif first == 0x81 and p + 4 <= end and d[p + 3] >= 0x80:
        payload_length, p = d[p + 3], p + 4
    elif first == 0x82 and p + 5 <= end and d[p + 3]:
        payload_length, p = (d[p + 3] << 8) | d[p + 4], p + 5
    else:
        return None
    payload_start = p
    payload_end = p + payload_length
    if payload_end > end:
        return None
    signature: bytes | None = None
    if payload_end < end:
        sig_length = d[payload_end]
        if sig_length not in (0, SIGNATURE_LENGTH) or payload_end + 1 + sig_length != end:
            return None
        signature = d[payload_end + 1 : end]
    elif mac_header is not None:
        return None
    header: GroupingHeader = _new(GroupingHeader)
    _h_cra(header, _CRAS[cra])
    _h_counter(header, counter)
    _h_originator(header, originator)
    _h_recipient(header, recipient)
    _h_message_code(header, code)
    _h_date_time(header, date_time)
    for unset in _H_ABSENT:
        unset(header, None)
    frame: Frame = _new(Frame)
    _f_mac_header(frame, mac_header)
    _f_header(frame, header)
    _f_payload(frame, d[payload_start:payload_end])
    _f_signature(frame, signature)
    _f_mac(frame, d[end:] if mac_header is not None else None)
    _f_wire(frame, d)
    _f_layout(frame, FrameLayout(header_start, payload_start, payload_end, end))
    return frame


# The slots' own setters: a frozen node is filled without ``__init__`` or a name look-up per field
# (what :func:`_quick_frame` saves is most of its cost).
_h_cra, _h_counter, _h_originator, _h_recipient, _h_message_code, _h_date_time = (
    GroupingHeader.__dict__[name].__set__
    for name in ("cra", "counter", "originator", "recipient", "message_code", "date_time")
)
#: The optional header fields a quick frame never has (its other-information is the code alone).
_H_ABSENT = tuple(
    GroupingHeader.__dict__[name].__set__
    for name in (
        "supplementary_remote_party",
        "supplementary_remote_party_counter",
        "supplementary_originator_counter",
        "certificate",
        "other_information_width",
        "content_length_width",
    )
)
_f_mac_header, _f_header, _f_payload, _f_signature, _f_mac, _f_wire, _f_layout = (
    Frame.__dict__[name].__set__
    for name in ("mac_header", "header", "payload", "signature", "mac", "wire", "layout")
)


def _careful_frame(data: bytes) -> Frame:
    r = Reader(data)
    mac_header: MacHeader | None = None
    end = len(data)
    first = r.peek("frame")
    if first == GENERAL_CIPHERING:
        mac_header, end = _read_mac_header(r)
    elif first != GENERAL_SIGNING:
        raise r.error("frame", f"starts with 0x{first:02X}; expected DD (MAC'd) or DF (signed)")
    header_start = r.pos
    header, payload_length = _read_grouping_header(r)
    payload_start = r.pos
    if payload_length > end - payload_start:
        raise r.error("content_length", f"{payload_length} exceeds the {end - r.pos} bytes left")
    payload = r.take(payload_length, "payload")
    payload_end = r.pos
    signature: bytes | None = None
    if r.pos < end:
        sig_length = r.u8("signature_length")
        if sig_length not in (0, SIGNATURE_LENGTH):
            raise r.error("signature_length", f"{sig_length}; expected 0 or 64", r.pos - 1)
        signature = r.take(sig_length, "signature")
    elif mac_header is not None:
        raise r.error("signature_length", "a MAC'd message ends before its signature length")
    signature_end = r.pos
    mac: bytes | None = None
    if mac_header is not None:
        mac = r.take(MAC_LENGTH, "mac")
    r.expect_end("frame")
    return Frame(
        mac_header=mac_header,
        header=header,
        payload=payload,
        signature=signature,
        mac=mac,
        wire=data,
        layout=FrameLayout(header_start, payload_start, payload_end, signature_end),
    )


def _read_mac_header(r: Reader) -> tuple[MacHeader, int]:
    r.u8("mac_header.tag")
    fixed = r.take(6, "mac_header.general_ciphering")
    if fixed != _GENERAL_CIPHERING_FIXED:
        if fixed[0] == 0x09:
            raise r.error(
                "mac_header", "a General Block Transfer block: reassemble it first", r.pos - 6
            )
        raise r.error("mac_header.general_ciphering", f"expected six zero bytes, got {fixed.hex()}")
    length, width = r.length("mac_header.length")
    if length != r.remaining:
        raise r.error("mac_header.length", f"says {length} bytes follow but {r.remaining} do")
    control = r.u8("mac_header.security_control")
    if control != MAC_SECURITY_CONTROL:
        raise r.error("mac_header.security_control", f"0x{control:02X}; expected 0x11", r.pos - 1)
    invocation = r.u32("mac_header.invocation_counter")
    minimal = len(encode_length(length))
    header = MacHeader(
        security_control=control,
        invocation_counter=invocation,
        length_width=None if width == minimal else width,
    )
    return header, r.end - MAC_LENGTH


def _read_grouping_header(r: Reader) -> tuple[GroupingHeader, int]:
    fixed = _fixed_part(r)
    if fixed is None:
        fixed = _careful_fixed_part(r)
    cra_value, counter, originator, recipient = fixed
    dt_length = r.u8("grouping_header.date_time_length")
    if dt_length not in (0, DATE_TIME_LENGTH):
        raise r.error("grouping_header.date_time_length", f"{dt_length}; expected 0 or 12")
    date_time = r.take(dt_length, "grouping_header.date_time")
    other_length, other_width = r.length("grouping_header.other_information_length")
    other = r.sub(other_length, "grouping_header.other_information")
    code, party, party_counter, originator_counter, certificate = _read_other_information(other)
    payload_length, payload_width = r.length("grouping_header.content_length")
    header = GroupingHeader(
        cra=_CRAS[cra_value],
        counter=counter,
        originator=originator,
        recipient=recipient,
        message_code=code,
        date_time=date_time,
        supplementary_remote_party=party,
        supplementary_remote_party_counter=party_counter,
        supplementary_originator_counter=originator_counter,
        certificate=certificate,
        other_information_width=_non_minimal(other_length, other_width),
        content_length_width=_non_minimal(payload_length, payload_width),
    )
    return header, payload_length


#: DF | 09 | CRA | counter | 08 | originator | 08 | recipient: 29 bytes read in one call.
_FIXED_HEADER = struct.Struct(">BBBQB8sB8s")
_CRAS = {1: Cra.COMMAND, 2: Cra.RESPONSE, 3: Cra.ALERT}


def _unpack_fixed(d: bytes, p: int, end: int) -> tuple[int, int, bytes, bytes] | None:
    """(CRA, counter, originator, recipient) at ``d[p]`` in one struct call; None if anything
    is off (then :func:`_careful_fixed_part` reads it field by field to say exactly what)."""
    if end - p < _FIXED_HEADER.size + 4:  # + date-time length, other-info length, code
        return None
    tag, tid_length, cra, counter, o_length, originator, r_length, recipient = (
        _FIXED_HEADER.unpack_from(d, p)
    )
    if tag != GENERAL_SIGNING or tid_length != 9 or cra not in _CRAS:
        return None
    if o_length != 8 or r_length != 8:
        return None
    return cra, counter, originator, recipient


def _fixed_part(r: Reader) -> tuple[int, int, bytes, bytes] | None:
    fixed = _unpack_fixed(r.data, r.pos, r.end)
    if fixed is not None:
        r.pos += _FIXED_HEADER.size
    return fixed


def _careful_fixed_part(r: Reader) -> tuple[int, int, bytes, bytes]:
    start = r.pos
    if r.u8("grouping_header.tag") != GENERAL_SIGNING:
        raise r.error("grouping_header.tag", "expected DF (general signing)", start)
    if r.u8("grouping_header.transaction_id_length") != 9:
        raise r.error("grouping_header.transaction_id_length", "expected 9", r.pos - 1)
    cra_value = r.u8("grouping_header.cra")
    if cra_value not in (1, 2, 3):
        raise r.error("grouping_header.cra", f"{cra_value}; expected 1, 2 or 3", r.pos - 1)
    counter = r.u64("grouping_header.counter")
    originator = _read_title(r, "grouping_header.originator")
    recipient = _read_title(r, "grouping_header.recipient")
    return cra_value, counter, originator, recipient


def _read_title(r: Reader, name: str) -> bytes:
    length = r.u8(name + "_length")
    if length != 8:
        raise r.error(name + "_length", f"{length}; a system title is 8 bytes", r.pos - 1)
    return r.take(8, name)


_OtherInformation = tuple[int, bytes | None, int | None, int | None, bytes | None]


def _read_other_information(r: Reader) -> _OtherInformation:
    """(message code, supplementary party, its counter, supplementary originator counter, cert)."""
    if r.remaining < 2:
        raise r.error("other_information.message_code", "other-information shorter than 2 bytes")
    code = r.u16("other_information.message_code")
    if r.at_end():
        return code, None, None, None, None
    party = r.take(8, "other_information.supplementary_party")
    if r.at_end():
        return code, party, None, None, None
    party_counter = r.u64("other_information.supplementary_counter")
    if r.at_end():
        return code, party, party_counter, None, None
    if r.remaining == 8:
        counter = r.u64("other_information.supplementary_originator_counter")
        return code, party, party_counter, counter, None
    return code, party, party_counter, None, r.rest()


def _non_minimal(value: int, width: int) -> int | None:
    return None if width == len(encode_length(value)) else width
