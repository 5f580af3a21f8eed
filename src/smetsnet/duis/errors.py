"""The DUIS branch of the smetsnet error tree.

::

    SmetsnetError
    └── DuisError                       a DUIS message (``reason``, ``response_code``)
        ├── DuisXmlError                bytes that are not acceptable XML (no DUIS code: the request
        │   │                           never became a DUIS request; the endpoint answers HTTP 400)
        │   ├── DuisXmlForbidden        a DTD, entity declaration or reference (XXE, billion laughs)
        │   └── DuisXmlTooLarge         more bytes than the configured limit
        ├── DuisSchemaError             well-formed XML that is not a DUIS message of XSD V5.4 shape
        │                               (wrong root, bad RequestID, unknown body, XSD failure)
        └── DuisRejected                a valid request the hub refuses; ``response_code`` is the
            │                           DUIS code of SEC Appendix AD (SR-CATALOGUE.md §3)
            ├── UnknownUser             E1  user/role is not a valid SEC party and role
            ├── RoleNotEligible         E2  the role may not send this service request
            ├── UserStatusForbids       E3  the user's status forbids the request
            ├── NotAuthorisedForDevice  E4  role not registered for the device's MPxN at that time
            ├── DeviceStatusForbids     E5  the device's SMI status does not allow the request
            ├── DeviceTypeMismatch      E11 SR not valid for the device type
            ├── CommandVariantInvalid   E12 command variant not valid for the SR
            ├── WrongEndpoint           E13 request type not valid for the URL it was sent to
            ├── LocalDeliveryForbidden  E17 local delivery not allowed for this role/device status
            ├── UnknownDevice           E19 the device does not exist
            ├── DeviceUnreachable       E20 the DCC cannot communicate with the device
            ├── NoDeviceResponse        E21 the device did not answer
            └── FutureDatedTimeout      E30 a future-dated command timed out

Codes without a sourced meaning (E31, E40-E71, E100, E1000+) get no class; raise
``DuisRejected(reason, response_code="E…")`` for them.
"""

from __future__ import annotations

from smetsnet.errors import SmetsnetError


class DuisError(SmetsnetError):
    """Something about a DUIS message; ``response_code`` is the DUIS code it maps to, if any."""

    response_code: str | None = None

    def __init__(self, reason: str, *, response_code: str | None = None) -> None:
        self.reason = reason
        if response_code is not None:
            self.response_code = response_code
        prefix = f"{self.response_code}: " if self.response_code else ""
        super().__init__(prefix + reason)


class DuisXmlError(DuisError):
    """The bytes are not well-formed XML (or not XML we accept at all)."""


class DuisXmlForbidden(DuisXmlError):
    """A DTD or entity: refused outright, since DUIS never needs one (XXE, entity expansion)."""


class DuisXmlTooLarge(DuisXmlError):
    """The document is larger than the parser's limit."""


class DuisSchemaError(DuisError):
    """Well-formed XML that is not a DUIS message of the V5.4 shape."""


class DuisRejected(DuisError):
    """A request refused by the hub's checks; the code is what the user is answered."""


class UnknownUser(DuisRejected):
    response_code = "E1"


class RoleNotEligible(DuisRejected):
    response_code = "E2"


class UserStatusForbids(DuisRejected):
    response_code = "E3"


class NotAuthorisedForDevice(DuisRejected):
    response_code = "E4"


class DeviceStatusForbids(DuisRejected):
    response_code = "E5"


class DeviceTypeMismatch(DuisRejected):
    response_code = "E11"


class CommandVariantInvalid(DuisRejected):
    response_code = "E12"


class WrongEndpoint(DuisRejected):
    response_code = "E13"


class LocalDeliveryForbidden(DuisRejected):
    response_code = "E17"


class UnknownDevice(DuisRejected):
    response_code = "E19"


class DeviceUnreachable(DuisRejected):
    response_code = "E20"


class NoDeviceResponse(DuisRejected):
    response_code = "E21"


class FutureDatedTimeout(DuisRejected):
    response_code = "E30"
