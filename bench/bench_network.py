"""A network of many suppliers for benchmarks: ``users`` import suppliers, each registered for
its own premises (ESME, comms hub, gas proxy), on a fresh PKI of ours. A user's DUIS counters
must rise strictly, so concurrent load comes from many users, as on the real network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smetsnet.gbcs.eui import format_eui
from smetsnet.hub.boxed import parse_plan
from smetsnet.hub.setup import NetworkSetup, assemble
from smetsnet.smki.pki import Party, Pki
from smetsnet.smki.profile import RemotePartyRole

ACB = bytes.fromhex("90B3D51F30000002")
OPERATOR = bytes.fromhex("90B3D51F30020000")


def user_eui(i: int) -> bytes:
    return bytes.fromhex("90B3D51F3100") + i.to_bytes(2, "big")


def esme_eui(i: int) -> bytes:
    return bytes.fromhex("00DB12345A00") + i.to_bytes(2, "big")


def _device(i: int, kind: int) -> str:
    return format_eui(bytes.fromhex("00DB1234") + kind.to_bytes(2, "big") + i.to_bytes(2, "big"))


def _mpan(i: int) -> str:
    from smetsnet.inventory.mpxn import mpan_check_digit

    core = f"12{i:010d}"
    return core + str(mpan_check_digit(core))


def plan_document(users: int) -> dict[str, Any]:
    parties = {
        "supplier": format_eui(user_eui(0)),
        "networkOperator": format_eui(OPERATOR),
        "accessControlBroker": format_eui(ACB),
    }
    premises = []
    for i in range(users):
        mpan = _mpan(i)
        premises.append(
            {
                "region": "LONDON",
                "technology": "cellular",
                "seed": i + 1,
                "devices": {
                    "ESME": format_eui(esme_eui(i)),
                    "CHF": _device(i, 0xC0),
                    "GPF": _device(i, 0xC1),
                },
                "meter_points": [
                    {"mpxn": mpan, "kind": "IMPORT_MPAN", "meter": format_eui(esme_eui(i))}
                ],
                "registrations": [
                    {
                        "mpxn": mpan,
                        "role": "IS",
                        "user": format_eui(user_eui(i)),
                        "valid_from": "2020-01-01T00:00:00Z",
                    },
                    {
                        "mpxn": mpan,
                        "role": "ED",
                        "user": format_eui(OPERATOR),
                        "valid_from": "2020-01-01T00:00:00Z",
                    },
                ],
            }
        )
    return {
        "parties": parties,
        "users": [
            {"eui": format_eui(user_eui(i)), "name": f"supplier {i}", "roles": ["IS"]}
            for i in range(users)
        ]
        + [{"eui": format_eui(OPERATOR), "name": "operator", "roles": ["ED"]}],
        "premises": premises,
    }


def many_suppliers(users: int, *, now: datetime | None = None) -> tuple[NetworkSetup, Pki]:
    now = now or datetime.now(UTC)
    pki = Pki.create(at=now)
    pki.add_party(Party(eui=ACB, role=RemotePartyRole.ACCESS_CONTROL_BROKER), at=now)
    pki.add_party(Party(eui=OPERATOR, role=RemotePartyRole.NETWORK_OPERATOR), at=now)
    for i in range(users):
        pki.add_party(Party(eui=user_eui(i), role=RemotePartyRole.SUPPLIER), at=now)
    plan = parse_plan(plan_document(users), source="benchmark plan")
    return assemble(list(pki.bundle), plan, now=now, device_pki=pki), pki
