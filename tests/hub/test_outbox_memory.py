"""The in-memory outbox behaves as the SQLite one: the same ids, order, leases and backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from smetsnet.errors import ConfigurationError
from smetsnet.hub.outbox import Outbox
from smetsnet.hub.outbox_memory import MemoryOutbox

START = datetime(2026, 1, 1, 12, tzinfo=UTC)
USERS = [bytes([0x90, 0xB3, 0xD5, 0x1F, 0x30, k, 0, 0]) for k in range(1, 4)]


@pytest.mark.parametrize("seed", range(8))
def test_same_answers_as_the_sqlite_outbox(seed: int) -> None:
    rng = random.Random(seed)
    sql, memory = Outbox(lease_s=7.5), MemoryOutbox(lease_s=7.5)
    now, ids = START, []
    got: tuple[object, object]
    for step in range(400):
        now += timedelta(seconds=rng.choice((0, 0, 0.25, 1, 3, 20)))
        op = rng.random()
        if op < 0.35:
            user = rng.choice(USERS)
            url = None if rng.random() < 0.1 else f"http://u{user[5]}.invalid/"
            at = now + timedelta(seconds=rng.choice((0, 0, -1, 2)))
            body = f"<m{step}/>".encode()
            with sql.batch(), memory.batch():
                got = (sql.put(user, url, body, at), memory.put(user, url, body, at))
            ids.append(got[0])
        elif op < 0.6:
            limit = rng.choice((1, 2, 5, 100))
            got = (sql.due(now, limit), memory.due(now, limit))
        elif op < 0.75 and ids:
            outbound_id = rng.choice(ids)
            sql.delivered(outbound_id)
            memory.delivered(outbound_id)
            got = (len(sql), len(memory))
        elif op < 0.88 and ids:
            outbound_id = rng.choice(ids)
            sql.failed(outbound_id, now, "503")
            memory.failed(outbound_id, now, "503")
            got = (sql.next_due(), memory.next_due())
        elif op < 0.92:
            user = rng.choice(USERS)
            url = f"http://new{step}.invalid/"
            got = (sql.set_url(user, url), memory.set_url(user, url))
        else:
            got = (
                (sql.next_due(), len(sql), sql.waiting_without_url()),
                (memory.next_due(), len(memory), memory.waiting_without_url()),
            )
        assert got[0] == got[1], f"seed {seed}, step {step}"
    assert (sql.next_due(), len(sql)) == (memory.next_due(), len(memory))
    sql.close()
    memory.close()


def test_a_lease_must_be_positive() -> None:
    with pytest.raises(ConfigurationError):
        MemoryOutbox(lease_s=0)
