"""One retry policy for every database call a build makes (docs/database.md#outages).

A transient error — the connection was lost or refused, the server is shutting down, SQLite's
database is locked — is retried with back-off (0.1 s, doubling up to 5 s) for at most
`database_retry_seconds`; any other error is raised at once. The caller blocks meanwhile: the
recorder's writer thread keeps its order (later writes wait behind the failing one), a job
waiting for a lease or a claim simply waits longer.

Past the bound the policy gives up once for the whole process: it raises
`DatabaseUnavailableError`, calls the `on_give_up` callbacks (a build stops starting jobs and
cancels) and from then on tries each call only once, so that a stopping build does not wait the
bound again for every record it could not write. Only a `patient` call (the submit's final
state, written once the database answers again) waits the whole bound again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from butido_py.errors import DatabaseError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The default of `database_retry_seconds`: long enough to ride out a database restart.
DEFAULT_RETRY_SECONDS = 120
FIRST_DELAY = 0.1
MAX_DELAY = 5.0
#: Seconds between two warnings about the same outage.
WARN_EVERY = 30.0

#: SQLSTATE classes worth another try: connection exception, operator intervention (the server
#: shuts down), transaction rollback (serialization failure, deadlock), insufficient resources.
_TRANSIENT_SQLSTATE = ("08", "57", "40", "53")
#: ... except a statement canceled (statement_timeout, pg_cancel_backend): the server is up and
#: refused this statement; trying it again for minutes would hide a slow query, not an outage.
_PERMANENT_SQLSTATE = ("57014",)
#: psycopg's exceptions raised when the connection itself is the problem.
_PSYCOPG_TRANSIENT = ("OperationalError", "InterfaceError")


class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached (or stayed locked) for longer than the retry bound."""


def is_transient(error: BaseException) -> bool:
    """Whether another try may succeed: a lost or refused connection, a server going down, a
    locked SQLite database. Not: a refused statement, a missing table, a bad password."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        return is_transient(error.orig) if error.orig is not None else False
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return "locked" in message or "busy" in message
    if type(error).__module__.startswith("psycopg"):
        return _psycopg_transient(error)
    return isinstance(error, ConnectionError | TimeoutError)


def _psycopg_transient(error: BaseException) -> bool:
    if not any(c.__name__ in _PSYCOPG_TRANSIENT for c in type(error).__mro__):
        return False
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is None:  # raised by the client: no connection
        return True
    return str(sqlstate)[:2] in _TRANSIENT_SQLSTATE and sqlstate not in _PERMANENT_SQLSTATE


def next_delay(delay: float) -> float:
    return min(delay * 2, MAX_DELAY)


@dataclass(slots=True)
class RetryPolicy:
    """How long a transient error is retried (`seconds`), shared by every call on one database."""

    seconds: float = DEFAULT_RETRY_SECONDS
    first_delay: float = FIRST_DELAY
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    gave_up: threading.Event = field(default_factory=threading.Event)
    on_give_up: list[Callable[[DatabaseUnavailableError], None]] = field(default_factory=list)
    warned_at: float | None = None

    def call(self, operation: Callable[[], T], *, patient: bool = False) -> T:
        """`operation()`, tried again on `DatabaseUnavailableError` until `seconds` passed (once
        only after the policy gave up, unless `patient`)."""
        started = self.clock()
        delay = self.first_delay
        tries = 0
        while True:
            tries += 1
            try:
                return operation()
            except DatabaseUnavailableError as error:
                waited = self.clock() - started
                if (self.gave_up.is_set() and not patient) or waited >= self.seconds:
                    raise self._give_up(error, waited, tries) from error
                if tries == 1:
                    self._warn(error)
            # The last sleep is cut short so that the last try falls on the bound: a database
            # back within `seconds` is always found (not given up up to a back-off early).
            self.sleep(min(delay, self.seconds - waited))
            delay = next_delay(delay)

    def _warn(self, error: DatabaseUnavailableError) -> None:
        """One warning per outage, not one per waiting thread."""
        now = self.clock()
        if self.warned_at is None or now - self.warned_at > WARN_EVERY:
            self.warned_at = now
            log.warning("database unreachable, waiting for it: %s", error.message)

    def _give_up(
        self, error: DatabaseUnavailableError, waited: float, tries: int
    ) -> DatabaseUnavailableError:
        if tries == 1 and self.gave_up.is_set():
            return error
        given_up = DatabaseUnavailableError(
            f"{error.message} (tried {tries} times for {waited:.0f} s, "
            f"database_retry_seconds = {self.seconds:g})",
            hint="check that the database server is running and reachable; "
            "database_retry_seconds sets how long a build waits for it",
        )
        if not self.gave_up.is_set():
            self.gave_up.set()
            for callback in list(self.on_give_up):
                callback(given_up)
        return given_up
