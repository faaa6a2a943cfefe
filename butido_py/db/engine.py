"""Engines for SQLite and PostgreSQL (psycopg 3), with the settings both need."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError

from butido_py.config.database import url_problem
from butido_py.errors import DatabaseError

# The pool logs (at ERROR, with a traceback) every connection it could not reset because the
# server went away; the retry policy (db/retry.py) reports outages once, in one line.
logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    dialect: str
    version: str


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their directory created and foreign keys enforced."""
    problem = url_problem(url)
    if problem is not None:
        raise DatabaseError(problem[0], hint=problem[1])
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseError(
            "database_url cannot be parsed", hint="write it as postgresql://USER:PASSWORD@HOST/NAME"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # a port that is no number
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # Write-ahead logging: readers (`butido db jobs` in another terminal) do not wait for a
    # build's writes, nor the build for them. NORMAL is durable across crashes of the process
    # (not of the machine) in WAL mode, and saves an fsync per commit.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def server_info(engine: Engine) -> ServerInfo:
    """Connect once and report what answered; a clear error when nothing does."""
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                version = connection.execute(text("select sqlite_version()")).scalar_one()
            else:
                version = connection.execute(text("show server_version")).scalar_one()
    except OperationalError as exc:
        raise _cannot_connect(engine, exc) from exc
    return ServerInfo(dialect=engine.dialect.name, version=str(version))


@contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A connection; the error of `server_info` when there is none. Errors of the statements
    run on it are the caller's (SQLite reports a missing table as an OperationalError too)."""
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise _cannot_connect(engine, exc) from exc
    with connection:
        yield connection


def _cannot_connect(engine: Engine, exc: OperationalError) -> DatabaseError:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return DatabaseError(
        f"cannot connect to the database {engine.url.render_as_string(hide_password=True)}: "
        f"{reason}",
        hint="check the database_* keys or --db-* flags: the server must be running and "
        "the database must exist (then run `butido db setup`)",
    )
