"""The outbox's durability with grouped writes: what a step put is committed when the step
ends, a delivery is written before the outbox is next read, and nothing is lost on restart."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smetsnet.hub.outbox import Outbox

START = datetime(2026, 1, 1, 12, tzinfo=UTC)
USER = bytes.fromhex("90B3D51F30010000")
URL = "http://u.invalid/"


def _rows(path: Path) -> list[tuple[int, bytes]]:
    """What another process opening the file sees (committed rows only)."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT id, body FROM outbox ORDER BY id").fetchall()


def test_a_batch_commits_its_writes_together_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    with box.batch():
        ids = [box.put(USER, URL, f"<m{i}/>".encode(), START) for i in range(3)]
        # A lone write commits by itself; from the second on they wait for the batch's end.
        assert _rows(path) == [(ids[0], b"<m0/>")]
    assert _rows(path) == [(i, f"<m{k}/>".encode()) for k, i in enumerate(ids)]
    with box.batch():
        pass  # an empty batch writes nothing
    box.close()


def test_a_failing_step_keeps_what_it_put(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    put: list[int] = []

    def step() -> None:
        with box.batch():
            put.append(box.put(USER, URL, b"<a/>", START))
            put.append(box.put(USER, URL, b"<b/>", START))
            raise RuntimeError("the step failed after the puts")

    with pytest.raises(RuntimeError):
        step()
    assert _rows(path) == [(put[0], b"<a/>"), (put[1], b"<b/>")]
    box.close()


def test_deliveries_are_written_before_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    ids = [box.put(USER, URL, f"<m{i}/>".encode(), START) for i in range(3)]
    handed = box.due(START, 2)
    assert [m.id for m in handed] == ids[:2]
    for message in handed:
        box.delivered(message.id)
    assert len(box) == 1
    assert _rows(path) == [(ids[2], b"<m2/>")]
    (last,) = box.due(START)
    assert last.id == ids[2]
    box.close()


def test_a_delivered_message_is_never_handed_out_again(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite", lease_s=1)
    sent = box.put(USER, URL, b"<a/>", START)
    (message,) = box.due(START)
    box.delivered(message.id)
    assert box.due(START + timedelta(seconds=5)) == []  # lease over: still gone
    assert box.next_due() is None
    assert sent == message.id
    box.close()


def test_close_writes_pending_deliveries(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    kept = box.put(USER, URL, b"<kept/>", START)
    gone = box.put(USER, URL, b"<gone/>", START)
    box.due(START)
    box.delivered(gone)
    box.close()
    again = Outbox(path)
    assert len(again) == 1
    (message,) = again.due(START + timedelta(minutes=5))  # after the lease
    assert message.id == kept
    again.close()


def test_an_unwritten_delivery_is_delivered_again_not_lost(tmp_path: Path) -> None:
    """A crash between the report and the next read: the message comes back after its lease
    (at least once), as a message whose delivery the edge never reported."""
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path, lease_s=1)
    put = box.put(USER, URL, b"<a/>", START)
    box.due(START)
    box.delivered(put)
    crashed_view = Outbox(path, lease_s=1)  # a new process on the same file
    (again,) = crashed_view.due(START + timedelta(seconds=2))
    assert again.id == put and again.body == b"<a/>"
    crashed_view.close()
    box.close()


def test_a_lease_of_several_messages_is_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    for i in range(5):
        box.put(USER, URL, f"<m{i}/>".encode(), START)
    assert len(box.due(START, 4)) == 4
    other = Outbox(path)
    assert [m.body for m in other.due(START)] == [b"<m4/>"]  # the other four are leased
    other.close()
    box.close()


def test_a_failure_reported_after_a_noted_delivery(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    first = box.put(USER, URL, b"<a/>", START)
    second = box.put(USER, URL, b"<b/>", START)
    box.due(START)
    box.delivered(first)
    box.failed(second, START, "HTTP 503")
    assert len(box) == 1
    (retry,) = box.due(START + timedelta(seconds=1))
    assert retry.id == second and retry.attempts == 1
    box.close()
