"""Alert storm protection: the limit per device, code and window; what is held back is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.hub.alerts import EXEMPT, AlertThrottle

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
DEVICE, OTHER = bytes(8), bytes(7) + b"\x01"


def test_forwards_the_limit_then_holds_back_and_tells_the_count_next_window() -> None:
    throttle = AlertThrottle(limit=3, window=timedelta(hours=1))
    verdicts = [throttle.admit(DEVICE, 0x8F36, T0 + timedelta(minutes=i)) for i in range(8)]
    assert [v.forward for v in verdicts] == [True] * 3 + [False] * 5
    assert throttle.held_back == 5
    # another device and another code have windows of their own
    assert throttle.admit(OTHER, 0x8F36, T0 + timedelta(minutes=9)).forward
    assert throttle.admit(DEVICE, 0x8F35, T0 + timedelta(minutes=9)).forward
    after = throttle.admit(DEVICE, 0x8F36, T0 + timedelta(hours=1))
    assert after.forward and after.held_back == 5 and after.sequence_id == 1
    plain = throttle.admit(DEVICE, 0x8F36, T0 + timedelta(hours=1, minutes=1))
    assert plain.forward and plain.held_back is None


@pytest.mark.parametrize("code", sorted(EXEMPT))
def test_security_alerts_are_never_held_back(code: int) -> None:
    throttle = AlertThrottle(limit=1)
    assert all(throttle.admit(DEVICE, code, T0 + timedelta(seconds=i)).forward for i in range(20))


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AlertThrottle(limit=0)
