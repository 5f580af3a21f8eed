"""DUIS service request → GBCS command (sans-I/O): what the DCC's translation does.

One *translator* per (SR variant, device type) turns a request's body into the typed GBCS payload
of the use case GBCS assigns it, plus the grouping-header fields the body decides (message code,
future-dated execution date-time, supplementary remote party, ...). The hub adds what the request
header decides (originator = the user, recipient = the target device, counter = the DUIS counter)
and the protection (``smetsnet.gbcs.builders``).

Translators live in the modules imported at the bottom, grouped by payload family; each registers
itself with :func:`translator`. :func:`translate` finds and runs one; :func:`supported` lists what
is covered. A body value that cannot be expressed in GBCS raises
:class:`~smetsnet.duis.errors.DuisSchemaError` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from smetsnet.duis import Request, RequestBody
from smetsnet.errors import SmetsnetError
from smetsnet.gbcs.codec import Payload
from smetsnet.inventory.model import DeviceType


class NotTranslatable(SmetsnetError):
    """No translator for this SR variant and device type (the hub cannot carry it out)."""

    def __init__(self, srv: str, device_type: DeviceType) -> None:
        self.srv, self.device_type = srv, device_type
        super().__init__(f"no GBCS translation for SR {srv} to a {device_type.name}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a translator may need besides the body."""

    srv: str
    target: bytes  # the device's EUI (the GBCS recipient)
    device_type: DeviceType
    originator: bytes  # the user's EUI (the GBCS originator, unless the translator says so)
    counter: int  # the DUIS counter (the GBCS originator counter)
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A translated request: the typed payload and the grouping-header fields the body decides.

    ``date_time`` is the GBCS execution date-time (12 bytes, DLMS date-time layout as the codec
    writes it) for a device-held future-dated command, empty otherwise. The other optional
    fields map one-to-one to :func:`smetsnet.gbcs.builders.build_message` arguments.

    Commands the DCC sends in its own name: either the translator reserved a DCC party's
    counter (``translate.asn1.HubState.originator_counter``: that party originates with that
    counter), or ``supplementary_remote_party_counter`` is set (the user and its DUIS counter are
    the supplementary remote party) and the ACB originates under a counter of its own.
    """

    use_case: str
    message_code: int
    payload: Payload
    date_time: bytes = b""
    supplementary_remote_party: bytes | None = None
    supplementary_remote_party_counter: int | None = None
    supplementary_originator_counter: int | None = None
    certificate: bytes | None = None


Translator = Callable[[RequestBody, Context], Command]
_REGISTRY: dict[tuple[str, DeviceType], Translator] = {}


def translator(srv: str, *device_types: DeviceType) -> Callable[[Translator], Translator]:
    """Register the decorated function for ``srv`` to each of ``device_types``."""

    def register(fn: Translator) -> Translator:
        for kind in device_types:
            key = (srv, kind)
            if key in _REGISTRY:
                raise ValueError(f"two translators for SR {srv} to {kind.name}")
            _REGISTRY[key] = fn
        return fn

    return register


def translate(request: Request, ctx: Context) -> Command:
    fn = _REGISTRY.get((ctx.srv, ctx.device_type))
    if fn is None:
        raise NotTranslatable(ctx.srv, ctx.device_type)
    return fn(request.body, ctx)


def supported() -> frozenset[tuple[str, DeviceType]]:
    """Every (SR variant, device type) with a translator."""
    return frozenset(_REGISTRY)


# The translator modules register themselves on import (kept last on purpose).
from smetsnet.hub.translate import (  # noqa: E402
    asn1,
    dlms_alcs,
    dlms_commands,
    dlms_reads,
    dlms_settings,
    dlms_tariffs,
    gbz,
    gbz_prepayment,
    gbz_settings,
    gbz_tariffs,
)

__all__ = [
    "Command",
    "Context",
    "NotTranslatable",
    "Translator",
    "asn1",
    "dlms_alcs",
    "dlms_commands",
    "dlms_reads",
    "dlms_settings",
    "dlms_tariffs",
    "gbz",
    "gbz_prepayment",
    "gbz_settings",
    "gbz_tariffs",
    "supported",
    "translate",
    "translator",
]
