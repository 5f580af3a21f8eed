"""The simulated electricity meter (ESME) and the auxiliary load control switch behind it."""

from smetsnet.devices.esme.auxiliary import Hcalcs
from smetsnet.devices.esme.meter import Esme
from smetsnet.devices.esme.state import EsmeState

__all__ = ["Esme", "EsmeState", "Hcalcs"]
