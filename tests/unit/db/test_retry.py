"""The retry policy of database calls (db/retry.py): which errors are worth another try, the
back-off, the bound, giving up once per process, one warning per outage. A fake clock: the
policy's sleeps advance it, nothing waits."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from butido_py.db.database import Database
from butido_py.db.retry import (
    MAX_DELAY,
    WARN_EVERY,
    DatabaseUnavailableError,
    RetryPolicy,
    is_transient,
)
from butido_py.errors import DatabaseError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def policy(clock: FakeClock, seconds: float = 30) -> RetryPolicy:
    return RetryPolicy(seconds=seconds, sleep=clock.sleep, clock=clock)


def down(message: str = "the database is unreachable") -> DatabaseUnavailableError:
    return DatabaseUnavailableError(message)


def failing(times: int, result: str = "done") -> tuple[Callable[[], str], list[int]]:
    """An operation that fails `times` times with a transient error, then returns `result`."""
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise down()
        return result

    return operation, calls


def wrapped(orig: BaseException) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


# --- which errors are transient ------------------------------------------------------------

TRANSIENT: list[BaseException] = [
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("database table is locked: jobs"),
    psycopg.OperationalError("connection failed: Connection refused"),  # no SQLSTATE
    psycopg.InterfaceError("the connection is lost"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
    psycopg.errors.SerializationFailure("could not serialize access"),
    psycopg.errors.DeadlockDetected("deadlock detected"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
    wrapped(sqlite3.OperationalError("database is locked")),
    wrapped(psycopg.errors.AdminShutdown("terminating connection")),
]

PERMANENT: list[BaseException] = [
    sqlite3.OperationalError("no such table: jobs"),
    sqlite3.IntegrityError("UNIQUE constraint failed: job_attempts.job_id"),
    sqlite3.ProgrammingError("Cannot operate on a closed cursor"),
    psycopg.errors.UniqueViolation("duplicate key value"),
    psycopg.errors.UndefinedTable('relation "jobs" does not exist'),
    psycopg.errors.InsufficientPrivilege("permission denied for table jobs"),
    psycopg.errors.InvalidPassword("password authentication failed"),
    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    ValueError("not a database error"),
    IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
    ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("no such relation")),
    wrapped(sqlite3.OperationalError("no such column: x")),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_lost_refused_shut_down_serialization_and_locked_are_transient(
    error: BaseException,
) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: f"{type(e).__name__}:{e}"[:60])
def test_refused_statements_and_programming_errors_are_not(error: BaseException) -> None:
    assert not is_transient(error)


def test_an_invalidated_connection_is_transient_whatever_its_error() -> None:
    error = DBAPIError("SELECT 1", {}, ValueError("odd"), connection_invalidated=True)
    assert is_transient(error)


@contextmanager
def database() -> Iterator[Database]:
    db = Database(create_engine("sqlite://"))
    try:
        yield db
    finally:
        db.close()


def raise_in(db: Database, error: BaseException) -> None:
    with db._errors():
        raise error


def test_the_database_turns_a_transient_error_into_unavailable_and_the_rest_into_errors() -> None:
    with database() as db:
        with pytest.raises(DatabaseUnavailableError):
            raise_in(db, wrapped(sqlite3.OperationalError("database is locked")))
        for error in (
            IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
            wrapped(sqlite3.OperationalError("no such table: jobs")),
        ):
            with pytest.raises(DatabaseError) as raised:
                raise_in(db, error)
            assert not isinstance(raised.value, DatabaseUnavailableError)


# --- the policy ----------------------------------------------------------------------------


def test_a_call_that_works_is_made_once_without_sleeping(clock: FakeClock) -> None:
    operation, calls = failing(0)
    assert policy(clock).call(operation) == "done"
    assert (len(calls), clock.sleeps) == (1, [])


def test_other_errors_are_raised_at_once(clock: FakeClock) -> None:
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise DatabaseError("the database refused a row: UNIQUE constraint failed")

    with pytest.raises(DatabaseError, match="refused a row"):
        policy(clock).call(refused)
    assert (len(calls), clock.sleeps) == (1, [])


def test_transient_errors_are_retried_with_doubling_back_off_up_to_five_seconds(
    clock: FakeClock,
) -> None:
    operation, calls = failing(9)
    assert policy(clock, seconds=120).call(operation) == "done"
    assert len(calls) == 10
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert max(clock.sleeps) == MAX_DELAY


def test_a_database_back_just_before_the_bound_is_found(clock: FakeClock) -> None:
    retry = policy(clock, seconds=5)

    def back_at_4_9_seconds() -> str:
        if clock.now - 1000.0 < 4.9:
            raise down()
        return "done"

    assert retry.call(back_at_4_9_seconds) == "done"
    assert not retry.gave_up.is_set()


def test_past_the_bound_the_policy_gives_up_once_and_says_so(clock: FakeClock) -> None:
    retry = policy(clock, seconds=20)
    given_up: list[DatabaseUnavailableError] = []
    retry.on_give_up.append(given_up.append)
    operation, calls = failing(10_000)
    with pytest.raises(DatabaseUnavailableError) as raised:
        retry.call(operation)
    # It retries for the whole bound, never past it: the last try falls on the bound.
    assert sum(clock.sleeps) == pytest.approx(20)
    assert clock.sleeps[:-1] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert clock.sleeps[-1] == pytest.approx(20 - sum(clock.sleeps[:-1]))
    assert len(calls) == len(clock.sleeps) + 1
    message = raised.value.message
    assert f"tried {len(calls)} times" in message
    assert "database_retry_seconds = 20" in message
    assert "database_retry_seconds" in (raised.value.hint or "")
    assert given_up == [raised.value]
    assert retry.gave_up.is_set()


def test_after_giving_up_each_call_is_tried_once_and_the_hooks_are_not_called_again(
    clock: FakeClock,
) -> None:
    retry = policy(clock, seconds=20)
    given_up: list[DatabaseUnavailableError] = []
    retry.on_give_up.append(given_up.append)
    with pytest.raises(DatabaseUnavailableError):
        retry.call(failing(10_000)[0])
    sleeps = len(clock.sleeps)
    for _ in range(3):
        operation, calls = failing(10_000)
        with pytest.raises(DatabaseUnavailableError):
            retry.call(operation)
        assert len(calls) == 1
    assert len(clock.sleeps) == sleeps
    assert len(given_up) == 1
    # A call that works still works.
    assert retry.call(failing(0)[0]) == "done"


def test_a_patient_call_waits_the_whole_bound_again_after_giving_up(clock: FakeClock) -> None:
    retry = policy(clock, seconds=20)
    with pytest.raises(DatabaseUnavailableError):
        retry.call(failing(10_000)[0])
    operation, calls = failing(6)
    assert retry.call(operation, patient=True) == "done"
    assert len(calls) == 7
    patient, calls = failing(10_000)
    started = clock.now
    with pytest.raises(DatabaseUnavailableError):
        retry.call(patient, patient=True)
    assert clock.now - started == pytest.approx(20)


def test_every_hook_is_called_with_the_error(clock: FakeClock) -> None:
    retry = policy(clock, seconds=1)
    seen: list[str] = []
    retry.on_give_up.append(lambda error: seen.append(f"run: {error.message}"))
    retry.on_give_up.append(lambda error: seen.append("recorder"))
    with pytest.raises(DatabaseUnavailableError):
        retry.call(failing(10_000)[0])
    assert len(seen) == 2
    assert seen[0].startswith("run: the database is unreachable (tried")
    assert seen[1] == "recorder"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_one_warning_per_outage_not_one_per_call_or_try(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="butido_py.db.retry")
    retry = policy(clock, seconds=120)
    for _ in range(5):  # five callers (threads) waiting through the same outage
        retry.call(failing(3)[0])
    assert warnings(caplog) == ["database unreachable, waiting for it: the database is unreachable"]
    clock.now += WARN_EVERY + 1  # a later outage is reported again
    retry.call(failing(1)[0])
    assert len(warnings(caplog)) == 2


def test_no_warning_when_nothing_failed(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="butido_py.db.retry")
    policy(clock).call(failing(0)[0])
    assert warnings(caplog) == []
