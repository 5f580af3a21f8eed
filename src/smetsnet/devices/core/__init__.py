"""Device core: identity, keys, trust anchors, anti-replay, GBCS checks and alerts."""

from smetsnet.devices.core.device import Alert, Execution, Outcome, Rejected, SimulatedDevice
from smetsnet.devices.core.keys import (
    AnchorCell,
    DeviceKeys,
    Identity,
    Role,
    TrustAnchor,
    TrustAnchors,
)
from smetsnet.devices.core.protection import DeviceProtection

__all__ = [
    "Alert",
    "AnchorCell",
    "DeviceKeys",
    "DeviceProtection",
    "Execution",
    "Identity",
    "Outcome",
    "Rejected",
    "Role",
    "SimulatedDevice",
    "TrustAnchor",
    "TrustAnchors",
]
