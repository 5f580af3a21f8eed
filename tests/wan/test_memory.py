"""The in-memory WAN: ordering, determinism, loss/duplication rates, down premises, answers,
the in-flight bound and statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.devices.premises import Premises
from smetsnet.errors import ConfigurationError, SmetsnetError
from smetsnet.wan import (
    DEFAULT_PROFILES,
    Delivery,
    Direction,
    Endpoint,
    InMemoryWan,
    LinkProfile,
    PremisesSide,
    Technology,
    Transport,
    UnknownCommsHub,
    WanError,
    WanQueueFull,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CHUB = bytes.fromhex("00DB1234567890A1")
CHUB2 = bytes.fromhex("00DB1234567890A2")
FAR = T0 + timedelta(days=1)


class Echo:
    """A premises that answers every message with one response and records what arrived."""

    def __init__(self, answers: int = 1) -> None:
        self.received: list[tuple[bytes, datetime]] = []
        self.answers = answers

    def __call__(self, wire: bytes, now: datetime) -> list[bytes]:
        self.received.append((wire, now))
        return [b"re%d:" % i + wire for i in range(self.answers)]


def fixed(latency_s: float, **kw: float) -> LinkProfile:
    return LinkProfile(median_s=latency_s, p99_s=latency_s, **kw)


def wan_with(profile: LinkProfile, *, seed: int = 1, limit: int = 1_000_000) -> InMemoryWan:
    return InMemoryWan(seed=seed, profiles={Technology.CELLULAR: profile}, max_in_flight=limit)


def _premises_is_an_endpoint(premises: Premises) -> Endpoint:
    """Checked by mypy: a simulated premises plugs straight into the WAN."""
    return premises.deliver


def test_in_memory_wan_is_a_transport() -> None:
    wan: Transport = InMemoryWan()
    side: PremisesSide = InMemoryWan()
    assert side.emit is not None
    assert wan.next_due() is None
    assert wan.advance(T0) == []


def test_answers_travel_back_with_the_link_latency() -> None:
    wan = wan_with(fixed(2.0))
    echo = Echo(answers=2)
    wan.attach(CHUB, echo, Technology.CELLULAR)
    wan.send(CHUB, b"cmd", T0)
    assert wan.next_due() == T0 + timedelta(seconds=2)
    assert wan.advance(T0 + timedelta(seconds=3.9)) == []
    assert echo.received == [(b"cmd", T0 + timedelta(seconds=2))]  # handed over on arrival
    got = wan.advance(T0 + timedelta(seconds=4))
    assert [d.message.wire for d in got] == [b"re0:cmd", b"re1:cmd"]  # response, then alerts
    for d in got:
        assert d.message.direction is Direction.UP and d.message.chub == CHUB
        assert d.message.sent_at == T0 + timedelta(seconds=2)
        assert d.delivered_at == T0 + timedelta(seconds=4)
        assert d.latency_s == 2.0 and d.technology is Technology.CELLULAR and not d.duplicate
    assert wan.in_flight == 0 and wan.next_due() is None


def test_one_advance_runs_the_whole_round_trip_in_time_order() -> None:
    wan = InMemoryWan(seed=7)
    wan.attach(CHUB, Echo(), Technology.MESH)
    wan.attach(CHUB2, Echo(), Technology.CELLULAR)
    for i in range(200):
        wan.send(CHUB if i % 2 else CHUB2, b"%d" % i, T0 + timedelta(seconds=i / 10))
    got = wan.advance(FAR)
    assert len(got) == 200
    times = [d.delivered_at for d in got]
    assert times == sorted(times)
    # Latencies vary, so arrival order differs from send order: the heap really sorts.
    assert [d.message.wire for d in got] != [b"re0:%d" % i for i in range(200)]
    assert {d.technology for d in got if d.message.chub == CHUB} == {Technology.MESH}


def test_equal_arrival_times_keep_send_order() -> None:
    wan = wan_with(fixed(1.0))
    wan.attach(CHUB, Echo(), Technology.CELLULAR)
    for i in range(5):
        wan.send(CHUB, b"%d" % i, T0)
    assert [d.message.wire for d in wan.advance(FAR)] == [b"re0:%d" % i for i in range(5)]


def _run(seed: int) -> list[tuple[bytes, datetime, bool]]:
    wan = InMemoryWan(
        seed=seed,
        profiles={Technology.CELLULAR: LinkProfile(median_s=1, p99_s=5, loss=0.1, duplicate=0.1)},
    )
    wan.attach(CHUB, Echo(), Technology.CELLULAR)
    for i in range(300):
        wan.send(CHUB, b"%d" % i, T0 + timedelta(seconds=i))
    return [(d.message.wire, d.delivered_at, d.duplicate) for d in wan.advance(FAR)]


def test_same_seed_same_run_other_seed_other_run() -> None:
    assert _run(3) == _run(3)
    assert _run(3) != _run(4)


def test_technologies_draw_from_independent_streams() -> None:
    """Traffic on mesh does not change what happens on cellular."""

    def cellular_times(with_mesh: bool) -> list[datetime]:
        wan = InMemoryWan(seed=5)
        wan.attach(CHUB, Echo(), Technology.CELLULAR)
        wan.attach(CHUB2, Echo(), Technology.MESH)
        for _ in range(50):
            if with_mesh:
                wan.send(CHUB2, b"m", T0)
            wan.send(CHUB, b"c", T0)
        return [d.delivered_at for d in wan.advance(FAR) if d.message.chub == CHUB]

    assert cellular_times(True) == cellular_times(False)


@pytest.mark.parametrize("seed", [1, 2])
def test_loss_and_duplicate_rates_within_tolerance(seed: int) -> None:
    n = 20_000
    wan = wan_with(LinkProfile(median_s=1, p99_s=4, loss=0.1, duplicate=0.05), seed=seed)
    wan.attach(CHUB, lambda wire, now: [], Technology.CELLULAR)  # one-way: count legs down only
    for i in range(n):
        wan.send(CHUB, b"x", T0 + timedelta(milliseconds=i))
    wan.advance(FAR)
    s = wan.stats(Technology.CELLULAR)
    assert s.sent == n
    # Binomial standard deviations: loss ≈ 0.0021, duplicates (of the 90% kept) ≈ 0.0016.
    assert abs(s.lost / n - 0.1) < 0.01
    assert abs(s.duplicated / (n - s.lost) - 0.05) < 0.008
    assert s.delivered == n - s.lost + s.duplicated


def test_duplicates_reach_the_premises_twice() -> None:
    wan = wan_with(fixed(1.0, duplicate=1.0))
    echo = Echo(answers=0)
    wan.attach(CHUB, echo, Technology.CELLULAR)
    wan.send(CHUB, b"cmd", T0)
    wan.advance(FAR)
    assert [w for w, _ in echo.received] == [b"cmd", b"cmd"]


def test_latency_follows_the_profile() -> None:
    profile = LinkProfile(median_s=2.0, p99_s=8.0)
    wan = wan_with(profile)
    # One message per comms hub: a link keeps order, so messages queued behind each other on
    # one hub would measure the queue, not the link.
    for i in range(20_000):
        chub = i.to_bytes(8, "big")
        wan.attach(chub, lambda wire, now: [], Technology.CELLULAR)
        wan.send(chub, b"x", T0)
    wan.advance(FAR)
    s = wan.stats(Technology.CELLULAR)
    assert s.latency_p50_s == pytest.approx(2.0, rel=0.05)
    assert s.latency_p99_s == pytest.approx(8.0, rel=0.15)
    assert s.latency_p50_s is not None and s.latency_p90_s is not None
    assert s.latency_p99_s is not None
    assert s.latency_p50_s < s.latency_p90_s < s.latency_p99_s


def test_a_premises_that_is_down_gets_nothing() -> None:
    wan = wan_with(fixed(1.0))
    echo = Echo()
    wan.attach(CHUB, echo, Technology.CELLULAR)
    wan.set_down(CHUB)
    assert not wan.is_reachable(CHUB)
    wan.send(CHUB, b"a", T0)
    wan.emit(CHUB, b"alert", T0)  # a switched-off comms hub sends nothing either
    assert wan.advance(FAR) == []
    assert echo.received == []
    s = wan.stats(Technology.CELLULAR)
    assert (s.sent, s.delivered, s.unreachable) == (2, 0, 2)
    wan.set_down(CHUB, down=False)
    wan.send(CHUB, b"b", FAR)
    assert [d.message.wire for d in wan.advance(FAR + timedelta(seconds=2))] == [b"re0:b"]


def test_down_is_judged_on_arrival_and_detach_loses_messages() -> None:
    wan = wan_with(fixed(10.0))
    echo = Echo()
    wan.attach(CHUB, echo, Technology.CELLULAR)
    wan.send(CHUB, b"a", T0)
    wan.set_down(CHUB)  # switched off while the message is on its way
    wan.advance(T0 + timedelta(seconds=30))
    wan.set_down(CHUB, down=False)
    wan.detach(CHUB)
    wan.send(CHUB, b"b", T0 + timedelta(seconds=30))
    assert wan.advance(FAR) == []
    assert echo.received == []
    assert wan.stats(Technology.CELLULAR).unreachable == 2
    wan.attach(CHUB, echo, Technology.CELLULAR)  # re-attached: reachable again
    assert wan.is_reachable(CHUB)


def test_emit_carries_alerts_to_the_hub() -> None:
    wan = wan_with(fixed(1.5))
    wan.attach(CHUB, Echo(), Technology.CELLULAR)
    wan.emit(CHUB, b"alert", T0)
    (d,) = wan.advance(FAR)
    assert (d.message.wire, d.message.direction, d.delivered_at) == (
        b"alert",
        Direction.UP,
        T0 + timedelta(seconds=1.5),
    )


def test_the_in_flight_queue_is_bounded() -> None:
    wan = wan_with(fixed(1.0), limit=3)
    wan.attach(CHUB, Echo(), Technology.CELLULAR)
    for _ in range(3):
        wan.send(CHUB, b"x", T0)
    with pytest.raises(WanQueueFull, match="full \\(3 messages\\)") as caught:
        wan.send(CHUB, b"y", T0)
    assert caught.value.limit == 3 and isinstance(caught.value, WanError)
    assert wan.stats(Technology.CELLULAR).sent == 3  # the refused message was never sent
    # Answers that find the queue full are dropped and counted, never raised inside advance().
    wan.advance(T0 + timedelta(seconds=1))
    assert wan.in_flight == 3
    got = wan.advance(FAR)
    assert len(got) == 3 and wan.in_flight == 0
    wan.send(CHUB, b"z", FAR)  # room again
    assert wan.stats(Technology.CELLULAR).overflowed == 0


def test_answers_overflow_when_the_queue_is_full() -> None:
    wan = wan_with(fixed(1.0), limit=2)
    wan.attach(CHUB, Echo(answers=3), Technology.CELLULAR)
    wan.send(CHUB, b"x", T0)
    got = wan.advance(FAR)
    assert [d.message.wire for d in got] == [b"re0:x", b"re1:x"]
    s = wan.stats(Technology.CELLULAR)
    assert (s.sent, s.delivered, s.overflowed) == (4, 3, 1)


def test_statistics_per_technology() -> None:
    wan = InMemoryWan(
        seed=2,
        profiles={
            Technology.CELLULAR: fixed(1.0),
            Technology.MESH: fixed(3.0, loss=1.0),
        },
    )
    wan.attach(CHUB, Echo(), Technology.CELLULAR)
    wan.attach(CHUB2, Echo(), Technology.MESH)
    for _ in range(4):
        wan.send(CHUB, b"x", T0)
        wan.send(CHUB2, b"x", T0)
    wan.advance(FAR)
    stats = wan.statistics()
    cell, radio, mesh = (stats[t] for t in Technology)
    assert (cell.sent, cell.delivered, cell.lost) == (8, 8, 0)  # 4 down + 4 answers up
    assert cell.latency_p50_s == cell.latency_p99_s == 1.0
    assert (mesh.sent, mesh.delivered, mesh.lost, mesh.latency_p50_s) == (4, 0, 4, None)
    assert radio.sent == 0 and radio.technology is Technology.LONG_RANGE_RADIO


def test_unknown_comms_hub_and_bad_input_are_errors() -> None:
    wan = InMemoryWan()
    with pytest.raises(UnknownCommsHub, match="00-DB-12-34-56-78-90-A1"):
        wan.send(CHUB, b"x", T0)
    with pytest.raises(UnknownCommsHub):
        wan.set_down(CHUB)
    with pytest.raises(WanError, match="8 bytes"):
        wan.attach(b"\x01", Echo(), Technology.MESH)
    with pytest.raises(WanError, match="max_in_flight"):
        InMemoryWan(max_in_flight=0)
    wan.attach(CHUB, Echo(), Technology.MESH)
    wan.advance(T0 + timedelta(seconds=5))
    with pytest.raises(WanError, match="time went backwards"):
        wan.send(CHUB, b"x", T0)
    assert issubclass(WanError, SmetsnetError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"median_s": 0.0, "p99_s": 1.0},
        {"median_s": 2.0, "p99_s": 1.0},
        {"median_s": 1.0, "p99_s": float("inf")},
        {"median_s": 1.0, "p99_s": 2.0, "loss": 1.5},
        {"median_s": 1.0, "p99_s": 2.0, "duplicate": -0.1},
    ],
)
def test_link_profiles_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        LinkProfile(**kwargs)


def test_default_profiles_keep_a_round_trip_inside_rtt4() -> None:
    """Two p99 legs stay under the CSP round-trip target RTT4 ≤ 25 s (DOMAIN.md §8)."""
    assert set(DEFAULT_PROFILES) == set(Technology)
    for profile in DEFAULT_PROFILES.values():
        assert 2 * profile.p99_s <= 25.0
        assert profile.loss == profile.duplicate == 0.0


def test_delivery_is_frozen() -> None:
    wan = wan_with(fixed(1.0))
    wan.attach(CHUB, Echo(), Technology.CELLULAR)
    wan.emit(CHUB, b"a", T0)
    (d,) = wan.advance(FAR)
    assert isinstance(d, Delivery)
    with pytest.raises(AttributeError):
        d.duplicate = True  # type: ignore[misc]


def test_a_link_keeps_order_per_direction() -> None:
    wan = wan_with(LinkProfile(median_s=1.0, p99_s=20.0))
    echo = Echo()
    wan.attach(CHUB, echo, Technology.CELLULAR)
    for i in range(200):
        wan.send(CHUB, i.to_bytes(2, "big"), T0)
    wan.advance(FAR)
    assert [int.from_bytes(w, "big") for w, _ in echo.received] == list(range(200))
