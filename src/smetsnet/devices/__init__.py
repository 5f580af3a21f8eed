"""Simulated SMETS2 devices that speak GBCS (issue 4): core checks and the ESME."""

from smetsnet.devices.core import (
    Alert,
    DeviceKeys,
    Execution,
    Outcome,
    Role,
    SimulatedDevice,
    TrustAnchor,
    TrustAnchors,
)
from smetsnet.devices.esme import Esme, EsmeState

__all__ = [
    "Alert",
    "DeviceKeys",
    "Esme",
    "EsmeState",
    "Execution",
    "Outcome",
    "Role",
    "SimulatedDevice",
    "TrustAnchor",
    "TrustAnchors",
]
