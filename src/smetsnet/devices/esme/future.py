"""Future-dated DLMS commands on the ESME (ECS01a/b tariffs and the like; GBCS-PAYLOADS §1.5).

A DLMS command is future-dated by the activation date-times it SETs (class 20 attribute 10
activate-passive-calendar time, class 113 attribute 7 and class 9000 attribute 6 activation
times: 1.1.1_ECS01a FUTURE_DATED vector). All-0xFF dates (the CANCELLATION vector) cancel the
held command. When it runs, each activation attribute is reported by a 0x00CC alert whose extra
item is message code (2) ‖ originator counter (8) ‖ class (2) ‖ OBIS (6) ‖ attribute (1).
"""

from __future__ import annotations

from smetsnet.devices.esme.cosem import time_value
from smetsnet.gbcs.dlms import AccessRequest, OctetString, SetSpec

ACTIVATION_ATTRIBUTES = frozenset({(20, 10), (113, 7), (9000, 6)})
FUTURE_DATED_ALERT = 0x00CC
CANCEL, IMMEDIATE = -1, 0


def activations(request: AccessRequest) -> list[SetSpec]:
    return [
        spec
        for spec in request.specs
        if isinstance(spec, SetSpec) and (spec.class_id, spec.attribute_id) in ACTIVATION_ATTRIBUTES
    ]


def due_time(request: AccessRequest, now: int) -> int:
    """CANCEL, IMMEDIATE (no activation date in the future) or the latest activation time."""
    latest = IMMEDIATE
    for spec, data in zip(request.specs, request.data, strict=False):
        if not isinstance(spec, SetSpec) or (spec.class_id, spec.attribute_id) not in (
            ACTIVATION_ATTRIBUTES
        ):
            continue
        if isinstance(data, OctetString) and data.value[:9] == b"\xff" * 9:
            return CANCEL
        when = time_value(data)
        if when is not None and when > now:
            latest = max(latest, when)
    return latest


def reference(message_code: int, counter: int, spec: SetSpec) -> bytes:
    """The 19-byte executed-command reference of a 0x00CC alert."""
    return (
        message_code.to_bytes(2, "big")
        + counter.to_bytes(8, "big")
        + spec.class_id.to_bytes(2, "big")
        + spec.instance.code
        + bytes([spec.attribute_id])
    )
