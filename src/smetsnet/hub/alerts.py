"""Alert storm protection: the hub forwards at most ``limit`` alerts of one code from one device
per window; the rest are counted, and the next alert forwarded says how many were held back
(DUIS ``ThrottledAlertSequenceId``/``ThrottledAlertCount``, DOMAIN.md §1.6; SECMP0062 brought
throttling in, and its Traffic Management Mechanism Document lists codes never throttled).

Exempt codes here are the security-critical ones our devices raise: a failed authentication or
anti-replay check, and tamper (GBCS alerts 0x8F1E, 0x8F30, 0x8F3D, 0x8F3F).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

EXEMPT = frozenset({0x8F1E, 0x8F30, 0x8F3D, 0x8F3F})


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    forward: bool
    sequence_id: int | None = None  # set on the first alert forwarded after some were held
    held_back: int | None = None


@dataclass(slots=True)
class _Window:
    started: datetime
    forwarded: int = 0
    held: int = 0


class AlertThrottle:
    """Per (device, alert code): ``limit`` alerts forwarded per ``window``, the rest held."""

    def __init__(self, *, limit: int = 10, window: timedelta = timedelta(hours=1)) -> None:
        if limit < 1:
            raise ValueError(f"alert throttle limit must be at least 1, not {limit}")
        self.limit = limit
        self.window = window
        self._windows: dict[tuple[bytes, int], _Window] = {}
        self._sequence = 0
        self.held_back = 0

    def admit(self, device: bytes, code: int, now: datetime) -> Admission:
        if code in EXEMPT:
            return Admission(forward=True)
        key = (device, code)
        state = self._windows.get(key)
        if state is None or now - state.started >= self.window:
            held = state.held if state is not None else 0
            self._windows[key] = _Window(started=now, forwarded=1)
            return self._forward(held)
        if state.forwarded >= self.limit:
            state.held += 1
            self.held_back += 1
            return Admission(forward=False)
        state.forwarded += 1
        return Admission(forward=True)

    def _forward(self, held: int) -> Admission:
        if not held:
            return Admission(forward=True)
        self._sequence += 1
        return Admission(forward=True, sequence_id=self._sequence, held_back=held)
