"""Counter check-and-advance is atomic across processes: exactly one winner per value.

Eight real processes (spawned, each with its own connection) race on the same (device, party):
for each counter value 1..N they all meet at a barrier, then all submit that value at once, as
replayed copies of one request would arrive. Exactly one of them may win each value; the others
must be rejected as replays. Run on both back-ends.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from smetsnet.inventory import CounterRejected, Inventory
from tests.store.backends import Backend

WORKERS = 8
VALUES = 60
DEVICE = bytes.fromhex("00db1234567890a0")
PARTY = bytes.fromhex("90b3d51f30010000")


def _race(
    backend: Backend, barrier: Barrier, results: Queue[tuple[int, list[int]]], n: int
) -> None:
    store = backend.open()
    inventory = Inventory(store)
    won = []
    try:
        for value in range(1, VALUES + 1):
            barrier.wait(timeout=60)
            try:
                inventory.accept_counter(DEVICE, PARTY, value)
            except CounterRejected:
                continue
            won.append(value)
    finally:
        store.close()
        results.put((n, won))


def test_exactly_one_process_wins_each_counter(backend: Backend) -> None:
    backend.open().close()  # migrate once, before the race
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results: Queue[tuple[int, list[int]]] = ctx.Queue()
    workers = [
        ctx.Process(target=_race, args=(backend, barrier, results, n)) for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    won = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    winners = sorted(v for values in won.values() for v in values)
    assert winners == list(range(1, VALUES + 1))  # each value won once, none lost by all
    assert sum(1 for values in won.values() if values) >= 2  # the wins are shared: a real race
    store = backend.open()
    try:
        state = store.counter(DEVICE, PARTY)
        assert state is not None and state.last == VALUES
    finally:
        store.close()
