"""The hub: the DUIS request lifecycle (access control first; see ``access``).

``build_service`` is what ``smetsnet serve`` runs; it is imported from ``smetsnet.hub.build``
on first use, so importing the package stays light.
"""

from typing import Any

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


def __getattr__(name: str) -> Any:
    if name == "build_service":
        from smetsnet.hub.build import build_service

        return build_service
    raise AttributeError(name)
