"""The simulated gas meter (GSME), gas proxy function (GPF) and a gas premises around them."""

from smetsnet.devices.gas.meter import QUEUE_CAPACITY, Gpf, Gsme
from smetsnet.devices.gas.premises import GasPremises
from smetsnet.devices.gas.state import GsmeState

__all__ = ["QUEUE_CAPACITY", "GasPremises", "Gpf", "Gsme", "GsmeState"]
