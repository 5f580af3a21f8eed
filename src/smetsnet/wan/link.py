"""WAN technologies and their link profiles (latency distribution, loss, duplication).

GB's SM WAN has three kinds of link (DOMAIN.md §8): cellular (Telefónica/O2 2G/3G, Vodafone 4G in
Central and South), long-range radio (Arqiva's Sensus FlexNet at ~400 MHz in the North) and mesh
fill-in (where cellular is weak). Latency is lognormal, described by its median and 99th
percentile, because radio delays are positive with a long tail.

No public figure gives per-technology one-way latency. The defaults below are our own, chosen so
that a round trip (two one-way legs) stays well inside the CSP round-trip target RTT4 ≤ 25 s
(DOMAIN.md §8) at p99: cellular is fastest, FlexNet is a narrow-band licensed radio (slower), mesh
adds hops (slowest, widest tail). Defaults lose and duplicate nothing so that tests and the
simulator are exact unless asked otherwise; configure loss per technology where it matters.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import Enum

from smetsnet.errors import ConfigurationError

#: The standard normal quantile at 0.99: p99 = median · exp(Z99 · sigma) for a lognormal.
Z99 = 2.3263478740408408


class Technology(Enum):
    """The kind of WAN link a comms hub uses."""

    CELLULAR = "cellular"
    LONG_RANGE_RADIO = "long-range-radio"
    MESH = "mesh"


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkProfile:
    """One-way behaviour of a link: lognormal latency (median, p99, seconds), loss, duplication.

    ``loss`` and ``duplicate`` are per-message probabilities, applied independently to each leg
    (hub to premises, premises to hub). A duplicate is a second copy with its own latency.
    """

    median_s: float
    p99_s: float
    loss: float = 0.0
    duplicate: float = 0.0

    def __post_init__(self) -> None:
        if not (self.median_s > 0 and math.isfinite(self.median_s)):
            raise ConfigurationError(f"median_s must be a positive number, got {self.median_s}")
        if not (self.p99_s >= self.median_s and math.isfinite(self.p99_s)):
            raise ConfigurationError(f"p99_s must be finite and >= median_s, got {self.p99_s}")
        for name in ("loss", "duplicate"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ConfigurationError(f"{name} must be a probability in [0, 1], got {p}")

    @property
    def sigma(self) -> float:
        """The lognormal shape that puts the 99th percentile at ``p99_s``."""
        return math.log(self.p99_s / self.median_s) / Z99

    def sample_latency(self, rng: random.Random) -> float:
        """One one-way latency in seconds (the median exactly when p99 equals the median)."""
        sigma = self.sigma
        if sigma == 0.0:
            return self.median_s
        return rng.lognormvariate(math.log(self.median_s), sigma)


#: Our documented defaults (see the module docstring for why these numbers).
DEFAULT_PROFILES: dict[Technology, LinkProfile] = {
    Technology.CELLULAR: LinkProfile(median_s=0.5, p99_s=3.0),
    Technology.LONG_RANGE_RADIO: LinkProfile(median_s=2.0, p99_s=8.0),
    Technology.MESH: LinkProfile(median_s=3.0, p99_s=10.0),
}
