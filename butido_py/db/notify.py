"""PostgreSQL notifications that wake a process watching builds of other processes.

`db log-of --follow` and `db submit --watch` wait for what another process writes: on PostgreSQL
they LISTEN and wake at once, on SQLite (no notifications) they look again after a short sleep.
Two kinds of channels: `butido_log_<job id>` (a chunk of that job's log was stored, db/logs.py)
and `butido_states` (a job or a submit changed state; the payload is its uuid). A notification
is delivered when its transaction commits; a waiter still looks now and then by itself, since
not every write notifies (crash recovery marking jobs lost does not).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Connection, func, select

from butido_py.db.database import Database

#: A job or a submit changed state (payload: its uuid).
STATE_CHANNEL: Final = "butido_states"


def log_channel(job_id: int) -> str:
    """The channel of a job's log chunks."""
    return f"butido_log_{int(job_id)}"


def notify(connection: Connection, channel: str, payload: str = "") -> None:
    """Send `channel` a notification when the transaction commits (PostgreSQL; no-op else)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(channel, payload)))


@contextmanager
def waiter(db: Database, channels: Sequence[str]) -> Iterator[Callable[[float], None]]:
    """A function that waits up to its argument in seconds, returning early (PostgreSQL) when
    any of `channels` is notified; a plain sleep on SQLite."""
    if db.dialect != "postgresql":
        yield time.sleep
        return
    raw = db.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        driver.autocommit = True
        driver.execute("; ".join(f'LISTEN "{channel}"' for channel in channels))  # one trip

        def wait(seconds: float) -> None:
            for _ in driver.notifies(timeout=seconds, stop_after=1):
                pass

        yield wait
    finally:
        raw.invalidate()  # a LISTENing connection is not given back to the pool
