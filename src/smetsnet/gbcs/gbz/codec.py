"""The GBZ payload entry point for the frame layer."""

from __future__ import annotations

from smetsnet.gbcs.gbz.alerts import GbzAlert, read_alert
from smetsnet.gbcs.gbz.components import GbzMessage, read_message
from smetsnet.gbcs.payload import Decryptor
from smetsnet.gbcs.reader import Reader

GbzPayload = GbzMessage | GbzAlert

#: CRA flag of an alert (grouping header); 1 = command, 2 = response.
CRA_ALERT = 3


def decode_gbz_payload(
    data: bytes,
    *,
    message_code: int,
    cra: int,
    base: int = 0,
    decrypt: Decryptor | None = None,
) -> GbzPayload:
    """Decode a GBZ payload (the bytes after the grouping header's content length).

    Alerts (``cra == 3``) use the alert layout, whose use-case data depends on ``message_code``.
    ``base`` is the payload's offset in the whole message: every GbcsDecodeError names absolute
    offsets. ``decrypt`` opens encrypted components; without it they stay ciphered.
    """
    r = Reader(data, 3, base=base)
    if len(data) < 3 or data[0] != 0x01 or data[1] != 0x09:
        check = Reader(data, base=base)
        profile_id = check.u16("payload.profile_id")
        check.u8("payload.component_count")
        raise r.error("payload.profile_id", f"0x{profile_id:04X} is not ZigBee SE 0x0109", 0)
    count = data[2]
    if cra == CRA_ALERT:
        return read_alert(r, count, message_code, decrypt)
    return read_message(r, count, decrypt)
