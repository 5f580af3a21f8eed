"""The home area network: the comms hub function (CHF) and the consumer devices on it."""

from smetsnet.devices.han.consumer import Display, Ihd, Ppmid, TopUpResult
from smetsnet.devices.han.hub import CommsHub
from smetsnet.devices.han.log import HubState, LogEntry

__all__ = ["CommsHub", "Display", "HubState", "Ihd", "LogEntry", "Ppmid", "TopUpResult"]
