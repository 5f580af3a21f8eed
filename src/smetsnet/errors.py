"""The one exception tree of smetsnet.

Every error smetsnet raises on purpose is a :class:`SmetsnetError`; errors of other libraries
(cryptography, lxml, sqlite3, ...) are translated into one of these at the edge that calls them.

::

    SmetsnetError
    ├── GbcsError                    anything about a GBCS message
    │   ├── GbcsDecodeError          bytes that are not a valid GBCS message (offset + field)
    │   │   └── GbtReassemblyError   GBT blocks that do not make one message (gbcs.gbt)
    │   ├── GbcsEncodeError          typed fields that cannot be written as GBCS (field)
    │   └── GbcsSecurityError        keys missing or unusable, a protection that cannot be made
    │       └── GbcsKeyNotFound      the key store has no such key
    ├── SmkiError                    certificates (smetsnet.smki.errors)
    │   ├── CertificateProfileError  a certificate not of the GB profile (names the field)
    │   └── PathValidationError      no valid path to a trusted root
    │       ├── CertificateExpired   outside its validity at the time asked
    │       └── CertificateRevoked   on its CA's revocation list
    ├── InventoryError               devices, premises, users, registrations, counters
    │                                (smetsnet.inventory.errors: IllegalTransition,
    │                                RegistrationConflict, CounterRejected, NotFound, …)
    └── ConfigurationError           bad settings, a bad key-store folder, a bad command line

The branches of SMKI and the inventory are defined in their own packages (their modules draw
them in full); this module holds the root and the protocol (GBCS) errors every package uses.

Verification outcomes ("valid", "invalid", "absent", "no-key") are *results*, not exceptions:
a tampered message is a normal thing for a network to receive.
"""

from __future__ import annotations


class SmetsnetError(Exception):
    """Root of every error that smetsnet raises on purpose."""


class GbcsError(SmetsnetError):
    """Something about a GBCS message."""


class GbcsDecodeError(GbcsError):
    """The bytes are not a valid GBCS message.

    ``offset`` is the byte offset in the whole message (or in the buffer given to the decoder)
    where the problem was found; ``field`` names the field being read there.
    """

    def __init__(self, offset: int, field: str, reason: str) -> None:
        self.offset = offset
        self.field = field
        self.reason = reason
        super().__init__(f"at offset {offset} ({field}): {reason}")


class GbcsEncodeError(GbcsError):
    """Typed fields that cannot be encoded (a value out of range, a missing part)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class GbcsSecurityError(GbcsError):
    """A protection (signature, MAC, encryption) cannot be made or checked with the keys given."""


class GbcsKeyNotFound(GbcsSecurityError):
    """The key store holds no such key."""


class ConfigurationError(SmetsnetError):
    """Bad settings, a bad key-store folder or a bad command-line argument."""
