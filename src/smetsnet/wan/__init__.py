"""The WAN between the hub and the premises' comms hubs (DESIGN.md ``wan/``).

:class:`Transport` is what the hub depends on; :class:`InMemoryWan` is the default, a seeded
discrete-event simulation with per-technology latency, loss and duplication
(:class:`LinkProfile`). A message-bus transport (NATS JetStream) can implement the same protocol.
"""

from smetsnet.wan.errors import UnknownCommsHub, WanError, WanQueueFull
from smetsnet.wan.link import DEFAULT_PROFILES, LinkProfile, Technology
from smetsnet.wan.memory import InMemoryWan
from smetsnet.wan.stats import LinkStats
from smetsnet.wan.transport import Delivery, Direction, Endpoint, Message, PremisesSide, Transport

__all__ = [
    "DEFAULT_PROFILES",
    "Delivery",
    "Direction",
    "Endpoint",
    "InMemoryWan",
    "LinkProfile",
    "LinkStats",
    "Message",
    "PremisesSide",
    "Technology",
    "Transport",
    "UnknownCommsHub",
    "WanError",
    "WanQueueFull",
]
