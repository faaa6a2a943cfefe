"""Notifications that wake a follower or a watch at once on PostgreSQL (a plain sleep on SQLite):
a stored log chunk, a job's and a submit's change of state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from butido_py.db import jobs, logs, submits
from butido_py.db.database import Database
from butido_py.db.notify import STATE_CHANNEL, log_channel, waiter
from butido_py.states import SubmitState
from tests.helpers.seed import jid, seed, sid

RUNNING = jid(9)


def woken_after(
    db: Database, channels: list[str], write: Callable[[], None], *, timeout: float = 10
) -> float:
    """Seconds a wait of up to `timeout` lasted while another thread made `write` 0.2 s in."""
    with waiter(db, channels) as wait:
        writer = threading.Timer(0.2, write)
        started = time.monotonic()
        writer.start()
        try:
            wait(timeout)
        finally:
            writer.join()
        return time.monotonic() - started


@pytest.mark.parametrize("what", ["chunk", "job state", "submit state"])
def test_a_write_wakes_the_waiter_at_once_on_postgresql(db: Database, what: str) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no notifications: followers poll")
    seed(db)
    job = logs.log_head(db, RUNNING)
    assert job is not None
    at = datetime.now(UTC)
    write = {
        "chunk": lambda: logs.append_chunk(db, RUNNING, b"more\n"),
        "job state": lambda: jobs.mark_succeeded(db, RUNNING, at=at),
        "submit state": lambda: submits.finish_submit(db, sid(3), SubmitState.FAILED, at=at),
    }[what]
    channel = log_channel(job.job_id) if what == "chunk" else STATE_CHANNEL
    assert woken_after(db, [channel], write) < 5
    if what == "chunk":  # the chunk of another job wakes nobody
        elsewhere = [log_channel(job.job_id + 1000)]
        assert woken_after(db, elsewhere, write, timeout=1) >= 1


def test_on_sqlite_the_waiter_sleeps(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL: see above")
    with waiter(db, [STATE_CHANNEL]) as wait:
        started = time.monotonic()
        wait(0.2)
        assert time.monotonic() - started >= 0.2
