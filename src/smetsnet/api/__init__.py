"""The HTTP edge of the hub: DUIS and SMKI web services (a drop-in for DCC Boxed) and the
delivery of the hub's outbox to users' response URLs."""

from smetsnet.api.app import create_app
from smetsnet.api.delivery import CallMode, DeliverySettings, DeliveryStats, HubCaller, OutboxPump

__all__ = [
    "CallMode",
    "DeliverySettings",
    "DeliveryStats",
    "HubCaller",
    "OutboxPump",
    "create_app",
]
