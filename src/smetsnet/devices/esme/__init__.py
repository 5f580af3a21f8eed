"""The simulated electricity meter (ESME)."""

from smetsnet.devices.esme.meter import Esme
from smetsnet.devices.esme.state import EsmeState

__all__ = ["Esme", "EsmeState"]
