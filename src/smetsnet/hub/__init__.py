"""The hub: the DUIS request lifecycle (access control first; see ``access``)."""

from smetsnet.hub.access import Accepted, AccessControl, ReplayedRequest, SignatureRejected
from smetsnet.hub.audit import AuditEntry, AuditLog, Check, Outcome

__all__ = [
    "Accepted",
    "AccessControl",
    "AuditEntry",
    "AuditLog",
    "Check",
    "Outcome",
    "ReplayedRequest",
    "SignatureRejected",
]
