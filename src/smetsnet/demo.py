"""What ``make run`` shows until the network simulation exists: real GBCS, built and checked.

With fresh P-256 keys for a supplier, the access control broker and an electricity meter:
1. the supplier asks for yesterday's half-hourly profile (ECS22b, non-critical): the hub MACs it;
2. the meter answers with 48 readings encrypted for the supplier and MAC'd;
3. the supplier activates firmware (CS06, critical): pre-command → signed → MAC'd;
4. a prepayment top-up UTRN is generated and checked.
Each message is decoded again from its bytes and its protection verified.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from rich.console import Console
from rich.table import Table

from smetsnet.gbcs import utrn
from smetsnet.gbcs.asn1 import ActivateFirmwareCommand
from smetsnet.gbcs.builders import apply_mac, build_message, sign_precommand
from smetsnet.gbcs.codec import GbcsMessage, decode_message
from smetsnet.gbcs.dlms import (
    AccessResponse,
    CompactArray,
    CosemDateTime,
    Structure,
    TypeDescription,
    protected_attributes_request,
    seconds_since_2000,
)
from smetsnet.gbcs.dlms import tags as dlms_tags
from smetsnet.gbcs.dlms.specs import ResponseSpec
from smetsnet.gbcs.eui import format_eui, parse_eui
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.keystore import MemoryKeyStore
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER, Protection
from smetsnet.gbcs.sensitive import sealed_response_item

SUPPLIER = parse_eui("90-B3-D5-1F-30-01-00-00")
METER = parse_eui("00-DB-12-34-56-78-90-A0")
IMPORT_PROFILE = "1-0:99.1.0.255"
ACTION = 3


def day_of_readings(start: datetime, seed: int = 7) -> CompactArray:
    """48 half-hourly (seconds since 2000, Wh) rows as one compact array (columns)."""
    rng = np.random.default_rng(seed)
    times = seconds_since_2000(start) + 1800 * np.arange(48, dtype=np.uint32)
    watt_hours = rng.gamma(1.5, 250.0, 48).astype(np.uint32)
    row = TypeDescription.structure(
        TypeDescription.simple(dlms_tags.DOUBLE_LONG_UNSIGNED),
        TypeDescription.simple(dlms_tags.DOUBLE_LONG_UNSIGNED),
    )
    return CompactArray.from_columns(row, [times, watt_hours])


def _show(console: Console, title: str, message: GbcsMessage, protection: Protection) -> None:
    again = decode_message(message.to_bytes(), protection=protection)
    verdict = protection.verify(again.frame)
    table = Table(title=title, show_header=False)
    table.add_row(
        "use case",
        f"{again.use_case} (0x{again.message_code:04X}) {again.info.title if again.info else ''}",
    )
    table.add_row(
        "from → to", f"{format_eui(again.header.originator)} → {format_eui(again.header.recipient)}"
    )
    table.add_row("counter", str(again.header.counter))
    table.add_row("bytes", f"{len(again.frame.wire)}: {again.frame.wire[:24].hex()}…")
    table.add_row("MAC / signature", f"{verdict.mac} / {verdict.signature}")
    table.add_row("byte-exact re-encode", str(again.to_bytes() == message.to_bytes()))
    console.print(table)


def run_demo(console: Console) -> None:
    keys = MemoryKeyStore()
    keys.generate(SUPPLIER, prepayment_cell=True)
    keys.generate(ACCESS_CONTROL_BROKER)
    keys.generate(METER)
    protection = Protection(keys)
    yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    counter = int(datetime.now(UTC).timestamp() * 1000)

    request = protected_attributes_request(
        [(7, IMPORT_PROFILE, 2)],
        originator=SUPPLIER,
        recipient=METER,
        counter=counter,
        restriction_from=CosemDateTime.from_datetime(yesterday),
        restriction_to=CosemDateTime.from_datetime(yesterday + timedelta(days=1)),
    )
    command = build_message(
        payload=request,
        use_case="ECS22b",
        originator=SUPPLIER,
        recipient=METER,
        counter=counter,
        protection=protection,
    )
    _show(
        console,
        "1. Read yesterday's profile (supplier → meter, MAC'd by the ACB)",
        command,
        protection,
    )

    header = GroupingHeader(
        cra=Cra.RESPONSE,
        counter=counter,
        originator=METER,
        recipient=SUPPLIER,
        message_code=command.message_code,
    )
    item = sealed_response_item(protection, header, Structure(items=(day_of_readings(yesterday),)))
    response = build_message(
        payload=AccessResponse.build(
            [(item, ResponseSpec(choice=ACTION, result=0))], invoke_id=counter
        ),
        message_code=command.message_code,
        cra=Cra.RESPONSE,
        originator=METER,
        recipient=SUPPLIER,
        counter=counter,
        protection=protection,
        sign=False,
    )
    _show(
        console,
        "2. The meter answers: 48 half-hours, encrypted for the supplier",
        response,
        protection,
    )
    opened = decode_message(response.to_bytes(), protection=protection)
    payload = opened.payload
    assert isinstance(payload, AccessResponse)
    profile = payload.protected[0]
    console.print(
        f"   decryption: {profile.status}; first rows (s since 2000, Wh): "
        f"{_first_rows(profile.value)}"
    )

    firmware = ActivateFirmwareCommand(image_hash=bytes(range(32)), originator_counter=counter + 1)
    pre = build_message(
        payload=firmware,
        use_case="CS06",
        originator=SUPPLIER,
        recipient=METER,
        counter=counter + 1,
        precommand=True,
    )
    signed = sign_precommand(pre.to_bytes(), protection)  # the supplier, with its signing key
    sent = apply_mac(signed, protection)  # the hub's access control broker
    _show(
        console,
        "3. Activate firmware: pre-command, signed by the supplier, MAC'd by the ACB",
        decode_message(sent),
        protection,
    )

    top_up_counter = 3 << 32
    z = protection.shared_secret(SUPPLIER, METER, prepayment=True)
    assert z is not None
    code = utrn.make_utrn(z, supplier=SUPPLIER, device=METER, counter=top_up_counter, pence=1000)
    ptut = utrn.verify_utrn(z, utrn=code, supplier=SUPPLIER, device=METER, counter=top_up_counter)
    pounds = f"£{ptut.pence / 100:.2f}"
    bits = ptut.counter_bits
    console.print(f"4. Top-up UTRN {code}: verified for {pounds} (counter bits {bits})")


def _first_rows(value: object) -> str:
    if isinstance(value, Structure) and value.items and isinstance(value.items[0], CompactArray):
        times, wh = value.items[0].columns[:2]
        return (
            ", ".join(
                f"({int(t)}, {int(v)})" for t, v in zip(list(times)[:3], list(wh)[:3], strict=True)
            )
            + ", …"
        )
    return repr(value)[:80]
