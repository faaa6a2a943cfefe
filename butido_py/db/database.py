"""`Database`: an engine plus the schema check. Every other module of db/ takes one of these."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)

from butido_py.config.database import redact_url
from butido_py.db.engine import open_engine, server_info, sqlite_file
from butido_py.db.retry import (
    DEFAULT_RETRY_SECONDS,
    DatabaseUnavailableError,
    RetryPolicy,
    is_transient,
)
from butido_py.db.schema import SchemaNotReadyError, check_schema
from butido_py.errors import DatabaseError


class Database:
    """A connection pool to one database whose schema is known to be current, and the retry
    policy of the calls a build makes on it (db/retry.py)."""

    def __init__(self, engine: Engine, *, retry_seconds: float = DEFAULT_RETRY_SECONDS) -> None:
        self.engine = engine
        self.display_url = redact_url(engine.url.render_as_string(hide_password=False))
        self.retry = RetryPolicy(seconds=retry_seconds)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self._errors(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLAlchemy's errors as `DatabaseError`s that say what to do."""
        try:
            yield
        except IntegrityError as exc:
            raise DatabaseError(
                f"the database refused a row: {_reason(exc)}",
                hint="this is a bug in butido_py; please report it with the command you ran",
            ) from exc
        except (OperationalError, InterfaceError) as exc:
            if is_transient(exc):
                raise DatabaseUnavailableError(
                    f"the database {self.display_url} is unreachable: {_reason(exc)}",
                    hint="check that the database server is running and reachable",
                ) from exc
            raise DatabaseError(
                f"database error on {self.display_url}: {_reason(exc)}",
                hint="check that the database server is running and reachable",
            ) from exc
        except DBAPIError as exc:
            raise DatabaseError(
                f"the database rejected a statement: {_reason(exc)}",
                hint="this is a bug in butido_py; please report it with the command you ran",
            ) from exc

    @contextmanager
    def serialized(self, name: str) -> Iterator[Connection]:
        """One transaction that no other transaction `serialized` on the same `name` overlaps, in
        any process: PostgreSQL takes a transaction-level advisory lock on a 64-bit hash of
        `name`; SQLite starts with `BEGIN IMMEDIATE` (it holds the database's write lock from
        the start, so every such transaction, whatever its name, waits for the others)."""
        with self._errors(), self.engine.connect() as connection:
            if self.dialect == "sqlite":
                # pysqlite begins a transaction only before a write: a read made first
                # would see the database as it was before another process's claim.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)}
                )
            yield connection
            connection.commit()

    def close(self) -> None:
        self.engine.dispose()


def lock_key(name: str) -> int:
    """A signed 64-bit number for `name` (PostgreSQL's advisory lock keys are bigints)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_database(
    url: str, *, check: bool = True, retry_seconds: float = DEFAULT_RETRY_SECONDS
) -> Database:
    """Connect to `url`; with `check`, refuse a missing or out-of-date schema (naming db setup).
    `retry_seconds`: `database_retry_seconds`, the bound of `Database.retry`."""
    if check:
        _refuse_missing_sqlite_file(url)
    engine = open_engine(url)
    try:
        if check:  # connecting and the schema check: one statement (issue 23)
            check_schema(engine, redact_url(url))
        else:
            server_info(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise _open_error(url, exc) from exc
    except (DatabaseError, SQLAlchemyError):
        engine.dispose()
        raise
    return Database(engine, retry_seconds=retry_seconds)


def _open_error(url: str, exc: DBAPIError) -> DatabaseError:
    """One line for what went wrong opening the database (never its password)."""
    reason = _reason(exc)
    path = sqlite_file(url)
    if path is not None and "not a database" in reason:
        return DatabaseError(
            f"{path} is not a SQLite database ({reason})",
            hint="point database_url at butido's SQLite file, or at a new path for "
            "`butido db setup`",
        )
    if "permission denied" in reason.lower():
        return DatabaseError(
            f"the database {redact_url(url)} refuses its user: {reason}",
            hint="grant the user the rights on the database and its schema (docs/database.md)",
        )
    return DatabaseError(
        f"cannot use the database {redact_url(url)}: {reason}",
        hint="check the database_* keys or --db-* flags",
    )


def _refuse_missing_sqlite_file(url: str) -> None:
    """Reading commands must not leave an empty database file behind (SQLite creates one)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise SchemaNotReadyError(f"the database file {path} does not exist", revision=None)
